package sshsession

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/agent"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/windows/winetest"
)

func TestAuth(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		name       string
		setup      func(t *testing.T, env *testEnv) Config
		wantErr    string
		wantPrompt int
	}{
		{
			name: "default key file",
			setup: func(t *testing.T, env *testEnv) Config {
				return env.config(srv)
			},
		},
		{
			name: "identity file from -i",
			setup: func(t *testing.T, env *testEnv) Config {
				k, pemBytes := newUserKey(t, "")
				srv.authorize(k.PublicKey())
				path := filepath.Join(env.home, "keys", "deploy")
				writeFile(t, path, string(pemBytes))
				return env.config(srv, Flag{Name: "i", Value: path}, Flag{Name: "o", Value: "IdentitiesOnly=yes"})
			},
		},
		{
			name: "identity file with tilde from ssh_config",
			setup: func(t *testing.T, env *testEnv) Config {
				k, pemBytes := newUserKey(t, "")
				srv.authorize(k.PublicKey())
				writeFile(t, filepath.Join(env.home, ".ssh", "id_"+srv.host), string(pemBytes))
				writeFile(t, filepath.Join(env.home, ".ssh", "config"),
					"Host "+srv.host+"\n  IdentityFile ~/.ssh/id_%h\n  IdentitiesOnly yes\n")
				return env.config(srv)
			},
		},
		{
			name: "encrypted key asks for the passphrase",
			setup: func(t *testing.T, env *testEnv) Config {
				k, pemBytes := newUserKey(t, "s3cret")
				srv.authorize(k.PublicKey())
				path := filepath.Join(env.home, "enc")
				writeFile(t, path, string(pemBytes))
				cfg := env.config(srv, Flag{Name: "i", Value: path}, Flag{Name: "o", Value: "IdentitiesOnly=yes"})
				cfg.Prompt = &fakePrompter{answer: "s3cret"}
				return cfg
			},
			wantPrompt: 1,
		},
		{
			name: "encrypted key without a terminal is skipped",
			setup: func(t *testing.T, env *testEnv) Config {
				k, pemBytes := newUserKey(t, "s3cret")
				srv.authorize(k.PublicKey())
				path := filepath.Join(env.home, "enc")
				writeFile(t, path, string(pemBytes))
				return env.config(srv, Flag{Name: "i", Value: path}, Flag{Name: "o", Value: "IdentitiesOnly=yes"})
			},
			wantErr: "encrypted, no terminal",
		},
		{
			name: "agent",
			setup: func(t *testing.T, env *testEnv) Config {
				ring := agent.NewKeyring()
				_, priv := newRawKey(t)
				if err := ring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
					t.Fatal(err)
				}
				signers, _ := ring.Signers()
				srv.authorize(signers[0].PublicKey())
				sock := serveAgent(t, ring)
				return env.config(srv, Flag{Name: "o", Value: "IdentityAgent=" + sock})
			},
		},
		{
			name: "no accepted key",
			setup: func(t *testing.T, env *testEnv) Config {
				_, pemBytes := newUserKey(t, "")
				writeFile(t, filepath.Join(env.home, ".ssh", "id_ed25519"), string(pemBytes))
				return env.config(srv)
			},
			wantErr: "authenticate as tester to 127.0.0.1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, nil) // its default key is not authorized
			env.trust(t, srv)
			if tt.name == "default key file" {
				srv.authorize(env.key.PublicKey())
			}
			cfg := tt.setup(t, env)
			err := dialErr(t, cfg)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Dial: %v", err)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Dial error = %v; want one containing %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "tester") || !strings.Contains(err.Error(), srv.host) {
					t.Errorf("auth error %q does not name the user and host", err)
				}
			}
			if fp, ok := cfg.Prompt.(*fakePrompter); ok && fp.noEchos != tt.wantPrompt {
				t.Errorf("passphrase asked %d times, want %d", fp.noEchos, tt.wantPrompt)
			}
		})
	}
}

func TestConnectTimeoutStalledHandshake(t *testing.T) {
	srv := newTestServer(t)
	srv.stall = true
	env := newTestEnv(t, srv)
	err := dialErr(t, env.config(srv, Flag{Name: "o", Value: "ConnectTimeout=1"}))
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("Dial error = %v; want a handshake timeout", err)
	}
}

func TestDialCancelled(t *testing.T) {
	srv := newTestServer(t)
	srv.stall = true
	env := newTestEnv(t, srv)
	p, err := Prepare(env.config(srv))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			srv.mu.Lock()
			n := len(srv.conns)
			srv.mu.Unlock()
			if n > 0 {
				cancel()
				return
			}
			<-timeAfter10ms()
		}
	}()
	_, err = Dial(ctx, p)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Dial error = %v; want context.Canceled", err)
	}
}

func TestProxyJump(t *testing.T) {
	bastion := newTestServer(t)
	bastion.allowForward = true
	target := newTestServer(t)
	env := newTestEnv(t, target)
	bastion.authorize(env.key.PublicKey())
	env.trust(t, target)
	env.trust(t, bastion)
	// The bastion is named through ssh_config, the way users set it up.
	writeFile(t, filepath.Join(env.home, ".ssh", "config"),
		"Host jumpy\n  HostName 127.0.0.1\n  Port "+strconv.Itoa(bastion.port)+"\n  User jumper\n")
	cfg := env.config(target, Flag{Name: "J", Value: "jumpy"})
	p, err := Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Describe(), "tester@127.0.0.1:"+strconv.Itoa(target.port)+" via jumpy"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
	c, err := Dial(context.Background(), p)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	status, err := c.Run(context.Background(), RunRequest{Command: "exit 5"})
	if status != 5 || err != nil {
		t.Errorf("Run = %d, %v; want 5, nil", status, err)
	}
	wantTunnel := "direct-tcpip:127.0.0.1:" + strconv.Itoa(target.port)
	if ev := bastion.Events(); !slices.Contains(ev, wantTunnel) || !slices.Contains(ev, "user:jumper") {
		t.Errorf("bastion events %q; want %q and user:jumper", ev, wantTunnel)
	}
	if ev := target.Events(); !slices.Contains(ev, "exec:exit 5") {
		t.Errorf("target events %q; want exec:exit 5", ev)
	}
}

func TestAgentForwarding(t *testing.T) {
	srv := newTestServer(t)
	env := newTestEnv(t, srv)
	env.trust(t, srv)
	ring := agent.NewKeyring()
	sock := serveAgent(t, ring)
	c := dialT(t, env.config(srv, Flag{Name: "A"}, Flag{Name: "o", Value: "IdentityAgent=" + sock}))
	if _, err := c.Run(context.Background(), RunRequest{Command: "exit 0"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(srv.Events(), "auth-agent-req") {
		t.Errorf("server events %q; want auth-agent-req", srv.Events())
	}
}

// serveAgent serves keyring on a unix socket in a temporary directory.
// Windows has AF_UNIX too, but wine does not; agent_windows_test.go covers
// the named-pipe agent there.
func serveAgent(t *testing.T, keyring agent.Agent) string {
	t.Helper()
	winetest.Skip(t, "no AF_UNIX sockets (winapi error #10047); see the named-pipe agent tests")
	dir, err := tempShortDir(t)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("unix sockets unavailable: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	return sock
}
