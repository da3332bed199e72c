package sshsession

import (
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestOneTimeKeys covers Config.Signers, NoDefaultAuth and HostKey, the
// options Fargate mode uses for its one-time client and host keys.
func TestOneTimeKeys(t *testing.T) {
	_, _, edK := testHostKeys(t)
	srv := newTestServer(t, edK)
	oneTime, _ := newUserKey(t, "")
	srv.authorize(oneTime.PublicKey())

	tests := []struct {
		name          string
		signers       []ssh.Signer
		noDefaultAuth bool
		hostKey       ssh.PublicKey
		strict        string // StrictHostKeyChecking given on the command line
		trustDefault  bool   // the server also accepts the home's default key
		wantErr       string // substring; "" = must connect
	}{
		{name: "one-time key and host key", signers: []ssh.Signer{oneTime}, noDefaultAuth: true, hostKey: edK.PublicKey()},
		{name: "fixed host key wins over StrictHostKeyChecking=yes and an empty known_hosts",
			signers: []ssh.Signer{oneTime}, noDefaultAuth: true, hostKey: edK.PublicKey(), strict: "yes"},
		{name: "other host key refused", signers: []ssh.Signer{oneTime}, noDefaultAuth: true, hostKey: otherED25519(t), wantErr: "not the expected"},
		{name: "other host key refused even with StrictHostKeyChecking=no",
			signers: []ssh.Signer{oneTime}, noDefaultAuth: true, hostKey: otherED25519(t), strict: "no", wantErr: "not the expected"},
		{name: "no default keys with NoDefaultAuth", noDefaultAuth: true, hostKey: edK.PublicKey(), trustDefault: true, wantErr: "no key was accepted"},
		{name: "default keys after the signers without NoDefaultAuth", hostKey: edK.PublicKey(), trustDefault: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, nil)
			if tt.trustDefault {
				srv.authorize(env.key.PublicKey())
			}
			var flags []Flag
			if tt.strict != "" {
				flags = append(flags, Flag{Name: "o", Value: "StrictHostKeyChecking=" + tt.strict})
			}
			cfg := env.config(srv, flags...)
			cfg.Signers, cfg.NoDefaultAuth, cfg.HostKey = tt.signers, tt.noDefaultAuth, tt.hostKey
			err := dialErr(t, cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Dial: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Dial error = %v; want one containing %q", err, tt.wantErr)
			}
			var he *Error
			if err != nil && (!errors.As(err, &he) || he.Hint == "") {
				t.Errorf("error %v has no hint", err)
			}
			if _, err := os.Stat(env.knownHosts); !os.IsNotExist(err) {
				t.Errorf("known_hosts was written (stat: %v); a fixed host key must not be recorded", err)
			}
		})
	}
}
