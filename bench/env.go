//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/bed"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/emulator"
)

// shimScript is the `docker` of the shimmed sshd: `docker run [options] IMAGE CMD…` execs CMD
// directly, so the transport figures measure SSH and not docker's attach path. Options are
// dropped up to the bed's image, whatever their arity.
const shimScript = `#!/bin/sh
# written by ssh-ecs-run-task bench: docker run [options] IMAGE CMD... -> exec CMD...
[ "$1" = run ] || { echo "bench docker shim: only run" >&2; exit 125; }
shift
while [ $# -gt 0 ]; do
	case "$1" in
	` + bed.ImageRepo + `:*) shift; break ;;
	esac
	shift
done
exec "$@"
`

// env is the bench's bed: the emulator, the instances' sshd (real docker), the shimmed sshd,
// and the environment and arguments that point the tool and ssh at them.
type env struct {
	o    options
	prog *bed.Program
	b    *bed.Bed
	emu  *emulator.Server
	url  string
	srv  *http.Server
	// stateRaw is the emulator fixture as read at setup.
	stateRaw []byte

	// host is the address of prod-web-a, the instance the figures pin with --instance.
	host string
	// shimPort is the port of the shimmed sshd on the instances' addresses.
	shimPort int
	// label marks the containers this bench starts (--label ssh-ecs-bench=label).
	label   string
	toolEnv []string
	sshArgs []string
}

func setup(o options) *env {
	p := bed.NewProgram("ssh-ecs-bench")
	bed.Require(p)
	e := &env{o: o, prog: p, host: bed.DefaultAddrs[0]}
	e.b = bed.New(p)
	b := e.b
	// prod-web-a and prod-web-b (127.0.0.2, .3): a task of cluster prod lands on either.
	ins := bed.StartInstances(p, b, bed.DefaultAddrs[:2]...)

	shimDir := p.TempDir()
	must(p, os.Chmod(shimDir, 0o755)) // the login user (ecsrun) must reach it
	must(p, os.WriteFile(filepath.Join(shimDir, "docker"), []byte(shimScript), 0o755))
	shim := bed.StartSSHD(p, bed.SSHDOptions{
		Bed:          b,
		Addr:         bed.DefaultAddrs[0],
		AlsoAddrs:    bed.DefaultAddrs[1:2],
		HostKeyTypes: []string{"ed25519"},
		Users:        []string{bed.UserDocker},
		ExtraConfig:  []string{"SetEnv PATH=" + shimDir + ":/usr/bin:/bin"},
	})
	e.shimPort = shim.Port
	b.AddKnownHosts(b.KnownHostsLine(shim, "ed25519"))
	line, err := shim.KnownHostsLineAs("["+bed.DefaultAddrs[1]+"]:"+strconv.Itoa(shim.Port), "ed25519")
	must(p, err)
	b.AddKnownHosts(line)
	_ = ins

	// Read once: the fixture may change under a long run (other work in the tree).
	e.stateRaw, err = os.ReadFile(o.state)
	must(p, err)
	st, err := emulator.ParseState(e.stateRaw)
	must(p, err)
	e.emu = emulator.New(st)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(p, err)
	e.srv = &http.Server{Handler: e.emu, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(l) }()
	e.url = "http://" + l.Addr().String()

	var rb [6]byte
	_, _ = rand.Read(rb[:])
	e.label = hex.EncodeToString(rb[:])
	home := b.HomeDir
	e.toolEnv = b.Env(
		"AWS_ENDPOINT_URL="+e.url,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(home, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, ".aws", "credentials"),
		"TERM=xterm",
	)
	e.sshArgs = b.OpenSSHArgs()

	// Sanity: both sides reach both sshd before anything is timed.
	for _, port := range []int{ins[0].Port, e.shimPort} {
		args := append(e.ssh(port), e.host, "docker", "run", "--rm", "-i", "--label", "ssh-ecs-bench="+e.label, bed.Image, "echo", "ok")
		out, err := exec.Command("ssh", args...).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			p.Fatalf("ssh to %s port %d: %v: %s", e.host, port, err, out)
		}
	}
	out, err := e.toolOutput("--non-interactive", "--cluster", "prod", "--task", "web", "--instance", "prod-web-a", "--ssh-p", strconv.Itoa(e.shimPort), "--", "echo", "ok")
	if err != nil || !strings.HasSuffix(strings.TrimSpace(out), "\nok") {
		p.Fatalf("the tool through the shimmed sshd: %v: %s", err, out)
	}
	return e
}

// ssh returns the OpenSSH arguments for the bed, with -p port when port is not the
// instances' port (their ssh_config has it).
func (e *env) ssh(port int, extra ...string) []string {
	args := append([]string{}, e.sshArgs...)
	args = append(args, "-p", strconv.Itoa(port))
	return append(args, extra...)
}

// sshPort is the instances' (real docker) sshd port, from the bed's ssh_config.
func (e *env) sshPort() int {
	b, err := os.ReadFile(e.b.ConfigPath)
	must(e.prog, err)
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 2 && strings.EqualFold(f[0], "Port") {
			n, err := strconv.Atoi(f[1])
			must(e.prog, err)
			return n
		}
	}
	e.prog.Fatalf("no Port in %s", e.b.ConfigPath)
	return 0
}

// toolOutput runs the tool once, untimed, and returns its combined output.
func (e *env) toolOutput(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.o.bin, args...)
	cmd.Env = e.toolEnv
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// close removes the containers the bench started (by label), stops the emulator and every
// sshd (by PID) and removes the temporary directories.
func (e *env) close() {
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=ssh-ecs-bench="+e.label).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		fmt.Fprintf(os.Stderr, "bench: removing %d leftover containers\n", len(ids))
		_ = exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).Run()
	}
	if e.srv != nil {
		_ = e.srv.Close()
	}
	e.prog.Close()
}

func must(p *bed.Program, err error) {
	if err != nil {
		p.Fatalf("%v", err)
	}
}

// serveByHand prints how to run the tool and ssh against the bench's bed, then waits for
// SIGINT or SIGTERM (and then cleans up as usual).
func (e *env) serveByHand() {
	fmt.Println("# the bed is up; in another shell:")
	for _, kv := range e.toolEnv {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") || k == "HOME" {
			fmt.Printf("export %s\n", shellWord(kv))
		}
	}
	fmt.Printf("%s %s -- head -c 500000000 /dev/zero >/dev/null\n", e.o.bin, strings.Join(e.pinned(), " "))
	fmt.Printf("ssh %s %s %s\n", strings.Join(e.ssh(e.shimPort), " "), e.host, shellWord(e.dockerRun("-i", "head -c 500000000 /dev/zero")))
	fmt.Printf("# emulator %s; instances' sshd port %d (real docker), shimmed sshd port %d\n", e.url, e.sshPort(), e.shimPort)
	fmt.Println("# Ctrl-C (or SIGTERM) stops everything")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}

func shellWord(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
