//go:build unix

package remotecmd

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
)

var hostile = []dockercmd.EnvVar{
	{Name: "PLAIN", Value: "web_staging"},
	{Name: "QUOTES", Value: `it's "quoted"`},
	{Name: "DOLLAR", Value: "$(touch /tmp/pwned) $HOME `id`"},
	{Name: "SPACES", Value: "  a  b  "},
	{Name: "UNICODE", Value: "héllo ✓ 日本"},
	{Name: "EMPTY", Value: ""},
	{Name: "HASH", Value: "#not a comment"},
	{Name: "NEWLINE", Value: "line1\nline2\n"},
	{Name: "CR", Value: "a\rb"},
	{Name: "dotted.name", Value: "fine in an env-file"},
}

func TestSplitEnv(t *testing.T) {
	got, err := SplitEnv(hostile)
	if err != nil {
		t.Fatal(err)
	}
	var file, names []string
	for _, v := range got.File {
		file = append(file, v.Name)
	}
	if diff := cmp.Diff(file, []string{"PLAIN", "QUOTES", "DOLLAR", "SPACES", "UNICODE", "EMPTY", "HASH", "dotted.name"}); diff != "" {
		t.Errorf("env-file names (-got +want):\n%s", diff)
	}
	names = got.NameList()
	if diff := cmp.Diff(names, []string{"NEWLINE", "CR"}); diff != "" {
		t.Errorf("environment names (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(got.DockerArgs(), []string{"--env-file", "@ENVDIR@/env", "-e", "NEWLINE", "-e", "CR"}); diff != "" {
		t.Errorf("docker args (-got +want):\n%s", diff)
	}

	long := strings.Repeat("x", 70<<10)
	got, err = SplitEnv([]dockercmd.EnvVar{{Name: "LONG", Value: long}, {Name: "SHORT", Value: "s"}})
	if err != nil || len(got.Names) != 1 || got.Names[0].Name != "LONG" || len(got.File) != 1 {
		t.Errorf("a 70 KiB value: got %+v names, err %v; want it through the environment", got.NameList(), err)
	}
	_, err = SplitEnv([]dockercmd.EnvVar{{Name: "HUGE", Value: strings.Repeat("x", 1<<20)}})
	if err == nil || !strings.Contains(err.Error(), `"HUGE"`) || strings.Contains(err.Error(), "xxx") {
		t.Errorf("a 1 MiB value: err = %v, want one naming it, without the value", err)
	}

	_, err = SplitEnv([]dockercmd.EnvVar{{Name: "bad.name", Value: "two\nlines"}})
	if err == nil || !strings.Contains(err.Error(), `"bad.name"`) {
		t.Errorf("multi-line value under a non-shell name: err = %v, want one naming it", err)
	}
}

// host runs command the way sshd would (the login shell's -c) under an
// outer shell that stands for the session's sshd process. It returns the
// outer process, already started.
func host(t *testing.T, command string, stdout *strings.Builder) *exec.Cmd {
	t.Helper()
	outer := exec.Command("sh", "-c", `sh -c "$1" & wait $!`, "sshd", command)
	if stdout != nil {
		outer.Stdout = stdout
	}
	outer.Stderr = os.Stderr
	outer.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := outer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-outer.Process.Pid, syscall.SIGKILL) })
	return outer
}

// setup runs SetupCommand with the payload as its input, as the first SSH
// session does, and returns the directory it printed.
func setup(t *testing.T, env Env) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", SetupCommand)
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	cmd.Stdin = strings.NewReader(string(env.Payload()))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	info, err := os.Stat(filepath.Join(dir, "vars"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("payload file mode %v, want 0600", info.Mode().Perm())
	}
	return dir
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// hostShells are the /bin/sh a container host may have: dash (Debian,
// Ubuntu), bash (Amazon Linux, RHEL) and busybox (minimal images). Each test
// that runs the wrapper runs it under each one found, as `sh` on PATH.
var hostShells = []string{"/bin/dash", "/bin/bash", "/bin/busybox"}

func eachShell(t *testing.T, f func(t *testing.T)) {
	for _, sh := range hostShells {
		t.Run(filepath.Base(sh), func(t *testing.T) {
			if _, err := os.Stat(sh); err != nil {
				t.Skipf("%s not installed", sh)
			}
			dir := t.TempDir()
			if err := os.Symlink(sh, filepath.Join(dir, "sh")); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
			f(t)
		})
	}
}

func TestEnvRoundTrip(t *testing.T) { eachShell(t, testEnvRoundTrip) }

func testEnvRoundTrip(t *testing.T) {
	env, err := SplitEnv(hostile)
	if err != nil {
		t.Fatal(err)
	}
	dir := setup(t, env)
	// A stand-in for docker: print the env-file it is given, then the
	// variables that come through its environment.
	docker := []string{"sh", "-c", `cat "$1"; printf '[%s]' "$NEWLINE" "$CR"`, "docker", "--env-file-path"}
	docker[len(docker)-1] = EnvFile
	var out strings.Builder
	outer := host(t, Command(docker, dir, []string{"true"}), &out)
	if err := outer.Wait(); err != nil {
		t.Fatalf("wrapper: %v", err)
	}
	want := "PLAIN=web_staging\nQUOTES=it's \"quoted\"\nDOLLAR=$(touch /tmp/pwned) $HOME `id`\nSPACES=  a  b  \n" +
		"UNICODE=héllo ✓ 日本\nEMPTY=\nHASH=#not a comment\ndotted.name=fine in an env-file\n" +
		"[line1\nline2\n][a\rb]"
	if diff := cmp.Diff(out.String(), want); diff != "" {
		t.Errorf("what docker read (-got +want):\n%s", diff)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("environment directory %s still there (err %v)", dir, err)
	}
}

func TestExitStatus(t *testing.T) { eachShell(t, testExitStatus) }

func testExitStatus(t *testing.T) {
	for _, tt := range []struct {
		script      string
		want        int
		wantCleanup bool
	}{
		{"exit 0", 0, false},
		{"exit 3", 3, false},
		{"exit 127", 127, false},
		{"kill -TERM $$", 143, true},
	} {
		t.Run(tt.script, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "removed")
			var out strings.Builder
			outer := host(t, Command([]string{"sh", "-c", tt.script}, "", []string{"touch", marker}), &out)
			if got := exitCode(outer.Wait()); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
			_, err := os.Stat(marker)
			if got := err == nil; got != tt.wantCleanup {
				t.Errorf("cleanup ran: %v, want %v", got, tt.wantCleanup)
			}
		})
	}
}

// TestSessionGoneRemovesContainer kills the process that stands for the
// session's sshd: the watcher must run the cleanup command by itself.
func TestSessionGoneRemovesContainer(t *testing.T) { eachShell(t, testSessionGone) }

func testSessionGone(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "removed")
	outer := host(t, Command([]string{"sleep", "30"}, "", []string{"touch", marker}), nil)
	time.Sleep(200 * time.Millisecond) // let the wrapper start its watcher
	if err := outer.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = outer.Wait()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(marker); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the cleanup command did not run after the session's process was killed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestCommandKeepsValuesOffTheCommandLine(t *testing.T) {
	env, err := SplitEnv(hostile)
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string{"docker", "run"}, env.DockerArgs()...)
	cmd := Command(append(argv, "image"), "/tmp/d", []string{"docker", "rm", "-f", "x"})
	for _, v := range hostile {
		if len(v.Value) > 3 && strings.Contains(cmd, v.Value) {
			t.Errorf("value of %s appears in the remote command line", v.Name)
		}
	}
}
