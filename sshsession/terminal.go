package sshsession

import "context"

// Size is a terminal size in character cells.
type Size struct {
	Width, Height int
}

// Terminal is the local terminal a PTY session mirrors.
type Terminal interface {
	// MakeRaw puts the terminal in raw mode; restore undoes it.
	MakeRaw() (restore func() error, err error)
	// Size returns the current width and height.
	Size() (w, h int, err error)
	// Resize delivers the terminal's size whenever it may have changed,
	// starting with the current one, until ctx is done.
	Resize(ctx context.Context) <-chan Size
}
