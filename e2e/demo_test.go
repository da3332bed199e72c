//go:build linux

package e2e

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/bed"
)

// demoStarted matches the demo's line naming its sshd and its files.
var demoStarted = regexp.MustCompile(`(?m)^demo: sshd pid (\d+) on 127\.0\.0\.2 port \d+ .* files in (\S+)$`)

// buildDemo builds e2e/cmd/demo. The tests run the binary rather than
// `go run`, which reports any non-zero status of the program as 1.
func buildDemo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "demo")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/demo").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/demo: %v\n%s", err, out)
	}
	return bin
}

// demoCmd runs the demo from the checkout's root with the binary under test.
func demoCmd(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, append([]string{"-bin", toolPath()}, args...)...)
	cmd.Dir = ".."
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// assertDemoCleanedUp checks that the sshd the demo reported is gone, its
// files are removed and no container of the tool appeared for good.
func assertDemoCleanedUp(t *testing.T, stderr string, before []string) {
	t.Helper()
	m := demoStarted.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("the demo did not say which sshd it started:\n%s", stderr)
	}
	pid, _ := strconv.Atoi(m[1])
	if pidAlive(pid) {
		t.Errorf("sshd pid %d still running after the demo exited", pid)
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	if _, err := os.Stat(m[2]); !os.IsNotExist(err) {
		t.Errorf("%s still there after the demo exited (%v)", m[2], err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		left := bed.NewContainers(before, bed.Containers(t, toolLabel))
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("containers left by the demo: %v", left)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runningLabelled lists the running containers that carry label.
func runningLabelled(t *testing.T, label string) []string {
	out := bed.Docker(t, "ps", "-q", "--no-trunc", "--filter", "label="+label)
	return strings.Fields(out)
}

// TestDemo runs the demo without a terminal: commands come from stdin to the
// task's sh, whose status is the demo's; arguments after -- replace sh.
func TestDemo(t *testing.T) {
	bed.Require(t)
	bin := buildDemo(t)
	for _, tc := range []struct {
		name, stdin string
		args        []string
		stdout      string
		code        int
	}{
		{"sh from stdin", "echo $GREETING; exit 4\n", nil, "hello from the demo task\n", 4},
		{"command after --", "", []string{"--", "sh", "-c", `echo "cmd: $GREETING"; exit 5`}, "cmd: hello from the demo task\n", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := bed.Containers(t, toolLabel)
			cmd := demoCmd(bin, tc.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(tc.stdin), &stdout, &stderr
			code := waitCmd(t, cmd, 2*time.Minute)
			t.Logf("demo → %d; stderr:\n%s", code, stderr.String())
			if code != tc.code || stdout.String() != tc.stdout {
				t.Errorf("exit %d, stdout %q; want %d, %q", code, stdout.String(), tc.code, tc.stdout)
			}
			if !strings.Contains(stderr.String(), "--task demo-web --cluster demo --") {
				t.Errorf("the demo did not print the command it runs:\n%s", stderr.String())
			}
			assertDemoCleanedUp(t, stderr.String(), before)
		})
	}
}

// TestDemoSIGTERM stops the demo with SIGTERM while the tool runs `cat`: the
// demo passes the signal on, ends the tool, and cleans up all the same.
func TestDemoSIGTERM(t *testing.T) {
	bed.Require(t)
	bin := buildDemo(t)
	before := bed.Containers(t, toolLabel)
	cmd := demoCmd(bin, "--", "cat")
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinW.Close()
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinR, io.Discard, stderrW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdinR.Close()
	stderrW.Close()
	stderr := newOutputBuffer(stderrR)
	defer stderrR.Close()
	stderr.expect(t, regexp.MustCompile(`RUNNING cat on demo-host`), 60*time.Second)
	// Signal once the container runs, not while the tool still connects.
	deadline := time.Now().Add(60 * time.Second)
	for len(bed.NewContainers(before, runningLabelled(t, toolLabel))) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no container of the demo's session after 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := waitCmd(t, cmd, time.Minute)
	stderr.waitClosed(10 * time.Second)
	t.Logf("demo → %d after SIGTERM; stderr:\n%s", code, stderr.String())
	if code == 0 {
		t.Errorf("exit 0 after SIGTERM, want the tool's status (non-zero)")
	}
	assertDemoCleanedUp(t, stderr.String(), before)
}

// TestDemoTerminal is `make demo` as a user sees it: the demo on a terminal,
// a prompt of the task's sh, the task's environment, `exit 3`, the terminal
// back in cooked mode.
func TestDemoTerminal(t *testing.T) {
	bed.Require(t)
	bin := buildDemo(t)
	before := bed.Containers(t, toolLabel)
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer tty.Close()
	cmd := demoCmd(bin)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := newOutputBuffer(master)
	out.expect(t, regexp.MustCompile(`RUNNING sh on demo-host`), 60*time.Second)
	out.expect(t, regexp.MustCompile(prompt), 60*time.Second)
	if _, err := master.Write([]byte("echo \"[$GREETING]\"\r")); err != nil {
		t.Fatal(err)
	}
	out.expect(t, regexp.MustCompile(`\[hello from the demo task\]`), 60*time.Second)
	if _, err := master.Write([]byte("exit 3\r")); err != nil {
		t.Fatal(err)
	}
	code := waitCmd(t, cmd, time.Minute)
	if code != 3 {
		t.Errorf("exit %d, want 3; terminal output:\n%q", code, out.String())
	}
	if st := termios(t, tty); st.Lflag&unix.ECHO == 0 || st.Lflag&unix.ICANON == 0 {
		t.Errorf("terminal not restored: lflag %#x", st.Lflag)
	}
	assertDemoCleanedUp(t, strings.ReplaceAll(out.String(), "\r\n", "\n"), before)
}
