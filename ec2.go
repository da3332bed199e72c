package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/cliargs"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/ecs"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/remotecmd"
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
	// --timeout bounds everything before the remote command starts; the
	// session runs without it (context.WithoutCancel below).
	if p.Timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, p.Timeout)
		defer stop()
	}
	prepErr := func(err error) error { return prepError(ctx, router, p.Timeout, err) }

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

		WithSecrets: p.WithSecrets,
	})
	if err != nil {
		return 0, prepErr(err)
	}
	log.timing("aws resolve")
	for _, w := range target.Warnings {
		log.warn("%s", w)
	}
	if p.WithSecrets && !p.NoEnv && (len(target.Secrets) > 0 || len(target.EnvironmentFiles) > 0) {
		// The values join the environment, which travels in a 0600 file.
		secrets, err := clients.secrets(ctx)
		if err != nil {
			return 0, err
		}
		if target.Container.Env, err = ecs.ResolveSecrets(ctx, secrets, target); err != nil {
			return 0, prepErr(err)
		}
		log.timing("secrets")
	}

	rc, err := composeRemote(p, target.Container, interactive)
	if err != nil {
		return 0, err
	}
	argv, cleanup, env, name := rc.argv, rc.cleanup, rc.env, rc.name

	plan, err := sshsession.Prepare(sshConfig(p, target.Host, s, term))
	if err != nil {
		return 0, err
	}
	hostLabel := target.Instance.Name
	if hostLabel == "" {
		hostLabel = target.Instance.ID
	}
	envDir := ""
	if !env.Empty() {
		envDir = "$ENVDIR"
	}
	shown := remotecmd.Command(argv, envDir, cleanup)
	log.verbose("cluster %s, task definition %s, container %s (%s)", target.Cluster, target.TaskDefinition, target.Container.Name, target.Container.Image)
	log.verbose("instance %s (%s), connecting to %s", target.Instance.ID, hostLabel, plan.Describe())
	if !env.Empty() {
		log.verbose("environment (values are sent in a 0600 file, never on a command line): %s", strings.Join(envNames(env), " "))
	}
	display := strings.ReplaceAll(shellquote.Join(argv), remotecmd.EnvDirVar, "$ENVDIR")
	log.verbose("container %s: %s", name, display)
	log.verbose("equivalent: %s", plan.OpenSSHCommand(shown))

	if p.DryRun {
		fmt.Fprintf(s.Out, "cluster:         %s\n", target.Cluster)
		fmt.Fprintf(s.Out, "task definition: %s\n", target.TaskDefinition)
		fmt.Fprintf(s.Out, "container:       %s\n", target.Container.Name)
		fmt.Fprintf(s.Out, "instance:        %s (%s)\n", target.Instance.ID, hostLabel)
		fmt.Fprintf(s.Out, "ssh:             %s\n", plan.Describe())
		if !env.Empty() {
			fmt.Fprintf(s.Out, "environment:     %s\n", strings.Join(envNames(env), " "))
		}
		fmt.Fprintf(s.Out, "remote command:  %s\n", display)
		return 0, nil
	}

	log.info("RUNNING %s on %s", shellquote.Join(p.Command), hostLabel)
	client, err := sshsession.Dial(ctx, plan)
	if err != nil {
		return 0, prepErr(err)
	}
	defer client.Close()
	log.timing("ssh connect")

	if !env.Empty() {
		if envDir, err = sendEnv(ctx, client, env); err != nil {
			return 0, prepErr(err)
		}
		log.timing("environment")
	}

	sess := &session{client: client, plan: plan, cleanup: shellquote.Join(cleanup), log: log}
	req := sshsession.RunRequest{
		Command: remotecmd.Command(argv, envDir, cleanup),
		Stdin:   s.In,
		Stdout:  s.Out,
		Stderr:  s.ErrOut,
		Signals: sess.relay(router.start()),
	}
	if interactive {
		req.TTY = term
	}
	status, err := client.Run(context.WithoutCancel(ctx), req)
	sess.finished(err)
	log.timing("remote exit")
	return status, err
}

// remote is what runs on the host: docker run's argv (with the env
// directory as remotecmd.EnvDirVar), the command that removes the container,
// and the environment that travels beside them.
type remote struct {
	argv, cleanup []string
	env           remotecmd.Env
	name          string
}

// composeRemote turns the task's container and the options into the docker
// run argv (through sudo when asked) and its cleanup command. Values of the
// environment stay out of both.
func composeRemote(p *cliargs.Parsed, spec dockercmd.Spec, tty bool) (*remote, error) {
	r := &remote{name: remotecmd.ContainerName()}
	if !p.NoEnv {
		var err error
		if r.env, err = remotecmd.SplitEnv(spec.Env); err != nil {
			return nil, err
		}
	}
	sudoArgs := p.SudoArgs
	if p.Sudo && len(r.env.Names) > 0 {
		// Values with line breaks reach docker through its environment,
		// which sudo resets unless told to keep them (sudoers SETENV).
		sudoArgs = append(slices.Clone(sudoArgs), "--preserve-env="+strings.Join(r.env.NameList(), ","))
	}
	argv, err := dockercmd.Build(spec, dockercmd.Options{
		NoEnv:       p.NoEnv,
		NoVolumes:   p.NoVolumes,
		Image:       p.Image,
		Tag:         p.Tag,
		Workdir:     p.Workdir,
		User:        p.User,
		Interactive: true,
		TTY:         tty,
		Name:        r.name,
		Labels:      map[string]string{containerLabel: "1"},
		DockerArgs:  p.DockerArgs,
		Command:     p.Command,
		EnvArgs:     r.env.DockerArgs(),
		DefaultInit: true,
	})
	if err != nil {
		return nil, err
	}
	r.argv, r.cleanup = argv, []string{"docker", "rm", "-f", r.name}
	if p.Sudo {
		r.argv = sudo.Wrap(sudoArgs, r.argv)
		r.cleanup = sudo.Wrap(append(slices.Clone(p.SudoArgs), "-n"), r.cleanup)
	}
	return r, nil
}

// envNames lists the names of the variables passed, never their values.
func envNames(e remotecmd.Env) []string {
	var names []string
	for _, v := range e.File {
		names = append(names, v.Name)
	}
	return append(names, e.NameList()...)
}

// sendEnv stores the environment on the host in a private 0600 file through
// a first session and returns its directory.
func sendEnv(ctx context.Context, c *sshsession.Client, env remotecmd.Env) (string, error) {
	var out, errOut bytes.Buffer
	status, err := c.Run(ctx, sshsession.RunRequest{
		Command: remotecmd.SetupCommand,
		Stdin:   bytes.NewReader(env.Payload()),
		Stdout:  &out,
		Stderr:  &errOut,
	})
	if err != nil {
		return "", fmt.Errorf("send the container environment: %w", err)
	}
	dir := strings.TrimSpace(out.String())
	if status != 0 || !strings.HasPrefix(dir, "/") {
		return "", fmt.Errorf("send the container environment: the host said %q (status %d)", strings.TrimSpace(errOut.String()), status)
	}
	return dir, nil
}

// graceBeforeRemove is how long a relayed signal has to end the remote
// command before the tool removes the container itself.
const graceBeforeRemove = 5 * time.Second

// session removes the container when the remote command does not end after
// a relayed signal, or when the connection is lost under it.
type session struct {
	client  *sshsession.Client
	plan    *sshsession.Plan
	cleanup string
	log     *logger
	done    chan struct{}
}

// relay passes signals on to the SSH session and, after the first, gives the
// command graceBeforeRemove to end before `docker rm -f` runs.
func (s *session) relay(in <-chan os.Signal) <-chan os.Signal {
	s.done = make(chan struct{})
	out := make(chan os.Signal, 4)
	go func() {
		var grace <-chan time.Time
		for {
			select {
			case sig := <-in:
				out <- sig
				if grace == nil {
					grace = time.After(graceBeforeRemove)
				}
			case <-grace:
				s.log.info("the remote command did not end within %v of the signal: removing its container", graceBeforeRemove)
				s.remove(s.client)
				return
			case <-s.done:
				return
			}
		}
	}()
	return out
}

// finished stops the relay and, when the connection was lost, removes the
// container over a fresh connection (the host's watcher also does, once
// sshd notices the loss).
func (s *session) finished(runErr error) {
	close(s.done)
	if runErr == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := sshsession.Dial(ctx, s.plan)
	if err != nil {
		s.log.warn("could not reconnect to remove the container: %v", err)
		return
	}
	defer c.Close()
	s.remove(c)
}

func (s *session) remove(c *sshsession.Client) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := c.Run(ctx, sshsession.RunRequest{Command: s.cleanup, Stdout: &out, Stderr: &out}); err != nil {
		s.log.warn("remove the container: %v", err)
	}
}

// prepError reports an interruption by a signal, or the --timeout, rather
// than the cancellation error it caused.
func prepError(ctx context.Context, r *signalRouter, timeout time.Duration, err error) error {
	if timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &usageError{
			msg:  fmt.Sprintf("timed out after %v (--timeout) before the remote command started: %v", timeout, err),
			hint: "check the network path to AWS and the host, or give more time with --timeout",
		}
	}
	return interruptedOr(r, err)
}

// interruptedOr reports an interruption by a signal rather than the
// cancellation error it caused.
func interruptedOr(r *signalRouter, err error) error {
	if sig := r.interrupted(); sig != nil {
		return fmt.Errorf("interrupted by %s before the remote command started", signalName(sig))
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
