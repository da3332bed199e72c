//go:build windows

package sshsession

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// Console handles of the fake console.
const (
	fakeIn  windows.Handle = 10
	fakeOut windows.Handle = 11
)

// Modes a fresh Windows console starts with.
const (
	cookedIn = windows.ENABLE_PROCESSED_INPUT | windows.ENABLE_LINE_INPUT | windows.ENABLE_ECHO_INPUT |
		windows.ENABLE_MOUSE_INPUT | windows.ENABLE_INSERT_MODE | windows.ENABLE_QUICK_EDIT_MODE
	cookedOut = windows.ENABLE_PROCESSED_OUTPUT | windows.ENABLE_WRAP_AT_EOL_OUTPUT
)

// fakeConsole keeps one mode per handle and refuses the mode bits in
// rejects, as an old console refuses the VT flags.
type fakeConsole struct {
	mu         sync.Mutex
	modes      map[windows.Handle]uint32
	rejects    map[windows.Handle]uint32
	noVTInput  bool  // makeRaw behaves like x/term before v0.24
	rawErr     error // makeRaw fails
	restoreErr error // restoring the input mode fails
	sizes      []Size
	sizeCalls  []windows.Handle
}

func newFakeConsole() *fakeConsole {
	return &fakeConsole{
		modes:   map[windows.Handle]uint32{fakeIn: cookedIn, fakeOut: cookedOut},
		rejects: map[windows.Handle]uint32{},
	}
}

func (f *fakeConsole) makeRaw(in windows.Handle) (func() error, error) {
	if f.rawErr != nil {
		return nil, f.rawErr
	}
	old, err := f.mode(in)
	if err != nil {
		return nil, err
	}
	raw := old &^ (windows.ENABLE_ECHO_INPUT | windows.ENABLE_PROCESSED_INPUT | windows.ENABLE_LINE_INPUT)
	if !f.noVTInput {
		raw |= windows.ENABLE_VIRTUAL_TERMINAL_INPUT
	}
	if err := f.setMode(in, raw); err != nil {
		return nil, err
	}
	return func() error {
		if f.restoreErr != nil {
			return f.restoreErr
		}
		return f.setMode(in, old)
	}, nil
}

func (f *fakeConsole) mode(h windows.Handle) (uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.modes[h]
	if !ok {
		return 0, fmt.Errorf("handle %d is not a console", h)
	}
	return m, nil
}

func (f *fakeConsole) setMode(h windows.Handle, m uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.modes[h]; !ok {
		return fmt.Errorf("handle %d is not a console", h)
	}
	if m&f.rejects[h] != 0 {
		return windows.ERROR_INVALID_PARAMETER
	}
	f.modes[h] = m
	return nil
}

func (f *fakeConsole) size(h windows.Handle) (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sizeCalls = append(f.sizeCalls, h)
	if h != fakeOut {
		return 0, 0, errors.New("not a screen buffer")
	}
	if len(f.sizes) == 0 {
		return 80, 24, nil
	}
	s := f.sizes[0]
	if len(f.sizes) > 1 {
		f.sizes = f.sizes[1:]
	}
	if s.Width < 0 {
		return 0, 0, errors.New("size unavailable")
	}
	return s.Width, s.Height, nil
}

func (f *fakeConsole) modeOf(h windows.Handle) uint32 {
	m, _ := f.mode(h)
	return m
}

const (
	vtIn   = windows.ENABLE_VIRTUAL_TERMINAL_INPUT
	vtOut  = windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING
	noAuto = windows.DISABLE_NEWLINE_AUTO_RETURN
	cooked = windows.ENABLE_PROCESSED_INPUT | windows.ENABLE_LINE_INPUT | windows.ENABLE_ECHO_INPUT
)

func TestConsoleModes(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *fakeConsole, term *windowsTerminal)
		wantErr    bool
		wantIn     uint32 // mode while raw
		wantOut    uint32
		restoreErr bool
	}{
		{
			name:    "VT input raw, VT output without auto return",
			wantIn:  cookedIn&^cooked | vtIn,
			wantOut: cookedOut | vtOut | noAuto,
		},
		{
			name:    "VT input set even when x/term does not",
			setup:   func(f *fakeConsole, _ *windowsTerminal) { f.noVTInput = true },
			wantIn:  cookedIn&^cooked | vtIn,
			wantOut: cookedOut | vtOut | noAuto,
		},
		{
			name:    "console without DISABLE_NEWLINE_AUTO_RETURN",
			setup:   func(f *fakeConsole, _ *windowsTerminal) { f.rejects[fakeOut] = noAuto },
			wantIn:  cookedIn&^cooked | vtIn,
			wantOut: cookedOut | vtOut,
		},
		{
			name:    "console without VT output is left alone",
			setup:   func(f *fakeConsole, _ *windowsTerminal) { f.rejects[fakeOut] = vtOut },
			wantIn:  cookedIn&^cooked | vtIn,
			wantOut: cookedOut,
		},
		{
			name:    "stdout redirected",
			setup:   func(_ *fakeConsole, term *windowsTerminal) { term.out = 0 },
			wantIn:  cookedIn&^cooked | vtIn,
			wantOut: cookedOut,
		},
		{
			name:    "raw mode refused: nothing changes",
			setup:   func(f *fakeConsole, _ *windowsTerminal) { f.rawErr = errors.New("access denied") },
			wantErr: true,
			wantIn:  cookedIn,
			wantOut: cookedOut,
		},
		{
			name:       "input restore fails: output restored anyway",
			setup:      func(f *fakeConsole, _ *windowsTerminal) { f.restoreErr = errors.New("handle closed") },
			wantIn:     cookedIn&^cooked | vtIn,
			wantOut:    cookedOut | vtOut | noAuto,
			restoreErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeConsole()
			term := &windowsTerminal{con: f, in: fakeIn, out: fakeOut}
			if tt.setup != nil {
				tt.setup(f, term)
			}
			restore, err := term.MakeRaw()
			if (err != nil) != tt.wantErr {
				t.Fatalf("MakeRaw error = %v, want error %v", err, tt.wantErr)
			}
			if got := f.modeOf(fakeIn); got != tt.wantIn {
				t.Errorf("input mode %#x, want %#x", got, tt.wantIn)
			}
			if got := f.modeOf(fakeOut); got != tt.wantOut {
				t.Errorf("output mode %#x, want %#x", got, tt.wantOut)
			}
			if err != nil {
				return
			}
			if err := restore(); (err != nil) != tt.restoreErr {
				t.Errorf("restore error = %v, want error %v", err, tt.restoreErr)
			}
			if got := f.modeOf(fakeOut); got != cookedOut {
				t.Errorf("output mode after restore %#x, want %#x", got, uint32(cookedOut))
			}
			if got := f.modeOf(fakeIn); !tt.restoreErr && got != cookedIn {
				t.Errorf("input mode after restore %#x, want %#x", got, uint32(cookedIn))
			}
		})
	}
}

// TestConsoleRestoredAfterRun runs PTY sessions with the Windows terminal
// over a fake console and checks both modes are back after every way Run
// can end.
func TestConsoleRestoredAfterRun(t *testing.T) {
	srv := newTestServer(t)
	env := newTestEnv(t, srv)
	env.trust(t, srv)
	for _, tc := range []struct {
		cmd        string
		cancel     bool
		wantStatus int
	}{
		{cmd: "exit 0"},
		{cmd: "exit 7", wantStatus: 7},
		{cmd: "drop", wantStatus: 255},
		{cmd: "hang", cancel: true, wantStatus: 255},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			f := newFakeConsole()
			term := &windowsTerminal{con: f, in: fakeIn, out: fakeOut}
			c := dialT(t, env.config(srv))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan int)
			go func() {
				status, _ := c.Run(ctx, RunRequest{Command: tc.cmd, TTY: term})
				done <- status
			}()
			if tc.cancel {
				waitFor(t, srv, "exec:"+tc.cmd)
				cancel()
			}
			status := <-done
			if status != tc.wantStatus {
				t.Errorf("Run status %d, want %d", status, tc.wantStatus)
			}
			if in, out := f.modeOf(fakeIn), f.modeOf(fakeOut); in != cookedIn || out != cookedOut {
				t.Errorf("modes after Run: input %#x, output %#x; want %#x, %#x", in, out, uint32(cookedIn), uint32(cookedOut))
			}
		})
	}
}

func TestConsoleSize(t *testing.T) {
	f := newFakeConsole()
	f.sizes = []Size{{132, 43}}
	term := &windowsTerminal{con: f, in: fakeIn, out: fakeOut}
	if w, h, err := term.Size(); w != 132 || h != 43 || err != nil {
		t.Errorf("Size() = %d, %d, %v; want 132, 43, nil", w, h, err)
	}
	// The size is that of the screen buffer, never of the input handle.
	if !slices.Equal(f.sizeCalls, []windows.Handle{fakeOut}) {
		t.Errorf("size asked of handles %v, want only the output %v", f.sizeCalls, fakeOut)
	}
}

func TestPollSizes(t *testing.T) {
	f := newFakeConsole()
	// The sizes the console reports at start and after each tick; -1 is a
	// failed read.
	f.sizes = []Size{{80, 24}, {80, 24}, {100, 30}, {-1, -1}, {100, 30}, {120, 40}}
	term := &windowsTerminal{con: f, in: fakeIn, out: fakeOut}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tick := make(chan time.Time)
	ch := pollSizes(ctx, term.Size, tick)

	next := func() Size {
		t.Helper()
		s, ok := <-ch
		if !ok {
			t.Fatal("size channel closed early")
		}
		return s
	}
	if s := next(); s != (Size{80, 24}) {
		t.Fatalf("first size %v, want the current one 80x24", s)
	}
	// An unchanged size and a failed read send nothing: had they, the
	// next value received would be that one, not the change.
	tick <- time.Time{} // 80x24 again
	tick <- time.Time{} // 100x30
	if s := next(); s != (Size{100, 30}) {
		t.Fatalf("after a change got %v, want 100x30", s)
	}
	tick <- time.Time{} // read fails
	tick <- time.Time{} // 100x30 again
	tick <- time.Time{} // 120x40
	if s := next(); s != (Size{120, 40}) {
		t.Fatalf("after a change got %v, want 120x40", s)
	}
	cancel()
	for s := range ch {
		t.Errorf("size %v after cancel", s)
	}
}

func TestPollSizesStopsWhileBlocked(t *testing.T) {
	f := newFakeConsole()
	f.sizes = []Size{{80, 24}, {90, 30}}
	term := &windowsTerminal{con: f, in: fakeIn, out: fakeOut}
	ctx, cancel := context.WithCancel(context.Background())
	tick := make(chan time.Time)
	ch := pollSizes(ctx, term.Size, tick)
	// Nobody reads: 80x24 fills the buffer and the send of 90x30 blocks.
	tick <- time.Time{}
	cancel()
	var got []Size
	for s := range ch { // ends only if the poller returned
		got = append(got, s)
	}
	if len(got) > 1 || len(got) == 1 && got[0] != (Size{80, 24}) {
		t.Errorf("sizes after cancel %v, want at most the first 80x24", got)
	}
}

func TestResizeStopsOnCancel(t *testing.T) {
	term := &windowsTerminal{con: newFakeConsole(), in: fakeIn, out: fakeOut}
	ctx, cancel := context.WithCancel(context.Background())
	ch := term.Resize(ctx)
	if s := <-ch; s != (Size{80, 24}) {
		t.Errorf("first size %v, want 80x24", s)
	}
	cancel()
	for range ch { // ends only when the poller has stopped
	}
}
