//go:build linux

package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// The usable instances of cluster user-registration-service--alpha in the
// fixture, by the Name tag the RUNNING line shows, and the index of their sshd.
var alphaUsable = map[string]int{
	"user-registration-service-ecs-alpha-i-0a00000000000001": 0, // 127.0.0.2
	"user-registration-service-ecs-alpha-i-0a00000000000002": 1, // 127.0.0.3
	"user-registration-service-ecs-alpha-i-0a00000000000003": 2, // 127.0.0.4
}

// TestRandomInstanceUsesEveryUsableOne runs `-- true` with the default
// --instance -1 until every ACTIVE, agent-connected instance has been used
// (at least 15 runs, at most 40: with a uniform pick, missing one of three in
// 40 runs has a probability of about 2e-7). No run may land on the DRAINING or
// agent-disconnected instances, and each RUNNING line must match the sshd that
// really accepted the login.
func TestRandomInstanceUsesEveryUsableOne(t *testing.T) {
	w := newWorld(t)
	const minRuns, maxRuns = 15, 40
	seen := map[string]int{}
	runs := 0
	for runs < minRuns || (len(seen) < len(alphaUsable) && runs < maxRuns) {
		runs++
		before := make([]int, len(w.instances))
		for i, s := range w.instances {
			before[i] = s.Accepted()
		}
		r := w.run(nil, "--task", "ecscompose-user-registration-service--alpha", "--", "true")
		if r.code != 0 {
			t.Fatalf("run %d: exit %d, want 0; stderr:\n%s", runs, r.code, r.stderr)
		}
		m := runningRE.FindStringSubmatch(r.stderr)
		if m == nil {
			t.Fatalf("run %d: no RUNNING line on stderr:\n%s", runs, r.stderr)
		}
		idx, ok := alphaUsable[m[1]]
		if !ok {
			t.Fatalf("run %d: RUNNING on %q, which is not an ACTIVE agent-connected instance", runs, m[1])
		}
		seen[m[1]]++
		// The login is logged by the time the session has ended; exactly the
		// named instance's sshd has one more.
		for i, s := range w.instances {
			want := before[i]
			if i == idx {
				want++
			}
			if got := s.Accepted(); got != want {
				t.Fatalf("run %d: RUNNING on %s, but sshd %s accepted %d logins (before %d), want %d",
					runs, m[1], s.Addr, got, before[i], want)
			}
		}
	}
	t.Logf("%d runs: %v", runs, seen)
	if len(seen) != len(alphaUsable) {
		t.Fatalf("after %d runs only %v were used; want all of %v", runs, seen, keys(alphaUsable))
	}
	total := 0
	for _, s := range w.instances {
		total += s.Accepted()
	}
	if total != runs {
		t.Errorf("sshd instances accepted %d logins in all, want %d (one per run)", total, runs)
	}
}

// TestInstanceAgentDisconnected asks for i-0a00000000000006 explicitly: it has
// no Name tag, its agent is disconnected and nothing listens on its address.
// The tool must fail with its own status and one clear error line, start
// nothing, and log in nowhere.
func TestInstanceAgentDisconnected(t *testing.T) {
	w := newWorld(t)
	r := w.run(nil, "--task", "ecscompose-user-registration-service--alpha", "--instance", "i-0a00000000000006", "--", "true")
	if r.code != 255 {
		t.Fatalf("exit %d, want 255; stderr:\n%s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	// An instance id selects exactly that instance (SPEC §2.1), so the error
	// must be about that instance: either that its agent is disconnected, or
	// that its address (127.0.0.11, no sshd there) cannot be reached. Treating
	// the id as a pattern that matched nothing, with a regular-expression
	// hint, does not tell the user what is wrong.
	if !regexp.MustCompile(`(?m)^ssh-ecs-run-task: .*i-0a00000000000006`).MatchString(r.stderr) {
		t.Errorf("no `ssh-ecs-run-task: …` error line naming i-0a00000000000006:\n%s", r.stderr)
	}
	if !regexp.MustCompile(`(?i)agent|127\.0\.0\.11`).MatchString(r.stderr) {
		t.Errorf("error says neither that the agent is disconnected nor which address failed:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "regular expression") {
		t.Errorf("an exact instance id is explained as a regular expression:\n%s", r.stderr)
	}
	for _, s := range w.instances {
		if n := s.Accepted(); n != 0 {
			t.Errorf("sshd %s accepted %d logins, want none", s.Addr, n)
		}
	}
	if ids := w.containers(); len(ids) != 0 {
		t.Errorf("containers started: %v", ids)
	}
}

func keys(m map[string]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
