package shellquote

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQuote(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `''`},
		{"bash", `bash`},
		{"-it", `-it`},
		{"--rm", `--rm`},
		{"registry:5000/app:1.6", `registry:5000/app:1.6`},
		{"a,b@c%d+e", `a,b@c%d+e`},
		{"--label=k=v", `--label=k=v`},
		{"1A=b", `1A=b`},
		{"FOO=bar", `'FOO=bar'`},
		{"_x=1", `'_x=1'`},
		{"=ls", `'=ls'`},
		{"a b", `'a b'`},
		{"it's", `'it'\''s'`},
		{"'", `''\'''`},
		{"$(id)", `'$(id)'`},
		{"`id`", "'`id`'"},
		{"a\nb", "'a\nb'"},
		{"~", `'~'`},
		{"*", `'*'`},
		{"!", `'!'`},
		{"{a,b}", `'{a,b}'`},
		{"héllo", `'héllo'`},
		{`a\b`, `'a\b'`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestJoin(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{""}, `''`},
		{[]string{"", ""}, `'' ''`},
		{[]string{"docker", "run", "-e", "A=it's"}, `docker run -e 'A=it'\''s'`},
		{[]string{"sh", "-c", `echo "a  b"; exit 3`}, `sh -c 'echo "a  b"; exit 3'`},
	}
	for _, tt := range tests {
		if got := Join(tt.in); got != tt.want {
			t.Errorf("Join(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// roundTripCases are argv that a shell would mangle unless quoted.
var roundTripCases = [][]string{
	{"plain"},
	{""},
	{"", "", ""},
	{"a b", "  leading", "trailing  ", "\ttab"},
	{"it's", "'", "''", `"`, `\`, `\'`},
	{"$(id)", "$HOME", "${x:-y}", "`id`", "$((1+1))"},
	{"line1\nline2", "\n", "\r\n"},
	{"-n", "-e", "--", "-", "--rm"},
	{"héllo", "日本語", "\xff\xfe", "🙂"},
	{"!", "!!", "*", "?", "[a]", "~", "~root", "~/x", "{a,b}", "#c"},
	{"FOO=bar", "=cmd", "a=b", "x;y", "a|b", "a&b", "a>b", "a<b", "(x)"},
	{"registry:5000/app:1.6", "--label=k=v", "100%", "a,b", "user@host"},
}

// shellSplit runs argv joined through /bin/sh and returns the words it saw.
func shellSplit(t *testing.T, argv []string) []string {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh to split the words:", err)
	}
	cmd := exec.Command("/bin/sh", "-c", "printf '%s\\0' "+Join(argv))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh -c printf %s: %v: %s", Join(argv), err, stderr.String())
	}
	got := strings.Split(string(out), "\x00")
	if got[len(got)-1] != "" {
		t.Fatalf("output %q does not end in NUL", out)
	}
	return got[:len(got)-1]
}

func TestJoinRoundTripThroughSh(t *testing.T) {
	for _, argv := range roundTripCases {
		got := shellSplit(t, argv)
		if diff := cmp.Diff(argv, got); diff != "" {
			t.Errorf("sh split Join(%q) differently (-want +got):\n%s", argv, diff)
		}
	}
}

func FuzzJoinRoundTrip(f *testing.F) {
	for _, argv := range roundTripCases {
		f.Add(strings.Join(argv, "\x00"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64<<10 {
			t.Skip("longer than one exec argument may be")
		}
		// NUL separates the words: it is the one byte an argument cannot hold.
		argv := strings.Split(s, "\x00")
		got := shellSplit(t, argv)
		if diff := cmp.Diff(argv, got); diff != "" {
			t.Errorf("sh split %s differently (-want +got):\n%s", Join(argv), diff)
		}
	})
}

func BenchmarkJoin(b *testing.B) {
	argv := []string{"sudo", "-u", "root", "--", "docker", "run", "--rm", "-i", "-t",
		"-e", "DATABASE_URL=postgres://u:p@db/app", "-e", "GREETING=it's a  test",
		"-v", "/data:/data:ro", "registry:5000/app:1.6", "sh", "-c", `echo "a  b"; exit 3`}
	b.ReportAllocs()
	for b.Loop() {
		_ = Join(argv)
	}
}
