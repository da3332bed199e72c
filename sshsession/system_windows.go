//go:build windows

package sshsession

import (
	"os"
	"path/filepath"
)

// Paths of the system-wide files Win32-OpenSSH reads; variables so tests can
// isolate themselves from the machine's configuration.
var (
	systemConfigPath      = filepath.Join(programData(), "ssh", "ssh_config")
	globalKnownHostsFiles = []string{filepath.Join(programData(), "ssh", "ssh_known_hosts")}
)

func programData() string {
	if d := os.Getenv("ProgramData"); d != "" {
		return d
	}
	return `C:\ProgramData`
}
