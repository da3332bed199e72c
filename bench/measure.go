//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one timed run of the tool or of ssh.
type proc struct {
	path string
	args []string
	env  []string
	// upload, when > 0, is how many zero bytes are written to stdin (else stdin is empty).
	upload  int64
	timeout time.Duration
}

// result is what one run measured.
type result struct {
	start, end   time.Time // process start and exit
	first, last  time.Time // first and last stdout byte
	out          int64     // stdout bytes
	inStarted    time.Time // when the first stdin chunk was taken
	maxRSSKB     int64     // peak resident set (rusage ru_maxrss, = VmHWM)
	exitCode     int
	stderrTail   string
	stdoutSample []byte // the first bytes of stdout
}

func (r result) wall() time.Duration { return r.end.Sub(r.start) }

// downloadRate is bytes per second between the first and the last stdout byte.
func (r result) downloadRate() float64 {
	d := r.last.Sub(r.first).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(r.out) / d
}

const chunk = 256 << 10

// uploadRate is bytes per second from the moment the first stdin chunk was taken to the
// process's exit (the remote reader has then consumed everything).
func (r result) uploadRate(n int64) float64 {
	d := r.end.Sub(r.inStarted).Seconds()
	if d <= 0 || r.inStarted.IsZero() {
		return 0
	}
	return float64(n-chunk) / d
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = append([]byte(nil), t.b[len(t.b)-4096:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// run starts p, drains its stdout with a large buffer (timing the first and last byte), feeds
// stdin if asked, and waits at most p.timeout before killing it by PID.
func (p proc) run() (result, error) {
	var r result
	timeout := p.timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env
	var stderr tailBuffer
	cmd.Stderr = &stderr
	outR, outW, err := os.Pipe()
	if err != nil {
		return r, err
	}
	cmd.Stdout = outW
	var inW *os.File
	if p.upload > 0 {
		var inR *os.File
		if inR, inW, err = os.Pipe(); err != nil {
			return r, err
		}
		defer inR.Close()
		cmd.Stdin = inR
	}
	r.start = time.Now()
	if err := cmd.Start(); err != nil {
		outR.Close()
		outW.Close()
		return r, err
	}
	outW.Close()
	if inW != nil {
		cmd.Stdin.(*os.File).Close()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer outR.Close()
		buf := make([]byte, 1<<20)
		for {
			n, err := outR.Read(buf)
			if n > 0 {
				now := time.Now()
				if r.out == 0 {
					r.first = now
					r.stdoutSample = append([]byte(nil), buf[:min(n, 256)]...)
				}
				r.last = now
				r.out += int64(n)
			}
			if err != nil {
				return
			}
		}
	}()
	if inW != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer inW.Close()
			buf := make([]byte, chunk)
			for left := p.upload; left > 0; {
				n := min(left, chunk)
				if _, err := inW.Write(buf[:n]); err != nil {
					return
				}
				if r.inStarted.IsZero() {
					r.inStarted = time.Now()
				}
				left -= n
			}
		}()
	}
	timer := time.AfterFunc(timeout, func() { _ = cmd.Process.Kill() })
	werr := cmd.Wait()
	r.end = time.Now()
	timer.Stop()
	wg.Wait()
	r.stderrTail = stderr.String()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSSKB = ru.Maxrss
	}
	r.exitCode = cmd.ProcessState.ExitCode()
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return r, werr
	}
	if r.end.Sub(r.start) >= timeout {
		return r, fmt.Errorf("%s: killed after %v", p.path, timeout)
	}
	return r, nil
}

// mustOK runs p and reports a failure (non-zero exit) as an error with the stderr tail.
func (p proc) mustOK() (result, error) {
	r, err := p.run()
	if err == nil && r.exitCode != 0 {
		err = fmt.Errorf("%s exited with status %d: %s", p.path, r.exitCode, lastLines(r.stderrTail, 3))
	}
	return r, err
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}

// alternate runs a and b runs times each in ABBA order, so that drift in the machine's load
// is shared, and returns the values they measured. A failed run is reported and skipped.
func alternate(name string, runs int, a, b func() (float64, error)) (as, bs []float64) {
	one := func(f func() (float64, error), into *[]float64, side string) {
		v, err := f()
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s (%s): %v\n", name, side, err)
			return
		}
		*into = append(*into, v)
	}
	for i := range runs {
		if i%2 == 0 {
			one(a, &as, "tool")
			one(b, &bs, "OpenSSH")
		} else {
			one(b, &bs, "OpenSSH")
			one(a, &as, "tool")
		}
	}
	return as, bs
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread is "min–max" of v formatted by f.
func spread(v []float64, f func(float64) string) string {
	if len(v) == 0 {
		return "no runs"
	}
	return f(slices.Min(v)) + "–" + f(slices.Max(v))
}

func ms(v float64) string   { return strconv.FormatFloat(v*1000, 'f', 1, 64) + " ms" }
func ms2(v float64) string  { return strconv.FormatFloat(v*1000, 'f', 2, 64) + " ms" }
func mbps(v float64) string { return strconv.FormatFloat(v/1e6, 'f', 0, 64) + " MB/s" }
func mb(kb float64) string  { return strconv.FormatFloat(kb/1024, 'f', 1, 64) + " MiB" }

// row is one line of the table.
type row struct {
	figure, tool, openssh, ratio, goal, met string
	note                                    string
	load                                    string
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "—"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "×"
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func printRow(w io.Writer, r row) {
	fmt.Fprintf(w, "bench: %s: tool %s, OpenSSH %s, ratio %s, goal %s, met %s (load %s)\n",
		r.figure, r.tool, r.openssh, r.ratio, r.goal, r.met, r.load)
	if r.note != "" {
		fmt.Fprintf(w, "bench:   %s\n", r.note)
	}
}

func printTable(w io.Writer, rows []row) {
	var b bytes.Buffer
	fmt.Fprintln(&b, "| figure | tool | OpenSSH | ratio | goal | met | load |")
	fmt.Fprintln(&b, "|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.figure, r.tool, r.openssh, r.ratio, r.goal, r.met, r.load)
	}
	notes := false
	for _, r := range rows {
		if r.note == "" {
			continue
		}
		if !notes {
			fmt.Fprintln(&b)
			notes = true
		}
		fmt.Fprintf(&b, "- %s: %s\n", r.figure, r.note)
	}
	_, _ = w.Write(b.Bytes())
}
