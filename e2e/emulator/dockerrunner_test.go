package emulator

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
)

func TestDockerRunArgs(t *testing.T) {
	tests := []struct {
		name     string
		launch   TaskLaunch
		wantArgv []string
		wantEnv  []string
	}{
		{
			name: "hostile values stay out of argv",
			launch: TaskLaunch{ID: "abc", Image: "ssh-ecs-run-task/sshd:test", Env: []EnvVar{
				{"APP_ENV", "fargate-test"}, {"SSH_HOST_ED25519_KEY", "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n"},
				{"DOLLAR", "$(id) `id` it's"}, {"EMPTY", ""}, {"SSHD_LISTEN_ADDRESS", "0.0.0.0"},
			}},
			wantArgv: []string{"docker", "run", "-d", "--rm", "--network", "host", "--name", "ssh-ecs-e2e-abc",
				"--label", "ssh-ecs-run-task.e2e=1", "--label", "ssh-ecs-run-task.e2e.task=abc",
				"-e", "SSHD_LISTEN_ADDRESS=127.0.0.20", "-e", "APP_ENV", "-e", "SSH_HOST_ED25519_KEY", "-e", "DOLLAR", "-e", "EMPTY",
				"ssh-ecs-run-task/sshd:test"},
			wantEnv: []string{"APP_ENV=fargate-test", "SSH_HOST_ED25519_KEY=-----BEGIN OPENSSH PRIVATE KEY-----\nx\n", "DOLLAR=$(id) `id` it's", "EMPTY="},
		},
		{
			name:   "command after the image",
			launch: TaskLaunch{ID: "def", Image: "busybox:1", Command: []string{"sh", "-c", "echo  hi"}},
			wantArgv: []string{"docker", "run", "-d", "--rm", "--network", "host", "--name", "ssh-ecs-e2e-def",
				"--label", "ssh-ecs-run-task.e2e=1", "--label", "ssh-ecs-run-task.e2e.task=def",
				"-e", "SSHD_LISTEN_ADDRESS=127.0.0.20", "busybox:1", "sh", "-c", "echo  hi"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewDockerRunner([]string{"127.0.0.20"})
			if err != nil {
				t.Fatal(err)
			}
			argv, env := r.RunArgs(&tt.launch, "127.0.0.20")
			if diff := cmp.Diff(argv, tt.wantArgv); diff != "" {
				t.Errorf("argv (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(env, tt.wantEnv); diff != "" {
				t.Errorf("env (-got +want):\n%s", diff)
			}
		})
	}
}

func TestNewDockerRunnerAddresses(t *testing.T) {
	tests := []struct {
		addrs   []string
		wantErr bool
	}{
		{[]string{"127.0.0.20", "127.0.0.21"}, false},
		{[]string{"::1"}, false},
		{nil, true},
		{[]string{"127.0.0.20", "172.17.0.2"}, true},
		{[]string{"localhost"}, true},
	}
	for _, tt := range tests {
		_, err := NewDockerRunner(tt.addrs)
		if (err != nil) != tt.wantErr {
			t.Errorf("NewDockerRunner(%v) err = %v, want error %v", tt.addrs, err, tt.wantErr)
		}
	}
}

// fakeDocker answers docker commands from a script.
type fakeDocker struct {
	mu      sync.Mutex
	cmds    [][]string
	runErr  error
	rmOut   string
	rmErr   error
	running string // docker inspect output
}

func (f *fakeDocker) run(_ context.Context, argv, _ []string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cmds = append(f.cmds, argv)
	switch argv[1] {
	case "run":
		return []byte("container-id\n"), f.runErr
	case "rm":
		return []byte(f.rmOut), f.rmErr
	case "inspect":
		return []byte(f.running), nil
	}
	return nil, errors.New("unexpected command")
}

func TestDockerRunnerAddressPool(t *testing.T) {
	fd := &fakeDocker{}
	r, err := NewDockerRunner([]string{"127.0.0.20", "127.0.0.21"})
	if err != nil {
		t.Fatal(err)
	}
	r.run = fd.run
	ctx := context.Background()
	var got []string
	for _, id := range []string{"a", "b"} {
		ip, err := r.Start(ctx, &TaskLaunch{ID: id, Image: "img"})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ip)
	}
	if _, err := r.Start(ctx, &TaskLaunch{ID: "c", Image: "img"}); err == nil {
		t.Error("third task started with a pool of two addresses")
	}
	if err := r.Stop(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	ip, err := r.Start(ctx, &TaskLaunch{ID: "d", Image: "img"})
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, ip)
	if diff := cmp.Diff(got, []string{"127.0.0.20", "127.0.0.21", "127.0.0.20"}); diff != "" {
		t.Errorf("addresses (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(fd.cmds[2], []string{"docker", "rm", "-f", "ssh-ecs-e2e-a"}); diff != "" {
		t.Errorf("stop command (-got +want):\n%s", diff)
	}

	// A vanished container stops fine; a failed docker run frees its address.
	fd.rmOut, fd.rmErr = "Error response from daemon: No such container: ssh-ecs-e2e-b", errors.New("exit status 1")
	if err := r.Stop(ctx, "b"); err != nil {
		t.Errorf("stop of a vanished container: %v", err)
	}
	fd.runErr = errors.New("exit status 125")
	if _, err := r.Start(ctx, &TaskLaunch{ID: "e", Image: "img"}); err == nil || !strings.Contains(err.Error(), "docker run img") {
		t.Errorf("err = %v, want a docker run error", err)
	}
	fd.runErr, fd.rmErr = nil, nil
	if ip, err := r.Start(ctx, &TaskLaunch{ID: "f", Image: "img"}); err != nil || ip != "127.0.0.21" {
		t.Errorf("Start = %q, %v; want the freed 127.0.0.21", ip, err)
	}
}

func TestDockerRunnerWaitPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	tests := []struct {
		name    string
		listen  bool
		running string
		wantErr bool
	}{
		{"listening", true, "true", false},
		{"container exited", false, "false", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.listen {
				ln.Close()
			}
			fd := &fakeDocker{running: tt.running}
			r, err := NewDockerRunner([]string{"127.0.0.1"})
			if err != nil {
				t.Fatal(err)
			}
			r.run, r.WaitPort = fd.run, port
			_, err = r.Start(context.Background(), &TaskLaunch{ID: "w", Image: "img"})
			if (err != nil) != tt.wantErr {
				t.Errorf("Start err = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// TestDockerRunnerSSHD runs the reference sshd image when the engine and the
// image are present.
func TestDockerRunnerSSHD(t *testing.T) {
	const image = "ssh-ecs-run-task/sshd:test"
	if err := exec.Command("docker", "image", "inspect", image).Run(); err != nil {
		t.Skipf("docker or %s not available: %v", image, err)
	}
	_, hostKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(hostKey, "")
	if err != nil {
		t.Fatal(err)
	}
	clientPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(clientPub)
	if err != nil {
		t.Fatal(err)
	}
	const addr = "127.0.0.59" // outside the pools the e2e bed uses
	r, err := NewDockerRunner([]string{addr})
	if err != nil {
		t.Fatal(err)
	}
	r.WaitPort = 22
	id := "unit" + strconv.Itoa(int(randomUint16()))
	ctx := context.Background()
	ip, err := r.Start(ctx, &TaskLaunch{ID: id, Image: image, Env: []EnvVar{
		{"SSH_AUTHORIZED_KEYS", string(ssh.MarshalAuthorizedKey(sshPub))},
		{"SSH_HOST_ED25519_KEY", string(pem.EncodeToMemory(block))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background(), id) })
	if ip != addr {
		t.Errorf("ip = %q, want %q", ip, addr)
	}
	conn, err := net.Dial("tcp", net.JoinHostPort(ip, "22"))
	if err != nil {
		t.Fatal(err)
	}
	banner := make([]byte, 4)
	_, err = conn.Read(banner)
	conn.Close()
	if err != nil || string(banner) != "SSH-" {
		t.Errorf("banner = %q, %v; want SSH-", banner, err)
	}
	if err := r.Stop(ctx, id); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "name="+ContainerName(id)).Output()
	if len(strings.TrimSpace(string(out))) != 0 {
		t.Errorf("container %s still exists after Stop", ContainerName(id))
	}
}

func randomUint16() uint16 {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return uint16(b[0])<<8 | uint16(b[1])
}
