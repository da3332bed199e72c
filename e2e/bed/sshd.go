package bed

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHDOptions configures StartSSHD. The zero value is an instance on 127.0.0.2 with RSA, ECDSA
// and ed25519 host keys on a free high port.
type SSHDOptions struct {
	// Bed whose client key the sshd authorizes and under whose Dir it keeps its files; nil
	// makes a new one (then reach it as SSHD.Bed).
	Bed *Bed
	// Addr is the loopback address to listen on; default 127.0.0.2.
	Addr string
	// AlsoAddrs are further loopback addresses to listen on, e.g. the instance's public IP
	// (127.0.1.N in the fixture); known_hosts lines for them come from KnownHostsLineAs.
	AlsoAddrs []string
	// Port to listen on; 0 picks a free high port (free on Addr and AlsoAddrs).
	Port int
	// HostKeyTypes lists the host keys to generate: "ed25519", "ecdsa", "rsa"; default all.
	HostKeyTypes []string
	// Users who may log in; default ecsrun and ecssudo.
	Users []string
	// FreshHostKeys generates new host keys; by default an address keeps the keys it got the
	// first time in this process (as a real host does, and RSA generation is slow).
	FreshHostKeys bool
	// HostCA, when set, signs every host key into a host certificate (HostCertificate) valid for
	// the listen addresses and CertPrincipals, for @cert-authority tests (see NewCA).
	HostCA ssh.Signer
	// CertPrincipals are further host names the host certificates are valid for.
	CertPrincipals []string
	// ExtraConfig are sshd_config lines. They come before the bed's defaults, so they override
	// them (sshd keeps the first value of a keyword); lines from the first "Match" on go last.
	ExtraConfig []string
}

// SSHD is a running OpenSSH sshd started by StartSSHD.
type SSHD struct {
	// Bed is the bed the sshd belongs to.
	Bed *Bed
	// Addr is the loopback address it listens on (127.0.0.N).
	Addr string
	// Port is the TCP port it listens on.
	Port int
	// PID is the listening sshd's process id.
	PID int
	// HostKeys maps host key algorithm names ("ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa")
	// to the public host keys it serves.
	HostKeys map[string]ssh.PublicKey
	// HostKeyFiles maps the same names to the private key files.
	HostKeyFiles map[string]string
	// Dir holds its config, keys, pid file and log.
	Dir string
	// ConfigPath is its sshd_config.
	ConfigPath string
	// LogPath is its log (LogLevel VERBOSE): "Accepted publickey for ecsrun …" per login.
	LogPath string

	cmd      *exec.Cmd
	done     chan struct{}
	stopOnce sync.Once
}

type hostKey struct {
	algo string // as in known_hosts
	pub  ssh.PublicKey
	pem  []byte
}

// normKeyType turns "ed25519", "ssh-ed25519", "ecdsa", "ecdsa-sha2-nistp256", "rsa" or
// "ssh-rsa" into the known_hosts algorithm name.
func normKeyType(kt string) (string, error) {
	switch strings.ToLower(kt) {
	case "ed25519", ssh.KeyAlgoED25519:
		return ssh.KeyAlgoED25519, nil
	case "ecdsa", ssh.KeyAlgoECDSA256:
		return ssh.KeyAlgoECDSA256, nil
	case "rsa", ssh.KeyAlgoRSA:
		return ssh.KeyAlgoRSA, nil
	}
	return "", fmt.Errorf("unknown host key type %q (want ed25519, ecdsa or rsa)", kt)
}

func generateHostKey(algo string) (*hostKey, error) {
	var priv any
	var err error
	switch algo {
	case ssh.KeyAlgoED25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case ssh.KeyAlgoECDSA256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ssh.KeyAlgoRSA:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, fmt.Errorf("unknown host key type %q", algo)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s host key: %w", algo, err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("%s host key: %w", algo, err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "ssh-ecs-run-task e2e host")
	if err != nil {
		return nil, fmt.Errorf("marshal %s host key: %w", algo, err)
	}
	return &hostKey{algo: algo, pub: signer.PublicKey(), pem: pem.EncodeToMemory(block)}, nil
}

// hostKeys caches host keys by address and algorithm for the life of the process.
var hostKeys struct {
	mu   sync.Mutex
	keys map[string]*hostKey
}

func hostKeyFor(addr, algo string, fresh bool) (*hostKey, error) {
	if fresh {
		return generateHostKey(algo)
	}
	hostKeys.mu.Lock()
	defer hostKeys.mu.Unlock()
	k := addr + " " + algo
	if hk, ok := hostKeys.keys[k]; ok {
		return hk, nil
	}
	hk, err := generateHostKey(algo)
	if err != nil {
		return nil, err
	}
	if hostKeys.keys == nil {
		hostKeys.keys = map[string]*hostKey{}
	}
	hostKeys.keys[k] = hk
	return hk, nil
}

// PickPort returns a TCP port in the high range that is free on addr (a loopback address)
// right now. Another process may take it before it is used; StartSSHD retries.
func PickPort(addr string) int {
	for range 50 {
		l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
		if err != nil {
			panic(fmt.Sprintf("bed: listen on %s: %v", addr, err))
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port >= 10000 {
			return port
		}
	}
	panic("bed: no free high port on " + addr)
}

// portFree reports whether port can be bound on every address.
func portFree(port int, addrs ...string) bool {
	for _, a := range addrs {
		l, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(port)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// StartSSHD starts /usr/sbin/sshd on opts.Addr (a loopback address) with freshly generated host
// keys, public-key authentication against the bed's authorized_keys for ecsrun and ecssudo,
// TCP forwarding allowed (so it can serve as a jump host), no PAM, no passwords, no accepted
// environment, LogLevel VERBOSE. It is stopped, by PID, when the test ends.
func StartSSHD(t TB, opts SSHDOptions) *SSHD {
	t.Helper()
	if opts.Bed == nil {
		opts.Bed = New(t)
	}
	autoPort := opts.Port == 0
	for attempt := 0; ; attempt++ {
		o := opts
		if autoPort && attempt > 50 {
			t.Fatalf("bed: no port free on %s and %v", addrOr(o.Addr), o.AlsoAddrs)
		}
		if autoPort {
			o.Port = PickPort(addrOr(o.Addr))
			if !portFree(o.Port, o.AlsoAddrs...) {
				continue
			}
		}
		s, err := startSSHD(t, o)
		if err == nil {
			return s
		}
		if autoPort && errors.Is(err, errBind) && attempt < 5 {
			continue
		}
		t.Fatalf("bed: %v", err)
	}
}

// StartInstances starts one sshd per address (DefaultAddrs if none) on the same port, writes
// HomeDir/.ssh/config (InstancesConfig) so that one Port line covers them all, and puts their
// ed25519 host keys in known_hosts.
func StartInstances(t TB, b *Bed, addrs ...string) []*SSHD {
	t.Helper()
	if len(addrs) == 0 {
		addrs = DefaultAddrs
	}
	for attempt := 0; ; attempt++ {
		if attempt > 50 {
			t.Fatalf("bed: no port free on all of %v", addrs)
		}
		port := PickPort(addrs[0])
		if !portFree(port, addrs...) {
			continue
		}
		var all []*SSHD
		var err error
		for _, a := range addrs {
			var s *SSHD
			if s, err = startSSHD(t, SSHDOptions{Bed: b, Addr: a, Port: port}); err != nil {
				break
			}
			all = append(all, s)
		}
		if err != nil {
			for _, s := range all {
				s.Stop()
			}
			if errors.Is(err, errBind) && attempt < 5 {
				continue
			}
			t.Fatalf("bed: %v", err)
		}
		b.WriteSSHConfig(InstancesConfig(port))
		for _, s := range all {
			b.AddKnownHosts(b.KnownHostsLine(s, "ed25519"))
		}
		return all
	}
}

func addrOr(a string) string {
	if a == "" {
		return DefaultAddrs[0]
	}
	return a
}

var errBind = errors.New("address in use")

// penaltiesOnce caches whether this sshd knows PerSourcePenalties (OpenSSH ≥ 9.8), which would
// otherwise throttle a test that provokes failed logins on purpose.
var penalties struct {
	once sync.Once
	ok   bool
}

var sshdSeq struct {
	mu sync.Mutex
	n  int
}

func startSSHD(t TB, opts SSHDOptions) (*SSHD, error) {
	t.Helper()
	b := opts.Bed
	addr := addrOr(opts.Addr)
	listen := append([]string{addr}, opts.AlsoAddrs...)
	for _, a := range listen {
		if ip := net.ParseIP(a); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("sshd address %q is not a loopback address", a)
		}
	}
	types := opts.HostKeyTypes
	if len(types) == 0 {
		types = []string{"rsa", "ecdsa", "ed25519"}
	}
	users := opts.Users
	if len(users) == 0 {
		users = []string{UserDocker, UserSudo}
	}
	sshdSeq.mu.Lock()
	sshdSeq.n++
	seq := sshdSeq.n
	sshdSeq.mu.Unlock()
	dir := filepath.Join(b.Dir, fmt.Sprintf("sshd-%s-%d-%d", addr, opts.Port, seq))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sshd dir: %w", err)
	}
	s := &SSHD{
		Bed:          b,
		Addr:         addr,
		Port:         opts.Port,
		HostKeys:     map[string]ssh.PublicKey{},
		HostKeyFiles: map[string]string{},
		Dir:          dir,
		ConfigPath:   filepath.Join(dir, "sshd_config"),
		LogPath:      filepath.Join(dir, "sshd.log"),
		done:         make(chan struct{}),
	}
	var cfg bytes.Buffer
	fmt.Fprintf(&cfg, "# written by e2e/bed for %s:%d\n", addr, opts.Port)
	var match []string
	for i, l := range opts.ExtraConfig {
		if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], "Match") {
			match = opts.ExtraConfig[i:]
			break
		}
		fmt.Fprintln(&cfg, l)
	}
	for _, kt := range types {
		algo, err := normKeyType(kt)
		if err != nil {
			return nil, err
		}
		hk, err := hostKeyFor(addr, algo, opts.FreshHostKeys)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "ssh_host_"+shortType(algo)+"_key")
		if err := os.WriteFile(path, hk.pem, 0o600); err != nil {
			return nil, fmt.Errorf("write host key: %w", err)
		}
		s.HostKeys[algo] = hk.pub
		s.HostKeyFiles[algo] = path
		fmt.Fprintf(&cfg, "HostKey %s\n", path)
		if opts.HostCA != nil {
			cert, err := signHostCert(opts.HostCA, hk.pub, append(append([]string{}, listen...), opts.CertPrincipals...))
			if err != nil {
				return nil, err
			}
			certPath := path + "-cert.pub"
			if err := os.WriteFile(certPath, ssh.MarshalAuthorizedKey(cert), 0o644); err != nil {
				return nil, fmt.Errorf("write host certificate: %w", err)
			}
			fmt.Fprintf(&cfg, "HostCertificate %s\n", certPath)
		}
	}
	for _, a := range listen {
		fmt.Fprintf(&cfg, "ListenAddress %s\n", a)
	}
	fmt.Fprintf(&cfg, `Port %d
PidFile %s
AuthorizedKeysFile %s
AllowUsers %s
StrictModes no
UsePAM no
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
AllowAgentForwarding yes
X11Forwarding no
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 100:30:200
LogLevel VERBOSE
`, opts.Port, filepath.Join(dir, "sshd.pid"), b.AuthorizedKeysPath, strings.Join(users, " "))
	penalties.once.Do(func() {
		probe := filepath.Join(dir, "probe_config")
		first := s.HostKeyFiles[ssh.KeyAlgoED25519]
		for _, f := range s.HostKeyFiles {
			if first == "" {
				first = f
			}
		}
		_ = os.WriteFile(probe, []byte("HostKey "+first+"\nPerSourcePenalties no\n"), 0o600)
		penalties.ok = exec.Command(SSHDPath, "-t", "-f", probe).Run() == nil
	})
	if penalties.ok {
		fmt.Fprintln(&cfg, "PerSourcePenalties no")
	}
	for _, l := range match {
		fmt.Fprintln(&cfg, l)
	}
	if err := os.WriteFile(s.ConfigPath, cfg.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("write sshd_config: %w", err)
	}
	if out, err := exec.Command(SSHDPath, "-t", "-f", s.ConfigPath).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("sshd -t -f %s: %w: %s", s.ConfigPath, err, bytes.TrimSpace(out))
	}

	// -D: stay in the foreground so the PID is ours; -E: log to a file instead of syslog.
	s.cmd = exec.Command(SSHDPath, "-D", "-f", s.ConfigPath, "-E", s.LogPath)
	out, err := os.Create(filepath.Join(dir, "sshd.out"))
	if err != nil {
		return nil, fmt.Errorf("sshd output file: %w", err)
	}
	defer out.Close()
	s.cmd.Stdout, s.cmd.Stderr = out, out
	s.cmd.SysProcAttr = sshdProcAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sshd on %s:%d: %w", addr, opts.Port, err)
	}
	s.PID = s.cmd.Process.Pid
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("bed: sshd %s:%d log (%s):\n%s", s.Addr, s.Port, s.LogPath, tail(s.Log(), 40))
		}
	})

	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-s.done:
			log := s.Log()
			if strings.Contains(log, "Address already in use") {
				return nil, fmt.Errorf("sshd on %s:%d: %w", addr, opts.Port, errBind)
			}
			return nil, fmt.Errorf("sshd on %s:%d exited at start: %s", addr, opts.Port, tail(log, 10))
		default:
		}
		// Wait for the log line rather than dialing: a probe connection would leave a
		// "[preauth]" line and a short-lived child behind.
		log := s.Log()
		ready := true
		for _, a := range listen {
			ready = ready && strings.Contains(log, fmt.Sprintf("Server listening on %s port %d.", a, opts.Port))
		}
		if ready {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("sshd on %s:%d not listening after 10 s: %s", addr, opts.Port, tail(s.Log(), 10))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// NewCA returns a fresh ed25519 certificate authority key for SSHDOptions.HostCA; put
// CertAuthorityLine(pattern, ca.PublicKey()) in known_hosts to trust it.
func NewCA() (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	return ssh.NewSignerFromKey(priv)
}

// CertAuthorityLine is a known_hosts line trusting ca for hosts matching pattern.
func CertAuthorityLine(pattern string, ca ssh.PublicKey) string {
	return "@cert-authority " + pattern + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ca)))
}

func signHostCert(ca ssh.Signer, pub ssh.PublicKey, principals []string) (*ssh.Certificate, error) {
	cert := &ssh.Certificate{
		Key:             pub,
		Serial:          1,
		CertType:        ssh.HostCert,
		KeyId:           "ssh-ecs-run-task e2e host",
		ValidPrincipals: principals,
		ValidAfter:      uint64(time.Now().Add(-time.Hour).Unix()),
		ValidBefore:     ssh.CertTimeInfinity,
	}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		return nil, fmt.Errorf("sign host certificate: %w", err)
	}
	return cert, nil
}

func shortType(algo string) string {
	switch algo {
	case ssh.KeyAlgoED25519:
		return "ed25519"
	case ssh.KeyAlgoECDSA256:
		return "ecdsa"
	}
	return "rsa"
}

// Stop ends the sshd: its per-connection children (found by parent PID), then the listener,
// each by PID, with SIGTERM and after 5 s SIGKILL. It is safe to call more than once and is
// called at cleanup anyway.
func (s *SSHD) Stop() {
	s.stopOnce.Do(func() {
		select {
		case <-s.done:
			return
		default:
		}
		// Children first, while the listener still reaps them (pid 1 here may not), and
		// before the test's directory is removed (they log their end into LogPath).
		kids := childPIDs(s.PID)
		for _, pid := range kids {
			_ = kill(pid, syscall.SIGTERM)
		}
		deadline := time.Now().Add(5 * time.Second)
		for _, pid := range kids {
			for alive(pid) {
				if time.Now().After(deadline) {
					_ = kill(pid, syscall.SIGKILL)
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && !bytes.HasPrefix(bytes.TrimSpace(stat[i+1:]), []byte("Z"))
}

// childPIDs lists the processes whose parent is pid.
func childPIDs(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var kids []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the parenthesised command name: state ppid …
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kids = append(kids, n)
		}
	}
	return kids
}

// HostPort is "addr:port", for dialing.
func (s *SSHD) HostPort() string {
	return net.JoinHostPort(s.Addr, strconv.Itoa(s.Port))
}

// HostPattern is the host as known_hosts names it: "[addr]:port", or "addr" on port 22.
func (s *SSHD) HostPattern() string {
	if s.Port == 22 {
		return s.Addr
	}
	return "[" + s.Addr + "]:" + strconv.Itoa(s.Port)
}

// KnownHostsLineAs returns s's host key of keyType as a known_hosts line for the host pattern
// host (e.g. "ip-10-0-1-10.ec2.internal" or "[alias]:2222").
func (s *SSHD) KnownHostsLineAs(host, keyType string) (string, error) {
	return s.knownHostsLine(host, keyType)
}

func (s *SSHD) knownHostsLine(pattern, keyType string) (string, error) {
	algo, err := normKeyType(keyType)
	if err != nil {
		return "", err
	}
	k, ok := s.HostKeys[algo]
	if !ok {
		return "", fmt.Errorf("sshd %s has no %s host key", s.HostPort(), algo)
	}
	return pattern + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))), nil
}

// Log returns the sshd log so far.
func (s *SSHD) Log() string {
	b, _ := os.ReadFile(s.LogPath)
	return string(b)
}

// Accepted counts the logins this sshd accepted ("Accepted publickey for …" lines), which is
// how a test tells which instance a session went to.
func (s *SSHD) Accepted() int {
	return strings.Count(s.Log(), "Accepted publickey for ")
}

// AcceptedUser counts the logins of user this sshd accepted.
func (s *SSHD) AcceptedUser(user string) int {
	return strings.Count(s.Log(), "Accepted publickey for "+user+" ")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
