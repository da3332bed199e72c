package sshsession

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// fakePrompter answers every question with answer and records them.
type fakePrompter struct {
	answer  string
	asked   []string
	noEchos int
}

func (f *fakePrompter) Prompt(msg string, echo bool) (string, error) {
	f.asked = append(f.asked, msg)
	if !echo {
		f.noEchos++
	}
	return f.answer, nil
}

func otherED25519(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ssh.NewPublicKey(pub)
	return k
}

func dialErr(t *testing.T, cfg Config) error {
	t.Helper()
	p, err := Prepare(cfg)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	c, err := Dial(context.Background(), p)
	if err == nil {
		c.Close()
	}
	return err
}

func TestHostKeys(t *testing.T) {
	rsaK, ecK, edK := testHostKeys(t)
	srv := newTestServer(t, rsaK, ecK, edK)
	hostport := net.JoinHostPort(srv.host, strconv.Itoa(srv.port))
	edLine := srv.knownHostsLine(edK.PublicKey())
	changedLine := srv.knownHostsLine(otherED25519(t))
	hashedLine := knownhosts.HashHostname(knownhosts.Normalize(hostport)) + " " + strings.SplitN(edLine, " ", 2)[1]

	tests := []struct {
		name       string
		knownHosts string
		strict     string
		alias      string
		prompt     Prompter
		wantErr    string // substring; "" = must connect
	}{
		{name: "ed25519-only known_hosts vs three host keys", knownHosts: edLine, strict: "yes"},
		{name: "hashed entry", knownHosts: hashedLine, strict: "yes"},
		{name: "host key alias", knownHosts: knownhosts.Line([]string{"my-alias"}, edK.PublicKey()), strict: "yes", alias: "my-alias"},
		{name: "alias not known", knownHosts: edLine, strict: "yes", alias: "other-alias", wantErr: "not known"},
		{name: "changed, yes", knownHosts: changedLine, strict: "yes", wantErr: "has changed"},
		{name: "changed, accept-new", knownHosts: changedLine, strict: "accept-new", wantErr: "has changed"},
		{name: "changed, no", knownHosts: changedLine, strict: "no", wantErr: "has changed"},
		{name: "changed, ask", knownHosts: changedLine, strict: "ask", prompt: &fakePrompter{answer: "yes"}, wantErr: "has changed"},
		{name: "unknown, yes", knownHosts: "", strict: "yes", wantErr: "not known"},
		{name: "unknown, ask, no terminal", knownHosts: "", strict: "ask", wantErr: "no terminal"},
		{name: "unknown, ask, answered no", knownHosts: "", strict: "ask", prompt: &fakePrompter{answer: "no"}, wantErr: "not accepted"},
		{name: "unknown, ask, answered yes", knownHosts: "", strict: "ask", prompt: &fakePrompter{answer: "yes"}},
		{name: "revoked", knownHosts: "@revoked * " + strings.SplitN(edLine, " ", 2)[1] + "\n" + edLine, strict: "yes", wantErr: "@revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, srv)
			if tt.knownHosts != "" {
				writeFile(t, env.knownHosts, tt.knownHosts+"\n")
			}
			flags := []Flag{{Name: "o", Value: "StrictHostKeyChecking=" + tt.strict}}
			if tt.alias != "" {
				flags = append(flags, Flag{Name: "o", Value: "HostKeyAlias=" + tt.alias})
			}
			cfg := env.config(srv, flags...)
			cfg.Prompt = tt.prompt
			err := dialErr(t, cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Dial: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Dial error = %v; want one containing %q", err, tt.wantErr)
			}
			if fp, ok := tt.prompt.(*fakePrompter); ok && strings.HasPrefix(tt.name, "changed") && len(fp.asked) > 0 {
				t.Errorf("a changed key must be refused without asking; asked %q", fp.asked)
			}
			var he *Error
			if err != nil && errors.As(err, &he) && he.Hint == "" && tt.wantErr != "not accepted" {
				t.Errorf("error %v has no hint", err)
			}
		})
	}
}

func TestAcceptNewWritesKnownHosts(t *testing.T) {
	_, _, edK := testHostKeys(t)
	srv := newTestServer(t, edK)
	for _, hashed := range []bool{false, true} {
		t.Run(fmt.Sprintf("hashed=%v", hashed), func(t *testing.T) {
			env := newTestEnv(t, srv)
			flags := []Flag{{Name: "o", Value: "StrictHostKeyChecking=accept-new"}}
			if hashed {
				flags = append(flags, Flag{Name: "o", Value: "HashKnownHosts=yes"})
			}
			if err := dialErr(t, env.config(srv, flags...)); err != nil {
				t.Fatalf("first Dial: %v", err)
			}
			b, err := os.ReadFile(env.knownHosts)
			if err != nil {
				t.Fatal(err)
			}
			line := strings.TrimSpace(string(b))
			if got := strings.HasPrefix(line, "|1|"); got != hashed {
				t.Errorf("known_hosts line %q: hashed = %v, want %v", line, got, hashed)
			}
			if !strings.HasSuffix(line, strings.SplitN(srv.knownHostsLine(edK.PublicKey()), " ", 2)[1]) {
				t.Errorf("known_hosts line %q does not hold the server's key", line)
			}
			// The second connection must verify against what was written.
			if err := dialErr(t, env.config(srv, Flag{Name: "o", Value: "StrictHostKeyChecking=yes"})); err != nil {
				t.Errorf("second Dial with StrictHostKeyChecking=yes: %v", err)
			}
		})
	}
}

func TestHostCertificate(t *testing.T) {
	_, _, edK := testHostKeys(t)
	_, caPriv, _ := ed25519.GenerateKey(rand.Reader)
	ca, _ := ssh.NewSignerFromKey(caPriv)
	cert := &ssh.Certificate{
		Key:             edK.PublicKey(),
		CertType:        ssh.HostCert,
		ValidPrincipals: []string{"127.0.0.1"},
		ValidBefore:     ssh.CertTimeInfinity,
	}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	certSigner, err := ssh.NewCertSigner(cert, edK)
	if err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t, certSigner)
	env := newTestEnv(t, srv)
	caLine := strings.SplitN(knownhosts.Line([]string{"x"}, ca.PublicKey()), " ", 2)[1]
	writeFile(t, env.knownHosts, "@cert-authority * "+caLine+"\n")
	if err := dialErr(t, env.config(srv, Flag{Name: "o", Value: "StrictHostKeyChecking=yes"})); err != nil {
		t.Errorf("Dial with a CA-signed host key: %v", err)
	}
}
