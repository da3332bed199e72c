//go:build linux

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ptySession is the binary running on the slave side of a real pseudo-terminal,
// as its controlling terminal (stdin, stdout and stderr), the way a user runs it.
type ptySession struct {
	t      *testing.T
	w      *world
	cmd    *exec.Cmd
	master *os.File
	tty    *os.File // kept open by the test to inspect its termios
	out    *outputBuffer
	code   int
	ended  bool
}

// startPTY starts the binary with args on a fresh pty of rows×cols.
func (w *world) startPTY(rows, cols uint16, args ...string) *ptySession {
	t := w.t
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { master.Close(); tty.Close() })
	if err := pty.Setsize(master, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		t.Fatalf("set pty size: %v", err)
	}
	if st := termios(t, tty); st.Lflag&unix.ECHO == 0 || st.Lflag&unix.ICANON == 0 {
		t.Fatalf("fresh pty is not in cooked mode: lflag %#x", st.Lflag)
	}
	cmd := w.command(args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	// A new session with the pty as controlling terminal (fd 0 in the child):
	// the tool is its foreground process group and gets SIGWINCH.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	p := &ptySession{t: t, w: w, cmd: cmd, master: master, tty: tty, out: newOutputBuffer(master)}
	t.Cleanup(func() {
		if !p.ended {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("terminal output:\n%q", p.out.String())
		}
	})
	return p
}

// send types s on the terminal.
func (p *ptySession) send(s string) {
	p.t.Helper()
	if _, err := p.master.Write([]byte(s)); err != nil {
		p.t.Fatalf("type %q: %v", s, err)
	}
}

// expect waits for re in the terminal output (see outputBuffer.expect).
func (p *ptySession) expect(re string) []string {
	p.t.Helper()
	return p.out.expect(p.t, regexp.MustCompile(re), 60*time.Second)
}

// wait waits for the tool to exit and returns its status.
func (p *ptySession) wait(timeout time.Duration) int {
	p.t.Helper()
	p.code = waitCmd(p.t, p.cmd, timeout)
	p.ended = true
	return p.code
}

// sync runs a harmless command that prints a marker only when it really runs
// (the typed line, echoed by the remote terminal, does not contain it), and
// waits for it: after sync the shell has read everything typed before.
func (p *ptySession) sync(n int) {
	p.t.Helper()
	p.send(fmt.Sprintf("echo \"sync-$((%d+1))\"\r", n))
	p.expect(fmt.Sprintf(`sync-%d\r?\n`, n+1))
}

// termios reads the terminal attributes of f.
func termios(t *testing.T, f *os.File) *unix.Termios {
	t.Helper()
	st, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatalf("tcgetattr: %v", err)
	}
	return st
}

// assertRestored checks that the terminal is back in cooked mode with echo.
func (p *ptySession) assertRestored() {
	p.t.Helper()
	st := termios(p.t, p.tty)
	if st.Lflag&unix.ECHO == 0 || st.Lflag&unix.ICANON == 0 || st.Lflag&unix.ISIG == 0 {
		p.t.Errorf("terminal not restored after the tool exited: ECHO %v ICANON %v ISIG %v",
			st.Lflag&unix.ECHO != 0, st.Lflag&unix.ICANON != 0, st.Lflag&unix.ISIG != 0)
	}
}

// prompt matches busybox sh's prompt ("/ # "); its line editor may follow it
// with terminal queries and redraws (ESC [6n, ESC [J).
const prompt = `/ [#$] `

// TestPTYInteractiveShell is the seed README's interactive example: a shell in
// a copy of the task's container with the user's terminal. The image's
// /bin/bash is a wrapper around busybox sh, so both names are tried.
func TestPTYInteractiveShell(t *testing.T) {
	for _, shell := range []string{"sh", "bash"} {
		t.Run(shell, func(t *testing.T) {
			w := newWorld(t)
			p := w.startPTY(33, 101, "--task", "ecscompose-user-registration-service--alpha", "--", shell)

			// The RUNNING line (stderr, on the same terminal), then a prompt.
			p.expect(`RUNNING ` + shell + ` on user-registration-service-ecs-alpha-i-0a0000000000000[123]\r?\n`)
			p.expect(prompt)
			// While the session runs, the local terminal is raw: no local echo,
			// no line editing, no signals from keys.
			if st := termios(t, p.tty); st.Lflag&(unix.ECHO|unix.ICANON|unix.ISIG) != 0 {
				t.Errorf("local terminal not in raw mode during the session: lflag %#x", st.Lflag)
			}

			// The task's environment is there.
			p.send("echo \"db=$DATABASE_NAME\"\r")
			p.expect(`db=user-registration-db--alpha\r?\n`)

			// A real terminal, of the local terminal's size.
			p.send("tty\r")
			p.expect(`(?m)^/dev/pts/\d+\r?$`)
			p.send("stty size\r")
			if got := p.expect(`(?m)^(\d+ \d+)\r?$`)[1]; got != "33 101" {
				t.Errorf("stty size = %q, want \"33 101\"", got)
			}

			// Resizing the local terminal (SIGWINCH to the tool) resizes the
			// remote one. The window-change request and the typed line travel
			// separately, so ask again until the new size shows (bounded).
			if err := pty.Setsize(p.master, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
				t.Fatal(err)
			}
			got := ""
			for i := 0; i < 20 && got != "40 120"; i++ {
				p.send("stty size\r")
				got = p.expect(`(?m)^(\d+ \d+)\r?$`)[1]
			}
			if got != "40 120" {
				t.Errorf("after resizing to 40x120, stty size = %q", got)
			}

			// Ctrl-C interrupts the foreground command, not the shell.
			p.sync(1)
			id := w.waitContainer(30 * time.Second)
			p.send("sleep 100\r")
			if !w.waitProcess(id, "sleep 100", true, 30*time.Second) {
				t.Fatal("sleep 100 did not start in the container")
			}
			p.send("\x03")
			if !w.waitProcess(id, "sleep 100", false, 30*time.Second) {
				t.Fatal("Ctrl-C did not interrupt sleep 100")
			}
			p.send("echo \"alive-$((40+2))\"\r")
			p.expect(`alive-42\r?\n`)

			// exit 3 is the tool's status; the terminal is restored.
			p.send("exit 3\r")
			if code := p.wait(60 * time.Second); code != 3 {
				t.Errorf("exit %d, want 3", code)
			}
			p.assertRestored()
		})
	}
}

// TestPTYCtrlCEndsCommand types Ctrl-C while `sleep 100` runs directly (no
// shell). The task `web` runs with docker --init, so the container's terminal
// turns the byte into SIGINT for sleep (a bare PID 1 would ignore it). The
// tool ends with the remote status, not 0 and not its own 255.
func TestPTYCtrlCEndsCommand(t *testing.T) {
	w := newWorld(t, "127.0.0.2", "127.0.0.3")
	p := w.startPTY(24, 80, "--task", "web", "--cluster", "prod", "--", "sleep", "100")
	p.expect(`RUNNING sleep 100 on prod-web-[ab]\r?\n`)
	id := w.waitContainer(60 * time.Second)
	if !w.waitProcess(id, "sleep 100", true, 30*time.Second) {
		t.Fatal("sleep 100 did not start in the container")
	}
	p.send("\x03")
	code := p.wait(60 * time.Second)
	t.Logf("exit %d after Ctrl-C", code)
	if code == 0 || code == 255 {
		t.Errorf("exit %d after Ctrl-C, want the remote status (130 for SIGINT)", code)
	}
	p.assertRestored()
}

// TestPTYNonInteractive: with --non-interactive no PTY is requested even
// though stdin is a terminal, and the local terminal is left alone.
func TestPTYNonInteractive(t *testing.T) {
	w := newWorld(t, "127.0.0.2", "127.0.0.3")
	p := w.startPTY(24, 80, "--non-interactive", "--task", "web", "--cluster", "prod", "--", "tty")
	p.expect(`(?m)^not a tty\r?$`)
	if code := p.wait(60 * time.Second); code != 1 {
		t.Errorf("exit %d, want 1 (busybox tty without a terminal)", code)
	}
	p.assertRestored()
}
