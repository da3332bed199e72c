package sudo

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestArity(t *testing.T) {
	tests := []struct {
		flag      string
		wantValue bool
	}{
		// No-value short flags of SPEC §2.4 (the forbidden -A -b -e -s are below).
		{"-E", false}, {"-H", false}, {"-h", false}, {"-i", false},
		{"-K", false}, {"-k", false}, {"-l", false}, {"-n", false},
		{"-P", false}, {"-S", false}, {"-V", false}, {"-v", false},
		// No-value long flags.
		{"--login", false}, {"--preserve-env", false}, {"--set-home", false},
		{"--preserve-groups", false}, {"--non-interactive", false},
		{"--reset-timestamp", false}, {"--stdin", false},
		// One token that carries its own value.
		{"--preserve-env=PATH,HOME", false}, {"--preserve-env=", false},
		{"--user=bob", false}, {"--chdir=/tmp", false},
		// Flags that take the next argument.
		{"-u", true}, {"-g", true}, {"-C", true}, {"-D", true}, {"-r", true},
		{"-t", true}, {"-T", true}, {"-U", true}, {"-R", true},
		{"--user", true}, {"--group", true}, {"--chdir", true}, {"--close-from", true},
		{"--role", true}, {"--type", true}, {"--command-timeout", true},
		{"--other-user", true}, {"--chroot", true}, {"--host", true},
	}
	for _, tt := range tests {
		got, err := Arity(tt.flag)
		if err != nil {
			t.Errorf("Arity(%q) error: %v", tt.flag, err)
			continue
		}
		if got != tt.wantValue {
			t.Errorf("Arity(%q) = %v, want %v", tt.flag, got, tt.wantValue)
		}
	}
}

func TestArityErrors(t *testing.T) {
	tests := []struct {
		flag    string
		wantErr string
	}{
		{"-s", "forbidden sudo option -s (--shell)"},
		{"--shell", "forbidden sudo option -s (--shell)"},
		{"--shell=/bin/sh", "forbidden sudo option -s (--shell)"},
		{"-p", "forbidden sudo option -p (--prompt)"},
		{"--prompt", "forbidden sudo option -p (--prompt)"},
		{"--prompt=x", "forbidden sudo option -p (--prompt)"},
		{"-b", "forbidden sudo option -b (--background)"},
		{"--background", "forbidden sudo option -b (--background)"},
		{"-A", "forbidden sudo option -A (--askpass)"},
		{"--askpass", "forbidden sudo option -A (--askpass)"},
		{"-e", "forbidden sudo option -e (--edit)"},
		{"--edit", "forbidden sudo option -e (--edit)"},
		{"-uroot", `invalid sudo option "-uroot": a short sudo option is one letter`},
		{"-u=root", `invalid sudo option "-u=root"`},
		{"-preserve-groups", `invalid sudo option "-preserve-groups": a short sudo option is one letter; the long option is --preserve-groups`},
		{"-user", `the long option is --user`},
		{"-shell", `the long option is --shell`},
		{"-1", `invalid sudo option "-1"`},
		{"-", `invalid sudo option "-"`},
		{"", `invalid sudo option ""`},
		{"u", `invalid sudo option "u"`},
		{"--", `invalid sudo option "--"`},
		{"---user", `invalid sudo option "---user"`},
		{"--user-", `invalid sudo option "--user-"`},
		{"--us er", `invalid sudo option "--us er"`},
		{"=x", `invalid sudo option "=x"`},
		{"--login=yes", `sudo option --login takes no value`},
		{"--stdin=1", `sudo option --stdin takes no value`},
	}
	for _, tt := range tests {
		got, err := Arity(tt.flag)
		if err == nil {
			t.Errorf("Arity(%q) = %v, want error containing %q", tt.flag, got, tt.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Arity(%q) error = %q, want it to contain %q", tt.flag, err, tt.wantErr)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		sudoArgs, argv, want []string
	}{
		{nil, []string{"docker", "run"}, []string{"sudo", "--", "docker", "run"}},
		{
			[]string{"-u", "root", "--login"}, []string{"docker", "run", "-i"},
			[]string{"sudo", "-u", "root", "--login", "--", "docker", "run", "-i"},
		},
		{
			[]string{"-n"}, []string{"-s", "it's"},
			[]string{"sudo", "-n", "--", "-s", "it's"},
		},
	}
	for _, tt := range tests {
		got := Wrap(tt.sudoArgs, tt.argv)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Wrap(%q, %q) mismatch (-want +got):\n%s", tt.sudoArgs, tt.argv, diff)
		}
	}
}

func TestWrapDoesNotAliasInput(t *testing.T) {
	sudoArgs := make([]string, 1, 8)
	sudoArgs[0] = "-n"
	got := Wrap(sudoArgs, []string{"id"})
	got[1] = "changed"
	if sudoArgs[0] != "-n" {
		t.Errorf("Wrap wrote through to its sudoArgs: %q", sudoArgs)
	}
}
