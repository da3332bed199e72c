//go:build windows

package sshsession

import (
	"net"
	"os"
	"strings"
	"time"

	"github.com/Microsoft/go-winio"
)

// openSSHAgentPipe is the fixed pipe of the Windows OpenSSH agent service
// (also served by 1Password and other agents that replace it); a variable so
// tests can stand in for it.
var openSSHAgentPipe = `\\.\pipe\openssh-ssh-agent`

// defaultAgentPath is SSH_AUTH_SOCK when set, else the OpenSSH agent pipe.
func defaultAgentPath() string {
	if s := os.Getenv("SSH_AUTH_SOCK"); s != "" {
		return s
	}
	return openSSHAgentPipe
}

// dialAgent connects to a named pipe (`\\.\pipe\…` or `//./pipe/…`) with
// go-winio, or to an AF_UNIX socket path otherwise.
func dialAgent(path string) (net.Conn, error) {
	timeout := 5 * time.Second
	if p := strings.ReplaceAll(path, "/", `\`); strings.HasPrefix(strings.ToLower(p), `\\.\pipe\`) {
		return winio.DialPipe(p, &timeout)
	}
	return net.DialTimeout("unix", path, timeout)
}
