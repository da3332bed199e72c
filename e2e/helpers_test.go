//go:build linux

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/bed"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/emulator"
)

// toolLabel is the label the tool puts on every container it starts.
const toolLabel = "ssh-ecs-run-task"

// runTimeout bounds one run of the binary; every scenario ends far sooner.
const runTimeout = 2 * time.Minute

// world is one Go test's bed: sshd instances, a fresh emulator and a label that
// marks the containers of this test alone (other tests and benchmarks may share
// the Docker engine).
type world struct {
	t         *testing.T
	bed       *bed.Bed
	instances []*bed.SSHD
	emu       *emulator.Server
	url       string
	// runLabel ("ssh-ecs-e2e-run=<id>") is passed to docker run by every
	// invocation made through args, so Containers sees only this test's ones.
	runLabel string
}

// newWorld starts sshd on addrs (default 127.0.0.2-4), an emulator loaded from
// the fixture, and registers a cleanup that fails the test if a container of
// it is still on the engine 30 s after the test.
func newWorld(t *testing.T, addrs ...string) *world {
	t.Helper()
	bed.Require(t)
	b := bed.New(t)
	ins := bed.StartInstances(t, b, addrs...)
	st, err := emulator.LoadState(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	emu := emulator.New(st)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	w := &world{t: t, bed: b, instances: ins, emu: emu, url: srv.URL,
		runLabel: "ssh-ecs-e2e-run=" + hex.EncodeToString(id)}
	t.Cleanup(func() {
		if !bed.WaitNoContainers(t, w.runLabel, 30*time.Second) {
			ids := w.containers()
			t.Errorf("containers left on the engine: %v", ids)
			for _, c := range ids {
				_, _ = exec.Command("docker", "rm", "-f", c).CombinedOutput()
			}
		}
	})
	return w
}

// env is the binary's environment: the bed's HOME, the emulator, test credentials.
func (w *world) env(extra ...string) []string {
	home := w.bed.HomeDir
	base := []string{
		"AWS_ENDPOINT_URL=" + w.url,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, ".aws", "credentials"),
	}
	return w.bed.Env(append(base, extra...)...)
}

// args puts this test's container label in front of the tool's arguments
// (a docker run option, passed through).
func (w *world) args(args ...string) []string {
	return append([]string{"--label", w.runLabel}, args...)
}

// command is the binary with args (see args) and env, in its own process group
// so that signals meant for it never reach the test.
func (w *world) command(args ...string) *exec.Cmd {
	cmd := exec.Command(toolPath(), w.args(args...)...)
	cmd.Env = w.env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// containers lists this test's containers, running or not.
func (w *world) containers() []string {
	w.t.Helper()
	out := bed.Docker(w.t, "ps", "-aq", "--no-trunc", "--filter", "label="+w.runLabel)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// waitContainer waits until one of this test's containers runs and carries the
// tool's own label too, and returns its id.
func (w *world) waitContainer(timeout time.Duration) string {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out := bed.Docker(w.t, "ps", "-q", "--no-trunc", "--filter", "label="+w.runLabel, "--filter", "label="+toolLabel)
		if out != "" {
			return strings.Split(out, "\n")[0]
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("no running container labelled %s and %s after %v", w.runLabel, toolLabel, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitProcess waits until `docker top id` lists (want) or no longer lists
// (!want) a process whose command line contains cmdline.
func (w *world) waitProcess(id, cmdline string, want bool, timeout time.Duration) bool {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := exec.Command("docker", "top", id, "-o", "pid,args").CombinedOutput()
		has := err == nil && strings.Contains(string(out), cmdline)
		if has == want {
			return true
		}
		if time.Now().After(deadline) {
			w.t.Logf("docker top %s: %s (%v)", id, out, err)
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// result is what one run of the binary produced.
type result struct {
	stdout, stderr string
	code           int
}

// run runs the binary with args (see args) and stdin, waits at most runTimeout.
func (w *world) run(stdin io.Reader, args ...string) result {
	w.t.Helper()
	cmd := w.command(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	code := waitCmd(w.t, cmd, runTimeout)
	r := result{stdout: stdout.String(), stderr: stderr.String(), code: code}
	w.t.Logf("ssh-ecs-run-task %s → %d\nstderr: %s", strings.Join(args, " "), code, r.stderr)
	return r
}

// waitCmd starts cmd (unless started) and returns its exit status; after
// timeout it kills cmd's process group and fails the test.
func waitCmd(t *testing.T, cmd *exec.Cmd, timeout time.Duration) int {
	t.Helper()
	if cmd.Process == nil {
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", cmd.Path, err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("%s did not end within %v", filepath.Base(cmd.Path), timeout)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Fatalf("%s killed by signal %v (it should catch it)", filepath.Base(cmd.Path), ws.Signal())
		}
		return ee.ExitCode()
	}
	t.Fatalf("%s: %v", filepath.Base(cmd.Path), err)
	return -1
}

// runningRE matches the RUNNING line and captures the host label.
var runningRE = regexp.MustCompile(`(?m)^RUNNING .* on (\S+)\r?$`)

// outputBuffer collects what a reader produces and lets a test wait for a
// pattern in the part it has not consumed yet.
type outputBuffer struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool
	pos    int // consumed up to here
}

// newOutputBuffer starts copying r into the buffer until r fails.
func newOutputBuffer(r io.Reader) *outputBuffer {
	o := &outputBuffer{}
	o.cond = sync.NewCond(&o.mu)
	go func() {
		p := make([]byte, 32*1024)
		for {
			n, err := r.Read(p)
			o.mu.Lock()
			o.buf = append(o.buf, p[:n]...)
			if err != nil {
				o.closed = true
			}
			o.cond.Broadcast()
			o.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return o
}

// String is everything read so far.
func (o *outputBuffer) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.buf)
}

// waitClosed waits (at most timeout) until the reader has ended, so that
// String holds everything a finished process wrote.
func (o *outputBuffer) waitClosed(timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		o.mu.Lock()
		o.cond.Broadcast()
		o.mu.Unlock()
	})
	defer stop()
	o.mu.Lock()
	defer o.mu.Unlock()
	for !o.closed && ctx.Err() == nil {
		o.cond.Wait()
	}
	return o.closed
}

// expect waits until re matches the unconsumed output, consumes it up to the
// end of the match and returns the submatches; after timeout it fails the test.
func (o *outputBuffer) expect(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	subs, err := o.await(re, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return subs
}

// await is expect without a test: it returns an error instead of failing,
// so that it can run in a campaign's goroutines.
func (o *outputBuffer) await(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		o.mu.Lock()
		o.cond.Broadcast()
		o.mu.Unlock()
	})
	defer stop()
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		if loc := re.FindSubmatchIndex(o.buf[o.pos:]); loc != nil {
			var subs []string
			for i := 0; i < len(loc); i += 2 {
				if loc[i] < 0 {
					subs = append(subs, "")
					continue
				}
				subs = append(subs, string(o.buf[o.pos+loc[i]:o.pos+loc[i+1]]))
			}
			o.pos += loc[1]
			return subs, nil
		}
		if ctx.Err() != nil || o.closed {
			why := "timed out after " + timeout.String()
			if o.closed {
				why = "output ended"
			}
			return nil, fmt.Errorf("waiting for %q: %s; unconsumed output:\n%q", re, why, o.buf[o.pos:])
		}
		o.cond.Wait()
	}
}

// pidAlive reports whether pid exists and is not a zombie.
func pidAlive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && !bytes.HasPrefix(bytes.TrimSpace(stat[i+1:]), []byte("Z"))
}

type procInfo struct {
	ppid          int
	comm, cmdline string
}

// procTable reads every process's parent, command name and command line.
func procTable() map[int]procInfo {
	out := map[int]procInfo{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		lp, rp := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if lp < 0 || rp < lp {
			continue
		}
		f := strings.Fields(string(stat[rp+1:]))
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		cl, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		out[n] = procInfo{ppid: pp, comm: string(stat[lp+1 : rp]), cmdline: string(cl)}
	}
	return out
}

// descendants lists the processes below pid (children, grandchildren, …)
// with their command names.
func descendants(pid int) map[int]string {
	procs := procTable()
	out := map[int]string{}
	for changed := true; changed; {
		changed = false
		for n, p := range procs {
			if _, seen := out[n]; seen {
				continue
			}
			if _, under := out[p.ppid]; p.ppid == pid || under {
				out[n] = p.comm
				changed = true
			}
		}
	}
	return out
}

// silentListener accepts TCP connections on addr and never says a word: a
// handshake that stalls. It returns the port and how many connections came.
func silentListener(t *testing.T, addr string) (port int, accepted func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port, func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
}
