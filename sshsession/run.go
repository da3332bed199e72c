package sshsession

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// RunRequest is one remote command and the local streams it talks to.
type RunRequest struct {
	Command string // already quoted for the remote shell
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// TTY, when non-nil, requests a PTY with TERM and the terminal's size,
	// keeps the terminal raw for the session (restored on every path) and
	// forwards size changes. The remote stderr then arrives on Stdout.
	TTY Terminal
	// Signals are relayed to the remote command as SSH "signal" requests,
	// each received signal once (INT, TERM, HUP, QUIT).
	Signals <-chan os.Signal
}

// copyBufSize is large so bulk output moves in few, big writes.
const copyBufSize = 256 << 10

// ptyModes are sent with the PTY request; the remote defaults do the rest.
var ptyModes = ssh.TerminalModes{
	ssh.ECHO:          1,
	ssh.TTY_OP_ISPEED: 38400,
	ssh.TTY_OP_OSPEED: 38400,
}

// Run runs r.Command and returns its exit status: 0–254 as the command
// exited, 128+N when a signal N killed it. err is non-nil (and status 255)
// when the tool failed: the session could not start, the connection was
// lost, or ctx was cancelled.
func (c *Client) Run(ctx context.Context, r RunRequest) (status int, err error) {
	p := c.plan
	host := p.target.alias
	if lost := c.lostErr(); lost != nil {
		return 255, lost
	}
	start := time.Now()
	sess, err := c.ssh.NewSession()
	if err != nil {
		return 255, c.connErr(fmt.Errorf("open session on %s: %w", host, err))
	}
	defer sess.Close()
	if c.forward {
		if err := agent.RequestAgentForwarding(sess); err != nil {
			p.notef("Warning: agent forwarding refused by %s: %v", host, err)
		}
	}
	var initial Size
	if r.TTY != nil {
		w, h, err := r.TTY.Size()
		if err != nil || w <= 0 || h <= 0 {
			w, h = 80, 24
		}
		initial = Size{w, h}
		termName := os.Getenv("TERM")
		if termName == "" {
			termName = "xterm-256color"
		}
		if err := sess.RequestPty(termName, h, w, ptyModes); err != nil {
			return 255, c.connErr(fmt.Errorf("request a terminal on %s: %w", host, err))
		}
		p.debugf("pty: TERM=%s %dx%d", termName, w, h)
		restore, err := r.TTY.MakeRaw()
		if err != nil {
			return 255, fmt.Errorf("set terminal to raw mode: %w", err)
		}
		defer restore()
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return 255, fmt.Errorf("session stdin: %w", err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return 255, fmt.Errorf("session stdout: %w", err)
	}
	stderr, err := sess.StderrPipe()
	if err != nil {
		return 255, fmt.Errorf("session stderr: %w", err)
	}
	if err := sess.Start(r.Command); err != nil {
		return 255, c.connErr(fmt.Errorf("start command on %s: %w", host, err))
	}
	started := time.Now()
	p.debugf("session on %s started in %v", host, started.Sub(start).Round(time.Millisecond))

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var out sync.WaitGroup
	out.Add(2)
	go func() { defer out.Done(); copyStream(r.Stdout, stdout) }()
	go func() { defer out.Done(); copyStream(r.Stderr, stderr) }()

	// Stdin is copied by a goroutine Run does not wait for: a read on a
	// terminal or an open pipe may never return, and the command's end
	// must not depend on it.
	go func() {
		if r.Stdin != nil {
			copyStream(stdin, r.Stdin)
		}
		stdin.Close() // EOF to the remote side
	}()

	if r.TTY != nil {
		go func() {
			last := initial
			for s := range r.TTY.Resize(sctx) {
				if s == last {
					continue
				}
				last = s
				if err := sess.WindowChange(s.Height, s.Width); err != nil {
					return
				}
			}
		}()
	}
	if r.Signals != nil {
		go func() {
			for {
				select {
				case <-sctx.Done():
					return
				case sig, ok := <-r.Signals:
					if !ok {
						return
					}
					if name, ok := sshSignal(sig); ok {
						p.debugf("relaying signal %s to %s", name, host)
						_ = sess.Signal(name)
					}
				}
			}
		}()
	}

	waitc := make(chan error, 1)
	go func() { waitc <- sess.Wait() }()
	var werr error
	select {
	case werr = <-waitc:
	case <-ctx.Done():
		// Tell the remote command to stop, then give up the session.
		_ = sess.Signal(ssh.SIGHUP)
		sess.Close()
		return 255, fmt.Errorf("run on %s: %w", host, ctx.Err())
	}
	out.Wait()
	p.debugf("remote command on %s ended after %v", host, time.Since(started).Round(time.Millisecond))
	return c.exitStatus(werr)
}

// exitStatus maps what Wait returned to (status, err).
func (c *Client) exitStatus(werr error) (int, error) {
	host := c.plan.target.alias
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case werr == nil:
		c.plan.debugf("remote command on %s exited with status 0", host)
		return 0, nil
	case errors.As(werr, &ee):
		st := ee.ExitStatus()
		if ee.Signal() != "" {
			if n, ok := signalNumbers[ee.Signal()]; ok && st == 128 {
				st = 128 + n // x/crypto knows only some signals
			}
			c.plan.debugf("remote command on %s killed by signal %s", host, ee.Signal())
		}
		c.plan.debugf("remote command on %s exited with status %d", host, st)
		return st, nil
	case errors.As(werr, &missing):
		if lost := c.lostErr(); lost != nil {
			return 255, lost
		}
		return 255, &Error{
			Err:  fmt.Errorf("connection to %s closed before the remote command reported an exit status", host),
			Hint: "the connection was lost or the server ended the session; the remote command may still be running",
		}
	default:
		return 255, c.connErr(fmt.Errorf("run on %s: %w", host, werr))
	}
}

// connErr prefers the reason we dropped the connection, if we did.
func (c *Client) connErr(err error) error {
	if lost := c.lostErr(); lost != nil {
		return lost
	}
	return err
}

// signalNumbers are Linux signal numbers for the exit-signal names that
// x/crypto does not map to 128+N itself.
var signalNumbers = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8,
	"KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
	"STKFLT": 16, "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22,
	"URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29,
	"PWR": 30, "SYS": 31,
}

// sshSignal names a local signal for the SSH "signal" request.
func sshSignal(s os.Signal) (ssh.Signal, bool) {
	switch s {
	case syscall.SIGINT:
		return ssh.SIGINT, true
	case syscall.SIGTERM:
		return ssh.SIGTERM, true
	case syscall.SIGHUP:
		return ssh.SIGHUP, true
	case syscall.SIGQUIT:
		return ssh.SIGQUIT, true
	}
	return "", false
}

// Wrappers that hide ReaderFrom/WriterTo so io.CopyBuffer uses our buffer
// instead of allocating its own.
type onlyWriter struct{ io.Writer }
type onlyReader struct{ io.Reader }

func copyStream(dst io.Writer, src io.Reader) {
	if dst == nil {
		dst = io.Discard
	}
	buf := make([]byte, copyBufSize)
	if _, err := io.CopyBuffer(onlyWriter{dst}, onlyReader{src}, buf); err != nil {
		// Keep draining so the remote side is not stalled by a full
		// channel window when the local writer has gone away.
		_, _ = io.CopyBuffer(io.Discard, onlyReader{src}, buf)
	}
}
