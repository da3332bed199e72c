//go:build windows

package sshsession

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/windows/winetest"
)

// TestHomeIsUserProfile: without Config.HomeDir, ~ is %USERPROFILE% (what
// os.UserHomeDir reads on Windows), never $HOME.
func TestHomeIsUserProfile(t *testing.T) {
	t.Setenv("USERPROFILE", `C:\Users\me`)
	t.Setenv("HOME", "/home/not-me")
	p, err := Prepare(Config{Host: "h", Flags: []Flag{{"i", "~/.ssh/k1"}, {"i", `~\.ssh\k2`}, {"o", `UserKnownHostsFile=~/kh %d\kh2`}}})
	if err != nil {
		t.Fatal(err)
	}
	if p.home != `C:\Users\me` {
		t.Errorf("home %q, want %q", p.home, `C:\Users\me`)
	}
	if want := []string{`C:\Users\me\.ssh\k1`, `C:\Users\me\.ssh\k2`}; !slices.Equal(p.target.identityFiles, want) {
		t.Errorf("identity files %q, want %q", p.target.identityFiles, want)
	}
	if want := []string{`C:\Users\me\kh`, `C:\Users\me\kh2`}; !slices.Equal(p.target.knownHosts, want) {
		t.Errorf("known_hosts files %q, want %q", p.target.knownHosts, want)
	}

	p, err = Prepare(Config{Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`C:\Users\me\.ssh\known_hosts`, `C:\Users\me\.ssh\known_hosts2`}; !slices.Equal(p.target.knownHosts, want) {
		t.Errorf("default known_hosts files %q, want %q", p.target.knownHosts, want)
	}
}

// TestWindowsPathsLiteral: a backslash in a path is a separator, not an
// escape, in --ssh-i, --ssh-o values, -F and ssh_config alike.
func TestWindowsPathsLiteral(t *testing.T) {
	home := winetest.TempDir(t)
	cfgDir := winetest.TempDir(t)
	cfg := filepath.Join(cfgDir, "my config")
	writeFile(t, cfg, "Host h\r\n  IdentityFile C:\\keys\\from config\r\n  IdentityAgent \\\\.\\pipe\\my-agent\r\n  GlobalKnownHostsFile C:\\ProgramData\\ssh\\ssh_known_hosts\r\n")
	p, err := Prepare(Config{Host: "h", HomeDir: home, Flags: []Flag{
		{"i", `C:\x\key`},
		{"o", `IdentityFile=C:\Program Files\keys\id`},
		{"o", `UserKnownHostsFile=C:\x\kh`},
		{"F", cfg},
	}})
	if err != nil {
		t.Fatal(err)
	}
	h := p.target
	if want := []string{`C:\x\key`, `C:\Program Files\keys\id`, `C:\keys\from config`}; !slices.Equal(h.identityFiles, want) {
		t.Errorf("identity files %q, want %q", h.identityFiles, want)
	}
	if want := []string{`C:\x\kh`}; !slices.Equal(h.knownHosts, want) {
		t.Errorf("known_hosts files %q, want %q", h.knownHosts, want)
	}
	if want := []string{`C:\ProgramData\ssh\ssh_known_hosts`}; !slices.Equal(h.globalHosts, want) {
		t.Errorf("global known_hosts files %q, want %q", h.globalHosts, want)
	}
	if want := `\\.\pipe\my-agent`; h.identityAgent != want {
		t.Errorf("identity agent %q, want %q", h.identityAgent, want)
	}
}

// TestSystemFilesUnderProgramData: the system-wide ssh_config and
// known_hosts are Win32-OpenSSH's, under %ProgramData%\ssh.
func TestSystemFilesUnderProgramData(t *testing.T) {
	t.Setenv("ProgramData", `D:\PD`)
	if got, want := filepath.Join(programData(), "ssh", "ssh_config"), `D:\PD\ssh\ssh_config`; got != want {
		t.Errorf("system ssh_config %q, want %q", got, want)
	}
	t.Setenv("ProgramData", "")
	if got, want := programData(), `C:\ProgramData`; got != want {
		t.Errorf("ProgramData default %q, want %q", got, want)
	}
}
