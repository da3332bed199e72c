//go:build linux

package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/e2e/bed"
)

// prodA are the arguments that run on instance prod-web-a (127.0.0.2).
var prodA = []string{"--task", "web", "--cluster", "prod", "--instance", "0"}

func with(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}

// TestSSHJumpHost reaches the instance through a jump host given with --ssh-J.
// The jump host's port and user come from ssh_config (its own Host block), its
// key from known_hosts; its sshd log shows the forwarding to the instance.
func TestSSHJumpHost(t *testing.T) {
	w := newWorld(t, "127.0.0.2")
	ins := w.instances[0]
	jump := bed.StartSSHD(t, bed.SSHDOptions{Bed: w.bed, Addr: bed.JumpAddr,
		// DEBUG1 logs each direct-tcpip request with its target.
		ExtraConfig: []string{"LogLevel DEBUG1"}})
	if jump.Port == ins.Port {
		t.Fatalf("jump host got the instances' port %d; the test needs its own Host block to matter", ins.Port)
	}
	w.bed.AddKnownHosts(w.bed.KnownHostsLine(jump, "ed25519"))
	// First value wins in ssh_config: the jump host's block comes before the
	// instances' "Host 127.0.0.*".
	w.bed.WriteSSHConfig(fmt.Sprintf(`Host %s
    Port %d
    User %s
    IdentityFile ~/.ssh/id_ed25519
    UserKnownHostsFile ~/.ssh/known_hosts
    StrictHostKeyChecking yes

%s`, bed.JumpAddr, jump.Port, bed.UserDocker, bed.InstancesConfig(ins.Port)))

	r := w.run(nil, with(prodA, "--ssh-J", bed.JumpAddr, "--", "echo", "via-jump")...)
	if r.code != 0 || r.stdout != "via-jump\n" {
		t.Fatalf("exit %d, stdout %q; want 0 and \"via-jump\\n\"; stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if jump.Accepted() != 1 || ins.Accepted() != 1 {
		t.Errorf("logins accepted: jump host %d, instance %d; want 1 and 1", jump.Accepted(), ins.Accepted())
	}
	fwd := regexp.MustCompile(`server_request_direct_tcpip: originator .* target 127\.0\.0\.2 port ` + strconv.Itoa(ins.Port))
	if !fwd.MatchString(jump.Log()) {
		t.Errorf("jump host log has no forwarding to 127.0.0.2:%d:\n%s", ins.Port, jump.Log())
	}
}

// TestSSHChangedHostKey: known_hosts holds another key for the instance. The
// tool refuses with 255 and a message naming the host and saying the key
// changed, whatever StrictHostKeyChecking says, and starts nothing.
func TestSSHChangedHostKey(t *testing.T) {
	w := newWorld(t, "127.0.0.2")
	ins := w.instances[0]
	w.bed.SetKnownHosts()
	w.bed.ChangedKeyHost(ins, "ed25519")
	for _, shkc := range []string{"", "yes", "accept-new", "no", "ask"} {
		args := prodA
		if shkc != "" {
			args = with(args, "--ssh-o", "StrictHostKeyChecking="+shkc)
		}
		r := w.run(nil, with(args, "--", "echo", "should-not-run")...)
		if r.code != 255 {
			t.Errorf("StrictHostKeyChecking=%q: exit %d, want 255", shkc, r.code)
		}
		if r.stdout != "" {
			t.Errorf("StrictHostKeyChecking=%q: stdout %q, want nothing", shkc, r.stdout)
		}
		if !strings.Contains(r.stderr, "127.0.0.2") || !regexp.MustCompile(`(?i)changed`).MatchString(r.stderr) {
			t.Errorf("StrictHostKeyChecking=%q: stderr does not name 127.0.0.2 and say the key changed:\n%s", shkc, r.stderr)
		}
	}
	if n := ins.Accepted(); n != 0 {
		t.Errorf("sshd accepted %d logins despite the changed key", n)
	}
	if ids := w.containers(); len(ids) != 0 {
		t.Errorf("containers started: %v", ids)
	}
}

// TestSSHKeepaliveLostConnection freezes the instance's sshd processes of the
// session (SIGSTOP) while `sleep 60` runs: with ServerAliveInterval=1 and
// ServerAliveCountMax=2 the tool must notice within seconds and exit 255 with
// a message about the lost connection.
func TestSSHKeepaliveLostConnection(t *testing.T) {
	w := newWorld(t, "127.0.0.2")
	ins := w.instances[0]
	cmd := w.command(with(prodA, "--ssh-o", "ServerAliveInterval=1", "--ssh-o", "ServerAliveCountMax=2", "--", "sleep", "60")...)
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinW.Close()
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stderr = stdinR, stderrW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdinR.Close()
	stderrW.Close()
	stderr := newOutputBuffer(stderrR)
	defer stderrR.Close()
	stderr.expect(t, runningRE, 60*time.Second)
	id := w.waitContainer(60 * time.Second)
	if !w.waitProcess(id, "sleep 60", true, 30*time.Second) {
		t.Fatal("sleep 60 did not start")
	}

	var stopped []int
	for pid, comm := range descendants(ins.PID) {
		if comm == "sshd" {
			stopped = append(stopped, pid)
		}
	}
	if len(stopped) == 0 {
		t.Fatalf("no per-connection sshd process under sshd pid %d", ins.PID)
	}
	t.Cleanup(func() {
		for _, pid := range stopped {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
		// The frozen host could not be told to stop the container, and
		// sleep 60 would outlive the test: remove it.
		for _, c := range w.containers() {
			t.Logf("removing container %s of the lost session", c)
			bed.Docker(t, "rm", "-f", c)
		}
	})
	for _, pid := range stopped {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatalf("SIGSTOP sshd %d: %v", pid, err)
		}
	}
	t.Logf("stopped sshd processes %v", stopped)

	code := waitCmd(t, cmd, 30*time.Second)
	stderr.waitClosed(10 * time.Second)
	t.Logf("exit %d; stderr:\n%s", code, stderr.String())
	if code != 255 {
		t.Errorf("exit %d, want 255 for a lost connection", code)
	}
	if !regexp.MustCompile(`(?im)^ssh-ecs-run-task: .*(lost|keepalive|alive|not respond|no response|timeout|timed out)`).MatchString(stderr.String()) {
		t.Errorf("no error line about the lost connection:\n%s", stderr.String())
	}
}

// TestSSHConnectTimeout dials a listener that accepts TCP connections and
// never says a word: with ConnectTimeout=2 the tool gives up with 255 and a
// timeout message instead of hanging.
func TestSSHConnectTimeout(t *testing.T) {
	w := newWorld(t, "127.0.0.3")
	silentPort, accepted := silentListener(t, "127.0.0.2:0")
	port := strconv.Itoa(silentPort)

	cmd := w.command(with(prodA, "--ssh-p", port, "--ssh-o", "ConnectTimeout=2", "--", "true")...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := waitCmd(t, cmd, 30*time.Second)
	t.Logf("exit %d; stderr:\n%s", code, stderr.String())
	if code != 255 {
		t.Errorf("exit %d, want 255", code)
	}
	if !regexp.MustCompile(`(?i)time(d)? ?out`).MatchString(stderr.String()) {
		t.Errorf("stderr does not say the connection timed out:\n%s", stderr.String())
	}
	if accepted() == 0 {
		t.Errorf("the silent listener on 127.0.0.2:%s saw no connection", port)
	}
}

// TestSSHStdinBinaryRoundTrip pipes 1 MiB of random bytes through `cat` in the
// container, without a PTY: what comes back is byte for byte what went in.
func TestSSHStdinBinaryRoundTrip(t *testing.T) {
	w := newWorld(t, "127.0.0.2")
	in := make([]byte, 1<<20)
	if _, err := rand.Read(in); err != nil {
		t.Fatal(err)
	}
	r := w.run(bytes.NewReader(in), with(prodA, "--", "cat")...)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0", r.code)
	}
	if got, want := sha256.Sum256([]byte(r.stdout)), sha256.Sum256(in); got != want {
		t.Errorf("stdout: %d bytes, sha256 %x; want %d bytes, sha256 %x", len(r.stdout), got, len(in), want)
	}
}
