//go:build windows

package pipeagent

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Microsoft/go-winio"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/sys/windows"
)

// Serve serves ag on the named pipe name (`\\.\pipe\…`) until stop is
// called. The first pipe instance exists when Serve returns, so a client may
// dial at once. stop ends the accept loop and closes open connections.
func Serve(name string, ag agent.Agent) (stop func(), err error) {
	name16, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, err
	}
	create := func() (windows.Handle, error) {
		h, err := windows.CreateNamedPipe(name16, windows.PIPE_ACCESS_DUPLEX,
			windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT,
			windows.PIPE_UNLIMITED_INSTANCES, 64<<10, 64<<10, 0, nil)
		if err != nil {
			return 0, fmt.Errorf("create named pipe %s: %w", name, err)
		}
		return h, nil
	}
	h, err := create()
	if err != nil {
		return nil, err
	}
	var (
		stopped atomic.Bool
		mu      sync.Mutex
		open    = map[*os.File]bool{}
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			err := windows.ConnectNamedPipe(h, nil)
			if stopped.Load() {
				windows.CloseHandle(h)
				return
			}
			if err != nil && !errors.Is(err, windows.ERROR_PIPE_CONNECTED) {
				windows.CloseHandle(h)
				return
			}
			// The next instance exists before this one is served, so a
			// client never finds the pipe missing between two connections.
			next, nerr := create()
			f := os.NewFile(uintptr(h), name)
			mu.Lock()
			open[f] = true
			mu.Unlock()
			go func() {
				_ = agent.ServeAgent(ag, f)
				mu.Lock()
				delete(open, f)
				mu.Unlock()
				_ = windows.DisconnectNamedPipe(windows.Handle(f.Fd()))
				f.Close()
			}()
			if nerr != nil {
				return
			}
			h = next
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			stopped.Store(true)
			// ConnectNamedPipe blocks; a connection of our own wakes it.
			timeout := 2 * time.Second
			if c, err := winio.DialPipe(name, &timeout); err == nil {
				c.Close()
			}
			select {
			case <-done:
			case <-time.After(timeout):
			}
			// Disconnecting fails a client's pending read, which ends its
			// ServeAgent and closes its instance.
			mu.Lock()
			for f := range open {
				_ = windows.DisconnectNamedPipe(windows.Handle(f.Fd()))
			}
			mu.Unlock()
		})
	}, nil
}
