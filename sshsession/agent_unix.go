//go:build !windows

package sshsession

import (
	"net"
	"os"
	"time"
)

// defaultAgentPath is where the agent listens when nothing else is set.
func defaultAgentPath() string { return os.Getenv("SSH_AUTH_SOCK") }

// dialAgent connects to the agent's unix socket.
func dialAgent(path string) (net.Conn, error) {
	return net.DialTimeout("unix", path, 5*time.Second)
}
