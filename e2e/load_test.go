//go:build linux

package e2e

import (
	"bytes"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/bed"
)

// loadRuns is how many runs TestLoadConcurrentRuns starts at once.
const loadRuns = 30

// TestLoadConcurrentRuns starts 30 runs at once on three instances, each with
// its own output and exit status (`exit N` for run N = 0…29), and
// checks every one's stdout, stderr and status, and that no container is left.
func TestLoadConcurrentRuns(t *testing.T) {
	w := newWorld(t)
	type outcome struct {
		code           int
		signaled, hung bool
		stdout, stderr string
		err            error
	}
	results := make([]outcome, loadRuns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range loadRuns {
		wg.Go(func() {
			cmd := exec.Command(toolPath(), w.args("--task", "web", "--cluster", "prod", "--",
				"sh", "-c", `echo "$0-$1"; echo "err-$1" >&2; exit "$1"`, "load", fmt.Sprint(i))...)
			cmd.Env = w.env()
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			o := outcome{}
			if err := cmd.Start(); err != nil {
				results[i] = outcome{err: err}
				return
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(runTimeout):
				o.hung = true
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				err = <-done
			}
			if ee, ok := err.(*exec.ExitError); ok {
				o.code = ee.ExitCode()
				ws, _ := ee.Sys().(syscall.WaitStatus)
				o.signaled = ws.Signaled()
			} else if err != nil {
				o.err = err
			}
			o.stdout, o.stderr = stdout.String(), stderr.String()
			results[i] = o
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	wrong := 0
	for i, o := range results {
		wantOut := fmt.Sprintf("load-%d\n", i)
		ok := o.err == nil && !o.hung && !o.signaled && o.code == i && o.stdout == wantOut &&
			bytes.Contains([]byte(o.stderr), []byte(fmt.Sprintf("err-%d\n", i))) && runningRE.MatchString(o.stderr)
		if !ok {
			wrong++
			t.Errorf("run %d: exit %d (hung %v, signaled %v, err %v), stdout %q; want %d and %q\nstderr: %s",
				i, o.code, o.hung, o.signaled, o.err, o.stdout, i, wantOut, o.stderr)
		}
	}
	leaked := 0
	if !bed.WaitNoContainers(t, w.runLabel, 30*time.Second) {
		leaked = len(w.containers())
		t.Errorf("containers left: %v", w.containers())
	}
	accepted := 0
	for _, in := range w.instances {
		accepted += in.Accepted()
	}
	t.Logf("load: runs %d at once in %.1f s, logins %d on %d instances, containers leaked %d, outputs or exit statuses wrong %d",
		loadRuns, elapsed.Seconds(), accepted, len(w.instances), leaked, wrong)
}
