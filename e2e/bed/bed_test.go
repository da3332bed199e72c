package bed

import (
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// These tests prove the bed itself with the real OpenSSH client: if they fail, the product's
// e2e tests cannot be trusted either.

func TestLoopbackAddressesBind(t *testing.T) {
	// Linux routes all of 127.0.0.0/8 to lo without configuration; the instances rely on it.
	for _, a := range append(DefaultAddrs, JumpAddr) {
		l, err := net.Listen("tcp", net.JoinHostPort(a, "0"))
		if err != nil {
			t.Fatalf("listen on %s: %v", a, err)
		}
		l.Close()
		if p := PickPort(a); p < 10000 {
			t.Errorf("PickPort(%s) = %d, want a high port", a, p)
		}
	}
}

func TestInstancesEchoAndAccepted(t *testing.T) {
	Require(t)
	b := New(t)
	ins := StartInstances(t, b)
	if len(ins) != 3 {
		t.Fatalf("got %d instances, want 3", len(ins))
	}
	for _, s := range ins {
		if s.Port != ins[0].Port {
			t.Fatalf("instances on ports %d and %d, want one port", ins[0].Port, s.Port)
		}
	}
	for i, s := range ins {
		out, err := b.OpenSSH(s.Addr, "echo", "ok")
		if err != nil || strings.TrimSpace(out) != "ok" {
			t.Fatalf("ssh %s echo ok = %q, %v", s.Addr, out, err)
		}
		// Only the instance dialled has seen a login: that is how tests tell instances apart.
		for j, o := range ins {
			want := 0
			if j <= i {
				want = 1
			}
			if got := waitAccepted(o, want); got != want {
				t.Errorf("after ssh to %s: %s accepted %d logins, want %d", s.Addr, o.Addr, got, want)
			}
		}
	}
	if got := ins[0].AcceptedUser(UserDocker); got != 1 {
		t.Errorf("AcceptedUser(%s) = %d, want 1", UserDocker, got)
	}
}

// waitAccepted gives sshd a moment to flush its log line.
func waitAccepted(s *SSHD, want int) int {
	deadline := time.Now().Add(2 * time.Second)
	for {
		got := s.Accepted()
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDockerAsEcsrun(t *testing.T) {
	Require(t)
	b := New(t)
	ins := StartInstances(t, b)
	label := fmt.Sprintf("ssh-ecs-e2e-bed=%d", time.Now().UnixNano())
	out, err := b.OpenSSH(ins[1].Addr, "docker", "run", "--rm", "--label", label, Image, "sh", "-c", "'id -u; cat /data/hello.txt 2>/dev/null; echo ok'")
	if err != nil || !strings.HasSuffix(strings.TrimSpace(out), "ok") {
		t.Fatalf("docker run through ssh = %q, %v", out, err)
	}
	if !WaitNoContainers(t, strings.SplitN(label, "=", 2)[0], 10*time.Second) {
		t.Errorf("container with label %s left behind: %v", label, Containers(t, label))
	}
	// The volume fixtures of setup.sh.
	out, err = b.OpenSSH(ins[1].Addr, "docker", "run", "--rm", "-v", HostDir+"/ro:/data:ro", Image, "cat", "/data/hello.txt")
	if err != nil || strings.TrimSpace(out) != "read-only data" {
		t.Fatalf("read-only volume = %q, %v", out, err)
	}
}

func TestSudoDockerAsEcssudo(t *testing.T) {
	Require(t)
	b := New(t)
	ins := StartInstances(t, b)
	out, err := b.OpenSSH("-l", UserSudo, ins[0].Addr, "sudo", "-n", "docker", "version", "--format", "'{{.Server.Version}}'")
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("sudo -n docker version as %s = %q, %v", UserSudo, out, err)
	}
	out, err = b.OpenSSH("-l", UserSudo, ins[0].Addr, "sudo", "-n", "-u", "root", "docker", "run", "--rm", Image, "echo", "ok")
	if err != nil || strings.TrimSpace(out) != "ok" {
		t.Fatalf("sudo -n -u root docker run as %s = %q, %v", UserSudo, out, err)
	}
	// Without sudo, ecssudo has no access to the engine: that is what --sudo tests rely on.
	out, err = b.OpenSSH("-l", UserSudo, ins[0].Addr, "docker", "ps")
	if err == nil || !strings.Contains(out, "permission denied") {
		t.Fatalf("docker ps without sudo as %s = %q, %v; want permission denied", UserSudo, out, err)
	}
	// Nothing but docker is allowed.
	if out, err := b.OpenSSH("-l", UserSudo, ins[0].Addr, "sudo", "-n", "id"); err == nil {
		t.Fatalf("sudo -n id as %s succeeded: %q", UserSudo, out)
	}
	if got := ins[0].AcceptedUser(UserSudo); got != 4 {
		t.Errorf("AcceptedUser(%s) = %d, want 4", UserSudo, got)
	}
}

func TestPTY(t *testing.T) {
	Require(t)
	b := New(t)
	ins := StartInstances(t, b)
	ptyRE := regexp.MustCompile(`(?m)^/dev/pts/\d+\r?$`)
	out, err := b.OpenSSH("-tt", ins[2].Addr, "tty")
	if err != nil || !ptyRE.MatchString(out) {
		t.Fatalf("ssh -tt tty = %q, %v", out, err)
	}
	out, err = b.OpenSSH("-tt", ins[2].Addr, "docker", "run", "--rm", "-i", "-t", Image, "tty")
	if err != nil || !ptyRE.MatchString(out) {
		t.Fatalf("ssh -tt docker run -it tty = %q, %v", out, err)
	}
}

func TestChangedHostKeyRefused(t *testing.T) {
	Require(t)
	b := New(t)
	s := StartSSHD(t, SSHDOptions{Bed: b, Addr: "127.0.0.3", HostKeyTypes: []string{"ed25519"}})
	if len(s.HostKeys) != 1 {
		t.Fatalf("host keys %v, want only ed25519", s.HostKeys)
	}
	if _, err := s.KnownHostsLineAs("x", "rsa"); err == nil {
		t.Fatalf("KnownHostsLineAs rsa on an ed25519-only host: no error")
	}
	b.WriteSSHConfig(InstancesConfig(s.Port))
	b.ChangedKeyHost(s, "ed25519")
	out, err := b.OpenSSH(s.Addr, "echo", "ok")
	if err == nil || !strings.Contains(out, "REMOTE HOST IDENTIFICATION HAS CHANGED") {
		t.Fatalf("ssh with a changed key = %q, %v; want refusal", out, err)
	}
	if s.Accepted() != 0 {
		t.Fatalf("sshd accepted a login despite the changed key")
	}
	b.SetKnownHosts(b.KnownHostsLine(s, "ed25519"))
	if out, err := b.OpenSSH(s.Addr, "echo", "ok"); err != nil || strings.TrimSpace(out) != "ok" {
		t.Fatalf("ssh with the right key = %q, %v", out, err)
	}
}

func TestJumpHost(t *testing.T) {
	Require(t)
	b := New(t)
	ins := StartInstances(t, b, "127.0.0.2")
	jump := StartSSHD(t, SSHDOptions{Bed: b, Addr: JumpAddr, Port: ins[0].Port})
	b.AddKnownHosts(b.KnownHostsLine(jump, "ed25519"))
	out, err := b.OpenSSH("-J", JumpAddr, ins[0].Addr, "echo", "ok")
	if err != nil || strings.TrimSpace(out) != "ok" {
		t.Fatalf("ssh -J %s %s echo ok = %q, %v", JumpAddr, ins[0].Addr, out, err)
	}
	if jump.Accepted() != 1 || ins[0].Accepted() != 1 {
		t.Fatalf("accepted: jump %d, target %d; want 1 and 1", jump.Accepted(), ins[0].Accepted())
	}
	if !strings.Contains(jump.Log(), "direct-tcpip") && !strings.Contains(jump.Log(), "connect from") {
		t.Logf("jump log has no forwarding line:\n%s", jump.Log())
	}
}

func TestStopEndsProcess(t *testing.T) {
	Require(t)
	s := StartSSHD(t, SSHDOptions{Addr: "127.0.0.4"})
	if s.Bed == nil {
		t.Fatal("SSHD.Bed is nil")
	}
	pid := s.PID
	s.Stop()
	if err := exec.Command("kill", "-0", fmt.Sprint(pid)).Run(); err == nil {
		t.Fatalf("sshd pid %d still alive after Stop", pid)
	}
	if c, err := net.DialTimeout("tcp", s.HostPort(), time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepting after Stop", s.HostPort())
	}
}

func TestAlsoAddrsAndProgram(t *testing.T) {
	Require(t)
	// Program is what the demo uses instead of a *testing.T.
	p := NewProgram("bed-test")
	defer p.Close()
	b := New(p)
	s := StartSSHD(p, SSHDOptions{Bed: b, Addr: "127.0.0.2", AlsoAddrs: []string{"127.0.1.2"}})
	b.WriteSSHConfig(InstancesConfig(s.Port))
	pub, err := s.KnownHostsLineAs(fmt.Sprintf("[127.0.1.2]:%d", s.Port), "ed25519")
	if err != nil {
		t.Fatal(err)
	}
	b.SetKnownHosts(b.KnownHostsLine(s, "ed25519"), pub)
	for _, a := range []string{"127.0.0.2", "127.0.1.2"} {
		if out, err := b.OpenSSH(a, "echo", "ok"); err != nil || strings.TrimSpace(out) != "ok" {
			t.Fatalf("ssh %s echo ok = %q, %v", a, out, err)
		}
	}
	dir, pid := b.Dir, s.PID
	p.Close()
	if err := exec.Command("kill", "-0", fmt.Sprint(pid)).Run(); err == nil {
		t.Errorf("sshd pid %d alive after Program.Close", pid)
	}
	if _, err := exec.Command("ls", dir).CombinedOutput(); err == nil {
		t.Errorf("%s still there after Program.Close", dir)
	}
}

func TestKnownHostsVariants(t *testing.T) {
	Require(t)
	b := New(t)
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	s := StartSSHD(t, SSHDOptions{Bed: b, Addr: "127.0.0.4", HostCA: ca, CertPrincipals: []string{"ip-127-0-0-4.ec2.internal"}})
	b.WriteSSHConfig(InstancesConfig(s.Port))
	ssh := func(lines ...string) (string, error) {
		b.SetKnownHosts(lines...)
		return b.OpenSSH(s.Addr, "echo", "ok")
	}
	hashed := b.HashedKnownHostsLine(s, "ed25519")
	if !strings.HasPrefix(hashed, "|1|") {
		t.Fatalf("hashed line %q", hashed)
	}
	if out, err := ssh(hashed); err != nil || strings.TrimSpace(out) != "ok" {
		t.Fatalf("hashed known_hosts: %q, %v", out, err)
	}
	if out, err := ssh(CertAuthorityLine("127.0.0.*", ca.PublicKey())); err != nil || strings.TrimSpace(out) != "ok" {
		t.Fatalf("@cert-authority: %q, %v", out, err)
	}
	// OpenSSH prefers the certificate algorithms when it knows a CA, so revoking the
	// ed25519 key the certificate is made for refuses the host.
	out, err := ssh(CertAuthorityLine("127.0.0.*", ca.PublicKey()), b.RevokedLine(s, "ed25519"),
		b.RevokedLine(s, "ecdsa"), b.RevokedLine(s, "rsa"))
	if err == nil || !strings.Contains(out, "REVOKED") {
		t.Fatalf("@revoked: %q, %v; want refusal", out, err)
	}
}
