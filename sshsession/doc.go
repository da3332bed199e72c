// Package sshsession runs one command on a remote host over an in-process SSH
// connection (golang.org/x/crypto/ssh), the way OpenSSH's ssh(1) would: it
// reads ssh_config and the --ssh-* pass-through flags, verifies host keys
// against known_hosts, authenticates with the agent and key files, follows
// ProxyJump chains, keeps the connection alive, and relays the terminal,
// window size, signals and the remote exit status.
//
// The package knows nothing about ECS or Docker and must not import the AWS
// SDK: it is given a host name and an already quoted remote command.
package sshsession

// Error is an error with a hint line the user can act on (for example how to
// accept a new host key). The caller prints Err and, when non-empty, Hint.
type Error struct {
	Err  error
	Hint string
}

// Error returns the message without the hint.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
