//go:build !unix

package bed

import (
	"os"
	"syscall"
)

// The bed runs sshd only on Unix; these keep the package (and the e2e tests importing it)
// compiling, e.g. for GOOS=windows go vet, where Require skips every test.

func sshdProcAttr() *syscall.SysProcAttr { return nil }

func kill(pid int, _ syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
