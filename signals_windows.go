package main

import (
	"os"
	"syscall"
)

// relayedSignals are the signals the tool catches. On Windows Ctrl-C and
// Ctrl-Break arrive as os.Interrupt, console close as SIGTERM.
var relayedSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}
