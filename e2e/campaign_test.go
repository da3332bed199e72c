//go:build linux

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/bed"
)

// campaignRuns is how many times each campaign scenario runs:
// E2E_CAMPAIGN_RUNS, default 10, at most 500.
func campaignRuns(t *testing.T) int {
	s := os.Getenv("E2E_CAMPAIGN_RUNS")
	if s == "" {
		return 10
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 500 {
		t.Fatalf("E2E_CAMPAIGN_RUNS=%q: want a number from 1 to 500", s)
	}
	return n
}

// campaignParallel bounds the runs in flight at once (2 cores).
const campaignParallel = 3

// Bounds of one campaign run; no run comes near them unless something hangs.
const (
	campStartTimeout = 60 * time.Second // RUNNING, the container and sleep 100 in it
	campExitTimeout  = 60 * time.Second // the tool's exit after the fault
	campGoneTimeout  = 30 * time.Second // the container's removal after the exit
)

// nameRE captures the container name from the --verbose line.
var nameRE = regexp.MustCompile(`verbose: container (ssh-ecs-run-task-[0-9a-f]+):`)

// campOutcome is what one campaign run observed.
type campOutcome struct {
	code     int  // exit status; meaningless when signaled
	signaled bool // the tool died of a signal (only the SIGKILL scenario expects it)
	hung     bool // it did not end within campExitTimeout and was killed
	name     string
	leaked   bool          // the container was still there campGoneTimeout after the exit
	gone     time.Duration // from the tool's exit to the container's removal
	err      error         // the harness could not set the fault up
	stderr   string
}

// campScenario is one fault, injected once per run.
type campScenario struct {
	name string
	// want is the documented outcome, for the summary.
	want string
	// wantCode is the documented exit status; -1 = killed by SIGKILL, no status.
	wantCode int
	run      func(c *campaign, i int) campOutcome
}

// campaign is one world shared by every run: sshd on 127.0.0.2, the emulator, Docker.
type campaign struct {
	t   *testing.T
	w   *world
	ins *bed.SSHD
}

// campRun is the tool running one campaign command.
type campRun struct {
	cmd    *exec.Cmd
	out    *outputBuffer // stderr (or the terminal)
	stdinW *os.File      // keeps a non-PTY stdin open
	files  []*os.File    // closed when the run ends
	name   string
}

// start runs the tool with --verbose and args on prod-web-a (127.0.0.2);
// with tty the tool gets a fresh pseudo-terminal as its controlling terminal.
func (c *campaign) start(tty bool, args ...string) (*campRun, error) {
	args = append([]string{"--verbose", "--task", "web", "--cluster", "prod", "--instance", "0"}, args...)
	cmd := exec.Command(toolPath(), c.w.args(args...)...)
	cmd.Env = c.w.env()
	r := &campRun{cmd: cmd}
	if tty {
		master, slave, err := pty.Open()
		if err != nil {
			return nil, err
		}
		_ = pty.Setsize(master, &pty.Winsize{Rows: 24, Cols: 80})
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		if err := cmd.Start(); err != nil {
			master.Close()
			slave.Close()
			return nil, err
		}
		slave.Close()
		r.stdinW = master
		r.files = []*os.File{master}
		r.out = newOutputBuffer(master)
		return r, nil
	}
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdin, cmd.Stderr = stdinR, errW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stdinR.Close()
	errW.Close()
	r.stdinW = stdinW
	r.files = []*os.File{stdinW, errR}
	r.out = newOutputBuffer(errR)
	return r, nil
}

// ready waits for the container's name, the RUNNING line and sleep 100 in the container.
func (r *campRun) ready() error {
	m, err := r.out.await(nameRE, campStartTimeout)
	if err != nil {
		return err
	}
	r.name = m[1]
	if _, err := r.out.await(runningRE, campStartTimeout); err != nil {
		return err
	}
	deadline := time.Now().Add(campStartTimeout)
	for {
		out, err := exec.Command("docker", "top", r.name, "-o", "pid,args").CombinedOutput()
		if err == nil && bytes.Contains(out, []byte("sleep 100")) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sleep 100 not running in %s after %v: %s", r.name, campStartTimeout, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// finish waits for the tool's exit (killing it after campExitTimeout), then
// for its container's removal, and says what happened.
func (r *campRun) finish(o campOutcome) campOutcome {
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(campExitTimeout):
		o.hung = true
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		err = <-done
	}
	exited := time.Now()
	var ee *exec.ExitError
	switch {
	case err == nil:
		o.code = 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			o.signaled = true
		}
		o.code = ee.ExitCode()
	default:
		o.err = err
	}
	r.out.waitClosed(5 * time.Second)
	for _, f := range r.files {
		f.Close()
	}
	o.stderr = r.out.String()
	o.name = r.name
	if r.name == "" {
		return o
	}
	o.leaked = !containerGone(r.name, campGoneTimeout)
	o.gone = time.Since(exited)
	if o.leaked {
		// Counted as leaked; removed so that the next runs start clean.
		_ = exec.Command("docker", "rm", "-f", r.name).Run()
	}
	return o
}

// kill ends a run the harness gave up on, and its container.
func (r *campRun) kill() {
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	_ = r.cmd.Wait()
	for _, f := range r.files {
		f.Close()
	}
	if r.name != "" {
		_ = exec.Command("docker", "rm", "-f", r.name).Run()
	}
}

// containerGone waits at most timeout for no container (running or not) named name.
func containerGone(name string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		out, err := exec.Command("docker", "ps", "-aq", "--filter", "name=^/"+name+"$").Output()
		if err == nil && len(bytes.TrimSpace(out)) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// simple is a scenario that starts `sleep 100`, injects fault and finishes.
func simple(tty bool, extra []string, fault func(c *campaign, r *campRun) error) func(c *campaign, i int) campOutcome {
	return func(c *campaign, i int) campOutcome {
		args := append(append([]string{}, extra...), "--", "sleep", "100")
		r, err := c.start(tty, args...)
		if err != nil {
			return campOutcome{err: err}
		}
		if err := r.ready(); err != nil {
			r.kill()
			return campOutcome{err: err, name: r.name}
		}
		if err := fault(c, r); err != nil {
			r.kill()
			return campOutcome{err: err, name: r.name}
		}
		return r.finish(campOutcome{})
	}
}

func signalTool(sig syscall.Signal) func(c *campaign, r *campRun) error {
	return func(c *campaign, r *campRun) error { return r.cmd.Process.Signal(sig) }
}

// killSession SIGKILLs the sshd processes of the run's login on the host:
// every sshd from the wrapper shell running docker run --name NAME up to the
// child of the instance's listening sshd (OpenSSH 9.2: "sshd: ecsrun [priv]"
// and "sshd: ecsrun@notty"). Killing only the [priv] monitor is not enough:
// the unprivileged child keeps serving the connection until it next needs
// the monitor, so the session, rightly, goes on.
func killSession(c *campaign, r *campRun) error {
	procs := procTable()
	var wrapper int
	for pid, p := range procs {
		if p.comm == "sh" && procs[p.ppid].comm == "sshd" && strings.Contains(p.cmdline, r.name) {
			wrapper = pid
		}
	}
	if wrapper == 0 {
		return fmt.Errorf("no wrapper shell for %s under an sshd", r.name)
	}
	var chain []int
	for pid := procs[wrapper].ppid; pid > 1 && pid != c.ins.PID; pid = procs[pid].ppid {
		if procs[pid].comm != "sshd" {
			return fmt.Errorf("wrapper %d of %s: ancestor %d is %q, not sshd", wrapper, r.name, pid, procs[pid].comm)
		}
		chain = append(chain, pid)
		if procs[pid].ppid == c.ins.PID {
			// One may end on its own once the other is gone (ESRCH).
			killed := 0
			for _, p := range chain {
				if err := syscall.Kill(p, syscall.SIGKILL); err == nil {
					killed++
				} else if !errors.Is(err, syscall.ESRCH) {
					return err
				}
			}
			if killed == 0 {
				return fmt.Errorf("the sshd processes %v of %s were already gone", chain, r.name)
			}
			return nil
		}
	}
	return fmt.Errorf("wrapper %d of %s is not below sshd %d", wrapper, r.name, c.ins.PID)
}

// cutProxy forwards TCP connections from 127.0.0.7 to an sshd, and can cut
// (RST both sides) or black-hole (stop forwarding, keep the sockets) the
// connections it carries. New connections are always forwarded, so the
// tool's reconnect-and-remove gets through.
type cutProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns []*proxied
}

type proxied struct {
	client, server *net.TCPConn
	mu             sync.Mutex
	holed          bool
}

func (p *proxied) isHoled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.holed
}

func newCutProxy(target string) (*cutProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.7:0")
	if err != nil {
		return nil, err
	}
	p := &cutProxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.DialTimeout("tcp", target, 10*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			pc := &proxied{client: c.(*net.TCPConn), server: s.(*net.TCPConn)}
			p.mu.Lock()
			p.conns = append(p.conns, pc)
			p.mu.Unlock()
			go pc.pump(pc.client, pc.server)
			go pc.pump(pc.server, pc.client)
		}
	}()
	return p, nil
}

// pump copies from → to until either fails; black-holed data is read and dropped.
func (p *proxied) pump(from, to *net.TCPConn) {
	buf := make([]byte, 32*1024)
	for {
		n, err := from.Read(buf)
		if n > 0 && !p.isHoled() {
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !p.isHoled() {
				_ = to.CloseWrite()
			}
			return
		}
	}
}

func (p *cutProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// current returns the connections carried so far.
func (p *cutProxy) current() []*proxied {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*proxied(nil), p.conns...)
}

// reset closes both sides of every current connection with RST.
func (p *cutProxy) reset() error {
	cs := p.current()
	if len(cs) == 0 {
		return errors.New("no connection through the proxy")
	}
	for _, c := range cs {
		for _, s := range []*net.TCPConn{c.client, c.server} {
			_ = s.SetLinger(0)
			_ = s.Close()
		}
	}
	return nil
}

// blackhole stops forwarding on every current connection; the sockets stay open.
func (p *cutProxy) blackhole() error {
	cs := p.current()
	if len(cs) == 0 {
		return errors.New("no connection through the proxy")
	}
	for _, c := range cs {
		c.mu.Lock()
		c.holed = true
		c.mu.Unlock()
	}
	return nil
}

// close stops listening and closes every connection.
func (p *cutProxy) close() {
	p.ln.Close()
	for _, c := range p.current() {
		c.client.Close()
		c.server.Close()
	}
}

// viaProxy is a scenario whose SSH connection goes through a cutProxy, and
// whose fault is applied to the proxy once sleep 100 runs.
func viaProxy(extra []string, fault func(p *cutProxy) error) func(c *campaign, i int) campOutcome {
	return func(c *campaign, i int) campOutcome {
		p, err := newCutProxy(c.ins.HostPort())
		if err != nil {
			return campOutcome{err: err}
		}
		// Closed only after the removal check: a black-holed connection
		// must not be cut (which sshd would notice) before the tool's own
		// reconnect-and-remove has been seen to work.
		defer p.close()
		line, err := c.ins.KnownHostsLineAs("[127.0.0.7]:"+strconv.Itoa(p.port()), "ed25519")
		if err != nil {
			return campOutcome{err: err}
		}
		c.w.bed.AddKnownHosts(line)
		args := append([]string{"--ssh-o", "HostName=127.0.0.7", "--ssh-p", strconv.Itoa(p.port())}, extra...)
		return simple(false, args, func(c *campaign, r *campRun) error { return fault(p) })(c, i)
	}
}

// TestCampaignCleanup repeats every way a session can end badly, N times
// each (E2E_CAMPAIGN_RUNS, default 10), campaignParallel runs at a time on
// one instance, and checks the documented exit status of every run and that
// the run's own container (by name, from --verbose) is gone afterwards.
func TestCampaignCleanup(t *testing.T) {
	w := newWorld(t, "127.0.0.2")
	c := &campaign{t: t, w: w, ins: w.instances[0]}
	n := campaignRuns(t)
	scenarios := []campScenario{
		{name: "pty-ctrl-c", want: "130 (SIGINT)", wantCode: 130,
			run: simple(true, nil, func(c *campaign, r *campRun) error {
				_, err := r.stdinW.Write([]byte{3})
				return err
			})},
		{name: "sigint", want: "130", wantCode: 130, run: simple(false, nil, signalTool(syscall.SIGINT))},
		{name: "sigterm", want: "143", wantCode: 143, run: simple(false, nil, signalTool(syscall.SIGTERM))},
		{name: "sighup", want: "129", wantCode: 129, run: simple(false, nil, signalTool(syscall.SIGHUP))},
		{name: "client-sigkill", want: "killed (no status); host watcher removes the container", wantCode: -1,
			run: simple(false, nil, signalTool(syscall.SIGKILL))},
		{name: "sshd-session-killed", want: "255", wantCode: 255, run: simple(false, nil, killSession)},
		{name: "net-cut-rst", want: "255", wantCode: 255, run: viaProxy(nil, (*cutProxy).reset)},
		{name: "net-blackhole", want: "255 (keepalive), removed by the tool's reconnect", wantCode: 255,
			run: viaProxy([]string{"--ssh-o", "ServerAliveInterval=1", "--ssh-o", "ServerAliveCountMax=2"}, (*cutProxy).blackhole)},
	}

	type job struct{ s, i int }
	results := make([][]campOutcome, len(scenarios))
	for i := range results {
		results[i] = make([]campOutcome, n)
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range campaignParallel {
		wg.Go(func() {
			for j := range jobs {
				results[j.s][j.i] = scenarios[j.s].run(c, j.i)
			}
		})
	}
	start := time.Now()
	// Interleaved, so that different faults overlap on the same sshd.
	for i := range n {
		for s := range scenarios {
			jobs <- job{s, i}
		}
	}
	close(jobs)
	wg.Wait()
	t.Logf("campaign: %d scenarios × %d runs in %v, %d at a time", len(scenarios), n, time.Since(start).Round(time.Second), campaignParallel)

	var totalRuns, totalLeaked, totalWrong, totalErr int
	for si, s := range scenarios {
		var leaked, wrong, harness int
		var worst time.Duration
		codes := map[string]int{}
		for i, o := range results[si] {
			got := strconv.Itoa(o.code)
			switch {
			case o.err != nil:
				got = "harness error"
			case o.hung:
				got = "hung"
			case o.signaled:
				got = "killed"
			}
			codes[got]++
			if o.err != nil {
				harness++
				t.Errorf("%s run %d: could not inject the fault: %v\noutput: %s", s.name, i, o.err, o.stderr)
				continue
			}
			ok := !o.hung && ((s.wantCode == -1 && o.signaled) || (s.wantCode >= 0 && !o.signaled && o.code == s.wantCode))
			if !ok {
				wrong++
				t.Errorf("%s run %d: got %s, want %s; output:\n%s", s.name, i, got, s.want, o.stderr)
			}
			if o.leaked {
				leaked++
				t.Errorf("%s run %d: container %s still there %v after the tool exited", s.name, i, o.name, campGoneTimeout)
			} else if o.gone > worst {
				worst = o.gone
			}
		}
		totalRuns += n
		totalLeaked += leaked
		totalWrong += wrong
		totalErr += harness
		t.Logf("campaign %-19s runs %d, faults injected %d, containers leaked %d, exit statuses wrong %d (want %s; got %s), slowest removal after exit %.1f s",
			s.name, n, n-harness, leaked, wrong, s.want, formatCounts(codes), worst.Seconds())
	}
	t.Logf("campaign total: runs %d, faults injected %d, containers leaked %d, exit statuses wrong %d",
		totalRuns, totalRuns-totalErr, totalLeaked, totalWrong)
}

// formatCounts renders {"130": 9, "255": 1} as "130×9 255×1".
func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s×%d", k, m[k])
	}
	return b.String()
}
