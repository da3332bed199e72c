package bed

import (
	"fmt"
	"os"
	"sync"
)

// TB is the part of testing.TB the bed uses. *testing.T and *testing.B satisfy it; programs
// such as the demo use Program.
type TB interface {
	Helper()
	Cleanup(func())
	TempDir() string
	Failed() bool
	Logf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
}

// Program lets a program that is not a test (make demo) use the bed: Fatal prints the message,
// runs the cleanups and exits with status 1; Close runs the cleanups (stopping every sshd the
// bed started and removing its directories) and must be deferred by the caller.
type Program struct {
	// Name prefixes messages and temporary directories.
	Name string

	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

// NewProgram returns a Program named name.
func NewProgram(name string) *Program { return &Program{Name: name} }

// Helper does nothing; it exists for TB.
func (p *Program) Helper() {}

// Cleanup registers f to run at Close, last registered first.
func (p *Program) Cleanup(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanups = append(p.cleanups, f)
}

// TempDir makes a new temporary directory that Close removes.
func (p *Program) TempDir() string {
	dir, err := os.MkdirTemp("", p.Name+"-")
	if err != nil {
		p.Fatalf("temp dir: %v", err)
	}
	p.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// Failed reports whether Fatal was called.
func (p *Program) Failed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}

// Logf prints to stderr.
func (p *Program) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, p.Name+": "+format+"\n", args...)
}

// Fatal prints args, cleans up and exits with status 1.
func (p *Program) Fatal(args ...any) { p.fail(fmt.Sprint(args...)) }

// Fatalf prints the message, cleans up and exits with status 1.
func (p *Program) Fatalf(format string, args ...any) { p.fail(fmt.Sprintf(format, args...)) }

// Skip is Fatal: a program cannot be skipped.
func (p *Program) Skip(args ...any) { p.fail(fmt.Sprint(args...)) }

func (p *Program) fail(msg string) {
	p.mu.Lock()
	p.failed = true
	p.mu.Unlock()
	fmt.Fprintln(os.Stderr, p.Name+": "+msg)
	p.Close()
	os.Exit(1)
}

// Close runs the registered cleanups, last registered first. It may be called more than once.
func (p *Program) Close() {
	for {
		p.mu.Lock()
		n := len(p.cleanups)
		if n == 0 {
			p.mu.Unlock()
			return
		}
		f := p.cleanups[n-1]
		p.cleanups = p.cleanups[:n-1]
		p.mu.Unlock()
		f()
	}
}
