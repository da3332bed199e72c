package main

import (
	"os"
	"syscall"
)

// relayedSignals are the signals the tool catches. On Windows Ctrl-C and
// Ctrl-Break arrive as os.Interrupt, console close as SIGTERM.
var relayedSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// signalName names a signal the way Windows users meet it.
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "Ctrl-C"
	case syscall.SIGTERM:
		return "console close"
	}
	return sig.String()
}
