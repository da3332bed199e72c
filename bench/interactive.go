//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// echoRemote runs under --init (the task definition has initProcessEnabled; the OpenSSH side
// passes --init) so that cat, not being PID 1, dies of ^C. It makes the container's terminal raw and echoes every byte back through cat; ^C
// (isig stays on) ends it.
const echoRemote = "stty raw -echo isig; echo READY; exec cat"

// echo: single keystrokes through the local PTY, the SSH session, docker's -t attach and cat
// in the container, and back.
func (e *env) echo() []row {
	toolArgs := append([]string{"--cluster", "prod", "--task", "web", "--instance", "prod-web-a"}, e.labelArgs()...)
	toolArgs = append(toolArgs, "--", "sh", "-c", echoRemote)
	tool := exec.Command(e.o.bin, toolArgs...)
	tool.Env = e.toolEnv
	sshArgs := append(e.ssh(e.sshPort(), "-tt"), e.host, e.dockerRun("-it --init", "sh -c '"+echoRemote+"'"))
	var toolAll, sshAll []float64
	measure := func(name string, args []string, env []string, all *[]float64) func() (float64, error) {
		return func() (float64, error) {
			cmd := exec.Command(name, args...)
			cmd.Env = env
			lat, err := echoRun(cmd, e.o.echoBytes)
			*all = append(*all, lat...)
			return median(lat), err
		}
	}
	t, s := alternate("keystroke echo", e.o.runs,
		measure(tool.Path, tool.Args[1:], tool.Env, &toolAll),
		measure("ssh", sshArgs, e.b.Env("TERM=xterm"), &sshAll))
	tm, sm := median(t), median(s)
	return []row{{
		figure:  "keystroke echo through the PTY (real docker -it, cat)",
		tool:    ms2(tm),
		openssh: ms2(sm),
		ratio:   ratio(tm, sm),
		goal:    "≤ 1.1×",
		met:     yesNo(tm > 0 && sm > 0 && tm <= 1.1*sm),
		note: fmt.Sprintf("median of per-run medians over %d bytes per run; all bytes: tool p50 %s p90 %s, OpenSSH p50 %s p90 %s",
			e.o.echoBytes, ms2(median(toolAll)), ms2(percentile(toolAll, 0.9)), ms2(median(sshAll)), ms2(percentile(sshAll, 0.9))),
	}}
}

func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	for i := 1; i < len(s); i++ { // small n: insertion sort
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// echoRun starts cmd on a new PTY, waits for READY, then times n single-byte round trips.
// It ends the remote side with ^C and kills cmd (by PID) if it does not exit.
func echoRun(cmd *exec.Cmd, n int) ([]float64, error) {
	ptm, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		return nil, err
	}
	defer ptm.Close()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	var mu sync.Mutex
	var seen bytes.Buffer
	got := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := ptm.Read(buf)
			if k > 0 {
				mu.Lock()
				seen.Write(buf[:k])
				mu.Unlock()
				select {
				case got <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	// wait until pred holds on the output seen so far, or the deadline.
	wait := func(d time.Duration, pred func([]byte) bool) bool {
		deadline := time.NewTimer(d)
		defer deadline.Stop()
		for {
			mu.Lock()
			ok := pred(seen.Bytes())
			mu.Unlock()
			if ok {
				return true
			}
			select {
			case <-got:
			case <-deadline.C:
				return false
			case <-exited:
				mu.Lock()
				ok := pred(seen.Bytes())
				mu.Unlock()
				return ok
			}
		}
	}
	if !wait(30*time.Second, func(b []byte) bool {
		return bytes.Contains(b, []byte("READY\n")) || bytes.Contains(b, []byte("READY\r\n"))
	}) {
		mu.Lock()
		out := seen.String()
		mu.Unlock()
		return nil, fmt.Errorf("no READY from %s: %q", cmd.Path, lastLines(out, 3))
	}
	mu.Lock()
	base := seen.Len()
	mu.Unlock()
	var lat []float64
	for i := range n + 5 { // five warm-up keystrokes
		c := byte('a' + i%26)
		start := time.Now()
		if _, err := ptm.Write([]byte{c}); err != nil {
			return lat, err
		}
		pos := base
		if !wait(5*time.Second, func(b []byte) bool {
			if k := bytes.IndexByte(b[pos:], c); k >= 0 {
				base = pos + k + 1
				return true
			}
			return false
		}) {
			return lat, fmt.Errorf("keystroke %d not echoed within 5 s", i)
		}
		if i >= 5 {
			lat = append(lat, time.Since(start).Seconds())
		}
	}
	_, _ = ptm.Write([]byte{3}) // ^C: SIGINT to cat, the container ends
	return lat, nil
}

// slowConsumer: the remote command writes as fast as it can while stdout is read at 1 MB/s;
// the tool's RSS must stay flat (the SSH window holds the sender back).
func (e *env) slowConsumer() []row {
	cmd := "head -c " + strconv.FormatInt(e.o.downloadBytes, 10) + " /dev/zero"
	tool := exec.Command(e.o.bin, append(e.pinned(), "--", "sh", "-c", cmd)...)
	tool.Env = e.toolEnv
	ssh := exec.Command("ssh", append(e.ssh(e.shimPort), e.host, e.dockerRun("-i", "sh -c '"+cmd+"'"))...)
	ssh.Env = e.b.Env()
	// Both at once: at 1 MB/s each they hardly load the machine, and it halves the time.
	var wg sync.WaitGroup
	var tr, sr slowResult
	wg.Add(2)
	go func() { defer wg.Done(); tr = slowRun(tool, e.o.slowFor) }()
	go func() { defer wg.Done(); sr = slowRun(ssh, e.o.slowFor) }()
	wg.Wait()
	for _, r := range []slowResult{tr, sr} {
		if r.err != nil {
			fmt.Fprintf(os.Stderr, "bench: slow consumer: %v\n", r.err)
		}
	}
	flat := tr.err == nil && tr.early > 0 && tr.last-tr.early <= 2048
	return []row{{
		figure:  fmt.Sprintf("slow consumer (stdout read at 1 MB/s for %v)", e.o.slowFor),
		tool:    tr.String(),
		openssh: sr.String(),
		ratio:   "—",
		goal:    "RSS flat",
		met:     yesNo(flat),
		note: fmt.Sprintf("VmRSS at 5 s → end, and the peak; bytes read: tool %.1f MB, OpenSSH %.1f MB; flat = growth ≤ 2 MiB after 5 s",
			float64(tr.read)/1e6, float64(sr.read)/1e6),
	}}
}

type slowResult struct {
	early, last, max int64 // VmRSS in kB at 5 s, at the end, and the largest sample
	read             int64
	err              error
}

func (r slowResult) String() string {
	if r.err != nil && r.last == 0 {
		return "failed"
	}
	return fmt.Sprintf("%s → %s (max %s)", mb(float64(r.early)), mb(float64(r.last)), mb(float64(r.max)))
}

// slowRun starts cmd, reads its stdout at 1 MB/s for d while sampling its VmRSS every
// second, then ends it with SIGTERM (SIGKILL after 10 s), by PID.
func slowRun(cmd *exec.Cmd, d time.Duration) slowResult {
	var r slowResult
	out, err := cmd.StdoutPipe()
	if err != nil {
		r.err = err
		return r
	}
	if err := cmd.Start(); err != nil {
		r.err = err
		return r
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		const tick = 50 * time.Millisecond
		const perTick = 1e6 / 20 // 1 MB/s
		buf := make([]byte, perTick)
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				// Drain, so the process is not stuck writing to a full pipe while it ends.
				_, _ = io.Copy(io.Discard, out)
				return
			case <-t.C:
			}
			for got := 0; got < perTick; {
				k, err := out.Read(buf[got:])
				got += k
				r.read += int64(k)
				if err != nil {
					return
				}
			}
		}
	}()
	start := time.Now()
	sample := time.NewTicker(time.Second)
	defer sample.Stop()
loop:
	for time.Since(start) < d {
		select {
		case <-exited:
			r.err = fmt.Errorf("%s exited early: %v", cmd.Path, cmd.ProcessState)
			break loop
		case <-sample.C:
		}
		kb, err := vmRSS(cmd.Process.Pid)
		if err != nil {
			continue
		}
		if r.early == 0 && time.Since(start) >= 5*time.Second {
			r.early = kb
		}
		r.last = kb
		r.max = max(r.max, kb)
	}
	close(stop)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
	<-readDone
	return r
}

func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, errors.New("no VmRSS")
}
