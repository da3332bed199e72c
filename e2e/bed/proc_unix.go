//go:build unix

package bed

import "syscall"

// sshdProcAttr puts sshd in its own process group, away from the terminal's signals.
func sshdProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// kill sends sig to pid.
func kill(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }
