//go:build linux

package e2e

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/emulator"
)

// TestSecretsNeverOnACommandLine runs `--with-secrets … -- sleep 2` and
// samples the process list of the machine (the tool, sshd, the remote
// wrapper, docker and the container all run here) every few milliseconds
// while it runs. No secret value, and no value of the task's environment,
// may appear in any process's arguments: they travel in a 0600 file over
// SSH. As a control, the samples must show the container's docker run and
// its sleep, or they prove nothing.
func TestSecretsNeverOnACommandLine(t *testing.T) {
	w := newWorld(t, "127.0.0.2", "127.0.0.3")
	values := taskValues(t, "web-secrets")

	cmd := w.command("--with-secrets", "--task", "web-secrets", "--cluster", "prod", "--", "sleep", "2")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() { done <- waitCmd(t, cmd, runTimeout) }()

	var (
		samples, sawDocker, sawSleep int
		leaks                        = map[string]string{} // value → the args around it, value masked
		code                         = -1
	)
	// Bounded: the run ends within runTimeout (waitCmd fails the test
	// otherwise), and at most maxSamples are taken.
	const maxSamples = 5000
sampling:
	for samples < maxSamples {
		select {
		case code = <-done:
			break sampling
		default:
		}
		out, err := exec.Command("ps", "-eo", "args", "--no-headers").Output()
		if err != nil {
			t.Fatalf("ps: %v", err)
		}
		samples++
		for line := range strings.Lines(string(out)) {
			if strings.Contains(line, w.runLabel) && strings.Contains(line, "docker run") {
				sawDocker++
			}
			if strings.TrimSpace(line) == "sleep 2" {
				sawSleep++
			}
			for _, v := range values {
				if strings.Contains(line, v) {
					masked := strings.ReplaceAll(strings.TrimSpace(line), v, "<VALUE>")
					i := strings.Index(masked, "<VALUE>")
					leaks[v] = masked[max(0, i-100):min(len(masked), i+100)]
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code == -1 {
		code = <-done
	}
	t.Logf("%d process-list samples; docker run seen in %d, sleep in %d; stderr:\n%s", samples, sawDocker, sawSleep, stderr.String())
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	for v, line := range leaks {
		t.Errorf("a task value (%d bytes, starting %q) appeared in a process's arguments: …%q…", len(v), v[:min(3, len(v))], line)
	}
	if sawDocker == 0 || sawSleep == 0 {
		t.Errorf("the samples never showed the container's docker run (%d) and its sleep (%d): the check proved nothing", sawDocker, sawSleep)
	}
	for _, v := range values {
		if strings.Contains(stderr.String(), v) {
			t.Errorf("a task value (%d bytes) appeared on stderr", len(v))
		}
	}
}

// taskValues lists every value the task definition family can put in the
// container's environment, from the bed's fixture: its environment, the
// SSM parameters, the Secrets Manager secrets (whole and each JSON member)
// and the environment files' values. Values with line breaks are split,
// since ps shows a line break as "?"; pieces shorter than five bytes are
// dropped, as they could match anything.
func taskValues(t *testing.T, family string) []string {
	t.Helper()
	st, err := emulator.LoadState(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	var raw []string
	for _, td := range st.TaskDefinitions {
		var def struct {
			Family     string
			Containers []struct {
				Environment []struct{ Value string }
			} `json:"containerDefinitions"`
		}
		if err := json.Unmarshal(td, &def); err != nil {
			t.Fatal(err)
		}
		if def.Family != family {
			continue
		}
		for _, c := range def.Containers {
			for _, e := range c.Environment {
				raw = append(raw, e.Value)
			}
		}
	}
	for _, p := range st.Parameters {
		raw = append(raw, p.Value)
	}
	for _, s := range st.Secrets {
		for _, v := range s.Versions {
			raw = append(raw, v.SecretString)
			var obj map[string]any
			if json.Unmarshal([]byte(v.SecretString), &obj) == nil {
				for _, m := range obj {
					if s, ok := m.(string); ok {
						raw = append(raw, s)
					}
				}
			}
		}
	}
	for _, content := range st.Objects {
		for line := range strings.Lines(content) {
			if _, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(line, "#") {
				raw = append(raw, v)
			}
		}
	}
	var out []string
	for _, v := range raw {
		for piece := range strings.SplitSeq(v, "\n") {
			if len(piece) >= 5 && !slices.Contains(out, piece) {
				out = append(out, piece)
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d values found for %s in %s: is the fixture right?", len(out), family, stateFile)
	}
	return out
}
