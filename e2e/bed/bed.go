// Package bed is the end-to-end test bed of ssh-ecs-run-task: it starts real OpenSSH sshd
// "EC2 instances" on loopback addresses (127.0.0.2, .3, .4 — the private IPs of the emulator's
// fixture), prepares a fake $HOME for the binary (client key, known_hosts, ssh_config), and
// inspects the real Docker engine the sessions start containers in.
//
// A typical test:
//
//	bed.Require(t)                    // skip (fail under CI=true) without e2e/setup.sh
//	b := bed.New(t)                   // Dir, HomeDir/.ssh/{id_ed25519,known_hosts}
//	ins := bed.StartInstances(t, b)   // sshd on 127.0.0.2-4, one port, ssh_config + known_hosts
//	cmd := exec.Command(binary, "--task", "web", "--", "echo", "hi")
//	cmd.Env = b.Env("AWS_ENDPOINT_URL="+emulatorURL)
//	…
//	if ins[1].Accepted() != 1 { … } // which instance the session went to
//
// The real parts are installed by e2e/setup.sh; Require skips (or, under CI=true, fails) a test
// when they are missing. The tests must run as root: sshd logs clients in as the test users
// ecsrun (docker group) and ecssudo (docker through sudo only). The bed only ever listens on
// and dials loopback addresses, and it stops only the processes it started, by PID. Programs
// that are not tests (make demo) pass a Program where a TB is wanted. The product must not
// import this package.
package bed

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Names of the parts e2e/setup.sh installs.
const (
	// Image is the test image (busybox, imported without a registry). Its tags 2.0.0 and 1.5.0
	// exist too, for --tag tests.
	Image = ImageRepo + ":1.6.0"
	// ImageRepo is Image without its tag.
	ImageRepo = "registry.example.com:5000/web"
	// UserDocker logs in over SSH and runs docker directly (member of group docker).
	UserDocker = "ecsrun"
	// UserSudo logs in over SSH and may run docker only through sudo (as root).
	UserSudo = "ecssudo"
	// HostDir holds ro/hello.txt ("read-only data") and rw/ (mode 1777) for volume tests.
	HostDir = "/tmp/ssh-ecs-e2e"
	// SudoersFile lets ecssudo run docker as root without a password.
	SudoersFile = "/etc/sudoers.d/ssh-ecs-e2e"
	// SSHDPath is the sshd the bed starts; sshd re-executes itself, so the path is absolute.
	SSHDPath = "/usr/sbin/sshd"
	// JumpAddr is the loopback address conventionally used for a jump host.
	JumpAddr = "127.0.0.5"
)

// DefaultAddrs are the private IPs of the instances in e2e/testdata/state/bed.json.
var DefaultAddrs = []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}

// Bed is one test's workspace: a temporary directory and a fake home directory holding the
// client's SSH files. Run the binary with HOME=HomeDir (see Env).
type Bed struct {
	// Dir is the per-test temporary directory; sshd instances keep their files under it.
	Dir string
	// HomeDir is a fake $HOME for the binary: .ssh/config, .ssh/known_hosts, .ssh/id_ed25519.
	HomeDir string
	// KeyPath is HomeDir/.ssh/id_ed25519 (unencrypted; KeyPath+".pub" holds the public key).
	KeyPath string
	// KnownHostsPath is HomeDir/.ssh/known_hosts (empty until hosts are added).
	KnownHostsPath string
	// ConfigPath is HomeDir/.ssh/config (absent until WriteSSHConfig).
	ConfigPath string
	// AuthorizedKeysPath is the file every sshd of this bed reads for users ecsrun and ecssudo;
	// it holds the client's public key.
	AuthorizedKeysPath string
	// Signer is the client's private key.
	Signer ssh.Signer

	t  TB
	mu sync.Mutex
}

// New makes Dir and HomeDir, an unencrypted ed25519 client key pair in HomeDir/.ssh/id_ed25519,
// an empty known_hosts and the authorized_keys file the bed's sshd instances use.
func New(t TB) *Bed {
	t.Helper()
	dir := t.TempDir()
	// sshd (as root) reads AuthorizedKeysFile with the target user's privileges, so the path
	// to it must be searchable by ecsrun/ecssudo; Dir (0700 under a 0700 parent) is not.
	keysDir, err := os.MkdirTemp("", "ssh-ecs-e2e-authkeys-")
	if err != nil {
		t.Fatalf("bed: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(keysDir) })
	if err := os.Chmod(keysDir, 0o755); err != nil {
		t.Fatalf("bed: %v", err)
	}
	b := &Bed{
		Dir:     dir,
		HomeDir: filepath.Join(dir, "home"),
		t:       t,
	}
	sshDir := filepath.Join(b.HomeDir, ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		t.Fatalf("bed: %v", err)
	}
	b.KeyPath = filepath.Join(sshDir, "id_ed25519")
	b.KnownHostsPath = filepath.Join(sshDir, "known_hosts")
	b.ConfigPath = filepath.Join(sshDir, "config")
	b.AuthorizedKeysPath = filepath.Join(keysDir, "authorized_keys")

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("bed: generate client key: %v", err)
	}
	if b.Signer, err = ssh.NewSignerFromKey(priv); err != nil {
		t.Fatalf("bed: client signer: %v", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "ssh-ecs-run-task e2e client")
	if err != nil {
		t.Fatalf("bed: marshal client key: %v", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatalf("bed: client public key: %v", err)
	}
	authLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " ssh-ecs-run-task-e2e\n"
	b.writeFile(b.KeyPath, pem.EncodeToMemory(block), 0o600)
	b.writeFile(b.KeyPath+".pub", []byte(authLine), 0o644)
	b.writeFile(b.KnownHostsPath, nil, 0o600)
	b.writeFile(b.AuthorizedKeysPath, []byte(authLine), 0o644)
	return b
}

func (b *Bed) writeFile(path string, data []byte, mode os.FileMode) {
	b.t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		b.t.Fatalf("bed: %v", err)
	}
	// WriteFile keeps the mode of an existing file and honours the umask; be exact.
	if err := os.Chmod(path, mode); err != nil {
		b.t.Fatalf("bed: %v", err)
	}
}

// WriteSSHConfig writes lines as HomeDir/.ssh/config (mode 0600), replacing what was there.
func (b *Bed) WriteSSHConfig(lines string) {
	b.t.Helper()
	if lines != "" && !strings.HasSuffix(lines, "\n") {
		lines += "\n"
	}
	b.writeFile(b.ConfigPath, []byte(lines), 0o600)
}

// InstanceHosts is the Host line pattern list of InstancesConfig: the fixture's private and
// public IPs, its EC2 DNS names and instance ids (for --address id with a HostName rule).
const InstanceHosts = "127.0.0.* 127.0.1.* *.ec2.internal *.amazonaws.com i-*"

// InstancesConfig is the ssh_config that StartInstances writes: every InstanceHosts host maps
// to user ecsrun on port, with the bed's key and known_hosts, strictly.
func InstancesConfig(port int) string {
	return fmt.Sprintf(`# written by e2e/bed
Host `+InstanceHosts+`
    User %s
    Port %d
    IdentityFile ~/.ssh/id_ed25519
    UserKnownHostsFile ~/.ssh/known_hosts
    StrictHostKeyChecking yes
`, UserDocker, port)
}

// SetKnownHosts replaces HomeDir/.ssh/known_hosts with lines.
func (b *Bed) SetKnownHosts(lines ...string) {
	b.t.Helper()
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString(strings.TrimRight(l, "\n"))
		sb.WriteByte('\n')
	}
	b.writeFile(b.KnownHostsPath, []byte(sb.String()), 0o600)
}

// AddKnownHosts appends lines to HomeDir/.ssh/known_hosts.
func (b *Bed) AddKnownHosts(lines ...string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := os.OpenFile(b.KnownHostsPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		b.t.Fatalf("bed: %v", err)
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(f, strings.TrimRight(l, "\n")); err != nil {
			b.t.Fatalf("bed: append known_hosts: %v", err)
		}
	}
	if err := f.Close(); err != nil {
		b.t.Fatalf("bed: %v", err)
	}
}

// KnownHostsLine returns s's host key of keyType as a known_hosts line, e.g.
// "[127.0.0.2]:40123 ssh-ed25519 AAAA…". keyType is "ed25519", "ecdsa", "rsa" or a full
// algorithm name such as "ssh-ed25519".
func (b *Bed) KnownHostsLine(s *SSHD, keyType string) string {
	b.t.Helper()
	line, err := s.knownHostsLine(s.HostPattern(), keyType)
	if err != nil {
		b.t.Fatalf("bed: %v", err)
	}
	return line
}

// HashedKnownHostsLine is KnownHostsLine with the host pattern hashed as HashKnownHosts does
// ("|1|salt|hash …").
func (b *Bed) HashedKnownHostsLine(s *SSHD, keyType string) string {
	b.t.Helper()
	line, err := s.knownHostsLine(knownhosts.HashHostname(knownhosts.Normalize(s.HostPort())), keyType)
	if err != nil {
		b.t.Fatalf("bed: %v", err)
	}
	return line
}

// RevokedLine is a "@revoked" known_hosts line for s's host key of keyType.
func (b *Bed) RevokedLine(s *SSHD, keyType string) string {
	b.t.Helper()
	return "@revoked " + b.KnownHostsLine(s, keyType)
}

// ChangedKeyHost writes (appends) a known_hosts line for s with a freshly generated key of
// keyType that s does not have — the situation of a changed host key — and returns the line.
func (b *Bed) ChangedKeyHost(s *SSHD, keyType string) string {
	b.t.Helper()
	kt, err := normKeyType(keyType)
	if err != nil {
		b.t.Fatalf("bed: %v", err)
	}
	hk, err := generateHostKey(kt)
	if err != nil {
		b.t.Fatalf("bed: %v", err)
	}
	line := s.HostPattern() + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hk.pub)))
	b.AddKnownHosts(line)
	return line
}

// Env returns the environment for running the binary against this bed: the current one with
// HOME=HomeDir, without SSH_AUTH_SOCK (so no agent of the developer leaks in), plus extra
// ("KEY=value") entries, which win.
func (b *Bed) Env(extra ...string) []string {
	drop := map[string]bool{"HOME": true, "SSH_AUTH_SOCK": true, "USERPROFILE": true}
	for _, kv := range extra {
		if k, _, ok := strings.Cut(kv, "="); ok {
			drop[k] = true
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+b.HomeDir)
	return append(env, extra...)
}

// OpenSSHArgs returns arguments that make the real OpenSSH client (ssh) use this bed the way
// the binary does with HOME=HomeDir. ssh expands ~ from the passwd entry, not from $HOME, so
// it gets "-F" and a copy of HomeDir/.ssh/config with ~/ spelled out, preceded by global
// lines for the bed's key and known_hosts, BatchMode and no global known_hosts. -F is handed on
// to the ssh that ProxyJump (-J) starts, so jump hosts see the same settings.
func (b *Bed) OpenSSHArgs() []string {
	b.t.Helper()
	body, err := os.ReadFile(b.ConfigPath)
	if err != nil && !os.IsNotExist(err) {
		b.t.Fatalf("bed: %v", err)
	}
	home := b.HomeDir + "/"
	text := string(body)
	for _, sep := range []string{" ", "\t", "="} {
		text = strings.ReplaceAll(text, sep+"~/", sep+home)
	}
	cfg := fmt.Sprintf(`# derived by e2e/bed from %s for the OpenSSH client
IdentityFile %s
IdentitiesOnly yes
UserKnownHostsFile %s
GlobalKnownHostsFile /dev/null
BatchMode yes
ConnectTimeout 10

%s`, b.ConfigPath, b.KeyPath, b.KnownHostsPath, text)
	path := filepath.Join(b.Dir, "openssh_config")
	b.writeFile(path, []byte(cfg), 0o600)
	return []string{"-F", path}
}

// OpenSSH runs the real ssh client with OpenSSHArgs, then args, with no stdin, and returns its
// combined output and error.
func (b *Bed) OpenSSH(args ...string) (string, error) {
	cmd := exec.Command("ssh", append(b.OpenSSHArgs(), args...)...)
	cmd.Env = b.Env()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// requireState caches what Require found, so many tests cost one probe.
var requireState struct {
	once    sync.Once
	missing []string
}

// Require stops the test unless the real parts are there: root, sshd, the test users, a
// running Docker engine and the test image. Under CI=true a missing part fails the test;
// otherwise it is skipped with one line saying what is missing and how to install it.
func Require(t TB) {
	t.Helper()
	requireState.once.Do(func() { requireState.missing = probe() })
	if len(requireState.missing) == 0 {
		return
	}
	msg := fmt.Sprintf("e2e: %s; run `sudo e2e/setup.sh` (or `make e2e-setup`) to enable",
		strings.Join(requireState.missing, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func probe() []string {
	var missing []string
	if os.Geteuid() != 0 {
		// sshd can log a client in as ecsrun/ecssudo only when it runs as root.
		missing = append(missing, "not running as root (sshd must log in the test users)")
	}
	if st, err := os.Stat(SSHDPath); err != nil || st.Mode()&0o111 == 0 {
		missing = append(missing, SSHDPath+" not installed")
	}
	if _, err := os.Stat("/run/sshd"); err != nil {
		missing = append(missing, "sshd privilege-separation dir /run/sshd missing")
	}
	if _, err := exec.LookPath("ssh"); err != nil {
		missing = append(missing, "ssh client not installed")
	}
	if u, err := user.Lookup(UserDocker); err != nil {
		missing = append(missing, "user "+UserDocker+" missing")
	} else if !inGroup(u, "docker") {
		missing = append(missing, "user "+UserDocker+" not in group docker")
	}
	if _, err := user.Lookup(UserSudo); err != nil {
		missing = append(missing, "user "+UserSudo+" missing")
	}
	if _, err := os.Stat(SudoersFile); err != nil {
		missing = append(missing, "sudoers file "+SudoersFile+" missing")
	}
	if _, err := os.Stat(filepath.Join(HostDir, "ro", "hello.txt")); err != nil {
		missing = append(missing, "volume fixtures under "+HostDir+" missing")
	}
	if _, err := exec.LookPath("docker"); err != nil {
		return append(missing, "docker client not installed")
	}
	if _, err := dockerOutput(10*time.Second, "version", "--format", "{{.Server.Version}}"); err != nil {
		return append(missing, "docker engine not answering")
	}
	if _, err := dockerOutput(10*time.Second, "image", "inspect", "--format", "{{.Id}}", Image); err != nil {
		missing = append(missing, "image "+Image+" missing")
	}
	return missing
}

func inGroup(u *user.User, name string) bool {
	g, err := user.LookupGroup(name)
	if err != nil {
		return false
	}
	ids, err := u.GroupIds()
	if err != nil {
		return false
	}
	for _, id := range ids {
		if id == g.Gid {
			return true
		}
	}
	return false
}
