package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/crypto/ssh"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/bed"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/emulator"
)

// stateFile is the emulator fixture every scenario starts from.
const stateFile = "testdata/state/bed.json"

// TestScripts runs every testdata/script/*.txtar scenario against three sshd
// instances (127.0.0.2-4, the fixture's private IPs), the Docker engine and a
// fresh emulator per script.
func TestScripts(t *testing.T) {
	bed.Require(t)
	b := bed.New(t)
	instances := bed.StartInstances(t, b)
	jump := bed.StartSSHD(t, bed.SSHDOptions{Bed: b, Addr: bed.JumpAddr})
	before := bed.Containers(t, "ssh-ecs-run-task")

	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			if err := copyDir(b.HomeDir, home); err != nil {
				return err
			}
			st, err := emulator.LoadState(stateFile)
			if err != nil {
				return err
			}
			emu := emulator.New(st)
			srv := httptest.NewServer(emu)
			env.Defer(srv.Close)
			env.Values["emulator"] = emu
			env.Setenv("HOME", home)
			env.Setenv("SSH_AUTH_SOCK", "")
			env.Setenv("AWS_ENDPOINT_URL", srv.URL)
			env.Setenv("AWS_REGION", "us-east-1")
			env.Setenv("AWS_ACCESS_KEY_ID", "test")
			env.Setenv("AWS_SECRET_ACCESS_KEY", "test")
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			env.Setenv("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config"))
			env.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))
			env.Setenv("JUMP", jump.HostPort())
			env.Setenv("SSHPORT", strconv.Itoa(instances[0].Port))
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"run":          cmdRun,
			"nocontainers": func(ts *testscript.TestScript, neg bool, args []string) { cmdNoContainers(ts, before) },
			"awscalls":     cmdAWSCalls,
			"sshconfig":    cmdSSHConfig,
			"genkey":       cmdGenKey,
			"awsfault":     cmdAWSFault,
		},
	})
}

// cmdRun runs the binary: `run STATUS args...` expects that exit status,
// `! run STATUS args...` any other.
func cmdRun(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: run STATUS [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("run: bad status %q", args[0])
	}
	err = ts.Exec(toolPath(), args[1:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("run: %v", err)
	}
	if neg && got == want {
		ts.Fatalf("exit status %d, want anything else", got)
	}
	if !neg && got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// cmdNoContainers fails when a container started by the tool is still on the engine.
func cmdNoContainers(ts *testscript.TestScript, before []string) {
	t := &tsTB{ts}
	if left := bed.NewContainers(before, bed.Containers(t, "ssh-ecs-run-task")); len(left) > 0 {
		ts.Fatalf("containers left on the engine: %v", left)
	}
}

// mutating are the ECS/EC2 operations that change anything.
var mutating = map[string]bool{"RunTask": true, "StopTask": true, "StartTask": true, "RegisterTaskDefinition": true}

// cmdAWSCalls checks the emulator's call log: `awscalls none` (no call at all)
// or `awscalls read-only` (nothing that changes anything).
func cmdAWSCalls(ts *testscript.TestScript, neg bool, args []string) {
	emu := ts.Value("emulator").(*emulator.Server)
	calls := emu.Calls()
	if len(args) != 1 {
		ts.Fatalf("usage: awscalls none|read-only")
	}
	var ops []string
	for _, c := range calls {
		ops = append(ops, c.Op)
	}
	switch args[0] {
	case "none":
		if len(calls) > 0 {
			ts.Fatalf("AWS calls made: %s", strings.Join(ops, " "))
		}
	case "read-only":
		for _, c := range calls {
			if mutating[c.Op] {
				ts.Fatalf("mutating AWS call %s made (calls: %s)", c.Op, strings.Join(ops, " "))
			}
		}
	default:
		ts.Fatalf("awscalls: unknown check %q", args[0])
	}
	emu.ResetCalls()
}

// cmdAWSFault injects latency into one emulator operation: `awsfault OP 30s`.
func cmdAWSFault(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: awsfault OP LATENCY")
	}
	d, err := time.ParseDuration(args[1])
	ts.Check(err)
	ts.Value("emulator").(*emulator.Server).SetFault(args[0], emulator.Fault{Latency: d})
}

// cmdSSHConfig puts the rules of FILE, with $VARS expanded, in front of
// $HOME/.ssh/config (first value wins).
func cmdSSHConfig(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sshconfig FILE")
	}
	cfg := filepath.Join(ts.Getenv("HOME"), ".ssh", "config")
	old, err := os.ReadFile(cfg)
	ts.Check(err)
	extra := os.Expand(ts.ReadFile(args[0]), ts.Getenv)
	ts.Check(os.WriteFile(cfg, []byte(extra+"\n"+string(old)), 0o600))
}

// cmdGenKey writes a fresh unencrypted ed25519 private key that no server knows.
func cmdGenKey(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: genkey FILE")
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	ts.Check(err)
	block, err := ssh.MarshalPrivateKey(priv, "e2e wrong key")
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), pem.EncodeToMemory(block), 0o600))
}

// copyDir copies a small directory tree (the bed's HOME) keeping file modes.
func copyDir(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
}

// tsTB lets bed helpers report through a testscript.
type tsTB struct{ ts *testscript.TestScript }

func (t *tsTB) Helper()                           {}
func (t *tsTB) Cleanup(f func())                  { t.ts.Defer(f) }
func (t *tsTB) TempDir() string                   { return t.ts.MkAbs(".") }
func (t *tsTB) Failed() bool                      { return false }
func (t *tsTB) Logf(format string, args ...any)   { t.ts.Logf(format, args...) }
func (t *tsTB) Fatal(args ...any)                 { t.ts.Fatalf("%s", fmt.Sprint(args...)) }
func (t *tsTB) Fatalf(format string, args ...any) { t.ts.Fatalf(format, args...) }
func (t *tsTB) Skip(args ...any)                  { t.ts.Fatalf("%s", fmt.Sprint(args...)) }
