package bed

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// dockerOutput runs the local docker client with args and returns its trimmed stdout.
func dockerOutput(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// Docker runs the local docker client with args (30 s at most) and returns its trimmed stdout;
// a failure fails the test.
func Docker(t TB, args ...string) string {
	t.Helper()
	out, err := dockerOutput(30*time.Second, args...)
	if err != nil {
		t.Fatalf("bed: %v", err)
	}
	return out
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Containers lists the full ids of all containers, running or not, that carry label
// ("key" or "key=value").
func Containers(t TB, label string) []string {
	t.Helper()
	return lines(Docker(t, "ps", "-aq", "--no-trunc", "--filter", "label="+label))
}

// AllContainers lists the full ids of all containers, running or not; compare a list taken
// before a run with one taken after (NewContainers) to see what a run left behind.
func AllContainers(t TB) []string {
	t.Helper()
	return lines(Docker(t, "ps", "-aq", "--no-trunc"))
}

// RunningContainers lists the full ids of the running containers.
func RunningContainers(t TB) []string {
	t.Helper()
	return lines(Docker(t, "ps", "-q", "--no-trunc"))
}

// NewContainers returns the ids in after that are not in before.
func NewContainers(before, after []string) []string {
	var added []string
	for _, id := range after {
		if !slices.Contains(before, id) {
			added = append(added, id)
		}
	}
	return added
}

// WaitNoContainers waits up to timeout until no container carries label and reports whether
// that happened (docker run --rm removes a container shortly after it exits).
func WaitNoContainers(t TB, label string, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if len(Containers(t, label)) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// InspectContainer returns `docker inspect --format format id`.
func InspectContainer(t TB, id, format string) string {
	t.Helper()
	return Docker(t, "inspect", "--format", format, id)
}
