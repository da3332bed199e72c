//go:build linux

package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
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

	"github.com/creack/pty"
	"golang.org/x/crypto/ssh"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/bed"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/emulator"
)

// Fargate mode against the emulator, whose tasks are real containers of the
// reference sshd image (ssh-ecs-run-task/sshd:test) on the Docker engine,
// with host networking on loopback addresses of their own.

// fargateAddrs is the runner's address pool: apart from the .20s that the
// demo and benchmarks use, so that they can run beside these tests.
var fargateAddrs = []string{"127.0.0.40", "127.0.0.41", "127.0.0.42", "127.0.0.43"}

const (
	fargateImage   = "ssh-ecs-run-task/sshd:test"
	fargateMissing = "ssh-ecs-run-task/does-not-exist:none"
	fargateTimeout = 2 * time.Minute
)

// The tool's StopTask reasons (fargate.go).
const (
	reasonFinished    = "ssh-ecs-run-task finished"
	reasonInterrupted = "ssh-ecs-run-task interrupted"
)

var fargateImageOnce struct {
	sync.Once
	err error
}

// fargateBed is one scenario: an emulator with a Docker runner and a HOME.
type fargateBed struct {
	t    *testing.T
	emu  *emulator.Server
	url  string
	home string
}

// fargateOptions change the fixture of one scenario.
type fargateOptions struct {
	taskSteps *int                                               // DescribeTasks answers per status
	runner    func(r *emulator.DockerRunner) emulator.TaskRunner // wraps the Docker runner
}

func newFargateBed(t *testing.T, o fargateOptions) *fargateBed {
	t.Helper()
	bed.Require(t)
	fargateImageOnce.Do(func() {
		out, err := exec.Command("bash", "build-sshd-image.sh").CombinedOutput()
		if err != nil {
			fargateImageOnce.err = fmt.Errorf("build-sshd-image.sh: %v\n%s", err, out)
		}
	})
	if fargateImageOnce.err != nil {
		t.Fatal(fargateImageOnce.err)
	}

	// The fixture, plus a Fargate task definition whose image does not exist.
	raw, err := os.ReadFile(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	st["taskDefinitions"] = append(st["taskDefinitions"].([]any), map[string]any{
		"family": "ssh-broken", "revision": 1, "networkMode": "awsvpc", "cpu": "256", "memory": "512",
		"requiresCompatibilities": []string{"FARGATE"}, "compatibilities": []string{"EC2", "FARGATE"},
		"containerDefinitions": []any{map[string]any{
			"name": "sshd", "image": fargateMissing, "essential": true,
			"portMappings": []any{map[string]any{"containerPort": 22, "protocol": "tcp"}},
		}},
	})
	if o.taskSteps != nil {
		st["taskSteps"] = *o.taskSteps
	}
	raw, _ = json.Marshal(st)
	state, err := emulator.ParseState(raw)
	if err != nil {
		t.Fatal(err)
	}
	emu := emulator.New(state)
	runner, err := emulator.NewDockerRunner(fargateAddrs)
	if err != nil {
		t.Fatal(err)
	}
	var tr emulator.TaskRunner = runner
	if o.runner != nil {
		tr = o.runner(runner)
	}
	emu.SetRunner(tr)
	srv := httptest.NewServer(emu)
	b := &fargateBed{t: t, emu: emu, url: srv.URL, home: t.TempDir()}
	// Last registered, first run: check, then clean up whatever is left.
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = emu.Close(ctx)
		b.removeContainers()
	})
	t.Cleanup(b.checkClean)
	return b
}

// checkClean fails the test when the tool left a task that it did not
// stop, or a container on the engine.
func (b *fargateBed) checkClean() {
	t := b.t
	stops := 0
	for _, c := range b.emu.Calls() {
		if c.Op == "StopTask" && c.Status == 200 {
			stops++
		}
	}
	tasks := b.emu.Tasks()
	for _, ti := range tasks {
		if ti.LastStatus != "STOPPED" {
			t.Errorf("task %s left %s without StopTask", ti.Launch.ID, ti.LastStatus)
		}
	}
	if stops < len(tasks) {
		t.Errorf("%d tasks but %d StopTask calls", len(tasks), stops)
	}
	for _, ti := range tasks {
		label := "ssh-ecs-run-task.e2e.task=" + ti.Launch.ID
		if !bed.WaitNoContainers(t, label, 30*time.Second) {
			t.Errorf("container of task %s still on the engine: %v", ti.Launch.ID, bed.Containers(t, label))
		}
	}
}

func (b *fargateBed) removeContainers() {
	for _, ti := range b.emu.Tasks() {
		for _, id := range bed.Containers(b.t, "ssh-ecs-run-task.e2e.task="+ti.Launch.ID) {
			_, _ = exec.Command("docker", "rm", "-f", id).CombinedOutput()
		}
	}
}

// command is the tool with args, in the scenario's environment, in a
// process group of its own (so signals reach only it).
func (b *fargateBed) command(args ...string) *exec.Cmd {
	cmd := exec.Command(toolPath(), args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + b.home,
		"USER=e2e",
		"AWS_ENDPOINT_URL=" + b.url,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(b.home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(b.home, "aws-credentials"),
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// fargateResult is a finished run.
type fargateResult struct {
	code           int
	stdout, stderr string
}

// run runs the tool to the end with empty stdin.
func (b *fargateBed) run(args ...string) fargateResult {
	b.t.Helper()
	cmd := b.command(args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	code := fargateWait(b.t, cmd, fargateTimeout)
	r := fargateResult{code: code, stdout: out.String(), stderr: errOut.String()}
	b.t.Logf("ssh-ecs-run-task %s\n→ exit %d\nstdout: %q\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

// fargateWait waits for cmd and returns its exit status; after timeout the
// process group is killed and the test fails.
func fargateWait(t *testing.T, cmd *exec.Cmd, timeout time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("%s did not exit within %v", cmd.Path, timeout)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	t.Fatalf("wait: %v", err)
	return -1
}

// fargateBuffer is a buffer that a test can poll while a process writes it.
type fargateBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *fargateBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *fargateBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls until the buffer matches re or timeout passes.
func (l *fargateBuffer) waitFor(t *testing.T, re string, timeout time.Duration) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for !rx.MatchString(l.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %v in:\n%s", re, timeout, l.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// start starts the tool and returns its output buffers.
func (b *fargateBed) start(args ...string) (*exec.Cmd, *fargateBuffer, *fargateBuffer) {
	b.t.Helper()
	cmd := b.command(args...)
	out, errOut := &fargateBuffer{}, &fargateBuffer{}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
	})
	return cmd, out, errOut
}

// stopReasons are the reasons of the StopTask calls the emulator answered.
func (b *fargateBed) stopReasons() []string {
	var out []string
	for _, c := range b.emu.Calls() {
		if c.Op != "StopTask" {
			continue
		}
		var in struct{ Reason string }
		_ = json.Unmarshal([]byte(c.Body), &in)
		out = append(out, in.Reason)
	}
	return out
}

func (b *fargateBed) wantStops(want ...string) {
	b.t.Helper()
	if got := b.stopReasons(); strings.Join(got, "|") != strings.Join(want, "|") {
		b.t.Errorf("StopTask reasons %q, want %q", got, want)
	}
}

// fargateService are the options of a run that takes everything from the service
// ssh-api (public IP assigned: the runner's address is the public one).
var fargateService = []string{"--launch-type", "FARGATE", "--cluster", "prod", "--service", "ssh-api", "--non-interactive"}

func fargateArgs(base []string, more ...string) []string {
	return append(append([]string(nil), base...), more...)
}

func TestFargateBatchExitStatus(t *testing.T) {
	b := newFargateBed(t, fargateOptions{})

	// The task environment reaches the command; its status comes back.
	r := b.run(fargateArgs(fargateService, "--", "sh", "-c", `echo "task env: $APP_ENV"; echo 'a  "b"'; exit 3`)...)
	if r.code != 3 {
		t.Errorf("exit %d, want 3", r.code)
	}
	if want := "task env: fargate-test\na  \"b\"\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	for _, want := range []string{"started task ", ": RUNNING (", "RUNNING sh -c "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}

	// Options instead of a service, private IP, exit 0, quiet.
	r = b.run("--launch-type", "FARGATE", "--task", "ssh-login", "--cluster", "prod", "--subnets", "subnet-0a1b2c3d4e5f60001",
		"--security-groups", "sg-1", "--non-interactive", "--ssh-q", "--", "true")
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and nothing said under --ssh-q", r.code, r.stdout, r.stderr)
	}
	b.wantStops(reasonFinished, reasonFinished)

	tasks := b.emu.Tasks()
	if len(tasks) != 2 {
		t.Fatalf("%d tasks, want 2", len(tasks))
	}
	keys := map[string]bool{}
	for i, ti := range tasks {
		if ti.LaunchType != "FARGATE" || ti.Launch.StartedBy != "ssh-ecs-run-task" || ti.Tags["ssh-ecs-run-task"] == "" {
			t.Errorf("task %d: launch type %q, startedBy %q, tags %v", i, ti.LaunchType, ti.Launch.StartedBy, ti.Tags)
		}
		env := map[string]string{}
		for _, kv := range ti.Launch.Env {
			env[kv.Name] = kv.Value
		}
		if !strings.HasPrefix(env["SSH_AUTHORIZED_KEYS"], "ssh-ed25519 ") || !strings.HasPrefix(env["SSH_HOST_ED25519_KEY"], "-----BEGIN OPENSSH PRIVATE KEY-----") {
			t.Errorf("task %d: key overrides missing: %q", i, env["SSH_AUTHORIZED_KEYS"])
		}
		if _, ok := env["SSHD_PORT"]; ok {
			t.Errorf("task %d: SSHD_PORT passed without --ssh-p", i)
		}
		if env["APP_ENV"] != "fargate-test" {
			t.Errorf("task %d: the definition's environment was not kept: APP_ENV=%q", i, env["APP_ENV"])
		}
		keys[env["SSH_AUTHORIZED_KEYS"]] = true
		keys[env["SSH_HOST_ED25519_KEY"]] = true
	}
	if len(keys) != 4 {
		t.Errorf("the two runs share a key")
	}
	if got := tasks[1].Subnets; len(got) != 1 || got[0] != "subnet-0a1b2c3d4e5f60001" {
		t.Errorf("subnets %v", got)
	}
}

// TestFargateTimings runs a few batch commands with --debug and logs how
// long it takes from RUNNING to the remote command's start (the figure in
// the report); it asserts nothing about time. Tasks are RUNNING as soon as
// their container has started (taskSteps 0), before sshd listens, as on
// Fargate: the tool's dial retries cover the gap.
func TestFargateTimings(t *testing.T) {
	steps := 0
	b := newFargateBed(t, fargateOptions{taskSteps: &steps})
	re := regexp.MustCompile(`timing: (task running|ssh connect|remote exit)\s+([0-9.]+) ms \(total\s+([0-9.]+) ms\)`)
	for i := range 3 {
		r := b.run(fargateArgs(fargateService, "--debug", "--", "true")...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		phases := map[string]string{}
		for _, m := range re.FindAllStringSubmatch(r.stderr, -1) {
			phases[m[1]] = m[2] + " ms"
		}
		attempts := strings.Count(r.stderr, "; retrying")
		t.Logf("run %d: RUNNING→connected %s (dial retries %d), session %s", i+1, phases["ssh connect"], attempts, phases["remote exit"])
		if phases["ssh connect"] == "" {
			t.Errorf("no timing lines under --debug")
		}
	}
}

func TestFargateInteractivePTY(t *testing.T) {
	b := newFargateBed(t, fargateOptions{})
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer tty.Close()
	_ = pty.Setsize(master, &pty.Winsize{Rows: 30, Cols: 100})
	cmd := b.command("--launch-type", "FARGATE", "--cluster", "prod", "--service", "ssh-api", "--", "sh")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := &fargateBuffer{}
	go func() { _, _ = fargateCopy(out, master) }()
	out.waitFor(t, `RUNNING sh on task`, fargateTimeout)
	// Typed before the remote shell is up: the PTY keeps it.
	if _, err := master.Write([]byte("stty size; echo \"pty-$((40+2))\"; exit 5\r")); err != nil {
		t.Fatal(err)
	}
	code := fargateWait(t, cmd, fargateTimeout)
	if code != 5 {
		t.Errorf("exit %d, want 5", code)
	}
	// What the remote shell printed, through the container's PTY and ours
	// (the echoed command line also holds "pty-$((40+2))", not "pty-42").
	out.waitFor(t, `(?m)^pty-42\r?$`, 5*time.Second)
	out.waitFor(t, `(?m)^30 100\r?$`, 5*time.Second)
	b.wantStops(reasonFinished)
}

func fargateCopy(dst *fargateBuffer, src *os.File) (int64, error) {
	buf := make([]byte, 4096)
	var n int64
	for {
		m, err := src.Read(buf)
		if m > 0 {
			_, _ = dst.Write(buf[:m])
			n += int64(m)
		}
		if err != nil {
			return n, err
		}
	}
}

// fargateImpostor runs the task with another host key than the one the tool sent:
// what a machine in the middle would present.
type fargateImpostor struct {
	*emulator.DockerRunner
	key string
}

func (i fargateImpostor) Start(ctx context.Context, t *emulator.TaskLaunch) (string, error) {
	l := *t
	l.Env = append([]emulator.EnvVar(nil), t.Env...)
	for k := range l.Env {
		if l.Env[k].Name == "SSH_HOST_ED25519_KEY" {
			l.Env[k].Value = i.key
		}
	}
	return i.DockerRunner.Start(ctx, &l)
}

func TestFargateWrongHostKeyRefused(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "fargateImpostor")
	if err != nil {
		t.Fatal(err)
	}
	key := string(pem.EncodeToMemory(block))
	b := newFargateBed(t, fargateOptions{runner: func(r *emulator.DockerRunner) emulator.TaskRunner {
		return fargateImpostor{DockerRunner: r, key: key}
	}})
	r := b.run(fargateArgs(fargateService, "--", "sh", "-c", "echo SHOULD-NOT-RUN")...)
	if r.code != 255 {
		t.Errorf("exit %d, want 255", r.code)
	}
	if !strings.Contains(r.stderr, "is not the expected") || strings.Contains(r.stdout, "SHOULD-NOT-RUN") {
		t.Errorf("the fargateImpostor's host key was not refused")
	}
	b.wantStops(reasonFinished)
}

func TestFargateTaskFailsToStart(t *testing.T) {
	b := newFargateBed(t, fargateOptions{})
	r := b.run("--launch-type", "FARGATE", "--task", "ssh-broken", "--cluster", "prod", "--subnets", "subnet-1", "--non-interactive", "--", "true")
	if r.code != 255 {
		t.Errorf("exit %d, want 255", r.code)
	}
	for _, want := range []string{"stopped before it was running: Task failed to start (TaskFailedToStart)", "container sshd: CannotStartContainerError", fargateMissing, "hint: "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	// The task stopped by itself; StopTask is called anyway.
	b.wantStops(reasonFinished)
}

func TestFargateMissingNetworkIsUsageError(t *testing.T) {
	b := newFargateBed(t, fargateOptions{})
	r := b.run("--launch-type", "FARGATE", "--task", "ssh-login", "--cluster", "prod", "--", "true")
	if r.code != 255 || !strings.Contains(r.stderr, "needs a network configuration") || !strings.Contains(r.stderr, "hint: ") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if calls := b.emu.Calls(); len(calls) != 0 {
		t.Errorf("%d AWS calls made before the usage error", len(calls))
	}
}

func TestFargateSIGINTDuringWait(t *testing.T) {
	steps := 1000 // the task stays PROVISIONING: the wait lasts
	b := newFargateBed(t, fargateOptions{taskSteps: &steps})
	cmd, _, errOut := b.start(fargateArgs(fargateService, "--", "true")...)
	errOut.waitFor(t, `: PROVISIONING \(`, fargateTimeout)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	code := fargateWait(t, cmd, fargateTimeout)
	t.Logf("stderr:\n%s", errOut.String())
	if code != 255 {
		t.Errorf("exit %d, want 255", code)
	}
	if !strings.Contains(errOut.String(), "interrupted by SIGINT before the remote command started") {
		t.Errorf("stderr does not say it was interrupted")
	}
	b.wantStops(reasonInterrupted)
}

func TestFargateSIGTERMDuringSession(t *testing.T) {
	b := newFargateBed(t, fargateOptions{})
	cmd, out, errOut := b.start(fargateArgs(fargateService, "--", "sh", "-c", "echo started; sleep 600")...)
	out.waitFor(t, "started\n", fargateTimeout)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := fargateWait(t, cmd, fargateTimeout)
	t.Logf("exit %d; stderr:\n%s", code, errOut.String())
	// The relayed signal is refused by sshd (ForceCommand sessions take no
	// signals), so the tool ends the session itself and stops the task.
	if code != 255 || !strings.Contains(errOut.String(), "interrupted by SIGTERM during the remote command") {
		t.Errorf("exit %d, want 255 and the interruption named", code)
	}
	b.wantStops(reasonInterrupted)
}

func TestFargateClientKilled(t *testing.T) {
	b := newFargateBed(t, fargateOptions{})
	cmd, out, _ := b.start(fargateArgs(fargateService, "--", "sh", "-c", "echo started; sleep 600")...)
	out.waitFor(t, "started\n", fargateTimeout)
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = fargateWait(t, cmd, fargateTimeout)
	b.wantStops() // killed: the tool could not stop its task

	// The image serves one session: with the connection gone, the
	// container ends by itself.
	tasks := b.emu.Tasks()
	if len(tasks) != 1 {
		t.Fatalf("%d tasks, want 1", len(tasks))
	}
	label := "ssh-ecs-run-task.e2e.task=" + tasks[0].Launch.ID
	if !bed.WaitNoContainers(t, label, 90*time.Second) {
		t.Errorf("the container outlived its dropped session: %v", bed.Containers(t, label))
	}
	// The emulator does not notice; stop the task the way a user would.
	fargateStopTask(t, b, tasks[0].Launch.ARN)
}

// stopTask calls StopTask on the emulator over its wire protocol.
func fargateStopTask(t *testing.T, b *fargateBed, arn string) {
	t.Helper()
	body := fmt.Sprintf(`{"cluster":"prod","task":%s,"reason":"e2e cleanup"}`, strconv.Quote(arn))
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.StopTask")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	rec := httptest.NewRecorder()
	b.emu.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("StopTask: %d %s", rec.Code, rec.Body.String())
	}
}
