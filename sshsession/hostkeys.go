package sshsession

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// hostKeyChecker verifies one hop's host key against known_hosts and
// applies StrictHostKeyChecking.
type hostKeyChecker struct {
	p      *Plan
	h      *hop
	lookup string // host[:port] as known_hosts records it
	db     *knownhosts.HostKeyDB
	fixed  ssh.PublicKey // Config.HostKey for the target: the only key accepted
	err    error         // what the callback refused with, if anything
}

func newHostKeyChecker(p *Plan, h *hop) (*hostKeyChecker, error) {
	c := &hostKeyChecker{p: p, h: h, lookup: net.JoinHostPort(h.hostName, strconv.Itoa(h.port))}
	if h.hostKeyAlias != "" {
		// Like ssh(1), an alias is looked up without the port.
		c.lookup = net.JoinHostPort(h.hostKeyAlias, "22")
	}
	if h == p.target && p.hostKey != nil {
		c.fixed = p.hostKey
		return c, nil
	}
	var files []string
	for _, f := range append(append([]string(nil), h.knownHosts...), h.globalHosts...) {
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
			files = append(files, f)
		}
	}
	if len(files) > 0 {
		db, err := knownhosts.NewDB(files...)
		if err != nil {
			// One bad line makes the whole database unusable: fail closed.
			return nil, &Error{
				Err:  fmt.Errorf("read known_hosts: %w", err),
				Hint: "fix or delete the malformed line named above",
			}
		}
		c.db = db
	}
	return c, nil
}

// algorithms returns the host-key algorithms known_hosts can verify for
// this host, so a server with several keys presents one we know; nil when
// the host is unknown (x/crypto's defaults).
func (c *hostKeyChecker) algorithms() []string {
	if c.fixed != nil {
		if c.fixed.Type() == ssh.KeyAlgoRSA {
			return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
		return []string{c.fixed.Type()}
	}
	if c.db == nil {
		return nil
	}
	if a := c.db.HostKeyAlgorithms(c.lookup); len(a) > 0 {
		return a
	}
	return nil
}

// display is the host name used in messages and in new known_hosts lines.
func (c *hostKeyChecker) display() string { return knownhosts.Normalize(c.lookup) }

func (c *hostKeyChecker) check(_ string, _ net.Addr, key ssh.PublicKey) error {
	c.err = c.verify(key)
	return c.err
}

func (c *hostKeyChecker) verify(key ssh.PublicKey) error {
	if c.fixed != nil {
		return c.verifyFixed(key)
	}
	var err error
	if c.db != nil {
		// A zero remote address: like ssh(1) with CheckHostIP=no (the
		// default), only the name counts, so a reused IP with an old key
		// does not look like an attack.
		err = c.db.HostKeyCallback()(c.lookup, &net.TCPAddr{IP: net.IPv4zero}, key)
	} else {
		err = &xknownhosts.KeyError{}
	}
	fp := fmt.Sprintf("%s %s", keyTypeName(key), ssh.FingerprintSHA256(key))
	var revoked *xknownhosts.RevokedError
	switch {
	case err == nil:
		c.p.debugf("host key for %s (%s) found in known_hosts", c.display(), fp)
		return nil
	case errors.As(err, &revoked):
		return &Error{
			Err:  fmt.Errorf("host key for %s (%s) is marked @revoked in %s:%d", c.display(), fp, revoked.Revoked.Filename, revoked.Revoked.Line),
			Hint: "the host presents a revoked key; do not connect until its administrator replaces it",
		}
	case knownhosts.IsHostKeyChanged(err):
		var ke *xknownhosts.KeyError
		errors.As(err, &ke)
		w := ke.Want[0]
		return &Error{
			Err: fmt.Errorf("host key for %s has changed: the host offers %s but known_hosts has a different key at %s:%d (possible man-in-the-middle attack)",
				c.display(), fp, w.Filename, w.Line),
			Hint: fmt.Sprintf("if the host was legitimately replaced, delete line %d of %s and connect again", w.Line, w.Filename),
		}
	case knownhosts.IsHostUnknown(err):
		return c.unknown(key, fp)
	default:
		return fmt.Errorf("check host key for %s: %w", c.display(), err)
	}
}

// verifyFixed accepts exactly the configured host key, nothing else.
func (c *hostKeyChecker) verifyFixed(key ssh.PublicKey) error {
	fp := fmt.Sprintf("%s %s", keyTypeName(key), ssh.FingerprintSHA256(key))
	if bytes.Equal(key.Marshal(), c.fixed.Marshal()) {
		c.p.debugf("host key for %s (%s) is the expected one", c.display(), fp)
		return nil
	}
	return &Error{
		Err: fmt.Errorf("host key for %s (%s) is not the expected %s %s (possible man-in-the-middle attack)",
			c.display(), fp, keyTypeName(c.fixed), ssh.FingerprintSHA256(c.fixed)),
		Hint: "something else answers at that address; do not connect until you know why",
	}
}

func (c *hostKeyChecker) unknown(key ssh.PublicKey, fp string) error {
	refuse := func(why string) error {
		return &Error{
			Err: fmt.Errorf("host key for %s is not known (%s) and %s", c.display(), fp, why),
			Hint: "add the host's key to ~/.ssh/known_hosts, or pass --ssh-o StrictHostKeyChecking=accept-new " +
				"to trust it on first use",
		}
	}
	switch c.h.strict {
	case "yes":
		return refuse("StrictHostKeyChecking is yes")
	case "accept-new", "no":
		return c.add(key)
	}
	// ask
	if c.p.prompt == nil || c.h.batchMode {
		return refuse("there is no terminal to confirm it")
	}
	msg := fmt.Sprintf("The authenticity of host '%s' can't be established.\n%s key fingerprint is %s.\n"+
		"Are you sure you want to continue connecting (yes/no/[fingerprint])? ",
		c.display(), keyTypeName(key), ssh.FingerprintSHA256(key))
	for range 3 {
		ans, err := c.p.prompt.Prompt(msg, true)
		if err != nil {
			return fmt.Errorf("confirm host key for %s: %w", c.display(), err)
		}
		ans = strings.TrimSpace(ans)
		switch {
		case strings.EqualFold(ans, "yes"), ans == ssh.FingerprintSHA256(key):
			return c.add(key)
		case strings.EqualFold(ans, "no"):
			return &Error{Err: fmt.Errorf("host key for %s (%s) not accepted", c.display(), fp)}
		}
		msg = "Please type 'yes', 'no' or the fingerprint: "
	}
	return &Error{Err: fmt.Errorf("host key for %s (%s) not accepted", c.display(), fp)}
}

// add appends the key to the first UserKnownHostsFile. Failing to write is
// a warning, as in ssh(1): the key was accepted for this connection.
func (c *hostKeyChecker) add(key ssh.PublicKey) error {
	if len(c.h.knownHosts) == 0 {
		c.p.notef("Warning: accepted the host key for %s without recording it (UserKnownHostsFile none)", c.display())
		return nil
	}
	file := c.h.knownHosts[0]
	name := knownhosts.Normalize(c.lookup)
	if c.h.hashKnownHosts {
		name = xknownhosts.HashHostname(name)
	}
	line := knownhosts.Line([]string{c.display()}, key)
	if c.h.hashKnownHosts {
		line = name + line[len(c.display()):]
	}
	err := os.MkdirAll(filepath.Dir(file), 0o700)
	if err == nil {
		var f *os.File
		f, err = os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err == nil {
			_, err = f.WriteString(line + "\n")
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	if err != nil {
		c.p.notef("Warning: could not add the host key for %s to %s: %v", c.display(), file, err)
		return nil
	}
	c.p.notef("Warning: Permanently added '%s' (%s) to the list of known hosts.", c.display(), keyTypeName(key))
	return nil
}

// keyTypeName names a key type as ssh(1) does in messages.
func keyTypeName(k ssh.PublicKey) string {
	t := k.Type()
	if cert, ok := k.(*ssh.Certificate); ok {
		t = cert.Key.Type()
	}
	switch {
	case strings.Contains(t, "ed25519"):
		return "ED25519"
	case strings.Contains(t, "ecdsa"):
		return "ECDSA"
	case strings.Contains(t, "rsa"):
		return "RSA"
	}
	return strings.ToUpper(t)
}
