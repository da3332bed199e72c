//go:build windows

package sshsession

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/windows/pipeagent"
)

func init() {
	// Isolate tests from a real Windows OpenSSH agent on the machine.
	openSSHAgentPipe = uniquePipe("sshsession-test-no-agent")
}

var pipeSeq atomic.Int64

func uniquePipe(prefix string) string {
	return fmt.Sprintf(`\\.\pipe\%s-%d-%d`, prefix, time.Now().UnixNano(), pipeSeq.Add(1))
}

// servePipeAgent serves a keyring holding one fresh key on a named pipe,
// as the Windows OpenSSH agent does, and returns the pipe and the key.
func servePipeAgent(t *testing.T) (string, ssh.PublicKey) {
	t.Helper()
	ring := agent.NewKeyring()
	_, priv := newRawKey(t)
	if err := ring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	signers, _ := ring.Signers()
	name := uniquePipe("sshsession-test-agent")
	stop, err := pipeagent.Serve(name, ring)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return name, signers[0].PublicKey()
}

func TestPipeAgent(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, env *testEnv, pipe string) Config
	}{
		{
			name: "SSH_AUTH_SOCK names the pipe",
			setup: func(t *testing.T, env *testEnv, pipe string) Config {
				t.Setenv("SSH_AUTH_SOCK", pipe)
				return env.config(srv)
			},
		},
		{
			name: "IdentityAgent names the pipe",
			setup: func(t *testing.T, env *testEnv, pipe string) Config {
				return env.config(srv, Flag{Name: "o", Value: "IdentityAgent=" + pipe})
			},
		},
		{
			name: "IdentityAgent with forward slashes",
			setup: func(t *testing.T, env *testEnv, pipe string) Config {
				return env.config(srv, Flag{Name: "o", Value: "IdentityAgent=" + strings.ReplaceAll(pipe, `\`, "/")})
			},
		},
		{
			name: "IdentityAgent in ssh_config, backslashes literal",
			setup: func(t *testing.T, env *testEnv, pipe string) Config {
				writeFile(t, filepath.Join(env.home, ".ssh", "config"),
					"Host "+srv.host+"\r\n  IdentityAgent "+pipe+"\r\n")
				return env.config(srv)
			},
		},
		{
			name: "IdentityAgent $VAR",
			setup: func(t *testing.T, env *testEnv, pipe string) Config {
				t.Setenv("MY_AGENT", pipe)
				return env.config(srv, Flag{Name: "o", Value: "IdentityAgent=$MY_AGENT"})
			},
		},
		{
			name: "the Windows OpenSSH agent pipe when nothing is set",
			setup: func(t *testing.T, env *testEnv, pipe string) Config {
				old := openSSHAgentPipe
				openSSHAgentPipe = pipe
				t.Cleanup(func() { openSSHAgentPipe = old })
				return env.config(srv)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pipe, pub := servePipeAgent(t)
			srv.authorize(pub)
			env := newTestEnv(t, nil) // its key file is not authorized
			env.trust(t, srv)
			cfg := tt.setup(t, env, pipe)
			c := dialT(t, cfg)
			if status, err := c.Run(context.Background(), RunRequest{Command: "exit 0"}); status != 0 || err != nil {
				t.Errorf("Run = %d, %v; want 0, nil", status, err)
			}
		})
	}
}

func TestPipeAgentForwarding(t *testing.T) {
	srv := newTestServer(t)
	env := newTestEnv(t, srv)
	env.trust(t, srv)
	pipe, _ := servePipeAgent(t)
	c := dialT(t, env.config(srv, Flag{Name: "A"}, Flag{Name: "o", Value: "IdentityAgent=" + pipe}))
	if _, err := c.Run(context.Background(), RunRequest{Command: "exit 0"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(srv.Events(), "auth-agent-req") {
		t.Errorf("server events %q; want auth-agent-req", srv.Events())
	}
}

func TestPipeAgentMissing(t *testing.T) {
	srv := newTestServer(t)
	missing := uniquePipe("sshsession-test-missing")
	t.Run("a key file works", func(t *testing.T) {
		t.Setenv("SSH_AUTH_SOCK", missing)
		env := newTestEnv(t, srv)
		env.trust(t, srv)
		if err := dialErr(t, env.config(srv)); err != nil {
			t.Errorf("Dial with a missing agent pipe and a good key file: %v", err)
		}
	})
	t.Run("the default pipe is missing and a key file works", func(t *testing.T) {
		env := newTestEnv(t, srv)
		env.trust(t, srv)
		if err := dialErr(t, env.config(srv)); err != nil {
			t.Errorf("Dial without the OpenSSH agent and a good key file: %v", err)
		}
	})
	t.Run("nothing authenticates", func(t *testing.T) {
		t.Setenv("SSH_AUTH_SOCK", missing)
		env := newTestEnv(t, nil)
		env.trust(t, srv)
		err := dialErr(t, env.config(srv))
		if err == nil {
			t.Fatal("Dial succeeded; want an authentication error")
		}
		for _, want := range []string{"no key was accepted", missing, filepath.Join(env.home, ".ssh", "id_ed25519")} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
		}
	})
}
