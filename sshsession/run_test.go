package sshsession

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dialT prepares and dials cfg, failing the test on error.
func dialT(t *testing.T, cfg Config) *Client {
	t.Helper()
	p, err := Prepare(cfg)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	c, err := Dial(context.Background(), p)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRunExitStatus(t *testing.T) {
	srv := newTestServer(t)
	env := newTestEnv(t, srv)
	env.trust(t, srv)
	tests := []struct {
		cmd        string
		wantStatus int
		wantErr    bool
	}{
		{cmd: "exit 0", wantStatus: 0},
		{cmd: "exit 3", wantStatus: 3},
		{cmd: "exit 255", wantStatus: 255},
		{cmd: "signal TERM", wantStatus: 128 + 15},
		{cmd: "signal KILL", wantStatus: 128 + 9},
		{cmd: "signal USR1", wantStatus: 128 + 10},
		{cmd: "signal USR2", wantStatus: 128 + 12},
		{cmd: "nostatus", wantStatus: 255, wantErr: true},
		{cmd: "drop", wantStatus: 255, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			c := dialT(t, env.config(srv))
			status, err := c.Run(context.Background(), RunRequest{Command: tt.cmd})
			if status != tt.wantStatus || (err != nil) != tt.wantErr {
				t.Errorf("Run(%q) = %d, %v; want %d, error %v", tt.cmd, status, err, tt.wantStatus, tt.wantErr)
			}
		})
	}
}

// blockingReader never returns, like a terminal nobody types on.
type blockingReader struct{ done chan struct{} }

func (r blockingReader) Read([]byte) (int, error) { <-r.done; return 0, io.EOF }

func TestRunStreams(t *testing.T) {
	srv := newTestServer(t)
	env := newTestEnv(t, srv)
	env.trust(t, srv)

	t.Run("stdin forwarded and EOF", func(t *testing.T) {
		c := dialT(t, env.config(srv))
		var out bytes.Buffer
		big := strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB
		status, err := c.Run(context.Background(), RunRequest{Command: "cat", Stdin: strings.NewReader(big), Stdout: &out})
		if status != 0 || err != nil {
			t.Fatalf("Run = %d, %v", status, err)
		}
		if out.String() != big {
			t.Errorf("stdout has %d bytes, want the %d sent", out.Len(), len(big))
		}
		if !slices.Contains(srv.Events(), "stdin-eof") {
			t.Errorf("server never saw stdin EOF; events %q", srv.Events())
		}
	})
	t.Run("stdout and stderr separate", func(t *testing.T) {
		c := dialT(t, env.config(srv))
		var out, errb bytes.Buffer
		status, err := c.Run(context.Background(), RunRequest{Command: "outerr", Stdout: &out, Stderr: &errb})
		if status != 0 || err != nil {
			t.Fatalf("Run = %d, %v", status, err)
		}
		if got := [2]string{out.String(), errb.String()}; got != [2]string{"out", "err"} {
			t.Errorf("stdout, stderr = %q, want out, err", got)
		}
	})
	t.Run("returns while stdin is still open", func(t *testing.T) {
		c := dialT(t, env.config(srv))
		in := blockingReader{done: make(chan struct{})}
		defer close(in.done)
		status, err := c.Run(context.Background(), RunRequest{Command: "exit 4", Stdin: in})
		if status != 4 || err != nil {
			t.Errorf("Run = %d, %v; want 4, nil", status, err)
		}
	})
}

// fakeTerminal counts raw-mode restores and delivers sizes on demand.
type fakeTerminal struct {
	mu       sync.Mutex
	raw      int
	restores int
	w, h     int
	sizes    chan Size
	rawErr   error
}

func (f *fakeTerminal) MakeRaw() (func() error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rawErr != nil {
		return nil, f.rawErr
	}
	f.raw++
	return func() error {
		f.mu.Lock()
		f.restores++
		f.mu.Unlock()
		return nil
	}, nil
}

func (f *fakeTerminal) Size() (int, int, error) { return f.w, f.h, nil }

func (f *fakeTerminal) Resize(ctx context.Context) <-chan Size { return f.sizes }

func (f *fakeTerminal) counts() (raw, restores int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.raw, f.restores
}

func TestRunTTY(t *testing.T) {
	srv := newTestServer(t)
	env := newTestEnv(t, srv)
	env.trust(t, srv)
	t.Setenv("TERM", "vt220")

	tests := []struct {
		name       string
		cmd        string
		resize     []Size
		wantStatus int
		wantErr    bool
		wantEvents []string
	}{
		{
			name: "pty and resize", cmd: "wait-winch 2",
			resize:     []Size{{80, 24}, {100, 40}, {100, 40}, {120, 50}},
			wantEvents: []string{"pty-req:vt220:80x24", "exec:wait-winch 2", "window-change:100x40", "window-change:120x50"},
		},
		{
			name: "restored on lost connection", cmd: "drop", wantStatus: 255, wantErr: true,
			wantEvents: []string{"pty-req:vt220:80x24", "exec:drop"},
		},
		{
			name: "restored on exit status", cmd: "exit 7", wantStatus: 7,
			wantEvents: []string{"pty-req:vt220:80x24", "exec:exit 7"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.mu.Lock()
			srv.events = nil
			srv.mu.Unlock()
			c := dialT(t, env.config(srv))
			term := &fakeTerminal{w: 80, h: 24, sizes: make(chan Size, len(tt.resize))}
			for _, s := range tt.resize {
				term.sizes <- s
			}
			status, err := c.Run(context.Background(), RunRequest{Command: tt.cmd, TTY: term})
			if status != tt.wantStatus || (err != nil) != tt.wantErr {
				t.Errorf("Run = %d, %v; want %d, error %v", status, err, tt.wantStatus, tt.wantErr)
			}
			if raw, restores := term.counts(); raw != 1 || restores != 1 {
				t.Errorf("raw mode set %d times, restored %d times; want 1 and 1", raw, restores)
			}
			var got []string
			for _, e := range srv.Events() {
				if !strings.HasPrefix(e, "user:") {
					got = append(got, e)
				}
			}
			if diff := cmp.Diff(tt.wantEvents, got); diff != "" {
				t.Errorf("server events (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("restored on cancel", func(t *testing.T) {
		c := dialT(t, env.config(srv))
		term := &fakeTerminal{w: 80, h: 24, sizes: make(chan Size)}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		var status int
		var err error
		go func() {
			status, err = c.Run(ctx, RunRequest{Command: "hang", TTY: term})
			close(done)
		}()
		waitFor(t, srv, "exec:hang")
		cancel()
		<-done
		if status != 255 || !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %d, %v; want 255, context.Canceled", status, err)
		}
		if raw, restores := term.counts(); raw != 1 || restores != 1 {
			t.Errorf("raw mode set %d times, restored %d times; want 1 and 1", raw, restores)
		}
	})
}

// waitFor blocks until the server has recorded event.
func waitFor(t *testing.T, srv *testServer, event string) {
	t.Helper()
	for range 1000 {
		if slices.Contains(srv.Events(), event) {
			return
		}
		<-timeAfter10ms()
	}
	t.Fatalf("server never recorded %q; events %q", event, srv.Events())
}

func TestRunSignals(t *testing.T) {
	srv := newTestServer(t)
	env := newTestEnv(t, srv)
	env.trust(t, srv)
	tests := []struct {
		sig        os.Signal
		wantEvent  string
		wantStatus int
	}{
		{syscall.SIGINT, "signal:INT", 130},
		{syscall.SIGTERM, "signal:TERM", 143},
		{syscall.SIGHUP, "signal:HUP", 129},
	}
	for _, tt := range tests {
		t.Run(tt.wantEvent, func(t *testing.T) {
			srv.mu.Lock()
			srv.events = nil
			srv.mu.Unlock()
			c := dialT(t, env.config(srv))
			sigs := make(chan os.Signal, 1)
			sigs <- tt.sig
			status, err := c.Run(context.Background(), RunRequest{Command: "wait-signal", Signals: sigs})
			if status != tt.wantStatus || err != nil {
				t.Errorf("Run = %d, %v; want %d, nil", status, err, tt.wantStatus)
			}
			n := 0
			for _, e := range srv.Events() {
				if strings.HasPrefix(e, "signal:") {
					n++
					if e != tt.wantEvent {
						t.Errorf("server got %s, want %s", e, tt.wantEvent)
					}
				}
			}
			if n != 1 {
				t.Errorf("server got %d signal requests, want exactly 1", n)
			}
		})
	}
}

func TestKeepaliveLost(t *testing.T) {
	srv := newTestServer(t)
	srv.ignoreKeepalive = true
	env := newTestEnv(t, srv)
	env.trust(t, srv)
	c := dialT(t, env.config(srv,
		Flag{Name: "o", Value: "ServerAliveInterval=1"},
		Flag{Name: "o", Value: "ServerAliveCountMax=2"}))
	status, err := c.Run(context.Background(), RunRequest{Command: "hang"})
	if status != 255 || err == nil || !strings.Contains(err.Error(), "no reply to 2 keepalives") {
		t.Errorf("Run = %d, %v; want 255 and a lost-connection error", status, err)
	}
	if !slices.Contains(srv.Events(), "keepalive") {
		t.Errorf("server saw no keepalive; events %q", srv.Events())
	}
}

func TestKeepaliveAnswered(t *testing.T) {
	srv := newTestServer(t)
	env := newTestEnv(t, srv)
	env.trust(t, srv)
	c := dialT(t, env.config(srv,
		Flag{Name: "o", Value: "ServerAliveInterval=1"},
		Flag{Name: "o", Value: "ServerAliveCountMax=1"}))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Outlive several intervals, then stop.
		waitFor(t, srv, "keepalive")
		for range 3 {
			<-timeAfter1s()
		}
		cancel()
	}()
	_, err := c.Run(ctx, RunRequest{Command: "hang"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run error = %v; want context.Canceled (answered keepalives must not drop the connection)", err)
	}
}
