// Package windows_test is the end-to-end smoke of the Windows build: it
// cross-builds ssh-ecs-run-task.exe and runs it under wine
// (windows/wine-exec.sh) against the e2e bed — the AWS emulator, real sshd
// on 127.0.0.2-4 and the real Docker engine — as a Windows user would.
//
// The tests run on Linux, only when SSH_ECS_WINDOWS_E2E=1 (as `make
// test-windows` sets it): `go test ./...` would run them next to the Linux
// e2e tests, whose checks for leftover containers they would disturb. Then
// they skip with one line when wine is not set up (windows/setup-wine.sh,
// which `make test-windows` runs first) or the bed is missing
// (e2e/setup.sh); under CI=true both fail instead.
//
// Under wine HOME does not reach the program and USERPROFILE is the
// prefix's C:\users\<name>, so every SSH file is named explicitly, in
// Windows form (Z:\tmp\…), through --ssh-F, --ssh-i and --ssh-o.
package windows_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/bed"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/emulator"
)

// stateFile is the emulator fixture the Linux e2e tests use too.
const stateFile = "../testdata/state/bed.json"

// enableVar must be "1" for the tests to run (see the package comment).
const enableVar = "SSH_ECS_WINDOWS_E2E"

// runTimeout bounds one run of the .exe; every scenario ends far sooner.
const runTimeout = 2 * time.Minute

// build is the Windows programs, built once for all tests.
var build struct {
	once     sync.Once
	dir      string
	tool     string // ssh-ecs-run-task.exe
	agent    string // agentpipe.exe
	wineExec string // windows/wine-exec.sh
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// requireWine skips the test (fails it under CI=true) when the wine prefix
// of windows/setup-wine.sh is not there, then builds the programs once.
func requireWine(t *testing.T) {
	t.Helper()
	if why := wineMissing(); why != "" {
		msg := "windows e2e: " + why + "; run `bash windows/setup-wine.sh` (or `make test-windows`) to enable"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	build.once.Do(func() {
		build.wineExec, build.err = filepath.Abs("../../windows/wine-exec.sh")
		if build.err != nil {
			return
		}
		if build.dir, build.err = os.MkdirTemp("", "ssh-ecs-e2e-windows-"); build.err != nil {
			return
		}
		build.tool = filepath.Join(build.dir, "ssh-ecs-run-task.exe")
		build.agent = filepath.Join(build.dir, "agentpipe.exe")
		for _, b := range []struct{ out, pkg string }{{build.tool, "../.."}, {build.agent, "./agentpipe"}} {
			cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
			cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				build.err = fmt.Errorf("build %s for windows: %v\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
}

// wineMissing says what of windows/setup-wine.sh's work is missing, with the
// same defaults as windows/wine-env.sh.
func wineMissing() string {
	wine := os.Getenv("SSH_ECS_WINE")
	if wine == "" {
		wine = "/usr/lib/wine/wine64"
	}
	if st, err := os.Stat(wine); err != nil || st.Mode()&0o111 == 0 {
		return wine + " not installed"
	}
	prefix := os.Getenv("WINEPREFIX")
	if prefix == "" {
		u, err := user.Current()
		if err != nil {
			return "no WINEPREFIX and no home directory: " + err.Error()
		}
		prefix = filepath.Join(u.HomeDir, ".cache", "ssh-ecs-run-task", "wine")
	}
	if _, err := os.Stat(filepath.Join(prefix, ".ssh-ecs-run-task-prefix")); err != nil {
		return "no wine prefix at " + prefix
	}
	return ""
}

// winPath is a Linux path as a Windows program under wine names it.
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// world is the bed shared by the scenarios of one test.
type world struct {
	t      *testing.T
	bed    *bed.Bed
	ins    []*bed.SSHD
	url    string
	label  string // ssh-e2e-run=<id> on every container of this test
	config string // ssh_config for the .exe, Windows paths, no ~
}

func newWorld(t *testing.T) *world {
	t.Helper()
	if os.Getenv(enableVar) != "1" {
		t.Skip("windows e2e: run by `make test-windows`, or with " + enableVar + "=1 (not next to the Linux e2e tests)")
	}
	bed.Require(t)
	requireWine(t)
	b := bed.New(t)
	ins := bed.StartInstances(t, b)
	st, err := emulator.LoadState(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emulator.New(st))
	t.Cleanup(srv.Close)
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	w := &world{t: t, bed: b, ins: ins, url: srv.URL, label: "ssh-ecs-e2e-run=" + hex.EncodeToString(id)}
	t.Cleanup(func() {
		if !bed.WaitNoContainers(t, w.label, 30*time.Second) {
			left := bed.Containers(t, w.label)
			t.Errorf("containers left on the engine: %v", left)
			for _, c := range left {
				_, _ = exec.Command("docker", "rm", "-f", c).CombinedOutput()
			}
		}
	})
	// The bed's config with ~/.ssh/ spelled out as a Windows path: ~ would be
	// the prefix's profile, not the bed's home.
	cfg := strings.ReplaceAll(bed.InstancesConfig(ins[0].Port), "~/.ssh/", winPath(filepath.Join(b.HomeDir, ".ssh"))+`\`)
	w.config = w.writeFile(t, "config.win", cfg)
	return w
}

// writeFile writes a file into the bed's directory and returns its Windows path.
func (w *world) writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(w.bed.Dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return winPath(p)
}

// result is what one run of the .exe produced.
type result struct {
	stdout, stderr string
	code           int
}

// run runs ssh-ecs-run-task.exe under wine with the emulator's environment
// plus env ("KEY=value"), the container label, then args.
func (w *world) run(t *testing.T, stdin io.Reader, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	full := append([]string{build.tool, "--label", w.label}, args...)
	cmd := exec.CommandContext(ctx, build.wineExec, full...)
	cmd.Env = w.env(env...)
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("ssh-ecs-run-task.exe %q did not end within %v; stderr:\n%s", args, runTimeout, r.stderr)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run ssh-ecs-run-task.exe: %v", err)
	}
	t.Logf("ssh-ecs-run-task.exe %q → %d\nstderr: %s", args, r.code, r.stderr)
	return r
}

// env is the .exe's environment: test credentials and the emulator, no
// agent and no AWS files of this machine, then extra, which wins.
func (w *world) env(extra ...string) []string {
	drop := map[string]bool{"HOME": true, "USERPROFILE": true, "SSH_AUTH_SOCK": true}
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] && !strings.HasPrefix(k, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ENDPOINT_URL="+w.url,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+winPath(filepath.Join(w.bed.Dir, "no-aws-config")),
		"AWS_SHARED_CREDENTIALS_FILE="+winPath(filepath.Join(w.bed.Dir, "no-aws-credentials")),
	)
	return append(env, extra...)
}

// web is a task of the fixture whose containers run on the bed's instances.
var web = []string{"--task", "web", "--cluster", "prod"}

func with(base []string, more ...string) []string {
	return append(append([]string(nil), base...), more...)
}

func TestWindowsExe(t *testing.T) {
	w := newWorld(t)
	cfg := []string{"--ssh-F", w.config}

	t.Run("exit status 0 and 3", func(t *testing.T) {
		if r := w.run(t, nil, nil, with(cfg, with(web, "--", "sh", "-c", "echo ok")...)...); r.code != 0 || r.stdout != "ok\n" {
			t.Errorf("exit %d, stdout %q; want 0, %q", r.code, r.stdout, "ok\n")
		}
		if r := w.run(t, nil, nil, with(cfg, with(web, "--", "sh", "-c", "echo three; exit 3")...)...); r.code != 3 || r.stdout != "three\n" {
			t.Errorf("exit %d, stdout %q; want 3, %q", r.code, r.stdout, "three\n")
		}
	})

	t.Run("hostile arguments byte-exact", func(t *testing.T) {
		words := []string{"a  b", "", "$(x)", "é", `"q"`, `C:\dir\`, `a\"b`, "%PATH%", "*", "日本 🙂", "tab\there", "'"}
		r := w.run(t, nil, nil, with(cfg, with(web, append([]string{"--", "sh", "-c", `printf "[%s]" "$@"`, "sh"}, words...)...)...)...)
		var want strings.Builder
		for _, s := range words {
			want.WriteString("[" + s + "]")
		}
		if r.code != 0 || r.stdout != want.String() {
			t.Errorf("exit %d, stdout %q; want 0, %q", r.code, r.stdout, want.String())
		}
	})

	t.Run("task environment byte-exact", func(t *testing.T) {
		r := w.run(t, nil, nil, with(cfg, "--task", "ecscompose-user-registration-service--alpha", "--",
			"sh", "-c", `for v in QUOTES DOLLAR NEWLINE SPACES UNICODE EMPTY; do eval "printf \"%s=[%s]\n\" \$v \"\$$v\""; done`)...)
		want := "QUOTES=[it's \"quoted\"]\n" +
			"DOLLAR=[$(touch /tmp/pwned) $HOME `id`]\n" +
			"NEWLINE=[line1\nline2]\n" +
			"SPACES=[  a  b  ]\n" +
			"UNICODE=[héllo ✓ 日本]\n" +
			"EMPTY=[]\n"
		if r.code != 0 || r.stdout != want {
			t.Errorf("exit %d, stdout %q; want 0, %q", r.code, r.stdout, want)
		}
	})

	t.Run("1 MiB of binary stdin exact", func(t *testing.T) {
		in := make([]byte, 1<<20)
		_, _ = rand.Read(in)
		copy(in[1000:], "\r\n\x00\x1a\n\r") // CRLF, NUL, Ctrl-Z: what text-mode I/O would mangle
		r := w.run(t, bytes.NewReader(in), nil, with(cfg, with(web, "--", "cat")...)...)
		got, want := sha256.Sum256([]byte(r.stdout)), sha256.Sum256(in)
		if r.code != 0 || got != want {
			t.Errorf("exit %d, %d bytes out (sha256 %x); want 0, %d bytes (sha256 %x)", r.code, len(r.stdout), got, len(in), want)
		}
	})

	t.Run("dry run", func(t *testing.T) {
		// Port 1 is closed: a connection attempt would fail the run.
		r := w.run(t, nil, nil, with(cfg, with(web, "--dry-run", "--instance", "0", "--ssh-p", "1", "--", "rake", "db:migrate")...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "prod-web-a") || !strings.Contains(r.stdout, "registry.example.com:5000/web:1.6.0 rake db:migrate") {
			t.Errorf("exit %d, stdout %q; want 0 and the target and remote command", r.code, r.stdout)
		}
		if strings.Contains(r.stderr, "RUNNING") {
			t.Errorf("--dry-run ran something: %q", r.stderr)
		}
	})

	t.Run("Windows paths in --ssh-i and --ssh-o, no config", func(t *testing.T) {
		for _, form := range []struct {
			name string
			path func(string) string
		}{{"Z:\\", winPath}, {"/tmp/", func(p string) string { return p }}} {
			r := w.run(t, nil, nil, with(web, "--ssh-F", "none", "--ssh-user", bed.UserDocker,
				"--ssh-p", strconv.Itoa(w.ins[0].Port),
				"--ssh-i", form.path(w.bed.KeyPath),
				"--ssh-o", "IdentitiesOnly=yes",
				"--ssh-o", "UserKnownHostsFile="+form.path(w.bed.KnownHostsPath),
				"--ssh-o", "StrictHostKeyChecking=yes",
				"--", "echo", "paths")...)
			if r.code != 0 || r.stdout != "paths\n" {
				t.Errorf("%s paths: exit %d, stdout %q; want 0, %q", form.name, r.code, r.stdout, "paths\n")
			}
		}
	})

	t.Run("changed host key refused with 255", func(t *testing.T) {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k, _ := ssh.NewPublicKey(pub)
		var lines strings.Builder
		for _, s := range w.ins {
			lines.WriteString(s.HostPattern() + " " + string(ssh.MarshalAuthorizedKey(k)))
		}
		kh := w.writeFile(t, "known_hosts.changed", lines.String())
		// -o comes before ssh_config: the first value of a keyword wins.
		r := w.run(t, nil, nil, with(cfg, with(web, "--ssh-o", "UserKnownHostsFile="+kh, "--", "echo", "should-not-run")...)...)
		if r.code != 255 || r.stdout != "" || !strings.Contains(r.stderr, "has changed") {
			t.Errorf("exit %d, stdout %q, stderr %q; want 255, nothing, a changed host key", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("agent on a named pipe named by SSH_AUTH_SOCK", func(t *testing.T) {
		pipe := `\\.\pipe\ssh-ecs-e2e-agent-` + strings.TrimPrefix(w.label, "ssh-ecs-e2e-run=")
		startAgent(t, pipe, winPath(w.bed.KeyPath))
		// No IdentityFile anywhere: only the agent holds the bed's key (the
		// default files under the prefix's profile do not exist).
		noKey := w.writeFile(t, "config-agent.win", fmt.Sprintf("Host %s\n    User %s\n    Port %d\n    UserKnownHostsFile %s\n    StrictHostKeyChecking yes\n",
			bed.InstanceHosts, bed.UserDocker, w.ins[0].Port, winPath(w.bed.KnownHostsPath)))
		args := with(web, "--ssh-F", noKey, "--", "echo", "via-agent")
		if r := w.run(t, nil, []string{"SSH_AUTH_SOCK=" + pipe}, args...); r.code != 0 || r.stdout != "via-agent\n" {
			t.Errorf("with SSH_AUTH_SOCK=%s: exit %d, stdout %q; want 0, %q", pipe, r.code, r.stdout, "via-agent\n")
		}
		// The control: without the agent nothing authenticates, and the
		// error names the Windows OpenSSH agent pipe it tried.
		r := w.run(t, nil, nil, args...)
		if r.code != 255 || !strings.Contains(r.stderr, "no key was accepted") || !strings.Contains(r.stderr, `\\.\pipe\openssh-ssh-agent`) {
			t.Errorf("without an agent: exit %d, stderr %q; want 255 naming the agent pipe", r.code, r.stderr)
		}
	})
}

// TestWindowsCtrlC sends SIGINT to the wine process — what wine makes of a
// Ctrl-C, delivered to the program as os.Interrupt — while the .exe runs
// `sleep 100` without a PTY. The tool relays it as an SSH signal; the task
// web runs with --init, so sleep dies of it and the tool exits with the
// remote status 130, long before sleep would have ended, leaving no
// container. (Ctrl-Break arrives as the same os.Interrupt; console close as
// SIGTERM, which wine does not deliver: see windows/README.md.)
func TestWindowsCtrlC(t *testing.T) {
	w := newWorld(t)
	cmd := exec.Command(build.wineExec, append([]string{build.tool, "--label", w.label, "--ssh-F", w.config},
		with(web, "--", "sleep", "100")...)...)
	cmd.Env = w.env()
	// A pipe that stays open, like a CI job's stdin: no terminal, no EOF.
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinW.Close()
	var stdout, stderr syncBuffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinR, &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdinR.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-done
		}
	}()

	if !waitFor(60*time.Second, func() bool {
		out, err := exec.Command("docker", "ps", "-q", "--filter", "label="+w.label).Output()
		if err != nil || len(bytes.TrimSpace(out)) == 0 {
			return false
		}
		top, err := exec.Command("docker", "top", strings.Fields(string(out))[0], "-o", "pid,args").CombinedOutput()
		return err == nil && strings.Contains(string(top), "sleep 100")
	}) {
		t.Fatalf("sleep 100 never ran in a container; stderr:\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var werr error
	select {
	case werr = <-done:
		stopped = true
	case <-time.After(60 * time.Second):
		t.Fatalf("the .exe did not end within 60 s of SIGINT; stderr:\n%s", stderr.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		code = ee.ExitCode()
	} else if werr != nil {
		t.Fatal(werr)
	}
	t.Logf("after SIGINT: exit %d; stderr:\n%s", code, stderr.String())
	if code != 130 {
		t.Errorf("after SIGINT: exit %d, want the remote status 128+2 = 130", code)
	}
}

// waitFor polls cond every 200 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
	return true
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startAgent runs agentpipe.exe under wine serving keyFile on pipe until
// the test ends (it stops when its stdin closes).
func startAgent(t *testing.T, pipe, keyFile string) {
	t.Helper()
	cmd := exec.Command(build.wineExec, build.agent, pipe, keyFile)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("agentpipe.exe: %v\n%s", err, stderr.String())
		}
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-ready:
		if line != "ready" {
			t.Fatalf("agentpipe.exe said %q, want ready; stderr: %s", line, stderr.String())
		}
	case <-time.After(runTimeout):
		t.Fatalf("agentpipe.exe not ready after %v; stderr: %s", runTimeout, stderr.String())
	}
}
