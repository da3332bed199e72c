//go:build !windows

package main

import (
	"os"
	"syscall"
)

// relayedSignals are the signals the tool catches: before the remote command
// starts they cancel the run; once it runs they are relayed to it.
var relayedSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}
