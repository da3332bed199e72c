package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/cliargs"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/ecs"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/shellquote"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/sshsession"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/sudo"
)

// containerLabel marks every container this tool starts, so that leftovers
// can be found with `docker ps --filter label=ssh-ecs-run-task`.
const containerLabel = "ssh-ecs-run-task"

// execute runs one parsed invocation and returns the remote exit status.
func execute(ctx context.Context, p *cliargs.Parsed, s *Streams, sigs <-chan os.Signal) (int, error) {
	if strings.EqualFold(p.LaunchType, "FARGATE") {
		return executeFargate(ctx, p, s, sigs)
	}
	return executeEC2(ctx, p, s, sigs)
}

// executeEC2 is EC2 mode: resolve, compose `docker run`, SSH to the host, run.
func executeEC2(ctx context.Context, p *cliargs.Parsed, s *Streams, sigs <-chan os.Signal) (int, error) {
	log := newLogger(s, p)
	term, interactive := localTerminal(s, p)

	// Check the SSH options before any AWS call: a typo must not cost a round trip.
	if _, err := sshsession.Prepare(sshConfig(p, "localhost", s, term)); err != nil {
		return 0, err
	}

	ctx, router, cancel := route(ctx, sigs)
	defer cancel()

	clients, err := newAWS(ctx, p, log)
	if err != nil {
		return 0, err
	}
	resolver := &ecs.Resolver{ECS: clients.ECS, EC2: clients.EC2, Region: clients.Region}
	target, err := resolver.Resolve(ctx, ecs.Request{
		Task:      p.Task,
		Service:   p.Service,
		Cluster:   p.Cluster,
		Container: p.Container,
		Instance:  p.Instance,
		Address:   p.Address,
		Domain:    p.Domain,
	})
	if err != nil {
		return 0, interruptedOr(router, err)
	}
	log.timing("aws resolve")
	for _, w := range target.Warnings {
		log.warn("%s", w)
	}

	name := containerName()
	argv, err := dockercmd.Build(target.Container, dockercmd.Options{
		NoEnv:       p.NoEnv,
		NoVolumes:   p.NoVolumes,
		Image:       p.Image,
		Tag:         p.Tag,
		Workdir:     p.Workdir,
		User:        p.User,
		Interactive: true,
		TTY:         interactive,
		Name:        name,
		Labels:      map[string]string{containerLabel: "1"},
		DockerArgs:  p.DockerArgs,
		Command:     p.Command,
	})
	if err != nil {
		return 0, err
	}
	if p.Sudo {
		argv = sudo.Wrap(p.SudoArgs, argv)
	}
	remote := shellquote.Join(argv)

	plan, err := sshsession.Prepare(sshConfig(p, target.Host, s, term))
	if err != nil {
		return 0, err
	}
	hostLabel := target.Instance.Name
	if hostLabel == "" {
		hostLabel = target.Instance.ID
	}
	log.verbose("cluster %s, task definition %s, container %s (%s)", target.Cluster, target.TaskDefinition, target.Container.Name, target.Container.Image)
	log.verbose("instance %s (%s), connecting to %s", target.Instance.ID, hostLabel, plan.Describe())
	log.verbose("equivalent: %s", plan.OpenSSHCommand(remote))

	if p.DryRun {
		fmt.Fprintf(s.Out, "cluster:         %s\n", target.Cluster)
		fmt.Fprintf(s.Out, "task definition: %s\n", target.TaskDefinition)
		fmt.Fprintf(s.Out, "container:       %s\n", target.Container.Name)
		fmt.Fprintf(s.Out, "instance:        %s (%s)\n", target.Instance.ID, hostLabel)
		fmt.Fprintf(s.Out, "ssh:             %s\n", plan.Describe())
		fmt.Fprintf(s.Out, "remote command:  %s\n", remote)
		return 0, nil
	}

	log.info("RUNNING %s on %s", shellquote.Join(p.Command), hostLabel)
	client, err := sshsession.Dial(ctx, plan)
	if err != nil {
		return 0, interruptedOr(router, err)
	}
	defer client.Close()
	log.timing("ssh connect")

	req := sshsession.RunRequest{
		Command: remote,
		Stdin:   s.In,
		Stdout:  s.Out,
		Stderr:  s.ErrOut,
		Signals: router.start(),
	}
	if interactive {
		req.TTY = term
	}
	status, err := client.Run(context.WithoutCancel(ctx), req)
	log.timing("remote exit")
	return status, err
}

// containerName is unique per run, so the container can always be found and removed.
func containerName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "ssh-ecs-run-task-" + hex.EncodeToString(b)
}

// interruptedOr reports an interruption by a signal rather than the
// cancellation error it caused.
func interruptedOr(r *signalRouter, err error) error {
	if sig := r.interrupted(); sig != nil {
		return fmt.Errorf("interrupted by %v before the remote command started", sig)
	}
	return err
}

// localTerminal returns the local terminal when a PTY should be used.
func localTerminal(s *Streams, p *cliargs.Parsed) (sshsession.Terminal, bool) {
	if p.NonInteractive {
		return nil, false
	}
	in, ok := s.In.(*os.File)
	if !ok {
		return nil, false
	}
	out, _ := s.Out.(*os.File)
	if out == nil {
		out = in
	}
	term, ok := sshsession.NewTerminal(in, out)
	if !ok {
		return nil, false
	}
	return term, true
}

// sshConfig turns the parsed options into the SSH session's configuration.
func sshConfig(p *cliargs.Parsed, host string, s *Streams, term sshsession.Terminal) sshsession.Config {
	flags := make([]sshsession.Flag, 0, len(p.SSHFlags))
	for _, f := range p.SSHFlags {
		flags = append(flags, sshsession.Flag{Name: f.Name, Value: f.Value})
	}
	c := sshsession.Config{
		Host:    host,
		User:    p.SSHUser,
		Flags:   flags,
		Stderr:  s.ErrOut,
		Verbose: p.Verbose || p.Debug,
		Debug:   p.Debug,
	}
	if term != nil || !p.NonInteractive {
		c.Prompt = newPrompter(s)
	}
	if p.Debug {
		c.Logf = func(format string, args ...any) {
			fmt.Fprintf(s.ErrOut, "debug: "+format+"\n", args...)
		}
	}
	return c
}
