package sshsession

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// defaultKeyFiles are tried after the configured ones, in ssh(1)'s order.
var defaultKeyFiles = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// openAgent connects to the agent the target hop names (IdentityAgent,
// else SSH_AUTH_SOCK, else the platform default). No agent is not an error.
func (p *Plan) openAgent() (agent.ExtendedAgent, io.Closer) {
	path := p.target.identityAgent
	if path == "none" {
		p.debugf("agent: disabled by IdentityAgent none")
		return nil, nil
	}
	if path == "" {
		path = defaultAgentPath()
	}
	if path == "" {
		p.debugf("agent: none (SSH_AUTH_SOCK not set)")
		return nil, nil
	}
	conn, err := dialAgent(path)
	if err != nil {
		p.debugf("agent: cannot connect to %s: %v", path, err)
		p.agentNote = fmt.Sprintf("agent %s (%v)", path, err)
		return nil, nil
	}
	p.debugf("agent: connected to %s", path)
	return agent.NewClient(conn), conn
}

// authTrace records what authentication offered, for the error message.
type authTrace struct {
	mu      sync.Mutex
	tried   []string
	skipped []string
}

func (t *authTrace) add(list *[]string, s string) {
	t.mu.Lock()
	*list = append(*list, s)
	t.mu.Unlock()
}

// authMethod builds one publickey method (x/crypto uses only the first of
// each kind) offering, in order: the configured identity files (through the
// agent when it holds them), the other agent keys, then the default files.
func (p *Plan) authMethod(h *hop, ag agent.ExtendedAgent, trace *authTrace) ssh.AuthMethod {
	return ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		var out []ssh.Signer
		if h == p.target {
			for _, s := range p.signers {
				desc := "in-memory key " + ssh.FingerprintSHA256(s.PublicKey())
				trace.add(&trace.tried, desc)
				p.debugf("auth: offering %s", desc)
				out = append(out, s)
			}
			if p.noDefaultAuth {
				return out, nil
			}
		}
		var agentSigners []ssh.Signer
		if ag == nil && p.agentNote != "" {
			trace.add(&trace.skipped, p.agentNote)
		}
		if ag != nil {
			s, err := ag.Signers()
			if err != nil {
				p.debugf("agent: list keys: %v", err)
			}
			agentSigners = s
		}
		used := map[string]bool{}
		addFile := func(path string, explicit bool) {
			pub, signer, err := p.loadKey(path, trace)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					if explicit {
						p.notef("Warning: identity file %s not accessible: no such file.", path)
					}
					return
				}
				trace.add(&trace.skipped, fmt.Sprintf("%s (%v)", path, err))
				return
			}
			if pub != nil {
				blob := string(pub.Marshal())
				if used[blob] {
					return
				}
				for _, s := range agentSigners {
					if bytes.Equal(s.PublicKey().Marshal(), pub.Marshal()) {
						signer = s
						break
					}
				}
				used[blob] = true
			}
			if signer == nil {
				return
			}
			trace.add(&trace.tried, path)
			p.debugf("auth: offering %s (%s)", path, ssh.FingerprintSHA256(signer.PublicKey()))
			out = append(out, signer)
		}
		for _, f := range h.identityFiles {
			addFile(f, true)
		}
		if !h.identitiesOnly {
			for _, s := range agentSigners {
				blob := string(s.PublicKey().Marshal())
				if used[blob] {
					continue
				}
				used[blob] = true
				desc := "agent key " + ssh.FingerprintSHA256(s.PublicKey())
				trace.add(&trace.tried, desc)
				p.debugf("auth: offering %s", desc)
				out = append(out, s)
			}
		}
		if !h.identitiesOnly || len(h.identityFiles) == 0 {
			for _, name := range defaultKeyFiles {
				addFile(filepath.Join(p.home, ".ssh", name), false)
			}
		}
		return out, nil
	})
}

// loadKey reads a private key file. For an encrypted key it returns a
// signer that asks for the passphrase only when the server accepts the
// public key, as ssh(1) does.
func (p *Plan) loadKey(path string, trace *authTrace) (ssh.PublicKey, ssh.Signer, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err == nil {
		return signer.PublicKey(), signer, nil
	}
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		return nil, nil, fmt.Errorf("read key: %w", err)
	}
	pub := missing.PublicKey
	if pub == nil {
		if b, err := os.ReadFile(path + ".pub"); err == nil {
			pub, _, _, _, _ = ssh.ParseAuthorizedKey(b)
		}
	}
	if p.prompt == nil {
		p.notef("Skipping encrypted key %s: no terminal to ask for its passphrase.", path)
		trace.add(&trace.skipped, path+" (encrypted, no terminal)")
		return pub, nil, nil
	}
	ls := &lazySigner{p: p, path: path, pem: pemBytes, pub: pub}
	if pub == nil {
		// Without a public key the passphrase is needed now.
		if err := ls.load(); err != nil {
			return nil, nil, err
		}
		return ls.signer.PublicKey(), ls.signer, nil
	}
	return pub, ls, nil
}

// lazySigner decrypts its key on first use.
type lazySigner struct {
	p      *Plan
	path   string
	pem    []byte
	pub    ssh.PublicKey
	once   sync.Once
	signer ssh.Signer
	err    error
}

func (s *lazySigner) load() error {
	s.once.Do(func() {
		for range 3 {
			pass, err := s.p.prompt.Prompt(fmt.Sprintf("Enter passphrase for key '%s': ", s.path), false)
			if err != nil {
				s.err = fmt.Errorf("read passphrase for %s: %w", s.path, err)
				return
			}
			signer, err := ssh.ParsePrivateKeyWithPassphrase(s.pem, []byte(pass))
			if err == nil {
				s.signer = signer
				return
			}
			if !errors.Is(err, x509.IncorrectPasswordError) {
				s.err = fmt.Errorf("decrypt %s: %w", s.path, err)
				return
			}
		}
		s.err = fmt.Errorf("decrypt %s: wrong passphrase", s.path)
	})
	return s.err
}

func (s *lazySigner) PublicKey() ssh.PublicKey { return s.pub }

func (s *lazySigner) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	if err := s.load(); err != nil {
		return nil, err
	}
	return s.signer.Sign(rand, data)
}

func (s *lazySigner) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	if err := s.load(); err != nil {
		return nil, err
	}
	as, ok := s.signer.(ssh.AlgorithmSigner)
	if !ok {
		return s.signer.Sign(rand, data)
	}
	return as.SignWithAlgorithm(rand, data, algorithm)
}

// authError explains a failed authentication: who, where, what was tried.
func authError(h *hop, trace *authTrace, err error) error {
	trace.mu.Lock()
	defer trace.mu.Unlock()
	tried := "no keys (no agent and no identity files)"
	if len(trace.tried) > 0 {
		tried = strings.Join(trace.tried, ", ")
	}
	msg := fmt.Sprintf("authenticate as %s to %s: no key was accepted; tried %s", h.user, h.addr(), tried)
	if len(trace.skipped) > 0 {
		msg += "; skipped " + strings.Join(trace.skipped, ", ")
	}
	return &Error{
		Err:  fmt.Errorf("%s: %w", msg, err),
		Hint: "check the login user (--ssh-user) and that one of these keys is authorized on the host",
	}
}
