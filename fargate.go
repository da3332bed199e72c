package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/cliargs"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/ecs"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/shellquote"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/sshsession"
)

// Fargate mode (SPEC §7): run a task of an sshd-enabled task definition
// with one-time keys, wait for it, SSH into it, stop it on every path.

const (
	// fargateStartedBy is RunTask's startedBy: `aws ecs list-tasks
	// --started-by ssh-ecs-run-task` finds the tool's tasks.
	fargateStartedBy = "ssh-ecs-run-task"
	// fargateTagKey is the tag whose value is the local user who ran the tool.
	fargateTagKey = "ssh-ecs-run-task"

	// Environment overrides read by the sshd image (images/sshd/README.md).
	envAuthorizedKeys = "SSH_AUTHORIZED_KEYS"
	envHostKey        = "SSH_HOST_ED25519_KEY"
	envSSHDPort       = "SSHD_PORT"

	fargateUser = "root"
	fargatePort = "22"

	stopFinished    = "ssh-ecs-run-task finished"
	stopInterrupted = "ssh-ecs-run-task interrupted"
	// stopTimeout bounds StopTask, which runs even after a signal.
	stopTimeout = 30 * time.Second
	// dialAttemptTimeout bounds one connection attempt to the task's sshd.
	dialAttemptTimeout = 10 * time.Second
)

// executeFargate is Fargate mode: check, resolve, run the task, connect, run, stop.
func executeFargate(ctx context.Context, p *cliargs.Parsed, s *Streams, sigs <-chan os.Signal) (int, error) {
	if err := checkFargate(p); err != nil {
		return 0, err
	}
	log := newLogger(s, p)
	term, interactive := localTerminal(s, p)
	// Check the SSH options before any AWS call: a typo must not start a task.
	if _, err := sshsession.Prepare(fargateSSHConfig(p, "localhost", s, nil, nil)); err != nil {
		return 0, err
	}

	ctx, router, cancel := route(ctx, sigs)
	defer cancel()

	clients, err := newAWS(ctx, p, log)
	if err != nil {
		return 0, err
	}
	f := &fargateRun{
		p:      p,
		s:      s,
		log:    log,
		aws:    &ecs.Resolver{ECS: clients.ECS, EC2: clients.EC2, Region: clients.Region},
		router: router,
	}
	if interactive {
		f.term = term
	}
	return f.run(ctx)
}

// checkFargate refuses, before anything is started, the options that mean
// nothing for a Fargate task and a missing network configuration.
func checkFargate(p *cliargs.Parsed) error {
	refuse := func(opt, hint string) error {
		return &usageError{msg: fmt.Sprintf("option %s only works in EC2 mode, not with --launch-type FARGATE", opt), hint: hint}
	}
	switch {
	case p.NoEnv:
		return refuse("+e", "the task's environment is the task definition's; leave out +e")
	case p.Image != "":
		return refuse("--image", "the image is the task definition's; register a revision with the image you want")
	case p.Tag != "":
		return refuse("--tag", "the image is the task definition's; register a revision with the tag you want")
	case p.User != "":
		return refuse("--user", "log in as another user with --ssh-user, or run the command through su or sudo")
	case p.Workdir != "":
		return refuse("--workdir", "change directory in the command: -- sh -c 'cd DIR && exec COMMAND'")
	}
	if p.Service == "" && len(p.Subnets) == 0 {
		return &usageError{
			msg:  "--launch-type FARGATE needs a network configuration",
			hint: "pass --subnets ID[,ID…] (and --security-groups ID[,ID…], --assign-public-ip), or --service NAME to copy a service's",
		}
	}
	switch p.Address {
	case "", ecs.AddressPrivateIP, ecs.AddressPublicIP, ecs.AddressPrivateDNS, ecs.AddressPublicDNS:
	default:
		return &usageError{msg: fmt.Sprintf("--address %s does not apply to a Fargate task", p.Address), hint: "use private-ip, public-ip, private-dns or public-dns"}
	}
	return nil
}

// fargateNetwork is the awsvpc configuration of the task: the service's
// (when --service) with what the options say on top.
func fargateNetwork(p *cliargs.Parsed, service *ecs.Network) ecs.Network {
	var n ecs.Network
	if service != nil {
		n = *service
	}
	if len(p.Subnets) > 0 {
		n.Subnets = p.Subnets
	}
	if len(p.SecurityGroups) > 0 {
		n.SecurityGroups = p.SecurityGroups
	}
	if p.AssignPublicIP {
		n.AssignPublicIP = true
	}
	return n
}

// oneTimeKeys are the key pairs of one run; they live only in memory.
type oneTimeKeys struct {
	client     ssh.Signer
	authorized string // the client's public key as one authorized_keys line
	host       ssh.PublicKey
	hostPEM    string // the host's private key, OpenSSH format
}

func newOneTimeKeys() (*oneTimeKeys, error) {
	_, cpriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate the one-time client key: %w", err)
	}
	client, err := ssh.NewSignerFromKey(cpriv)
	if err != nil {
		return nil, fmt.Errorf("generate the one-time client key: %w", err)
	}
	hpub, hpriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate the one-time host key: %w", err)
	}
	host, err := ssh.NewPublicKey(hpub)
	if err != nil {
		return nil, fmt.Errorf("generate the one-time host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(hpriv, "ssh-ecs-run-task one-time host key")
	if err != nil {
		return nil, fmt.Errorf("encode the one-time host key: %w", err)
	}
	return &oneTimeKeys{
		client:     client,
		authorized: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(client.PublicKey()))) + " ssh-ecs-run-task-one-time",
		host:       host,
		hostPEM:    string(pem.EncodeToMemory(block)),
	}, nil
}

// sshdPort is the port given with --ssh-p or --ssh-o Port=N, if any.
func sshdPort(p *cliargs.Parsed) string {
	for _, f := range p.SSHFlags {
		switch {
		case f.Name == "p":
			return f.Value
		case f.Name == "o":
			k, v, _ := strings.Cut(f.Value, "=")
			if strings.EqualFold(strings.TrimSpace(k), "Port") {
				return strings.TrimSpace(v)
			}
		}
	}
	return ""
}

// fargateSSHConfig is sshConfig with the image's defaults (root, port 22)
// after the user's flags, so that --ssh-user, --ssh-p and --ssh-o win over
// them and they win over ssh_config; with keys, only the one-time key is
// offered and only the one-time host key accepted.
func fargateSSHConfig(p *cliargs.Parsed, host string, s *Streams, term sshsession.Terminal, keys *oneTimeKeys) sshsession.Config {
	c := sshConfig(p, host, s, term)
	c.Flags = append(c.Flags, sshsession.Flag{Name: "o", Value: "User=" + fargateUser}, sshsession.Flag{Name: "p", Value: fargatePort})
	if keys != nil {
		c.Signers = []ssh.Signer{keys.client}
		c.NoDefaultAuth = true
		c.HostKey = keys.host
	}
	return c
}

// localUser names who started the task, for its tag.
func localUser() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if i := strings.LastIndexByte(name, '\\'); i >= 0 { // Windows DOMAIN\user
		name = name[i+1:]
	}
	// ECS tag values allow letters, digits, spaces and _ . : / = + - @.
	name = strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:/=+-@ ", r)) {
			return r
		}
		return '_'
	}, name)
	if name == "" {
		return "unknown"
	}
	return name
}

// fargateRun is one run in Fargate mode; the fields other than p, s, log,
// aws and router may be left zero.
type fargateRun struct {
	p      *cliargs.Parsed
	s      *Streams
	log    *logger
	aws    *ecs.Resolver
	router *signalRouter
	term   sshsession.Terminal // nil: no PTY
	wait   ecs.Waiter          // polling pace; zero = ecs defaults
	// connect dials the task's sshd (retrying while it is not up, until
	// ctx ends) and runs the command; nil = dialAndRun.
	connect func(ctx, waitCtx context.Context, cfg sshsession.Config, req sshsession.RunRequest) (int, error)

	sessionSignal os.Signal // the signal that ended the session, if one did
}

// run does the work; once RunTask has succeeded, the task is stopped on
// every way out.
func (f *fargateRun) run(ctx context.Context) (status int, err error) {
	p, log := f.p, f.log
	req := ecs.Request{Task: p.Task, Service: p.Service, Cluster: p.Cluster, Container: p.Container}

	keys, err := newOneTimeKeys()
	if err != nil {
		return 0, err
	}
	task, network, err := f.resolve(ctx, req)
	if err != nil {
		return 0, interruptedOr(f.router, err)
	}
	log.timing("aws resolve")
	for _, w := range task.Warnings {
		log.verbose("%s", w)
	}
	remote := shellquote.Join(p.Command)
	env := []dockercmd.EnvVar{{Name: envAuthorizedKeys, Value: keys.authorized}, {Name: envHostKey, Value: keys.hostPEM}}
	if port := sshdPort(p); port != "" {
		env = append(env, dockercmd.EnvVar{Name: envSSHDPort, Value: port})
	}
	launch := ecs.Launch{
		Cluster:         task.Cluster,
		TaskDefinition:  task.TaskDefinition,
		Container:       task.Container.Name,
		Env:             env,
		Network:         network,
		PlatformVersion: p.PlatformVersion,
		StartedBy:       fargateStartedBy,
		Tags:            []dockercmd.EnvVar{{Name: fargateTagKey, Value: localUser()}},
	}
	describe := fmt.Sprintf("subnets %s, security groups %s, public IP %v",
		strings.Join(network.Subnets, ","), orNone(network.SecurityGroups), network.AssignPublicIP)
	log.verbose("cluster %s, task definition %s, container %s (%s)", task.Cluster, task.TaskDefinition, task.Container.Name, task.Container.Image)
	log.verbose("network: %s", describe)

	if p.DryRun {
		plan, err := sshsession.Prepare(fargateSSHConfig(p, "TASK-ADDRESS", f.s, nil, nil))
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(f.s.Out, "cluster:         %s\n", task.Cluster)
		fmt.Fprintf(f.s.Out, "task definition: %s\n", task.TaskDefinition)
		fmt.Fprintf(f.s.Out, "container:       %s\n", task.Container.Name)
		fmt.Fprintf(f.s.Out, "launch type:     FARGATE\n")
		fmt.Fprintf(f.s.Out, "network:         %s\n", describe)
		fmt.Fprintf(f.s.Out, "ssh:             %s\n", plan.Describe())
		fmt.Fprintf(f.s.Out, "remote command:  %s\n", remote)
		return 0, nil
	}

	// A signal must not abandon a RunTask call that may have started a
	// task: the call completes, and the task is stopped below.
	rctx, cancelRun := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	arn, err := f.aws.RunTask(rctx, launch)
	cancelRun()
	if err != nil {
		return 0, interruptedOr(f.router, err)
	}
	id := arn[strings.LastIndexByte(arn, '/')+1:]
	log.timing("run task")
	log.info("started task %s in cluster %s", id, task.Cluster)
	defer func() {
		reason := stopFinished
		if f.router.interrupted() != nil || f.sessionSignal != nil {
			reason = stopInterrupted
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		if serr := f.aws.StopTask(sctx, task.Cluster, arn, reason); serr != nil {
			if err == nil {
				// The command ran; its status stands, but say it loudly.
				fmt.Fprintf(f.s.ErrOut, "ssh-ecs-run-task: %v\n", serr)
				if h := hintOf(serr); h != "" {
					fmt.Fprintf(f.s.ErrOut, "hint: %s\n", h)
				}
			} else {
				err = fmt.Errorf("%w (and %v)", err, serr)
			}
			return
		}
		log.verbose("stopped task %s (%s)", id, reason)
	}()

	// --wait-timeout covers the wait for RUNNING and for sshd to answer.
	waitCtx, cancelWait := context.WithTimeout(ctx, p.WaitTimeout)
	defer cancelWait()
	start := time.Now()
	w := f.wait
	w.Progress = func(st *ecs.TaskStatus) {
		log.info("task %s: %s (%.1fs)", id, st.LastStatus, time.Since(start).Seconds())
	}
	st, err := f.aws.WaitRunning(waitCtx, w, task.Cluster, arn)
	if err != nil {
		return 0, interruptedOr(f.router, err)
	}
	log.timing("task running")
	var eni *ecs.ENI
	if ecs.NeedsENI(p.Address, network.AssignPublicIP) {
		if st.NetworkInterfaceID == "" {
			return 0, &ecs.Error{Msg: fmt.Sprintf("task %s has no network interface", id)}
		}
		if eni, err = f.aws.NetworkInterface(waitCtx, st.NetworkInterfaceID); err != nil {
			return 0, interruptedOr(f.router, err)
		}
	}
	addr, err := ecs.TaskAddress(st, eni, p.Address)
	if err != nil {
		return 0, err
	}

	cfg := fargateSSHConfig(p, addr, f.s, f.term, keys)
	plan, err := sshsession.Prepare(cfg)
	if err != nil {
		return 0, err
	}
	log.verbose("task %s at %s, connecting to %s", id, addr, plan.Describe())
	log.verbose("equivalent: %s", plan.OpenSSHCommand(remote))
	log.info("RUNNING %s on task %s (%s)", remote, id, addr)

	sessCtx, endSession := context.WithCancel(context.WithoutCancel(ctx))
	defer endSession()
	relay, abort := escalate(sessCtx, f.router.start(), endSession)
	run := sshsession.RunRequest{
		Command: remote,
		Stdin:   f.s.In,
		Stdout:  f.s.Out,
		Stderr:  f.s.ErrOut,
		TTY:     f.term,
		Signals: relay,
	}
	connect := f.connect
	if connect == nil {
		connect = f.dialAndRun
	}
	status, err = connect(sessCtx, waitCtx, cfg, run)
	log.timing("remote exit")
	if sig := abort(); sig != nil {
		f.sessionSignal = sig
		return 255, fmt.Errorf("interrupted by %s during the remote command, which did not end by itself", signalName(sig))
	}
	if err != nil {
		return 255, interruptedOr(f.router, err)
	}
	return status, nil
}

// signalGrace is how long the remote command has to end after a relayed
// signal before the tool ends the session itself.
const signalGrace = 3 * time.Second

// escalate relays signals to the session and ends it (end) at a second
// signal or when the first one has not ended it within signalGrace: sshd
// refuses relayed signals for a ForceCommand session (the reference image
// has one), and a task must not outlive a tool that was told to stop.
// aborted returns the first signal once escalate has ended the session.
func escalate(ctx context.Context, in <-chan os.Signal, end func()) (relay <-chan os.Signal, aborted func() os.Signal) {
	out := make(chan os.Signal, 4)
	var (
		mu    sync.Mutex
		first os.Signal
		ended bool
	)
	go func() {
		var grace <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case sig := <-in:
				mu.Lock()
				if first == nil {
					first = sig
				}
				mu.Unlock()
				select {
				case out <- sig:
				default:
				}
				if grace == nil {
					t := time.NewTimer(signalGrace)
					defer t.Stop()
					grace = t.C
					continue
				}
			case <-grace:
			}
			mu.Lock()
			ended = true
			mu.Unlock()
			end()
			return
		}
	}()
	return out, func() os.Signal {
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			return nil
		}
		return first
	}
}

// resolve finds the task definition's container and the network
// configuration, concurrently with --service.
func (f *fargateRun) resolve(ctx context.Context, req ecs.Request) (*ecs.Task, ecs.Network, error) {
	var (
		wg      sync.WaitGroup
		svc     *ecs.Network
		svcErr  error
		task    *ecs.Task
		taskErr error
	)
	if f.p.Service != "" {
		wg.Go(func() { svc, svcErr = f.aws.ServiceNetwork(ctx, req) })
	}
	task, taskErr = f.aws.TaskSpec(ctx, req)
	wg.Wait()
	switch {
	case taskErr != nil:
		return nil, ecs.Network{}, taskErr
	case svcErr != nil && len(f.p.Subnets) == 0:
		return nil, ecs.Network{}, svcErr
	}
	return task, fargateNetwork(f.p, svc), nil
}

// dialAndRun connects to the task's sshd, retrying until it answers or
// waitCtx ends (the container needs a moment after RUNNING), and runs the
// command until it ends or ctx is cancelled.
func (f *fargateRun) dialAndRun(ctx, waitCtx context.Context, cfg sshsession.Config, req sshsession.RunRequest) (int, error) {
	plan, err := sshsession.Prepare(cfg)
	if err != nil {
		return 255, err
	}
	client, err := dialRetry(waitCtx, plan, f.log)
	if err != nil {
		return 255, err
	}
	defer client.Close()
	f.log.timing("ssh connect")
	return client.Run(ctx, req)
}

// dialRetry dials until sshd answers; errors that a retry cannot fix (host
// key, authentication) end it at once.
func dialRetry(ctx context.Context, plan *sshsession.Plan, log *logger) (*sshsession.Client, error) {
	pause := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, dialAttemptTimeout)
		client, err := sshsession.Dial(actx, plan)
		cancel()
		if err == nil {
			if attempt > 1 {
				log.debug("ssh: connected at attempt %d", attempt)
			}
			return client, nil
		}
		if ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, &usageError{
					msg:  fmt.Sprintf("the task's sshd at %s did not answer within --wait-timeout: %v", plan.Describe(), err),
					hint: "allow TCP port 22 from this machine in the task's security group, check the route to the task (public IP or VPN), or pass a longer --wait-timeout",
				}
			}
			return nil, fmt.Errorf("connect to the task: %w", ctx.Err())
		}
		if !retryable(err) {
			return nil, err
		}
		log.debug("ssh: attempt %d: %v; retrying", attempt, err)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		pause = min(pause*2, time.Second)
	}
}

// retryable reports a dial failure that a container still starting
// explains: nothing listens yet, the connection is dropped, or it times out.
func retryable(err error) bool {
	var se *sshsession.Error
	if errors.As(err, &se) {
		// Host key and authentication failures, but also ConnectTimeout.
		return strings.Contains(err.Error(), "timed out")
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, io.EOF), errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection closed by the server") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "connection refused") || strings.Contains(msg, "actively refused") || strings.Contains(msg, "i/o timeout")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(VPC default)"
	}
	return strings.Join(s, ",")
}
