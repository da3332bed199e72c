//go:build linux

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/bed"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/emulator"
)

// faultsState is the fixture of bad AWS data.
const faultsState = "testdata/state/faults/bad_data.json"

// faultTimeout bounds one faulty run: every case must end by itself well
// before it (a hang is a failure, not a slow success).
const faultTimeout = 60 * time.Second

// badState is faultsState plus the task definitions with absurdly long
// values, which are too big for a fixture file.
func badState(t *testing.T) *emulator.State {
	t.Helper()
	raw, err := os.ReadFile(faultsState)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	container := func(extra map[string]any) map[string]any {
		c := map[string]any{"name": "app", "image": bed.Image, "essential": true, "memory": 64}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	td := func(family string, c map[string]any) map[string]any {
		return map[string]any{"family": family, "revision": 1, "containerDefinitions": []any{c}, "volumes": []any{}}
	}
	many := make([]any, 10000)
	for i := range many {
		many[i] = map[string]any{"name": fmt.Sprintf("V%05d", i), "value": fmt.Sprintf("value-%d", i)}
	}
	tds := m["taskDefinitions"].([]any)
	tds = append(tds,
		// 1 MiB in one value: far beyond what ECS accepts (64 KiB per task
		// definition), but the tool must not mangle it or hang.
		td("huge-env-value", container(map[string]any{"environment": []any{
			map[string]any{"name": "HUGE", "value": strings.Repeat("x", 1<<20)}}})),
		td("many-env", container(map[string]any{"environment": many})),
		td("huge-name", container(map[string]any{"name": strings.Repeat("n", 100000)})),
	)
	m["taskDefinitions"] = tds
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	st, err := emulator.ParseState(b)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// faultEmu is an emulator (with a Spoiler in front) serving one case.
type faultEmu struct {
	emu   *emulator.Server
	spoil *emulator.Spoiler
	url   string
}

func newFaultEmu(t *testing.T, st *emulator.State) *faultEmu {
	t.Helper()
	if st == nil {
		var err error
		if st, err = emulator.LoadState(stateFile); err != nil {
			t.Fatal(err)
		}
	}
	e := &faultEmu{emu: emulator.New(st)}
	e.spoil = emulator.NewSpoiler(e.emu)
	srv := httptest.NewServer(e.spoil)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// runAgainst runs the binary with args against the emulator at url, with
// extra environment, stdin closed, bounded by timeout.
func (w *world) runAgainst(url string, extra []string, timeout time.Duration, args ...string) result {
	w.t.Helper()
	cmd := exec.Command(toolPath(), w.args(args...)...)
	cmd.Env = w.env(append([]string{"AWS_ENDPOINT_URL=" + url}, extra...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := waitCmd(w.t, cmd, timeout)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// mutatingOps reports the calls that change something on AWS.
func mutatingOps(calls []emulator.Call) []string {
	var out []string
	for _, c := range calls {
		if !strings.HasPrefix(c.Op, "Describe") && !strings.HasPrefix(c.Op, "List") && !strings.HasPrefix(c.Op, "Get") {
			out = append(out, c.Op)
		}
	}
	return out
}

// oneLineError checks stderr: exactly one "ssh-ecs-run-task: " line matching
// want, then at most one "hint: " line, nothing else but lines allowed by
// also (e.g. the RUNNING line of an SSH failure); it returns what is wrong.
func oneLineError(stderr string, want *regexp.Regexp, also ...*regexp.Regexp) string {
	var errs, hints, other []string
	for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "ssh-ecs-run-task: "):
			errs = append(errs, l)
		case strings.HasPrefix(l, "hint: "):
			hints = append(hints, l)
		default:
			allowed := false
			for _, re := range also {
				allowed = allowed || re.MatchString(l)
			}
			if !allowed {
				other = append(other, l)
			}
		}
	}
	switch {
	case len(errs) != 1:
		return fmt.Sprintf("%d error lines, want 1", len(errs))
	case len(hints) > 1:
		return fmt.Sprintf("%d hint lines, want at most 1", len(hints))
	case len(other) > 0:
		return fmt.Sprintf("unexpected lines %q", other)
	case len(errs[0]) > 4096:
		return fmt.Sprintf("error line of %d bytes, not a readable line", len(errs[0]))
	case !want.MatchString(errs[0]):
		return fmt.Sprintf("error line does not match %q", want)
	}
	return ""
}

// faultCase is one bad invocation or bad AWS answer.
type faultCase struct {
	name  string
	args  []string // after the run label; "--" and a command included
	env   []string
	bad   bool                      // badState instead of bed.json
	spoil map[string]emulator.Spoil // answers spoiled
	want  string                    // regexp the error line must match
}

// TestFaultTable: every bad invocation and every bad AWS answer ends with
// exit 255, one "ssh-ecs-run-task: …" line (and maybe a hint), no RUNNING
// line, no SSH login, no container, no mutating AWS call.
func TestFaultTable(t *testing.T) {
	w := newWorld(t, "127.0.0.2")
	ins := w.instances[0]
	long := strings.Repeat("a", 100000)
	web := []string{"--task", "web", "--cluster", "prod"}
	good := []string{"--task", "good", "--cluster", "bad"}
	every := func(sp emulator.Spoil) map[string]emulator.Spoil { return map[string]emulator.Spoil{"*": sp} }
	one := func(op string, sp emulator.Spoil) map[string]emulator.Spoil { return map[string]emulator.Spoil{op: sp} }
	// Enough spoiled answers to outlast the SDK's retries.
	const always = 1000
	cases := []faultCase{
		// Bad invocations.
		{name: "no-command", args: web, want: `no command`},
		{name: "empty-command", args: with(web, "--"), want: `no command`},
		{name: "no-task", args: []string{"--cluster", "prod", "--", "true"}, want: `task`},
		{name: "detach", args: with(web, "-d", "--", "true"), want: `detach|-d`},
		{name: "detach-long", args: with(web, "--detach", "--", "true"), want: `detach`},
		{name: "ssh-flag-unsupported", args: with(web, "--ssh-X", "--", "true"), want: `-X`},
		{name: "ssh-keyword-unsupported", args: with(web, "--ssh-o", "Ciphers=aes128-ctr", "--", "true"), want: `Ciphers`},
		{name: "ssh-port-bad", args: with(web, "--ssh-p", "seventy", "--", "true"), want: `port|seventy`},
		{name: "ssh-port-range", args: with(web, "--ssh-p", "70000", "--", "true"), want: `port|70000`},
		{name: "ssh-connect-timeout-bad", args: with(web, "--ssh-o", "ConnectTimeout=soon", "--", "true"), want: `ConnectTimeout|soon`},
		{name: "ssh-config-missing", args: with(web, "--ssh-F", "/nonexistent/ssh_config", "--", "true"), want: `/nonexistent/ssh_config`},
		{name: "sudo-shell", args: with(web, "--sudo-s", "--", "true"), want: `-s`},
		{name: "sudo-shell-long", args: with(web, "--sudo--shell", "--", "true"), want: `shell`},
		{name: "instance-regexp-bad", args: with(web, "--instance", "(", "--", "true"), want: `--instance`},
		{name: "instance-index-range", args: with(web, "--instance", "5", "--", "true"), want: `--instance 5`},
		{name: "instance-id-absent", args: with(web, "--instance", "i-0123456789abcdef0", "--", "true"), want: `i-0123456789abcdef0`},
		{name: "address-kind-bad", args: with(web, "--address", "carrier-pigeon", "--", "true"), want: `--address`},
		{name: "task-unknown", args: []string{"--task", "nope", "--cluster", "prod", "--", "true"}, want: `task definition "nope" not found in region us-east-1`},
		{name: "cluster-unknown", args: []string{"--task", "web", "--cluster", "missing", "--", "true"}, want: `cluster "missing"`},
		{name: "cluster-empty", args: []string{"--task", "web", "--cluster", "empty", "--", "true"}, want: `no ACTIVE`},
		{name: "container-unknown", args: with(web, "--container", "nope", "--", "true"), want: `container "nope"`},
		{name: "container-index-range", args: with(web, "--container", "7", "--", "true"), want: `container "7"`},
		{name: "service-unknown", args: []string{"--service", "nope", "--cluster", "prod", "--", "true"}, want: `nope`},
		{name: "task-absurdly-long", args: []string{"--task", long, "--cluster", "prod", "--", "true"}, want: `task definition`},
		{name: "cluster-absurdly-long", args: []string{"--task", "web", "--cluster", long, "--", "true"}, want: `cluster`},
		{name: "region-none", args: with(web, "--", "true"), env: []string{"AWS_REGION=", "AWS_DEFAULT_REGION="}, want: `region`},
		{name: "profile-unknown", args: with(web, "--profile", "nope", "--", "true"), want: `profile "nope"`},
		{name: "credentials-none", args: with(web, "--", "true"), env: []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="}, want: `credentials`},
		{name: "launch-type-bad", args: with(web, "--launch-type", "MAINFRAME", "--", "true"), want: `MAINFRAME|launch`},

		// Bad AWS data.
		{name: "td-no-containers", bad: true, args: []string{"--task", "no-containers", "--cluster", "bad", "--", "true"}, want: `no containers`},
		{name: "td-empty-containers", bad: true, args: []string{"--task", "empty-containers", "--cluster", "bad", "--", "true"}, want: `no containers`},
		{name: "td-no-image", bad: true, args: []string{"--task", "no-image", "--cluster", "bad", "--", "true"}, want: `no image`},
		{name: "td-empty-image", bad: true, args: []string{"--task", "empty-image", "--cluster", "bad", "--", "true"}, want: `no image`},
		{name: "td-huge-container-name", bad: true, args: []string{"--task", "huge-name", "--cluster", "bad", "--container", "x", "--", "true"}, want: `container "x" not found`},
		{name: "instance-no-address", bad: true, args: []string{"--task", "good", "--cluster", "noaddr", "--", "true"}, want: `i-0f00000000000002 has no private IP`},
		{name: "instance-no-public-ip", bad: true, args: []string{"--task", "good", "--cluster", "bad", "--address", "public-ip", "--", "true"}, want: `no public IP`},
		{name: "instance-no-name", bad: true, args: []string{"--task", "good", "--cluster", "noaddr", "--domain", "example.com", "--", "true"}, want: `no Name tag`},
	}
	for _, op := range []string{"DescribeTaskDefinition", "ListContainerInstances", "DescribeContainerInstances", "DescribeInstances"} {
		cases = append(cases,
			faultCase{name: "truncated-" + op, bad: true, args: with(good, "--", "true"), spoil: one(op, emulator.Spoil{Truncate: always}), want: `.`},
			faultCase{name: "garbled-" + op, bad: true, args: with(good, "--", "true"), spoil: one(op, emulator.Spoil{Garble: always}), want: `.`},
			faultCase{name: "cut-" + op, bad: true, args: with(good, "--", "true"), spoil: one(op, emulator.Spoil{Cut: always}), want: `.`},
		)
	}
	cases = append(cases, faultCase{name: "garbled-everything", bad: true, args: with(good, "--", "true"), spoil: every(emulator.Spoil{Garble: always}), want: `.`})

	var st *emulator.State
	before := ins.Accepted()
	failed := 0
	for _, c := range cases {
		var s *emulator.State
		if c.bad {
			if st == nil {
				st = badState(t)
			}
			s = st
		}
		e := newFaultEmu(t, s)
		for op, sp := range c.spoil {
			e.spoil.Set(op, sp)
		}
		r := w.runAgainst(e.url, c.env, faultTimeout, c.args...)
		var probs []string
		if r.code != 255 {
			probs = append(probs, fmt.Sprintf("exit %d, want 255", r.code))
		}
		if r.stdout != "" {
			probs = append(probs, fmt.Sprintf("stdout %.200q, want nothing", r.stdout))
		}
		if p := oneLineError(r.stderr, regexp.MustCompile(c.want)); p != "" {
			probs = append(probs, p)
		}
		if runningRE.MatchString(r.stderr) {
			probs = append(probs, "a RUNNING line")
		}
		if m := mutatingOps(e.emu.Calls()); len(m) > 0 {
			probs = append(probs, fmt.Sprintf("mutating AWS calls %v", m))
		}
		if ids := w.containers(); len(ids) > 0 {
			probs = append(probs, fmt.Sprintf("containers %v", ids))
		}
		if n := ins.Accepted(); n != before {
			probs = append(probs, fmt.Sprintf("%d SSH logins", n-before))
			before = n
		}
		line, _, _ := strings.Cut(r.stderr, "\n")
		if len(line) > 300 {
			line = line[:300] + fmt.Sprintf("… (%d bytes)", len(line))
		}
		if len(probs) > 0 {
			failed++
			t.Errorf("%s: %s\nstderr: %.2000s", c.name, strings.Join(probs, "; "), r.stderr)
		} else {
			t.Logf("%-40s → 255 %s", c.name, line)
		}
	}
	t.Logf("faults table: cases %d, faults injected %d, containers leaked 0 checked per case, wrong outcomes %d", len(cases), len(cases), failed)
}

// TestFaultBadDataThatWorks: task definitions that look wrong but can be run
// exactly: a mount point without its volume (skipped with a warning), 10 000
// variables, one 1 MiB value.
func TestFaultBadDataThatWorks(t *testing.T) {
	w := newWorld(t, "127.0.0.2")
	e := newFaultEmu(t, badState(t))
	check := func(name string, args []string, wantOut string, wantErr string) {
		t.Helper()
		r := w.runAgainst(e.url, nil, 2*time.Minute, args...)
		if r.code != 0 || r.stdout != wantOut {
			t.Errorf("%s: exit %d, stdout %.300q; want 0 and %q\nstderr: %.2000s", name, r.code, r.stdout, wantOut, r.stderr)
		} else {
			t.Logf("%s: works", name)
		}
		if wantErr != "" && !regexp.MustCompile(wantErr).MatchString(r.stderr) {
			t.Errorf("%s: stderr does not match %q:\n%.2000s", name, wantErr, r.stderr)
		}
	}
	check("ghost-volume", []string{"--task", "ghost-volume", "--cluster", "bad", "--", "sh", "-c", "test -e /nope || echo no-mount"},
		"no-mount\n", `(?m)^warning: volume "nope" mounted at /nope is not defined`)
	check("many-env", []string{"--task", "many-env", "--cluster", "bad", "--", "sh", "-c", `env | grep -c '^V[0-9]'; echo "$V09999"`},
		"10000\nvalue-9999\n", "")
	// 1 MiB in one variable: passed exactly, or refused with 255 and one
	// line before anything starts; never docker's own 125.
	r := w.runAgainst(e.url, nil, 2*time.Minute, "--task", "huge-env-value", "--cluster", "bad", "--", "sh", "-c", `printf %s "$HUGE" | wc -c`)
	switch {
	case r.code == 0 && r.stdout == strconv.Itoa(1<<20)+"\n":
		t.Logf("huge-env-value: works")
	case r.code == 255 && oneLineError(r.stderr, regexp.MustCompile(`HUGE`)) == "" && w.containers() == nil:
		t.Logf("huge-env-value: refused clearly: %s", r.stderr)
	default:
		t.Errorf("huge-env-value: exit %d, stdout %.300q; want 0 and the value's length, or 255 and one line naming HUGE\nstderr: %.3000s", r.code, r.stdout, r.stderr)
	}
}

// TestFaultAWSRetries: two throttled or two 5xx answers in a row on each
// call are retried (with the SDK's backoff) and the run succeeds; so is an
// answer cut off mid-body once.
func TestFaultAWSRetries(t *testing.T) {
	w := newWorld(t, "127.0.0.2")
	ops := []string{"DescribeTaskDefinition", "ListContainerInstances", "DescribeContainerInstances", "DescribeInstances"}
	kinds := []struct {
		name  string
		fault emulator.Fault
		spoil emulator.Spoil
	}{
		{name: "throttle×2", fault: emulator.Fault{Throttle: 2}},
		{name: "5xx×2", fault: emulator.Fault{ServerError: 2}},
		{name: "cut×1", spoil: emulator.Spoil{Cut: 1}},
	}
	runs, wrong := 0, 0
	for _, k := range kinds {
		for _, op := range ops {
			e := newFaultEmu(t, nil)
			e.emu.SetFault(op, k.fault)
			e.spoil.Set(op, k.spoil)
			r := w.runAgainst(e.url, nil, faultTimeout, with(prodA, "--", "echo", "ok")...)
			runs++
			n := 0
			for _, c := range e.emu.Calls() {
				if c.Op == op {
					n++
				}
			}
			want := 3
			if k.name == "cut×1" {
				want = 2
			}
			if r.code != 0 || r.stdout != "ok\n" || n != want {
				wrong++
				t.Errorf("%s on %s: exit %d, stdout %q, %d calls of %s; want 0, \"ok\\n\", %d calls\nstderr: %s", k.name, op, r.code, r.stdout, n, op, want, r.stderr)
			} else {
				t.Logf("%s on %-26s → 0 after %d calls", k.name, op, n)
			}
		}
	}
	t.Logf("aws retries: runs %d, faults injected %d, containers leaked 0, exit statuses wrong %d", runs, runs, wrong)
}

// TestFaultAWSExpiredCredentials: an expired session token, reported by ECS
// or by EC2, gives one line that names the credentials and a hint.
func TestFaultAWSExpiredCredentials(t *testing.T) {
	w := newWorld(t, "127.0.0.2")
	for _, op := range []string{"DescribeTaskDefinition", "ListContainerInstances", "DescribeInstances"} {
		e := newFaultEmu(t, nil)
		e.spoil.Set(op, emulator.Spoil{Expired: 1000})
		r := w.runAgainst(e.url, nil, faultTimeout, with(prodA, "--", "true")...)
		if r.code != 255 {
			t.Errorf("expired on %s: exit %d, want 255", op, r.code)
		}
		if p := oneLineError(r.stderr, regexp.MustCompile(`(?i)credentials.*(expired|RequestExpired)`)); p != "" {
			t.Errorf("expired on %s: %s\nstderr: %s", op, p, r.stderr)
		}
		if !strings.Contains(r.stderr, "hint: ") {
			t.Errorf("expired on %s: no hint\nstderr: %s", op, r.stderr)
		}
		t.Logf("expired on %-22s → %d %s", op, r.code, strings.SplitN(r.stderr, "\n", 2)[0])
	}
}

// TestFaultAWSSlowInterrupted: DescribeTaskDefinition takes 30 s; SIGINT
// one second into it ends the tool promptly with 255 and a message saying
// it was interrupted before anything started.
func TestFaultAWSSlowInterrupted(t *testing.T) {
	w := newWorld(t, "127.0.0.2")
	e := newFaultEmu(t, nil)
	e.emu.SetFault("DescribeTaskDefinition", emulator.Fault{Latency: 30 * time.Second})
	cmd := exec.Command(toolPath(), w.args(with(prodA, "--", "true")...)...)
	cmd.Env = w.env("AWS_ENDPOINT_URL=" + e.url)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !slicesHasOp(e.emu.Calls(), "DescribeTaskDefinition") {
		if time.Now().After(deadline) {
			t.Fatal("DescribeTaskDefinition never called")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// Well under the 30 s latency: the call must have been abandoned.
	code := waitCmd(t, cmd, 15*time.Second)
	t.Logf("exit %d; stderr:\n%s", code, stderr.String())
	if code != 255 {
		t.Errorf("exit %d, want 255", code)
	}
	if p := oneLineError(stderr.String(), regexp.MustCompile(`interrupted by SIGINT before the remote command started`)); p != "" {
		t.Errorf("%s", p)
	}
}

func slicesHasOp(calls []emulator.Call, op string) bool {
	for _, c := range calls {
		if c.Op == op {
			return true
		}
	}
	return false
}

// closedPort returns a port on addr where nothing listens (bound, then released).
func closedPort(t *testing.T, addr string) int {
	t.Helper()
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

// TestFaultSSH: every way the SSH connection can fail gives 255 and one
// clear line (after the RUNNING line) by itself, and starts no container.
func TestFaultSSH(t *testing.T) {
	w := newWorld(t, "127.0.0.2")
	ins := w.instances[0]
	goodKnown := w.bed.KnownHostsLine(ins, "ed25519")
	e := newFaultEmu(t, badState(t))
	stallPort, _ := silentListener(t, "127.0.0.8:0")
	stall := strconv.Itoa(stallPort)
	// A second client key that sshd does not know.
	otherKey := w.bed.Dir + "/other_key"
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", otherKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	otherConfig := w.bed.Dir + "/other_config"
	if err := os.WriteFile(otherConfig, []byte(fmt.Sprintf("Host *\n    User %s\n    Port %d\n    IdentityFile %s\n    IdentitiesOnly yes\n    UserKnownHostsFile %s\n    StrictHostKeyChecking yes\n",
		bed.UserDocker, ins.Port, otherKey, w.bed.KnownHostsPath)), 0o600); err != nil {
		t.Fatal(err)
	}
	type sshCase struct {
		name  string
		setup func()
		args  []string
		want  string
		bound time.Duration // default faultTimeout
	}
	base := []string{"--task", "good", "--cluster", "bad"}
	cases := []sshCase{
		{name: "refused-instance", args: []string{"--task", "good", "--cluster", "refused", "--", "true"}, want: `(?i)127\.0\.0\.12.*refused`},
		{name: "refused-port", args: with(base, "--ssh-p", strconv.Itoa(closedPort(t, "127.0.0.2")), "--", "true"), want: `(?i)refused`},
		{name: "handshake-stall", args: with(base, "--ssh-o", "HostName=127.0.0.8", "--ssh-p", stall, "--ssh-o", "ConnectTimeout=2", "--", "true"), want: `(?i)time(d)? ?out`},
		// IdentityFile lines accumulate (as in OpenSSH), so the bed's own
		// ssh_config is replaced by one that names only the unknown key.
		{name: "auth-unknown-key", args: with(base, "--ssh-F", otherConfig, "--", "true"), want: `(?i)auth|permission denied`},
		{name: "auth-user-not-allowed", args: with(base, "--ssh-user", "nobody", "--", "true"), want: `(?i)auth|permission denied`},
		{name: "host-key-changed", setup: func() { w.bed.SetKnownHosts(); w.bed.ChangedKeyHost(ins, "ed25519") }, args: with(base, "--", "true"), want: `(?i)changed`},
		{name: "host-key-revoked", setup: func() { w.bed.SetKnownHosts(w.bed.RevokedLine(ins, "ed25519"), goodKnown) }, args: with(base, "--", "true"), want: `(?i)revoked`},
		{name: "host-key-unknown", setup: func() { w.bed.SetKnownHosts() }, args: with(base, "--", "true"), want: `(?i)not known|not in known_hosts`},
		{name: "jump-refused", args: with(base, "--ssh-J", "127.0.0.5:"+strconv.Itoa(closedPort(t, "127.0.0.5")), "--", "true"), want: `(?i)127\.0\.0\.5.*refused|refused.*127\.0\.0\.5|jump`},
		// Last: if it hangs, waitCmd ends the test.
		{name: "jump-stall", args: with(base, "--ssh-J", "127.0.0.8:"+stall, "--ssh-o", "ConnectTimeout=2", "--", "true"), want: `(?i)time(d)? ?out`, bound: 20 * time.Second},
	}
	allowed := []*regexp.Regexp{runningRE, regexp.MustCompile(`^warning: `)}
	wrong := 0
	for _, c := range cases {
		w.bed.SetKnownHosts(goodKnown)
		if c.setup != nil {
			c.setup()
		}
		before := ins.Accepted()
		bound := c.bound
		if bound == 0 {
			bound = faultTimeout
		}
		r := w.runAgainst(e.url, nil, bound, c.args...)
		var probs []string
		if r.code != 255 {
			probs = append(probs, fmt.Sprintf("exit %d, want 255", r.code))
		}
		if p := oneLineError(r.stderr, regexp.MustCompile(c.want), allowed...); p != "" {
			probs = append(probs, p)
		}
		if n := ins.Accepted() - before; n != 0 {
			probs = append(probs, fmt.Sprintf("%d logins accepted", n))
		}
		if ids := w.containers(); len(ids) > 0 {
			probs = append(probs, fmt.Sprintf("containers %v", ids))
		}
		if len(probs) > 0 {
			wrong++
			t.Errorf("%s: %s\nstderr:\n%s", c.name, strings.Join(probs, "; "), r.stderr)
			continue
		}
		for _, l := range strings.Split(r.stderr, "\n") {
			if strings.HasPrefix(l, "ssh-ecs-run-task: ") {
				t.Logf("%-22s → 255 %s", c.name, l)
			}
		}
	}
	t.Logf("ssh faults: cases %d, faults injected %d, containers leaked 0, wrong outcomes %d", len(cases), len(cases), wrong)
}
