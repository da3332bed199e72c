package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binDir holds the ssh-ecs-run-task binary built once for all tests.
var binDir string

// toolPath is the binary under test.
func toolPath() string { return filepath.Join(binDir, "ssh-ecs-run-task") }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ssh-ecs-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(2)
	}
	binDir = dir
	build := exec.Command("go", "build", "-o", toolPath(), "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build ssh-ecs-run-task:", err)
		os.Exit(2)
	}
	// The scenarios share one Docker engine and check that no container is
	// left behind; run them one at a time so each check sees only its own.
	flag.Parse()
	_ = flag.Set("test.parallel", "1")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
