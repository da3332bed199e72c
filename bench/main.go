//go:build linux

// Command bench measures ssh-ecs-run-task side by side with the OpenSSH client on the e2e bed
// (the ECS/EC2 emulator, real OpenSSH sshd on 127.0.0.N, the real Docker engine) and prints
// the table of docs/PERFORMANCE.md: figure | tool | OpenSSH | ratio | goal | met.
//
// Runs of the tool and of its OpenSSH equivalent alternate (ABBA), and each figure is the
// median of -runs runs (at least 5). Everything is bounded in count and time, listens on and
// dials loopback addresses only, and everything the bench starts (sshd by PID, containers by
// label) is stopped when it ends. It is run by `make bench`, never by `make test`: the figures
// depend on the machine and its load and are not pass/fail tests.
//
// The transport figures (download, upload, RSS, slow consumer) use an sshd whose `docker` is
// a shim that drops the `run` options and execs the command itself, so that docker's attach
// path (about 30 MB/s) does not hide the SSH client's throughput.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// figureKeys are the figures in table order; -only selects some of them.
var figureKeys = []string{"oneshot", "rtt", "download", "upload", "slow", "startup", "echo", "fargate", "gobench"}

type options struct {
	runs          int
	bin           string
	state         string
	only          map[string]bool
	downloadBytes int64
	uploadBytes   int64
	slowFor       time.Duration
	echoBytes     int
	latency       time.Duration
	ciphers       bool
	serve         bool
}

func main() {
	var o options
	var only string
	flag.IntVar(&o.runs, "runs", 5, "runs of each side per figure (medians; at least 5 for the record)")
	flag.StringVar(&o.bin, "bin", "bin/ssh-ecs-run-task", "the binary to measure (make build)")
	flag.StringVar(&o.state, "state", "e2e/testdata/state/bed.json", "emulator fixture")
	flag.StringVar(&only, "only", "", "comma-separated figures to run, of: "+strings.Join(figureKeys, ","))
	flag.Int64Var(&o.downloadBytes, "download-bytes", 500_000_000, "bytes for the download and RSS figures")
	flag.Int64Var(&o.uploadBytes, "upload-bytes", 300_000_000, "bytes for the upload figure")
	flag.DurationVar(&o.slowFor, "slow-for", 30*time.Second, "how long the slow consumer reads at 1 MB/s")
	flag.IntVar(&o.echoBytes, "echo-bytes", 100, "keystrokes timed per echo run")
	flag.DurationVar(&o.latency, "latency", 300*time.Millisecond, "latency injected on every emulator operation for the round-trip figure")
	flag.BoolVar(&o.ciphers, "ciphers", false, "also measure download with OpenSSH forced to aes128-gcm (informational)")
	flag.BoolVar(&o.serve, "serve", false, "set up the bed, print the environment and commands to use it by hand (profiling), and wait for a signal")
	flag.Parse()
	if o.runs < 1 || o.runs > 50 {
		fmt.Fprintln(os.Stderr, "bench: -runs must be between 1 and 50")
		os.Exit(2)
	}
	o.only = map[string]bool{}
	for _, k := range strings.Split(only, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if !slices.Contains(figureKeys, k) {
			fmt.Fprintf(os.Stderr, "bench: unknown figure %q (want %s)\n", k, strings.Join(figureKeys, ","))
			os.Exit(2)
		}
		o.only[k] = true
	}
	if len(o.only) == 0 {
		for _, k := range figureKeys {
			o.only[k] = true
		}
	}
	abs, err := filepath.Abs(o.bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	o.bin = abs
	if _, err := os.Stat(o.bin); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v (run make build, or make bench)\n", err)
		os.Exit(2)
	}
	os.Exit(run(o))
}

func run(o options) int {
	started := time.Now()
	fmt.Printf("# ssh-ecs-run-task bench, %s\n", started.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Printf("command:  %s\n", commandLine())
	fmt.Printf("machine:  %s\n", machine())
	fmt.Printf("software: %s; %s; %s\n", runtime.Version(), sshVersion(), dockerVersion())
	fmt.Printf("load:     %s (before)\n", load())
	fmt.Printf("runs:     %d per side, alternating, medians\n\n", o.runs)

	e := setup(o)
	defer e.close()
	if o.serve {
		e.serveByHand()
		return 0
	}

	var rows []row
	var gobench string
	for _, k := range figureKeys {
		if !o.only[k] {
			continue
		}
		loadBefore := load()
		var rs []row
		switch k {
		case "oneshot":
			rs = e.oneShot()
		case "rtt":
			rs = e.roundTrips()
		case "download":
			rs = e.download()
		case "upload":
			rs = e.upload()
		case "slow":
			rs = e.slowConsumer()
		case "startup":
			rs = e.startup()
		case "echo":
			rs = e.echo()
		case "fargate":
			rs = e.fargate()
		case "gobench":
			gobench = e.goBench()
			continue
		}
		for i := range rs {
			rs[i].load = loadBefore
			printRow(os.Stderr, rs[i])
		}
		rows = append(rows, rs...)
	}

	fmt.Println()
	printTable(os.Stdout, rows)
	if gobench != "" {
		fmt.Printf("\n%s:\n\n```\n%s```\n", strings.Join(goBenchCmd, " "), gobench)
	}
	fmt.Printf("\nload: %s (after); total %v\n", load(), time.Since(started).Round(time.Second))
	return 0
}

func commandLine() string {
	args := []string{"go", "run", "./bench"}
	args = append(args, os.Args[1:]...)
	return strings.Join(args, " ")
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			mem = ", " + f[1] + " kB RAM"
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%s, %d CPUs%s, Linux %s, AES-NI %v", model, runtime.NumCPU(), mem, strings.TrimSpace(string(kernel)), hasAES())
}

func hasAES() bool {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Contains(string(b), " aes ")
}

func sshVersion() string {
	out, _ := exec.Command("ssh", "-V").CombinedOutput()
	return strings.TrimSpace(string(out))
}

func dockerVersion() string {
	out, err := exec.Command("docker", "version", "--format", "Docker {{.Server.Version}}").Output()
	if err != nil {
		return "Docker ?"
	}
	return strings.TrimSpace(string(out))
}

// load is the load average, as uptime prints it.
func load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
