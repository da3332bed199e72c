//go:build windows

package sshsession

import (
	"context"
	"os"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/term"
)

type windowsTerminal struct {
	in, out *os.File
}

// NewTerminal returns the console behind in (and out, for the size and VT
// output); ok is false when in is not a console. Windows has no SIGWINCH,
// so Resize polls the size every 250 ms.
func NewTerminal(in, out *os.File) (Terminal, bool) {
	if in == nil || !term.IsTerminal(int(in.Fd())) {
		return nil, false
	}
	if out != nil && !term.IsTerminal(int(out.Fd())) {
		out = nil
	}
	return &windowsTerminal{in: in, out: out}, true
}

// MakeRaw sets raw mode with VT input on the input console (x/term) and VT
// processing on the output console, so the remote side's escape sequences
// are interpreted; restore puts both modes back.
func (t *windowsTerminal) MakeRaw() (func() error, error) {
	st, err := term.MakeRaw(int(t.in.Fd()))
	if err != nil {
		return nil, err
	}
	var outMode uint32
	outSet := false
	if t.out != nil {
		h := windows.Handle(t.out.Fd())
		if windows.GetConsoleMode(h, &outMode) == nil {
			if windows.SetConsoleMode(h, outMode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING|windows.DISABLE_NEWLINE_AUTO_RETURN) == nil {
				outSet = true
			}
		}
	}
	return func() error {
		if outSet {
			_ = windows.SetConsoleMode(windows.Handle(t.out.Fd()), outMode)
		}
		return term.Restore(int(t.in.Fd()), st)
	}, nil
}

func (t *windowsTerminal) Size() (int, int, error) {
	f := t.out
	if f == nil {
		f = t.in
	}
	return term.GetSize(int(f.Fd()))
}

func (t *windowsTerminal) Resize(ctx context.Context) <-chan Size {
	ch := make(chan Size, 1)
	go func() {
		defer close(ch)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		last := Size{-1, -1}
		for {
			if w, h, err := t.Size(); err == nil && (Size{w, h}) != last {
				last = Size{w, h}
				select {
				case ch <- last:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}
