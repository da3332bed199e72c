//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/bed"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/emulator"
)

// tool is a run of the binary with the bed's environment.
func (e *env) tool(args ...string) proc {
	return proc{path: e.o.bin, args: args, env: e.toolEnv}
}

// openssh is a run of ssh against port on prod-web-a with remote as the command.
func (e *env) openssh(port int, remote string, extra ...string) proc {
	args := e.ssh(port, extra...)
	args = append(args, e.host, remote)
	return proc{path: "ssh", args: args, env: e.b.Env()}
}

// labelArgs marks a tool's container for cleanup.
func (e *env) labelArgs() []string { return []string{"--label", "ssh-ecs-bench=" + e.label} }

// dockerRun is the OpenSSH side's remote `docker run` line.
func (e *env) dockerRun(flags, cmd string) string {
	return "docker run --rm " + flags + " --label ssh-ecs-bench=" + e.label + " " + bed.Image + " " + cmd
}

// pinned are the tool's arguments that resolve to prod-web-a through the shimmed sshd.
func (e *env) pinned() []string {
	return append([]string{"--non-interactive", "--cluster", "prod", "--task", "web", "--instance", "prod-web-a",
		"--ssh-p", strconv.Itoa(e.shimPort)}, e.labelArgs()...)
}

func wallOf(p proc) func() (float64, error) {
	return func() (float64, error) {
		r, err := p.mustOK()
		return r.wall().Seconds(), err
	}
}

// oneShot: connect, start a container, run `true`, remove it — the real Docker engine.
func (e *env) oneShot() []row {
	args := append([]string{"--non-interactive", "--cluster", "prod", "--task", "web"}, e.labelArgs()...)
	tool := e.tool(append(args, "--", "true")...)
	ssh := e.openssh(e.sshPort(), e.dockerRun("-i", "true"))
	t, s := alternate("one-shot wall", e.o.runs, wallOf(tool), wallOf(ssh))
	tm, sm := median(t), median(s)
	return []row{{
		figure:  "one-shot wall (`-- true`, real docker)",
		tool:    ms(tm),
		openssh: ms(sm),
		ratio:   ratio(tm, sm),
		goal:    "≤ 1.0×",
		met:     yesNo(tm > 0 && sm > 0 && tm <= sm),
		note: fmt.Sprintf("tool %s, OpenSSH %s (min–max of %d runs); tool: --non-interactive --cluster prod --task web -- true; OpenSSH: ssh host docker run --rm -i IMAGE true",
			spread(t, ms), spread(s, ms), e.o.runs),
	}}
}

// roundTrips: the sequential AWS round trips before dialing, measured as the extra wall time
// when every emulator operation takes o.latency longer.
func (e *env) roundTrips() []row {
	variants := []struct{ name, extra string }{
		{"", ""},
		{"--instance PATTERN", "--instance=prod-web-a"},
		{"--container NAME", "--container=worker"},
	}
	var rows []row
	for _, v := range variants {
		args := []string{"--non-interactive", "--cluster", "prod", "--task", "web", "--ssh-p", strconv.Itoa(e.shimPort)}
		if v.extra != "" {
			args = append(args, v.extra)
		}
		args = append(args, e.labelArgs()...)
		p := e.tool(append(args, "--", "true")...)
		var ops string
		measure := func(lat time.Duration) func() (float64, error) {
			return func() (float64, error) {
				e.emu.SetFault("*", emulator.Fault{Latency: lat})
				defer e.emu.SetFault("*", emulator.Fault{})
				e.emu.ResetCalls()
				r, err := p.mustOK()
				var names []string
				for _, c := range e.emu.Calls() {
					names = append(names, c.Op)
				}
				ops = strings.Join(names, " ")
				return r.wall().Seconds(), err
			}
		}
		with, without := alternate("round trips "+v.name, e.o.runs, measure(e.o.latency), measure(0))
		wm, wo := median(with), median(without)
		rounds := (wm - wo) / e.o.latency.Seconds()
		name := "sequential AWS round trips before dialing"
		if v.name != "" {
			name += ", " + v.name
		}
		rows = append(rows, row{
			figure:  name,
			tool:    strconv.FormatFloat(rounds, 'f', 2, 64),
			openssh: "n/a",
			ratio:   "—",
			goal:    "≤ 3",
			met:     yesNo(len(with) > 0 && len(without) > 0 && rounds <= 3.2),
			note: fmt.Sprintf("wall %s with %v per operation, %s without; calls: %s",
				ms(wm), e.o.latency, ms(wo), ops),
		})
	}
	return rows
}

// download: bytes from the remote command to stdout, through the shimmed sshd.
func (e *env) download() []row {
	n := e.o.downloadBytes
	cmd := "head -c " + strconv.FormatInt(n, 10) + " /dev/zero"
	tool := e.tool(append(e.pinned(), "--", "sh", "-c", cmd)...)
	ssh := e.openssh(e.shimPort, e.dockerRun("-i", "sh -c '"+cmd+"'"))
	var toolRSS, sshRSS []float64
	rate := func(p proc, rss *[]float64) func() (float64, error) {
		return func() (float64, error) {
			r, err := p.mustOK()
			if err == nil && r.out != n {
				err = fmt.Errorf("got %d bytes, want %d", r.out, n)
			}
			if err != nil {
				return 0, err
			}
			*rss = append(*rss, float64(r.maxRSSKB))
			return r.downloadRate(), nil
		}
	}
	t, s := alternate("download", e.o.runs, rate(tool, &toolRSS), rate(ssh, &sshRSS))
	tm, sm := median(t), median(s)
	rows := []row{{
		figure:  fmt.Sprintf("SSH download (%d MB to stdout, shimmed docker)", n/1e6),
		tool:    mbps(tm),
		openssh: mbps(sm),
		ratio:   ratio(tm, sm),
		goal:    "≥ 1.0×",
		met:     yesNo(tm > 0 && sm > 0 && tm >= sm),
		note: fmt.Sprintf("tool %s, OpenSSH %s; ciphers: tool %s, OpenSSH %s; rate = bytes / (last − first stdout byte)",
			spread(t, mbps), spread(s, mbps), e.toolCipher(), e.sshCipher()),
	}}
	if e.o.ciphers {
		gcm := e.openssh(e.shimPort, e.dockerRun("-i", "sh -c '"+cmd+"'"), "-c", "aes128-gcm@openssh.com")
		var dummy []float64
		t2, g := alternate("download aes128-gcm", e.o.runs, rate(tool, &dummy), rate(gcm, &dummy))
		tm2, gm := median(t2), median(g)
		rows = append(rows, row{
			figure:  "SSH download, OpenSSH forced to aes128-gcm (informational)",
			tool:    mbps(tm2),
			openssh: mbps(gm),
			ratio:   ratio(tm2, gm),
			goal:    "—",
			met:     "—",
			note:    fmt.Sprintf("tool %s, OpenSSH -c aes128-gcm@openssh.com %s", spread(t2, mbps), spread(g, mbps)),
		})
	}
	rm, rs := median(toolRSS), median(sshRSS)
	rows = append(rows, row{
		figure:  fmt.Sprintf("peak RSS while streaming %d MB (VmHWM)", n/1e6),
		tool:    mb(rm),
		openssh: mb(rs),
		ratio:   ratio(rm, rs),
		goal:    "≤ 25 MB",
		met:     yesNo(rm > 0 && rm*1024 <= 25e6),
		note:    fmt.Sprintf("ru_maxrss of the process: tool %s, OpenSSH %s", spread(toolRSS, mb), spread(sshRSS, mb)),
	})
	return rows
}

// upload: bytes from stdin into the remote command, through the shimmed sshd.
func (e *env) upload() []row {
	n := e.o.uploadBytes
	tool := e.tool(append(e.pinned(), "--", "sh", "-c", "cat >/dev/null")...)
	tool.upload = n
	ssh := e.openssh(e.shimPort, e.dockerRun("-i", "sh -c 'cat >/dev/null'"))
	ssh.upload = n
	rate := func(p proc) func() (float64, error) {
		return func() (float64, error) {
			r, err := p.mustOK()
			if err != nil {
				return 0, err
			}
			return r.uploadRate(n), nil
		}
	}
	t, s := alternate("upload", e.o.runs, rate(tool), rate(ssh))
	tm, sm := median(t), median(s)
	return []row{{
		figure:  fmt.Sprintf("SSH upload (%d MB from stdin, shimmed docker)", n/1e6),
		tool:    mbps(tm),
		openssh: mbps(sm),
		ratio:   ratio(tm, sm),
		goal:    "≥ 1.2×",
		met:     yesNo(tm > 0 && sm > 0 && tm >= 1.2*sm),
		note:    fmt.Sprintf("tool %s, OpenSSH %s; rate = bytes / (first stdin chunk taken → exit)", spread(t, mbps), spread(s, mbps)),
	}}
}

var cipherRE = regexp.MustCompile(`cipher ([a-z0-9@.-]+)`)

// toolCipher is the cipher the tool negotiates with the shimmed sshd (from --debug).
func (e *env) toolCipher() string {
	out, _ := e.toolOutput(append(append(e.pinned(), "--debug"), "--", "true")...)
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "negotiated") {
			if m := cipherRE.FindStringSubmatch(l); m != nil {
				return m[1]
			}
		}
	}
	return "?"
}

// sshCipher is the cipher ssh negotiates by default (from -v).
func (e *env) sshCipher() string {
	args := append(e.ssh(e.shimPort, "-v"), e.host, "true")
	out, _ := exec.Command("ssh", args...).CombinedOutput()
	re := regexp.MustCompile(`server->client cipher: (\S+)`)
	if m := re.FindSubmatch(out); m != nil {
		return string(m[1])
	}
	return "?"
}

// startup: --help and --version, which must not load the AWS configuration nor touch the
// network, compared with `ssh -V`.
func (e *env) startup() []row {
	const n = 21
	var rows []row
	for _, flag := range []string{"--help", "--version"} {
		e.emu.ResetCalls()
		t, s := alternate("startup "+flag, n, wallOf(e.tool(flag)), wallOf(proc{path: "ssh", args: []string{"-V"}, env: e.b.Env()}))
		calls := len(e.emu.Calls())
		tm, sm := median(t), median(s)
		netNote := ""
		if path, err := exec.LookPath("unshare"); err == nil && os.Geteuid() == 0 {
			// No network namespace: only loopback, down. A --help that needed the network
			// or the AWS endpoint would fail or hang here.
			if err := exec.Command(path, "--net", e.o.bin, flag).Run(); err != nil {
				netNote = "; FAILS without network: " + err.Error()
			} else {
				netNote = "; runs in an empty network namespace (unshare --net)"
			}
		}
		rows = append(rows, row{
			figure:  "startup `" + flag + "`",
			tool:    ms(tm),
			openssh: ms(sm) + " (`ssh -V`)",
			ratio:   ratio(tm, sm),
			goal:    "≤ 20 ms",
			met:     yesNo(tm > 0 && tm <= 0.020 && calls == 0),
			note:    fmt.Sprintf("tool %s over %d runs; AWS calls made: %d%s", spread(t, ms), n, calls, netNote),
		})
	}
	return rows
}

// fargateAddrs are the loopback addresses the emulator's Docker runner gives Fargate tasks
// (apart from those of the e2e tests, which may run at the same time).
var fargateAddrs = []string{"127.0.0.60", "127.0.0.61", "127.0.0.62"}

const fargateImage = "ssh-ecs-run-task/sshd:test"

// fargate measures task RUNNING → remote command started: from the tool's "task …: RUNNING"
// line on stderr to the first byte the remote `echo` writes to stdout. The emulator's Docker
// runner reports RUNNING as soon as `docker run -d` returns, before sshd in the container
// listens, as Fargate may.
func (e *env) fargate() []row {
	r := row{figure: "Fargate: task RUNNING → remote command started", openssh: "n/a", ratio: "—", goal: "≤ 1 s", met: "—"}
	out, _ := e.toolOutput("--launch-type", "FARGATE", "--cluster", "prod", "--service", "ssh-api", "--dry-run", "--", "true")
	if strings.Contains(out, "not available in this build") {
		r.tool = "n/a (mode not built yet)"
		return []row{r}
	}
	if err := exec.Command("docker", "image", "inspect", fargateImage).Run(); err != nil {
		r.tool = "n/a (image " + fargateImage + " missing: bash e2e/build-sshd-image.sh)"
		return []row{r}
	}
	st, err := emulator.ParseState(e.stateRaw)
	if err != nil {
		r.tool = "failed: " + err.Error()
		return []row{r}
	}
	emu := emulator.New(st)
	runner, err := emulator.NewDockerRunner(fargateAddrs)
	must(e.prog, err)
	emu.SetRunner(runner)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(e.prog, err)
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	defer func() {
		_ = srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = emu.Close(ctx) // stops the tasks still running, by their containers
	}()
	home := e.prog.TempDir()
	envv := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "USER=bench",
		"AWS_ENDPOINT_URL=http://" + l.Addr().String(), "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "aws-credentials"),
	}
	args := []string{"--launch-type", "FARGATE", "--cluster", "prod", "--service", "ssh-api", "--non-interactive", "--", "echo", "started"}
	var v []float64
	for i := range e.o.runs {
		d, err := fargateOnce(e.o.bin, args, envv)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: fargate run %d: %v\n", i+1, err)
			continue
		}
		v = append(v, d.Seconds())
	}
	if len(v) == 0 {
		r.tool = "failed"
		return []row{r}
	}
	m := median(v)
	r.tool = ms(m)
	r.met = yesNo(m <= 1)
	r.note = fmt.Sprintf("%s over %d runs (--service ssh-api, real Docker sshd task on 127.0.0.6x, no OpenSSH equivalent)", spread(v, ms), len(v))
	return []row{r}
}

var runningLine = regexp.MustCompile(`task \S+: RUNNING`)

// fargateOnce runs the tool once and returns the time from its RUNNING line to the first
// stdout byte.
func fargateOnce(bin string, args, envv []string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = envv
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	var running, first time.Time
	var tail tailBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if running.IsZero() && runningLine.MatchString(sc.Text()) {
				running = time.Now()
			}
			fmt.Fprintln(&tail, sc.Text())
		}
	}()
	buf := make([]byte, 64)
	if n, _ := stdout.Read(buf); n > 0 {
		first = time.Now()
	}
	_, _ = io.Copy(io.Discard, stdout)
	<-done
	werr := cmd.Wait()
	switch {
	case werr != nil:
		return 0, fmt.Errorf("%v: %s", werr, lastLines(tail.String(), 3))
	case running.IsZero() || first.IsZero():
		return 0, fmt.Errorf("no RUNNING line or no output: %s", lastLines(tail.String(), 3))
	}
	return first.Sub(running), nil
}

// goBenchCmd is how the Go benchmarks of the pure cores are run.
var goBenchCmd = []string{"go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1", "./shellquote", "./dockercmd", "./cliargs"}

// goBench runs the Go benchmarks of the pure cores and returns their output.
func (e *env) goBench() string {
	fmt.Fprintln(os.Stderr, "bench: "+strings.Join(goBenchCmd, " "))
	cmd := exec.Command(goBenchCmd[0], goBenchCmd[1:]...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	timer := time.AfterFunc(5*time.Minute, func() {
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench: go test -bench:", err)
	}
	return out.String()
}
