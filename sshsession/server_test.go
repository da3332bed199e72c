package sshsession

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/windows/winetest"
)

func TestMain(m *testing.M) {
	// Isolate tests from the machine: no system ssh_config, no global
	// known_hosts, no real agent.
	systemConfigPath = ""
	globalKnownHostsFiles = nil
	os.Unsetenv("SSH_AUTH_SOCK")
	os.Exit(m.Run())
}

var (
	hostKeysOnce sync.Once
	hostRSA      ssh.Signer
	hostECDSA    ssh.Signer
	hostED25519  ssh.Signer
)

func testHostKeys(t *testing.T) (rsaKey, ecdsaKey, edKey ssh.Signer) {
	t.Helper()
	hostKeysOnce.Do(func() {
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		hostRSA, _ = ssh.NewSignerFromKey(rk)
		ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		hostECDSA, _ = ssh.NewSignerFromKey(ek)
		_, dk, _ := ed25519.GenerateKey(rand.Reader)
		hostED25519, _ = ssh.NewSignerFromKey(dk)
	})
	return hostRSA, hostECDSA, hostED25519
}

// newUserKey returns a fresh ed25519 key and its OpenSSH PEM, encrypted
// when passphrase is not empty.
func newUserKey(t *testing.T, passphrase string) (ssh.Signer, []byte) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, pem.EncodeToMemory(block)
}

// testServer is an in-process SSH server on 127.0.0.1 that records the
// requests it gets and acts on the command it is asked to run.
type testServer struct {
	t        *testing.T
	ln       net.Listener
	host     string
	port     int
	hostKeys []ssh.Signer

	mu              sync.Mutex
	authorized      []ssh.PublicKey
	events          []string
	stall           bool // accept TCP, never speak
	ignoreKeepalive bool
	allowForward    bool // direct-tcpip (ProxyJump)
	conns           []net.Conn
}

func newTestServer(t *testing.T, hostKeys ...ssh.Signer) *testServer {
	t.Helper()
	if len(hostKeys) == 0 {
		_, _, ed := testHostKeys(t)
		hostKeys = []ssh.Signer{ed}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, ln: ln, hostKeys: hostKeys}
	s.host = "127.0.0.1"
	s.port = ln.Addr().(*net.TCPAddr).Port
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	go s.serve()
	return s
}

func (s *testServer) authorize(k ssh.PublicKey) {
	s.mu.Lock()
	s.authorized = append(s.authorized, k)
	s.mu.Unlock()
}

func (s *testServer) record(format string, args ...any) {
	s.mu.Lock()
	s.events = append(s.events, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

func (s *testServer) Events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.events...)
}

// knownHostsLine is the known_hosts line for one of the server's keys.
func (s *testServer) knownHostsLine(k ssh.PublicKey) string {
	return knownhosts.Line([]string{net.JoinHostPort(s.host, strconv.Itoa(s.port))}, k)
}

func (s *testServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		stall := s.stall
		s.mu.Unlock()
		if stall {
			continue // say nothing; the client must time out
		}
		go s.handle(c)
	}
}

func (s *testServer) handle(c net.Conn) {
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, k := range s.authorized {
				if string(k.Marshal()) == string(key.Marshal()) {
					return nil, nil
				}
			}
			return nil, fmt.Errorf("key not authorized")
		},
	}
	for _, k := range s.hostKeys {
		cfg.AddHostKey(k)
	}
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		c.Close()
		return
	}
	s.record("user:%s", sc.User())
	go func() {
		for r := range reqs {
			if r.Type == "keepalive@openssh.com" {
				s.record("keepalive")
				s.mu.Lock()
				ignore := s.ignoreKeepalive
				s.mu.Unlock()
				if ignore {
					continue
				}
			}
			if r.WantReply {
				r.Reply(false, nil)
			}
		}
	}()
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			ch, creqs, err := nc.Accept()
			if err != nil {
				continue
			}
			go s.session(sc, ch, creqs)
		case "direct-tcpip":
			s.mu.Lock()
			allow := s.allowForward
			s.mu.Unlock()
			if !allow {
				nc.Reject(ssh.Prohibited, "no forwarding")
				continue
			}
			var m struct {
				Host     string
				Port     uint32
				OrigHost string
				OrigPort uint32
			}
			if err := ssh.Unmarshal(nc.ExtraData(), &m); err != nil {
				nc.Reject(ssh.ConnectionFailed, err.Error())
				continue
			}
			s.record("direct-tcpip:%s:%d", m.Host, m.Port)
			target, err := net.Dial("tcp", net.JoinHostPort(m.Host, strconv.Itoa(int(m.Port))))
			if err != nil {
				nc.Reject(ssh.ConnectionFailed, err.Error())
				continue
			}
			ch, creqs, err := nc.Accept()
			if err != nil {
				target.Close()
				continue
			}
			go ssh.DiscardRequests(creqs)
			go func() { io.Copy(ch, target); ch.CloseWrite() }()
			go func() { io.Copy(target, ch); target.Close() }()
		default:
			nc.Reject(ssh.UnknownChannelType, "unknown")
		}
	}
}

func exitStatus(ch ssh.Channel, n int) {
	ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(n)))
	ch.Close()
}

func exitSignal(ch ssh.Channel, sig string) {
	ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
		Signal     string
		CoreDumped bool
		Error      string
		Lang       string
	}{Signal: sig}))
	ch.Close()
}

// session runs the test "commands":
//
//	exit N          exit status N
//	signal SIG      exit-signal SIG
//	cat             stdin to stdout; exit 0 at EOF (records "stdin-eof")
//	outerr          "out" on stdout, "err" on stderr, exit 0
//	nostatus        close the channel without a status
//	drop            close the whole connection
//	wait-signal     exit-signal with the first signal received
//	wait-winch N    exit 0 after N window-changes
//	hang            never finish
func (s *testServer) session(sc *ssh.ServerConn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	sigc := make(chan string, 4)
	winch := make(chan struct{}, 4)
	for r := range reqs {
		switch r.Type {
		case "pty-req":
			var m struct {
				Term          string
				Columns, Rows uint32
				Width, Height uint32
				Modes         string
			}
			ssh.Unmarshal(r.Payload, &m)
			s.record("pty-req:%s:%dx%d", m.Term, m.Columns, m.Rows)
			r.Reply(true, nil)
		case "window-change":
			var m struct{ Columns, Rows, Width, Height uint32 }
			ssh.Unmarshal(r.Payload, &m)
			s.record("window-change:%dx%d", m.Columns, m.Rows)
			select {
			case winch <- struct{}{}:
			default:
			}
		case "signal":
			var m struct{ Signal string }
			ssh.Unmarshal(r.Payload, &m)
			s.record("signal:%s", m.Signal)
			sigc <- m.Signal
		case "env":
			var m struct{ Name, Value string }
			ssh.Unmarshal(r.Payload, &m)
			s.record("env:%s=%s", m.Name, m.Value)
			r.Reply(true, nil)
		case "auth-agent-req@openssh.com":
			s.record("auth-agent-req")
			r.Reply(true, nil)
		case "exec":
			var m struct{ Command string }
			ssh.Unmarshal(r.Payload, &m)
			s.record("exec:%s", m.Command)
			r.Reply(true, nil)
			go s.run(sc, ch, m.Command, sigc, winch)
		default:
			if r.WantReply {
				r.Reply(false, nil)
			}
		}
	}
}

func (s *testServer) run(sc *ssh.ServerConn, ch ssh.Channel, cmd string, sigc <-chan string, winch <-chan struct{}) {
	verb, arg, _ := strings.Cut(cmd, " ")
	switch verb {
	case "exit":
		n, _ := strconv.Atoi(arg)
		exitStatus(ch, n)
	case "signal":
		exitSignal(ch, arg)
	case "cat":
		io.Copy(ch, ch)
		s.record("stdin-eof")
		exitStatus(ch, 0)
	case "outerr":
		io.WriteString(ch, "out")
		io.WriteString(ch.Stderr(), "err")
		exitStatus(ch, 0)
	case "nostatus":
		ch.Close()
	case "drop":
		sc.Close()
	case "wait-signal":
		exitSignal(ch, <-sigc)
	case "wait-winch":
		n, _ := strconv.Atoi(arg)
		for range max(n, 1) {
			<-winch
		}
		exitStatus(ch, 0)
	case "hang":
	default:
		io.WriteString(ch.Stderr(), "unknown test command "+cmd)
		exitStatus(ch, 127)
	}
}

// testEnv is a client side: a home directory with a key the server
// trusts and a known_hosts file.
type testEnv struct {
	home       string
	knownHosts string
	key        ssh.Signer
}

func newTestEnv(t *testing.T, srv *testServer) *testEnv {
	t.Helper()
	home := winetest.TempDir(t)
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	key, pemBytes := newUserKey(t, "")
	writeFile(t, filepath.Join(home, ".ssh", "id_ed25519"), string(pemBytes))
	e := &testEnv{home: home, knownHosts: filepath.Join(home, ".ssh", "known_hosts"), key: key}
	if srv != nil {
		srv.authorize(key.PublicKey())
	}
	return e
}

// trust writes the server's keys (all by default) to known_hosts.
func (e *testEnv) trust(t *testing.T, srv *testServer, keys ...ssh.Signer) {
	t.Helper()
	if len(keys) == 0 {
		keys = srv.hostKeys
	}
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(srv.knownHostsLine(k.PublicKey()) + "\n")
	}
	appendFile(t, e.knownHosts, b.String())
}

func (e *testEnv) config(srv *testServer, flags ...Flag) Config {
	return Config{
		Host:    srv.host,
		User:    "tester",
		Flags:   append([]Flag{{Name: "p", Value: strconv.Itoa(srv.port)}}, flags...),
		HomeDir: e.home,
		Stderr:  io.Discard,
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}
