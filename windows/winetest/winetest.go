// Package winetest helps a test that runs as a Windows binary under wine (windows/wine-exec.sh)
// do without what wine 8.0 lacks. It is for _test.go files only and changes nothing outside wine:
// on Linux, macOS and real Windows every helper does what the testing package does.
package winetest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// EnvVar is set to "1" by windows/wine-exec.sh for every program it runs.
const EnvVar = "SSH_ECS_RUN_TASK_WINE"

// Under reports whether this process runs under windows/wine-exec.sh.
func Under() bool { return os.Getenv(EnvVar) == "1" }

// Skip skips t when it runs under wine, saying why (what wine cannot do).
func Skip(t testing.TB, why string) {
	t.Helper()
	if Under() {
		t.Skip("wine: " + why)
	}
}

// TempDir is t.TempDir that also works under wine. Wine 8.0 does not implement the
// FileDispositionInformationEx call that os.RemoveAll uses on Windows since Go 1.25, so the
// cleanup of t.TempDir fails the test ("unlinkat …: Invalid function") as soon as the directory
// exists. Under wine this makes the directory with os.MkdirTemp and removes it entry by entry
// with os.Remove, which wine does support.
func TempDir(t testing.TB) string {
	t.Helper()
	if !Under() {
		return t.TempDir()
	}
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`<>:"/\|?*`, r) || r < ' ' {
			return '_'
		}
		return r
	}, t.Name())
	if len(name) > 64 {
		name = name[:64]
	}
	dir, err := os.MkdirTemp("", name)
	if err != nil {
		t.Fatalf("TempDir: %v", err)
	}
	t.Cleanup(func() {
		if err := removeAll(dir); err != nil {
			t.Errorf("TempDir cleanup: %v", err)
		}
	})
	return dir
}

// removeAll removes dir bottom-up with os.Remove, making read-only entries writable first.
func removeAll(dir string) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(paths) - 1; i >= 0; i-- {
		if err := os.Remove(paths[i]); err != nil {
			_ = os.Chmod(paths[i], 0o700)
			if err := os.Remove(paths[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
