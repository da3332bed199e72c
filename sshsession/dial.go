package sshsession

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/sys/cpu"
)

// Client is an authenticated connection to the target host (through its
// ProxyJump hops, if any).
type Client struct {
	plan      *Plan
	ssh       *ssh.Client
	jumps     []*ssh.Client // dial order
	agent     agent.ExtendedAgent
	agentConn io.Closer
	forward   bool // agent forwarding set up

	done      chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex
	lost      error // why the connection was dropped by us (keepalive)
}

// preferredCiphers puts AES-GCM first when the CPU accelerates AES (the
// ChaCha20 of x/crypto is pure Go on amd64), ChaCha20-Poly1305 otherwise.
func preferredCiphers() []string {
	gcm := []string{ssh.CipherAES128GCM, ssh.CipherAES256GCM}
	chacha := []string{ssh.CipherChaCha20Poly1305}
	ctr := []string{ssh.CipherAES128CTR, ssh.CipherAES192CTR, ssh.CipherAES256CTR}
	if cpu.X86.HasAES || cpu.ARM64.HasAES || cpu.S390X.HasAES {
		return append(append(gcm, chacha...), ctr...)
	}
	return append(append(chacha, gcm...), ctr...)
}

// Dial connects and authenticates to the plan's target, hop by hop. ctx
// aborts the dial; ConnectTimeout bounds TCP connect and handshake of each
// hop.
func Dial(ctx context.Context, p *Plan) (*Client, error) {
	c := &Client{plan: p, done: make(chan struct{})}
	c.agent, c.agentConn = p.openAgent()
	var via *ssh.Client
	hops := append(append([]*hop(nil), p.jumps...), p.target)
	for _, h := range hops {
		cl, err := c.dialHop(ctx, via, h)
		if err != nil {
			if via != nil {
				via.Close()
			}
			c.Close()
			return nil, err
		}
		if via != nil {
			c.jumps = append(c.jumps, via)
		}
		via = cl
		if h.aliveInterval > 0 {
			go c.keepalive(cl, h)
		}
	}
	c.ssh = via
	if p.target.forwardAgent {
		if c.agent == nil {
			p.debugf("agent forwarding requested but no agent is available")
		} else if err := agent.ForwardToAgent(c.ssh, c.agent); err != nil {
			p.debugf("agent forwarding: %v", err)
		} else {
			c.forward = true
		}
	}
	return c, nil
}

func (c *Client) dialHop(ctx context.Context, via *ssh.Client, h *hop) (*ssh.Client, error) {
	p := c.plan
	start := time.Now()
	var deadline time.Time
	dctx := ctx
	if h.connectTimeout > 0 {
		deadline = start.Add(h.connectTimeout)
		var cancel context.CancelFunc
		dctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	var conn net.Conn
	var err error
	if via == nil {
		conn, err = (&net.Dialer{}).DialContext(dctx, h.network, h.addr())
		if err == nil {
			conn = quickAck(conn)
		}
	} else {
		conn, err = via.DialContext(dctx, "tcp", h.addr())
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect to %s: %w", h.addr(), ctx.Err())
		}
		if dctx.Err() != nil {
			return nil, &Error{
				Err:  fmt.Errorf("connect to %s: timed out after %v (ConnectTimeout)", h.addr(), h.connectTimeout),
				Hint: "check that the host is reachable on that port (security group, network ACL, VPN)",
			}
		}
		how := ""
		if via != nil {
			how = " through " + via.RemoteAddr().String()
		}
		return nil, fmt.Errorf("connect to %s%s: %w", h.addr(), how, err)
	}
	tcpDone := time.Now()
	p.debugf("connected to %s in %v", h.addr(), tcpDone.Sub(start).Round(time.Millisecond))

	checker, err := newHostKeyChecker(p, h)
	if err != nil {
		conn.Close()
		return nil, err
	}
	trace := &authTrace{}
	var kexDone atomic.Int64
	cfg := &ssh.ClientConfig{
		User: h.user,
		Auth: []ssh.AuthMethod{p.authMethod(h, c.agent, trace)},
		HostKeyCallback: func(host string, remote net.Addr, key ssh.PublicKey) error {
			kexDone.Store(time.Now().UnixNano())
			return checker.check(host, remote, key)
		},
		HostKeyAlgorithms: checker.algorithms(),
		BannerCallback: func(msg string) error {
			if !p.quiet {
				io.WriteString(p.stderr, msg)
			}
			return nil
		},
	}
	cfg.Ciphers = preferredCiphers()
	if a := cfg.HostKeyAlgorithms; a != nil {
		p.debugf("host key algorithms for %s from known_hosts: %s", checker.display(), strings.Join(a, ","))
	}

	// The handshake has no timeout of its own: a deadline on a TCP conn,
	// and for every conn a watcher that closes it on timeout or ctx.
	if !deadline.IsZero() {
		_ = conn.SetDeadline(deadline) // tunnelled conns do not support deadlines
	}
	stop := make(chan struct{})
	watcherDone := make(chan struct{})
	var aborted atomic.Value // error
	go func() {
		defer close(watcherDone)
		var timer <-chan time.Time
		if !deadline.IsZero() {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-stop:
			return
		case <-ctx.Done():
			aborted.Store(ctx.Err())
		case <-timer:
			aborted.Store(errTimeout)
		}
		conn.Close()
	}()
	sconn, chans, reqs, err := ssh.NewClientConn(conn, h.addr(), cfg)
	close(stop)
	<-watcherDone
	why, _ := aborted.Load().(error)
	if err != nil && why == nil && !deadline.IsZero() && errors.Is(err, os.ErrDeadlineExceeded) {
		why = errTimeout // the conn deadline fired before the watcher
	}
	if why != nil {
		if err == nil {
			sconn.Close()
		}
		conn.Close()
		if why == errTimeout {
			return nil, &Error{
				Err:  fmt.Errorf("ssh handshake with %s: timed out after %v (ConnectTimeout)", h.addr(), h.connectTimeout),
				Hint: "the port answers but no SSH server responds in time; check the host and its sshd",
			}
		}
		return nil, fmt.Errorf("ssh handshake with %s: %w", h.addr(), why)
	}
	if err != nil {
		conn.Close()
		if checker.err != nil {
			return nil, checker.err
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, authError(h, trace, err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
			return nil, fmt.Errorf("ssh handshake with %s: connection closed by the server", h.addr())
		}
		return nil, fmt.Errorf("ssh handshake with %s: %w", h.addr(), err)
	}
	if !deadline.IsZero() {
		_ = conn.SetDeadline(time.Time{})
	}
	end := time.Now()
	if k := kexDone.Load(); k != 0 {
		kt := time.Unix(0, k)
		p.debugf("key exchange with %s: %v, authentication as %s: %v",
			h.addr(), kt.Sub(tcpDone).Round(time.Millisecond), h.user, end.Sub(kt).Round(time.Millisecond))
	}
	if am, ok := sconn.(ssh.AlgorithmsConnMetadata); ok {
		a := am.Algorithms()
		p.debugf("negotiated with %s: kex %s, host key %s, cipher %s, server %s",
			h.addr(), a.KeyExchange, a.HostKey, a.Write.Cipher, sconn.ServerVersion())
	}
	return ssh.NewClient(sconn, chans, reqs), nil
}

var errTimeout = errors.New("timeout")

// keepalive sends keepalive@openssh.com every interval and drops the
// connection after ServerAliveCountMax probes went unanswered; a reply of
// any kind proves the server is alive.
func (c *Client) keepalive(cl *ssh.Client, h *hop) {
	t := time.NewTicker(h.aliveInterval)
	defer t.Stop()
	var pending chan error
	misses := 0
	for {
		select {
		case <-c.done:
			return
		case err := <-pending:
			pending = nil
			if err != nil {
				return // connection gone; Run reports it
			}
			misses = 0
		case <-t.C:
			if pending != nil {
				misses++
				if misses >= max(h.aliveCountMax, 1) {
					c.drop(fmt.Errorf("connection to %s lost: no reply to %d keepalives", h.alias, misses))
					return
				}
				continue
			}
			pending = make(chan error, 1)
			go func(ch chan error) {
				_, _, err := cl.SendRequest("keepalive@openssh.com", true, nil)
				ch <- err
			}(pending)
		}
	}
}

// drop records why the connection is being given up and closes it, so
// that a running session returns.
func (c *Client) drop(why error) {
	c.mu.Lock()
	if c.lost == nil {
		c.lost = why
	}
	c.mu.Unlock()
	c.plan.debugf("%v", why)
	c.closeConns()
}

func (c *Client) lostErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lost
}

func (c *Client) closeConns() {
	if c.ssh != nil {
		c.ssh.Close()
	}
	for i := len(c.jumps) - 1; i >= 0; i-- {
		c.jumps[i].Close()
	}
}

// Close closes the connection, its ProxyJump hops and the agent.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.done)
		if c.ssh != nil {
			err = c.ssh.Close()
		}
		for i := len(c.jumps) - 1; i >= 0; i-- {
			c.jumps[i].Close()
		}
		if c.agentConn != nil {
			c.agentConn.Close()
		}
	})
	if errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) {
		err = nil
	}
	return err
}
