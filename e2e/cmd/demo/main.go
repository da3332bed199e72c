// Command demo is `make demo`: a local ECS cluster without AWS. It starts the
// ECS/EC2 emulator (e2e/emulator, fixture e2e/testdata/state/bed.json) on
// 127.0.0.1, one real OpenSSH sshd as instance demo-host on 127.0.0.2 (e2e/bed)
// and drops the user into
//
//	bin/ssh-ecs-run-task --task demo-web --cluster demo -- sh
//
// with the user's own terminal; containers run on the local Docker engine.
// When the tool exits (Ctrl-D, `exit N`), or the demo gets SIGINT or SIGTERM,
// everything it started is stopped and its files are removed; the demo exits
// with the tool's status.
//
// Usage (from the checkout, as root, after `sudo make e2e-setup`):
//
//	go run ./e2e/cmd/demo [-bin PATH] [-- COMMAND [ARG...]]
//
// COMMAND replaces sh. -bin runs another build of the tool; by default
// bin/ssh-ecs-run-task is used, and built when it is missing. Note that
// `go run` reports a non-zero status of the program as its own status 1.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/bed"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/emulator"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/shellquote"
)

const (
	modulePath = "github.com/ssh-ecs-run-task/ssh-ecs-run-task"
	stateFile  = "e2e/testdata/state/bed.json"
	// demoAddr is the private IP of instance i-0d00000000000001 (demo-host) in the fixture.
	demoAddr = "127.0.0.2"
	// grace is how long the tool has to end after a signal was passed on.
	grace = 5 * time.Second
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	binFlag := fs.String("bin", "", "ssh-ecs-run-task binary (default bin/ssh-ecs-run-task of the checkout, built when missing)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go run ./e2e/cmd/demo [-bin PATH] [-- COMMAND [ARG...]]   (as root, after `sudo make e2e-setup`)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	command := fs.Args()
	if len(command) == 0 {
		command = []string{"sh"}
	}

	// Signals from the start: a Ctrl-C while sshd starts must still stop it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "demo: needs root (its sshd logs in the test users): run `sudo make e2e-setup` once, then `sudo make demo`")
		return 1
	}
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v: run it from the checkout (`make demo`)\n", err)
		return 1
	}

	p := bed.NewProgram("ssh-ecs-demo")
	defer p.Close()
	bed.Require(p) // one line naming what is missing and `sudo e2e/setup.sh`

	tool := *binFlag
	if tool == "" {
		tool = filepath.Join(root, "bin", "ssh-ecs-run-task")
		if _, err := os.Stat(tool); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "demo: building %s\n", tool)
			build := exec.Command("go", "build", "-o", tool, ".")
			build.Dir = root
			build.Env = append(os.Environ(), "CGO_ENABLED=0")
			build.Stdout, build.Stderr = os.Stderr, os.Stderr
			if err := build.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "demo: build %s: %v\n", tool, err)
				return 1
			}
		}
	}

	b := bed.New(p)
	ins := bed.StartInstances(p, b, demoAddr)[0]
	st, err := emulator.LoadState(filepath.Join(root, stateFile))
	if err != nil {
		p.Fatalf("emulator state: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.Fatalf("emulator: %v", err)
	}
	srv := &http.Server{Handler: emulator.New(st), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	p.Cleanup(func() { _ = srv.Close() })
	url := "http://" + ln.Addr().String()

	env := demoEnv(b, url)
	argv := append([]string{"--task", "demo-web", "--cluster", "demo", "--"}, command...)
	var shown strings.Builder
	for _, kv := range [][2]string{
		{"HOME", b.HomeDir}, {"AWS_ENDPOINT_URL", url}, {"AWS_REGION", "us-east-1"},
		{"AWS_ACCESS_KEY_ID", "test"}, {"AWS_SECRET_ACCESS_KEY", "test"}, {"AWS_EC2_METADATA_DISABLED", "true"},
	} {
		shown.WriteString(kv[0] + "=" + shellquote.Quote(kv[1]) + " ")
	}
	shown.WriteString(shellquote.Join(append([]string{displayPath(root, tool)}, argv...)))
	fmt.Fprintf(os.Stderr, "demo: ECS/EC2 emulator on %s (cluster demo, task definition demo-web, from %s)\n", url, stateFile)
	fmt.Fprintf(os.Stderr, "demo: sshd pid %d on %s port %d is instance demo-host (i-0d00000000000001); containers run on the local Docker engine; files in %s\n", ins.PID, ins.Addr, ins.Port, b.Dir)
	fmt.Fprintf(os.Stderr, "demo: running %s\n", shown.String())

	select {
	case sig := <-sigs:
		fmt.Fprintf(os.Stderr, "demo: %v before the tool started; stopping\n", sig)
		return 128 + signum(sig)
	default:
	}

	// Remember the terminal: if the tool has to be killed, it cannot restore it.
	var saved *term.State
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		saved, _ = term.GetState(fd)
	}
	before := containers()
	cmd := exec.Command(tool, argv...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		p.Fatalf("start %s: %v", tool, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var (
		waitErr error
		killAt  <-chan time.Time
		caught  os.Signal
		killed  bool
	)
wait:
	for {
		select {
		case waitErr = <-done:
			break wait
		case sig := <-sigs:
			// A terminal's Ctrl-C reaches the tool too (same process group);
			// a kill aimed at the demo does not: pass it on either way.
			if caught == nil {
				caught = sig
				killAt = time.After(grace)
			}
			_ = cmd.Process.Signal(sig)
		case <-killAt:
			fmt.Fprintf(os.Stderr, "demo: %s still running %v after %v; killing it\n", filepath.Base(tool), grace, caught)
			_ = cmd.Process.Kill()
			killAt = nil
			killed = true
		}
	}
	if killed {
		// The killed tool could not end its container (an interactive shell
		// would wait on its terminal forever): remove what appeared meanwhile.
		for _, id := range newContainers(before, containers()) {
			fmt.Fprintf(os.Stderr, "demo: removing container %.12s\n", id)
			_ = exec.Command("docker", "rm", "-f", id).Run()
		}
	}
	if saved != nil {
		_ = term.Restore(int(os.Stdin.Fd()), saved)
	}
	code := 0
	var ee *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &ee) && ee.ExitCode() >= 0:
		code = ee.ExitCode()
	case caught != nil:
		code = 128 + signum(caught)
	default:
		fmt.Fprintf(os.Stderr, "demo: %s: %v\n", filepath.Base(tool), waitErr)
		code = 1
	}
	fmt.Fprintf(os.Stderr, "demo: %s exited with status %d; stopping the emulator and sshd\n", filepath.Base(tool), code)
	return code
}

// demoEnv is the tool's environment: the bed's HOME (keys, known_hosts,
// ssh_config; no ssh-agent of the user) and the emulator with static test
// credentials. No AWS_* variable of the user's shell comes along, so no real
// profile or account can be reached.
func demoEnv(b *bed.Bed, url string) []string {
	var env []string
	for _, kv := range b.Env() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ENDPOINT_URL="+url,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(b.HomeDir, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(b.HomeDir, ".aws", "credentials"),
	)
}

// repoRoot finds the checkout: the nearest directory upwards holding this
// module's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			sc := bufio.NewScanner(f)
			isOurs := sc.Scan() && strings.TrimSpace(sc.Text()) == "module "+modulePath
			f.Close()
			if isOurs {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the current directory", modulePath)
		}
		dir = parent
	}
}

// displayPath shows tool relative to the checkout when it is inside it.
func displayPath(root, tool string) string {
	if rel, err := filepath.Rel(root, tool); err == nil && !strings.HasPrefix(rel, "..") {
		if wd, err := os.Getwd(); err == nil && wd == root {
			return rel
		}
	}
	return tool
}

// containers lists the containers the tool labels as its own.
func containers() []string {
	out, err := exec.Command("docker", "ps", "-aq", "--no-trunc", "--filter", "label=ssh-ecs-run-task").Output()
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}

func newContainers(before, after []string) []string {
	var added []string
	for _, id := range after {
		if !slices.Contains(before, id) {
			added = append(added, id)
		}
	}
	return added
}

func signum(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return int(n)
	}
	return 1
}
