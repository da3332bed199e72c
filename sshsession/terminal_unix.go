//go:build !windows

package sshsession

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

type unixTerminal struct {
	in, out *os.File
}

// NewTerminal returns the terminal behind in (and out, for the size); ok is
// false when in is not a terminal. Size changes are noticed with SIGWINCH.
func NewTerminal(in, out *os.File) (Terminal, bool) {
	if in == nil || !term.IsTerminal(int(in.Fd())) {
		return nil, false
	}
	if out == nil || !term.IsTerminal(int(out.Fd())) {
		out = in
	}
	return &unixTerminal{in: in, out: out}, true
}

func (t *unixTerminal) MakeRaw() (func() error, error) {
	st, err := term.MakeRaw(int(t.in.Fd()))
	if err != nil {
		return nil, err
	}
	return func() error { return term.Restore(int(t.in.Fd()), st) }, nil
}

func (t *unixTerminal) Size() (int, int, error) { return term.GetSize(int(t.out.Fd())) }

func (t *unixTerminal) Resize(ctx context.Context) <-chan Size {
	ch := make(chan Size, 1)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGWINCH)
	go func() {
		defer close(ch)
		defer signal.Stop(sig)
		for {
			if w, h, err := t.Size(); err == nil {
				select {
				case ch <- Size{w, h}:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-sig:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}
