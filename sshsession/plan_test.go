package sshsession

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/windows/winetest"
)

func TestPrepareFlags(t *testing.T) {
	tests := []struct {
		name    string
		flags   []Flag
		wantErr string // substring; "" = valid
	}{
		{name: "identity, port, user", flags: []Flag{{"i", "~/.ssh/k"}, {"p", "2222"}, {"l", "bob"}}},
		{name: "-o Key=Value", flags: []Flag{{"o", "ServerAliveInterval=30"}}},
		{name: "-o Key Value", flags: []Flag{{"o", "ConnectTimeout 10"}}},
		{name: "-o keyword case-insensitive", flags: []Flag{{"o", "stricthostkeychecking=accept-new"}}},
		{name: "every implemented keyword", flags: []Flag{
			{"o", "User=u"}, {"o", "Port=22"}, {"o", "IdentityFile=/k"}, {"o", "IdentitiesOnly=yes"},
			{"o", "IdentityAgent=none"}, {"o", "ProxyJump=b"}, {"o", "StrictHostKeyChecking=no"},
			{"o", "UserKnownHostsFile=/dev/null"}, {"o", "HostKeyAlias=a"}, {"o", "ConnectTimeout=1m"},
			{"o", "ServerAliveInterval=5"}, {"o", "ServerAliveCountMax=2"}, {"o", "ForwardAgent=yes"},
			{"o", "LogLevel=ERROR"}, {"o", "HashKnownHosts=no"}, {"o", "AddressFamily=inet"},
		}},
		{name: "-q -v -A -4", flags: []Flag{{"q", ""}, {"vvv", ""}, {"A", ""}, {"4", ""}}},
		{name: "-J chain", flags: []Flag{{"J", "a@b:2200,c"}}},
		{name: "unsupported flag -L", flags: []Flag{{"L", "8080:x:80"}}, wantErr: "unsupported ssh option -L"},
		{name: "unsupported flag -C", flags: []Flag{{"C", ""}}, wantErr: "unsupported ssh option -C"},
		{name: "unsupported flag -T", flags: []Flag{{"T", ""}}, wantErr: "unsupported ssh option -T"},
		{name: "unknown flag -Q", flags: []Flag{{"Q", "cipher"}}, wantErr: "unsupported ssh option -Q"},
		{name: "unknown keyword", flags: []Flag{{"o", "ControlMaster=auto"}}, wantErr: "unsupported ssh option -o ControlMaster"},
		{name: "bad port", flags: []Flag{{"p", "http"}}, wantErr: `bad port "http"`},
		{name: "bad strict value", flags: []Flag{{"o", "StrictHostKeyChecking=maybe"}}, wantErr: "StrictHostKeyChecking"},
		{name: "missing value", flags: []Flag{{"i", ""}}, wantErr: "-i needs a value"},
		{name: "value for a no-value flag", flags: []Flag{{"q", "x"}}, wantErr: "takes no value"},
		{name: "-o without value", flags: []Flag{{"o", "Port"}}, wantErr: "want Key=Value"},
		{name: "bad jump port", flags: []Flag{{"J", "b:x"}}, wantErr: "bad port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Prepare(Config{Host: "h", Flags: tt.flags, HomeDir: winetest.TempDir(t)})
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Prepare error = %v; want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// hopView is what tests compare of a resolved hop.
type hopView struct {
	HostName, User string
	Port           int
	IdentityFiles  []string
	KnownHosts     []string
	Strict         string
	Alive          time.Duration
	Timeout        time.Duration
	Jumps          []string
}

func view(p *Plan) hopView {
	h := p.target
	v := hopView{HostName: h.hostName, User: h.user, Port: h.port, IdentityFiles: h.identityFiles,
		KnownHosts: h.knownHosts, Strict: h.strict, Alive: h.aliveInterval, Timeout: h.connectTimeout}
	for _, j := range p.jumps {
		v.Jumps = append(v.Jumps, j.String())
	}
	return v
}

func TestSSHConfig(t *testing.T) {
	const config = `
# comment
Host bastion
  HostName 10.0.0.1
  User jump
  Port 2200

Match exec "test -f /nonexistent"
  User from-match-exec
  IdentityFile ~/.ssh/never

Match user deploy
  Port 9999

Host i-* web-*
  User ec2-user
  IdentityFile ~/.ssh/ecs_%h_%r
  ProxyJump bastion
  ServerAliveInterval 1m

Match host web-*
  StrictHostKeyChecking accept-new

Host *
  User default
  Port 22
  UserKnownHostsFile ~/.ssh/kh %d/kh2
  ConnectTimeout 7
`
	tests := []struct {
		name  string
		host  string
		flags []Flag
		user  string
		want  hopView
	}{
		// ~/… is joined with the home directory (backslashes on Windows);
		// %d/… is kept as written, as ssh(1) does.
		{
			name: "instance id host rule",
			host: "i-0abc",
			want: hopView{HostName: "i-0abc", User: "ec2-user", Port: 22,
				IdentityFiles: []string{filepath.Join("HOME", ".ssh", "ecs_i-0abc_ec2-user")},
				KnownHosts:    []string{filepath.Join("HOME", ".ssh", "kh"), "HOME/kh2"}, Strict: "ask",
				Alive: time.Minute, Timeout: 7 * time.Second, Jumps: []string{"jump@10.0.0.1:2200"}},
		},
		{
			name:  "command line wins over ssh_config",
			host:  "i-0abc",
			flags: []Flag{{"p", "2022"}, {"i", "/k1"}, {"J", "none"}, {"o", "ServerAliveInterval=0"}},
			user:  "admin",
			want: hopView{HostName: "i-0abc", User: "admin", Port: 2022,
				IdentityFiles: []string{"/k1", filepath.Join("HOME", ".ssh", "ecs_i-0abc_admin")},
				KnownHosts:    []string{filepath.Join("HOME", ".ssh", "kh"), "HOME/kh2"}, Strict: "ask", Timeout: 7 * time.Second},
		},
		{
			name: "Match host applies, unknown Match blocks skipped",
			host: "web-1",
			want: hopView{HostName: "web-1", User: "ec2-user", Port: 22,
				IdentityFiles: []string{filepath.Join("HOME", ".ssh", "ecs_web-1_ec2-user")},
				KnownHosts:    []string{filepath.Join("HOME", ".ssh", "kh"), "HOME/kh2"}, Strict: "accept-new",
				Alive: time.Minute, Timeout: 7 * time.Second, Jumps: []string{"jump@10.0.0.1:2200"}},
		},
		{
			name: "defaults from Host *",
			host: "10.1.2.3",
			want: hopView{HostName: "10.1.2.3", User: "default", Port: 22,
				KnownHosts: []string{filepath.Join("HOME", ".ssh", "kh"), "HOME/kh2"}, Strict: "ask", Timeout: 7 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := winetest.TempDir(t)
			writeFile(t, filepath.Join(home, ".ssh", "config"), config)
			var logs bytes.Buffer
			p, err := Prepare(Config{Host: tt.host, User: tt.user, Flags: tt.flags, HomeDir: home, Verbose: true, Stderr: &logs})
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			got := view(p)
			fix := func(s []string) {
				for i := range s {
					s[i] = strings.ReplaceAll(s[i], home, "HOME")
				}
			}
			fix(got.IdentityFiles)
			fix(got.KnownHosts)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("resolved (-want +got):\n%s", diff)
			}
			if n := strings.Count(logs.String(), "skipped block"); n != 2 {
				t.Errorf("verbose output mentions %d skipped blocks, want 2:\n%s", n, logs.String())
			}
		})
	}
}

func TestSSHConfigInclude(t *testing.T) {
	home := winetest.TempDir(t)
	writeFile(t, filepath.Join(home, ".ssh", "config"), "Host a\n  Include conf.d/*.conf\n  Port 2001\nHost *\n  User fallback\n")
	writeFile(t, filepath.Join(home, ".ssh", "conf.d", "x.conf"), "User from-include\nMatch exec true\n  User bad\nHost b\n  Port 2002\n")
	tests := []struct {
		host, user string
		port       int
	}{
		{"a", "from-include", 2001},
		{"b", "fallback", 2002},
	}
	for _, tt := range tests {
		p, err := Prepare(Config{Host: tt.host, HomeDir: home})
		if err != nil {
			t.Fatal(err)
		}
		if p.target.user != tt.user || p.target.port != tt.port {
			t.Errorf("%s: user %q port %d; want %q %d", tt.host, p.target.user, p.target.port, tt.user, tt.port)
		}
	}
}

func TestOpenSSHCommand(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		remote string
		want   string
	}{
		{
			name:   "plain",
			cfg:    Config{Host: "10.0.0.5", User: "ec2-user"},
			remote: "docker run --rm -i alpine echo 'a  b'",
			want:   `ssh -p 22 -l ec2-user 10.0.0.5 'docker run --rm -i alpine echo '\''a  b'\'''`,
		},
		{
			name: "flags kept in order",
			cfg: Config{Host: "i-1", User: "u", Flags: []Flag{
				{"i", "/k ey"}, {"o", "stricthostkeychecking accept-new"}, {"J", "bastion"}, {"p", "2222"}, {"vv", ""}, {"A", ""}}},
			remote: "true",
			want:   `ssh -i '/k ey' -o StrictHostKeyChecking=accept-new -J bastion -v -v -A -p 2222 -l u i-1 true`,
		},
		{
			name: "no remote command",
			cfg:  Config{Host: "h", User: "u", Flags: []Flag{{"F", "none"}, {"q", ""}}},
			want: `ssh -F none -q -p 22 -l u h`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.HomeDir = winetest.TempDir(t)
			p, err := Prepare(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.OpenSSHCommand(tt.remote); got != tt.want {
				t.Errorf("OpenSSHCommand =\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"30", 30 * time.Second, false},
		{"1m30s", 90 * time.Second, false},
		{"2h", 2 * time.Hour, false},
		{"1x", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in)
		if got != tt.want || (err != nil) != tt.bad {
			t.Errorf("parseTime(%q) = %v, %v; want %v, bad=%v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}
