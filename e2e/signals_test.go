//go:build linux

package e2e

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/bed"
)

// TestSignalsEndRemoteCommand sends SIGINT, SIGTERM and SIGHUP to the tool
// while it runs `sleep 100` without a PTY (stdin is a pipe). The task `web`
// has initProcessEnabled, so docker runs with --init and a signal relayed to
// docker run reaches sleep. The remote command must end: the tool exits with
// the remote status (128+N: sleep dies of signal N, and tini, docker's
// init, reports that), long before sleep would have ended, and the container is gone.
func TestSignalsEndRemoteCommand(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			w := newWorld(t, "127.0.0.2", "127.0.0.3")
			cmd := w.command("--task", "web", "--cluster", "prod", "--", "sleep", "100")
			// A pipe that stays open: like a CI job's stdin, not a terminal and no EOF.
			stdinR, stdinW, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdinW.Close()
			cmd.Stdin = stdinR
			stderrR, stderrW, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = stderrW
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			stdinR.Close()
			stderrW.Close()
			stderr := newOutputBuffer(stderrR)
			defer stderrR.Close()

			stderr.expect(t, runningRE, 60*time.Second)
			id := w.waitContainer(60 * time.Second)
			if !w.waitProcess(id, "sleep 100", true, 30*time.Second) {
				t.Fatalf("sleep 100 not running in container %s", id)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			// sleep would end by itself after 100 s; 60 s is a generous bound
			// that still tells a relayed signal from a natural end.
			code := waitCmd(t, cmd, 60*time.Second)
			stderr.waitClosed(10 * time.Second)
			t.Logf("after %v: exit %d; stderr:\n%s", sig, code, stderr.String())
			// docker run --init reports 128+N for a command killed by signal N.
			if code != 128+int(sig) {
				t.Errorf("after %v: exit %d, want the remote status 128+%d = %d", sig, code, int(sig), 128+int(sig))
			}
			if !bed.WaitNoContainers(t, w.runLabel, 30*time.Second) {
				t.Errorf("after %v: container still on the engine: %v", sig, w.containers())
			}
		})
	}
}
