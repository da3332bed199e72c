package sshsession

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"testing"
	"time"
)

func timeAfter10ms() <-chan time.Time { return time.After(10 * time.Millisecond) }
func timeAfter1s() <-chan time.Time   { return time.After(time.Second) }

// tempShortDir is a temporary directory with a path short enough for a
// unix socket (t.TempDir can exceed the 108-byte limit).
func tempShortDir(t *testing.T) (string, error) {
	dir, err := os.MkdirTemp("", "sshs")
	if err != nil {
		return "", err
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir, nil
}

// newRawKey returns a fresh ed25519 key pair.
func newRawKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}
