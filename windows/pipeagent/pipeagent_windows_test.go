//go:build windows

package pipeagent

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/Microsoft/go-winio"
	"golang.org/x/crypto/ssh/agent"
)

func TestServe(t *testing.T) {
	ring := agent.NewKeyring()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Add(agent.AddedKey{PrivateKey: priv, Comment: "test key"}); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf(`\\.\pipe\pipeagent-test-%d`, time.Now().UnixNano())
	stop, err := Serve(name, ring)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	list := func() error {
		timeout := 5 * time.Second
		c, err := winio.DialPipe(name, &timeout)
		if err != nil {
			return err
		}
		defer c.Close()
		keys, err := agent.NewClient(c).List()
		if err != nil {
			return err
		}
		if len(keys) != 1 || keys[0].Comment != "test key" {
			return fmt.Errorf("keys = %v, want the one test key", keys)
		}
		return nil
	}
	// One after another, then several at once: each client gets its own
	// pipe instance.
	for i := range 3 {
		if err := list(); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- list() }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent connection: %v", err)
		}
	}

	stop()
	timeout := 500 * time.Millisecond
	if c, err := winio.DialPipe(name, &timeout); err == nil {
		c.Close()
		t.Errorf("DialPipe(%s) after stop succeeded; want the pipe gone", name)
	}
}
