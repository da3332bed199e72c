//go:build !windows

package sshsession

// Paths of the system-wide files ssh(1) reads; variables so tests can
// isolate themselves from the machine's configuration.
var (
	systemConfigPath      = "/etc/ssh/ssh_config"
	globalKnownHostsFiles = []string{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}
)
