package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DockerLabel marks every container the DockerRunner starts, so that a test
// bed can find and remove leftovers: docker ps -aq --filter label=DockerLabel.
const DockerLabel = "ssh-ecs-run-task.e2e=1"

// DockerRunner is a TaskRunner that runs a task's container on the local
// Docker engine with host networking. Each task gets one address of a pool
// of loopback addresses, passed to the container as SSHD_LISTEN_ADDRESS and
// reported as the task's IP; a bridge address is never reported.
//
// Environment values travel in the docker CLI's own environment (`-e NAME`
// without a value), so that secrets such as one-time keys never appear in a
// process list.
type DockerRunner struct {
	// Docker is the docker program (default "docker").
	Docker string
	// WaitPort, when not 0, makes Start wait until the task's address
	// accepts TCP connections on this port (e.g. 22), for up to WaitTimeout
	// (default 60s).
	WaitPort    int
	WaitTimeout time.Duration

	// run executes argv with extra environment; nil = os/exec. Tests swap it.
	run func(ctx context.Context, argv, env []string) ([]byte, error)

	mu    sync.Mutex
	pool  []string
	inUse map[string]string // task id → address
}

// NewDockerRunner returns a runner handing out the given loopback addresses
// (such as 127.0.0.20, 127.0.0.21, …), one per running task.
func NewDockerRunner(addresses []string) (*DockerRunner, error) {
	if len(addresses) == 0 {
		return nil, errors.New("docker runner: no addresses")
	}
	for _, a := range addresses {
		ip := net.ParseIP(a)
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("docker runner: %q is not a loopback IP address", a)
		}
	}
	return &DockerRunner{pool: append([]string(nil), addresses...), inUse: map[string]string{}}, nil
}

// ContainerName is the name of the container of task id.
func ContainerName(id string) string { return "ssh-ecs-e2e-" + id }

// RunArgs composes the `docker run` argv for t listening on ip, and the
// environment entries (NAME=VALUE) the docker CLI must be given for the
// `-e NAME` options.
func (r *DockerRunner) RunArgs(t *TaskLaunch, ip string) (argv, env []string) {
	docker := r.Docker
	if docker == "" {
		docker = "docker"
	}
	argv = []string{docker, "run", "-d", "--rm", "--network", "host",
		"--name", ContainerName(t.ID), "--label", DockerLabel, "--label", "ssh-ecs-run-task.e2e.task=" + t.ID,
		"-e", "SSHD_LISTEN_ADDRESS=" + ip}
	for _, kv := range t.Env {
		if kv.Name == "SSHD_LISTEN_ADDRESS" {
			continue // the runner's address wins
		}
		argv = append(argv, "-e", kv.Name)
		env = append(env, kv.Name+"="+kv.Value)
	}
	argv = append(argv, t.Image)
	argv = append(argv, t.Command...)
	return argv, env
}

// Start runs the task's container and returns its loopback address.
func (r *DockerRunner) Start(ctx context.Context, t *TaskLaunch) (string, error) {
	ip, err := r.allocate(t.ID)
	if err != nil {
		return "", err
	}
	argv, env := r.RunArgs(t, ip)
	if out, err := r.exec(ctx, argv, env); err != nil {
		r.release(t.ID)
		return "", fmt.Errorf("docker run %s: %w: %s", t.Image, err, strings.TrimSpace(string(out)))
	}
	if r.WaitPort != 0 {
		if err := r.waitListening(ctx, t, ip); err != nil {
			_ = r.Stop(context.WithoutCancel(ctx), t.ID)
			return "", err
		}
	}
	return ip, nil
}

// Stop removes the task's container and frees its address.
func (r *DockerRunner) Stop(ctx context.Context, id string) error {
	defer r.release(id)
	docker := r.Docker
	if docker == "" {
		docker = "docker"
	}
	out, err := r.exec(ctx, []string{docker, "rm", "-f", ContainerName(id)}, nil)
	if err != nil && !strings.Contains(string(out), "No such container") {
		return fmt.Errorf("docker rm %s: %w: %s", ContainerName(id), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (r *DockerRunner) allocate(id string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	used := map[string]bool{}
	for _, ip := range r.inUse {
		used[ip] = true
	}
	for _, ip := range r.pool {
		if !used[ip] {
			r.inUse[id] = ip
			return ip, nil
		}
	}
	return "", fmt.Errorf("docker runner: all %d task addresses are in use", len(r.pool))
}

func (r *DockerRunner) release(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.inUse, id)
}

func (r *DockerRunner) exec(ctx context.Context, argv, env []string) ([]byte, error) {
	if r.run != nil {
		return r.run(ctx, argv, env)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// waitListening polls ip:WaitPort until it accepts a connection, the
// container is gone, or WaitTimeout passes.
func (r *DockerRunner) waitListening(ctx context.Context, t *TaskLaunch, ip string) error {
	timeout := r.WaitTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(ip, strconv.Itoa(r.WaitPort))
	docker := r.Docker
	if docker == "" {
		docker = "docker"
	}
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = c.Close()
			return nil
		}
		out, ierr := r.exec(ctx, []string{docker, "inspect", "-f", "{{.State.Running}}", ContainerName(t.ID)}, nil)
		if ctx.Err() == nil && (ierr != nil || strings.TrimSpace(string(out)) != "true") {
			return fmt.Errorf("container %s of %s exited before listening on %s", ContainerName(t.ID), t.Image, addr)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to listen on %s: %w", t.Image, addr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
