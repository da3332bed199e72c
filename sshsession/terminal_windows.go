//go:build windows

package sshsession

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/term"
)

// resizePollInterval is how often the console size is polled: Windows has
// no SIGWINCH (docker CLI and kubectl poll at the same rate).
const resizePollInterval = 250 * time.Millisecond

// console is the part of the Windows console API the terminal uses, so
// tests can stand in a fake console.
type console interface {
	// makeRaw puts the input console in raw mode (golang.org/x/term).
	makeRaw(in windows.Handle) (restore func() error, err error)
	mode(h windows.Handle) (uint32, error)
	setMode(h windows.Handle, mode uint32) error
	size(h windows.Handle) (width, height int, err error)
}

// realConsole is the console of this process.
type realConsole struct{}

func (realConsole) makeRaw(in windows.Handle) (func() error, error) {
	st, err := term.MakeRaw(int(in))
	if err != nil {
		return nil, err
	}
	return func() error { return term.Restore(int(in), st) }, nil
}

func (realConsole) mode(h windows.Handle) (uint32, error) {
	var m uint32
	err := windows.GetConsoleMode(h, &m)
	return m, err
}

func (realConsole) setMode(h windows.Handle, m uint32) error { return windows.SetConsoleMode(h, m) }

func (realConsole) size(h windows.Handle) (int, int, error) { return term.GetSize(int(h)) }

type windowsTerminal struct {
	con     console
	in, out windows.Handle // out is 0 when stdout is not a console
}

// NewTerminal returns the console behind in (and out, for the size and VT
// output); ok is false when in is not a console.
func NewTerminal(in, out *os.File) (Terminal, bool) {
	if in == nil || !term.IsTerminal(int(in.Fd())) {
		return nil, false
	}
	t := &windowsTerminal{con: realConsole{}, in: windows.Handle(in.Fd())}
	if out != nil && term.IsTerminal(int(out.Fd())) {
		t.out = windows.Handle(out.Fd())
	}
	return t, true
}

// MakeRaw sets raw mode with virtual-terminal input on the input console,
// so keys arrive as the bytes a Unix terminal sends (Ctrl-C as 0x03, arrows
// as escape sequences), and virtual-terminal processing without the
// automatic newline on the output console, so the remote side's escape
// sequences are interpreted. restore puts both modes back, output first.
// A console too old for VT output is left as it is.
func (t *windowsTerminal) MakeRaw() (func() error, error) {
	restoreIn, err := t.con.makeRaw(t.in)
	if err != nil {
		return nil, err
	}
	// x/term sets VT input since v0.24; make sure of it whatever the version.
	if m, err := t.con.mode(t.in); err == nil && m&windows.ENABLE_VIRTUAL_TERMINAL_INPUT == 0 {
		_ = t.con.setMode(t.in, m|windows.ENABLE_VIRTUAL_TERMINAL_INPUT)
	}
	var (
		outMode uint32
		outSet  bool
	)
	if t.out != 0 {
		if m, err := t.con.mode(t.out); err == nil {
			outMode = m
			vt := m | windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING
			if t.con.setMode(t.out, vt|windows.DISABLE_NEWLINE_AUTO_RETURN) == nil || t.con.setMode(t.out, vt) == nil {
				outSet = true
			}
		}
	}
	return func() error {
		var errOut error
		if outSet {
			errOut = t.con.setMode(t.out, outMode)
		}
		return errors.Join(errOut, restoreIn())
	}, nil
}

// Size is the visible window of the output console (of the input one when
// stdout is redirected, which fails and leaves the caller's default).
func (t *windowsTerminal) Size() (int, int, error) {
	h := t.out
	if h == 0 {
		h = t.in
	}
	return t.con.size(h)
}

// Resize polls the size every 250 ms.
func (t *windowsTerminal) Resize(ctx context.Context) <-chan Size {
	tick := time.NewTicker(resizePollInterval)
	ch := pollSizes(ctx, t.Size, tick.C)
	go func() {
		<-ctx.Done()
		tick.Stop()
	}()
	return ch
}

// pollSizes sends the current size, then the size after every tick on
// which it differs from the last one sent; sizes that cannot be read are
// skipped. The channel is closed when ctx is done.
func pollSizes(ctx context.Context, size func() (int, int, error), tick <-chan time.Time) <-chan Size {
	ch := make(chan Size, 1)
	go func() {
		defer close(ch)
		last := Size{-1, -1}
		for {
			if w, h, err := size(); err == nil && (Size{w, h}) != last {
				last = Size{w, h}
				select {
				case ch <- last:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-tick:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}
