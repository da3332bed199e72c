package winetest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTempDirIsRemoved(t *testing.T) {
	var dir string
	t.Run("inner", func(t *testing.T) {
		dir = TempDir(t)
		if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{filepath.Join(dir, "a", "b", "f"), filepath.Join(dir, "ro")} {
			if err := os.WriteFile(f, []byte("x"), 0o400); err != nil {
				t.Fatal(err)
			}
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Stat(%s) after cleanup = %v, want not exist", dir, err)
	}
}

func TestUnderMatchesEnvironment(t *testing.T) {
	if got, want := Under(), os.Getenv(EnvVar) == "1"; got != want {
		t.Errorf("Under() = %v, want %v", got, want)
	}
	t.Logf("under wine: %v", Under())
}
