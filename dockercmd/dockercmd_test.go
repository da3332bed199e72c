package dockercmd

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fullSpec uses every field of Spec, with values a shell would mangle.
var fullSpec = Spec{
	Name:    "web",
	Image:   "registry.example.com:5000/team/web:1.6.0",
	User:    "app",
	Workdir: "/srv/app",
	Env: []EnvVar{
		{"DATABASE_URL", "postgres://u:p@db:5432/app"},
		{"GREETING", `it's "quoted"  $HOME `},
		{"MULTI", "line1\nline2"},
		{"EMPTY", ""},
		{"UNICODE", "héllo 日本"},
	},
	Volumes: []Volume{
		{Kind: Bind, Source: "/var/data", ContainerPath: "/data"},
		{Kind: Bind, Source: "/etc/app", ContainerPath: "/etc/app", ReadOnly: true},
		{Kind: Anonymous, ContainerPath: "/cache"},
		{Kind: Named, Source: "shared", ContainerPath: "/shared", ReadOnly: true},
	},
	EntryPoint: []string{"/docker-entrypoint.sh", "--with", "it's"},
	Init:       true,
	Ulimits:    []Ulimit{{"nofile", 1024, 4096}, {"core", -1, -1}},
	ExtraHosts: []string{"db:10.0.0.5", "cache:10.0.0.6"},
	DNSServers: []string{"10.0.0.2"},
	Labels:     map[string]string{"team": "web", "app": "it's"},
}

func TestBuildGolden(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		opts Options
	}{
		{
			name: "minimal",
			spec: Spec{Image: "alpine"},
			opts: Options{Interactive: true, Command: []string{"true"}},
		},
		{
			name: "full_tty",
			spec: fullSpec,
			opts: Options{
				Interactive: true, TTY: true, Name: "ssh-ecs-run-task-1",
				Labels:  map[string]string{"ssh-ecs-run-task": "1", "by": "me"},
				Command: []string{"sh", "-c", `echo "a  b"; exit 3`},
			},
		},
		{
			name: "full_no_env_no_volumes_overrides",
			spec: fullSpec,
			opts: Options{
				NoEnv: true, NoVolumes: true, Interactive: true,
				Image: "other/image:latest", Tag: "2.0",
				User: "root", Workdir: "/tmp",
				Command: []string{"id"},
			},
		},
		{
			name: "user_entrypoint_and_init_win",
			spec: fullSpec,
			opts: Options{
				Interactive: true,
				DockerArgs:  []string{"--init", "-e", "GREETING=hi", "--entrypoint", "/bin/sh", "-it"},
				Command:     []string{"-c", "env"},
			},
		},
		{
			name: "user_entrypoint_inline",
			spec: Spec{Image: "app@sha256:0123abcd", EntryPoint: []string{"tini", "--"}},
			opts: Options{
				Tag:        "v9",
				DockerArgs: []string{"--entrypoint=", "-eX=1"},
				Command:    []string{"--", "-x"},
			},
		},
		{
			name: "task_entrypoint_kept",
			spec: Spec{Image: "app:1", EntryPoint: []string{"tini", "--"}},
			opts: Options{Interactive: true, DockerArgs: []string{"-e", "--entrypoint"}, Command: []string{"bash"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Build(tt.spec, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, a := range got {
				b.WriteString(strconv.Quote(a))
				b.WriteByte('\n')
			}
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("Build mismatch with %s (-want +got):\n%s", path, diff)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		opts    Options
		wantErr string
	}{
		{"no image", Spec{}, Options{}, "no image"},
		{"dash image", Spec{Image: "-x"}, Options{}, `invalid image "-x"`},
		{"env name with =", Spec{Image: "a", Env: []EnvVar{{"A=B", "c"}}}, Options{}, `invalid environment variable name "A=B"`},
		{"empty env name", Spec{Image: "a", Env: []EnvVar{{"", "c"}}}, Options{}, `invalid environment variable name ""`},
		{"bind without source", Spec{Image: "a", Volumes: []Volume{{Kind: Bind, ContainerPath: "/x"}}}, Options{}, `bind volume at "/x" has no source`},
		{"named without source", Spec{Image: "a", Volumes: []Volume{{Kind: Named, ContainerPath: "/x"}}}, Options{}, `named volume at "/x" has no source`},
		{"no container path", Spec{Image: "a", Volumes: []Volume{{Kind: Bind, Source: "/s"}}}, Options{}, `bind volume "/s" has no container path`},
		{"unknown kind", Spec{Image: "a", Volumes: []Volume{{Kind: 7, ContainerPath: "/x"}}}, Options{}, "unknown volume kind 7"},
		{"ulimit name", Spec{Image: "a", Ulimits: []Ulimit{{}}}, Options{}, "ulimit without a name"},
		{"label key", Spec{Image: "a", Labels: map[string]string{"a=b": ""}}, Options{}, `invalid label key "a=b"`},
		{"dangling docker option", Spec{Image: "a"}, Options{DockerArgs: []string{"-e"}}, "docker option -e needs a value"},
		{"positional in docker args", Spec{Image: "a"}, Options{DockerArgs: []string{"--rm", "image2"}}, `"image2" is not a docker run option`},
	}
	for _, tt := range tests {
		got, err := Build(tt.spec, tt.opts)
		if err == nil {
			t.Errorf("%s: Build = %q, want error containing %q", tt.name, got, tt.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: Build error = %q, want it to contain %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestBuildOverrides(t *testing.T) {
	spec := Spec{Image: "app:1", User: "task-user", Workdir: "/task", Init: true}
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"task values", Options{Command: []string{"x"}},
			[]string{"docker", "run", "--rm", "--init", "-u", "task-user", "-w", "/task", "app:1", "x"}},
		{"overrides", Options{User: "root", Workdir: "/", Command: []string{"x"}},
			[]string{"docker", "run", "--rm", "--init", "-u", "root", "-w", "/", "app:1", "x"}},
		{"user --init=false", Options{DockerArgs: []string{"--init=false"}, Command: []string{"x"}},
			[]string{"docker", "run", "--rm", "-u", "task-user", "-w", "/task", "--init=false", "app:1", "x"}},
	}
	for _, tt := range tests {
		got, err := Build(spec, tt.opts)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Build mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestReplaceTag(t *testing.T) {
	tests := []struct {
		image, tag, want string
	}{
		{"registry:5000/app:1.6", "2.0", "registry:5000/app:2.0"},
		{"registry.example.com:5000/team/web:1.6.0", "2.0", "registry.example.com:5000/team/web:2.0"},
		{"app", "2.0", "app:2.0"},
		{"app:latest", "2.0", "app:2.0"},
		{"app@sha256:0123abcd", "2.0", "app:2.0"},
		{"app:1.0@sha256:0123abcd", "2.0", "app:2.0"},
		{"registry:5000/app", "2.0", "registry:5000/app:2.0"},
		{"registry:5000/app@sha256:0123", "2.0", "registry:5000/app:2.0"},
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com/web:abc", "def", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:def"},
		{"library/app:1", "", "library/app:1"},
		{"", "2.0", ":2.0"},
	}
	for _, tt := range tests {
		if got := ReplaceTag(tt.image, tt.tag); got != tt.want {
			t.Errorf("ReplaceTag(%q, %q) = %q, want %q", tt.image, tt.tag, got, tt.want)
		}
	}
}

func TestScanOption(t *testing.T) {
	tests := []struct {
		args       []string
		want       Option
		wantDetach bool
	}{
		{[]string{"--rm", "x"}, Option{Name: "rm", Tokens: 1}, false},
		{[]string{"--env", "A=1"}, Option{Name: "env", Value: "A=1", HasValue: true, Tokens: 2}, false},
		{[]string{"--env=A=1"}, Option{Name: "env", Value: "A=1", HasValue: true, Tokens: 1}, false},
		{[]string{"--sig-proxy=false"}, Option{Name: "sig-proxy", Value: "false", HasValue: true, Tokens: 1}, false},
		{[]string{"-it"}, Option{Name: "it", Short: true, Tokens: 1}, false},
		{[]string{"-e", "-d"}, Option{Name: "e", Short: true, Value: "-d", HasValue: true, Tokens: 2}, false},
		{[]string{"-eA=1"}, Option{Name: "e", Short: true, Value: "A=1", HasValue: true, Tokens: 1}, false},
		{[]string{"-e=A=1"}, Option{Name: "e", Short: true, Value: "A=1", HasValue: true, Tokens: 1}, false},
		{[]string{"-itv", "/a:/b"}, Option{Name: "itv", Short: true, Value: "/a:/b", HasValue: true, Tokens: 2}, false},
		{[]string{"-itp8080:80"}, Option{Name: "itp", Short: true, Value: "8080:80", HasValue: true, Tokens: 1}, false},
		{[]string{"-ed"}, Option{Name: "e", Short: true, Value: "d", HasValue: true, Tokens: 1}, false},
		{[]string{"-d"}, Option{Name: "d", Short: true, Tokens: 1}, true},
		{[]string{"-itd"}, Option{Name: "itd", Short: true, Tokens: 1}, true},
		{[]string{"-dv", "/x"}, Option{Name: "dv", Short: true, Value: "/x", HasValue: true, Tokens: 2}, true},
		{[]string{"-d=false"}, Option{Name: "d", Short: true, Value: "false", HasValue: true, Tokens: 1}, true},
		{[]string{"--detach"}, Option{Name: "detach", Tokens: 1}, true},
		{[]string{"--detach=false"}, Option{Name: "detach", Value: "false", HasValue: true, Tokens: 1}, true},
		{[]string{"--unknown-opt", "v"}, Option{Name: "unknown-opt", Value: "v", HasValue: true, Tokens: 2}, false},
	}
	for _, tt := range tests {
		got, err := ScanOption(tt.args)
		if err != nil {
			t.Errorf("ScanOption(%q) error: %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ScanOption(%q) mismatch (-want +got):\n%s", tt.args, diff)
		}
		if gotDetach := got.Detach(); gotDetach != tt.wantDetach {
			t.Errorf("ScanOption(%q).Detach() = %v, want %v", tt.args, gotDetach, tt.wantDetach)
		}
	}
}

func TestScanOptionErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"-e"}, "docker option -e needs a value"},
		{[]string{"-e", "--"}, "docker option -e needs a value"},
		{[]string{"-itv"}, "docker option -v needs a value"},
		{[]string{"--name"}, "docker option --name needs a value"},
		{[]string{"--name", "--"}, "docker option --name needs a value"},
		{[]string{"image"}, `"image" is not a docker run option`},
		{[]string{"-"}, `"-" is not a docker run option`},
		{[]string{"--"}, `"--" is not a docker run option`},
		{[]string{"---x"}, `"---x" is not a docker run option`},
		{[]string{"--=x"}, `"--=x" is not a docker run option`},
		{[]string{""}, `"" is not a docker run option`},
	}
	for _, tt := range tests {
		got, err := ScanOption(tt.args)
		if err == nil {
			t.Errorf("ScanOption(%q) = %+v, want error containing %q", tt.args, got, tt.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ScanOption(%q) error = %q, want it to contain %q", tt.args, err, tt.wantErr)
		}
	}
}

func FuzzBuild(f *testing.F) {
	f.Add("value", "it's", "bash", "-c", "echo hi", false)
	f.Add("", "$(id)", "", "`x`", "a\nb", true)
	f.Add("--rm", "-e", "-e", "--entrypoint", "registry:5000/app:1.6", true)
	f.Fuzz(func(t *testing.T, env1, env2, cmd0, cmd1, cmd2 string, entry bool) {
		spec := Spec{
			Image:   "registry:5000/app:1.6",
			Env:     []EnvVar{{"ONE", env1}, {"TWO", env2}},
			Volumes: []Volume{{Kind: Bind, Source: "/s", ContainerPath: "/d"}},
			Labels:  map[string]string{"l": env1},
		}
		var epArgs []string
		if entry {
			spec.EntryPoint = []string{"ep", env2, cmd0}
			epArgs = spec.EntryPoint[1:]
		}
		cmd := []string{cmd0, cmd1, cmd2}
		got, err := Build(spec, Options{Interactive: true, Command: cmd})
		if err != nil {
			t.Fatal(err)
		}
		tail := slices.Concat(epArgs, cmd)
		imageAt := len(got) - len(tail) - 1
		if imageAt < 0 || got[imageAt] != spec.Image {
			t.Fatalf("Build = %q: image %q not right before %q", got, spec.Image, tail)
		}
		if diff := cmp.Diff(tail, got[imageAt+1:]); diff != "" {
			t.Errorf("Build = %q: tail after the image (-want +got):\n%s", got, diff)
		}
		if i := slices.Index(got[:imageAt], spec.Image); i >= 0 {
			t.Errorf("Build = %q: image also at %d", got, i)
		}
		// Before the image, every option is ours and takes one element each.
		var envs []string
		for i := 2; i < imageAt; i++ {
			if !strings.HasPrefix(got[i], "-") {
				t.Fatalf("Build = %q: %q at %d is not an option", got, got[i], i)
			}
			if TakesValue(strings.TrimLeft(got[i], "-")) {
				i++
				if got[i-1] == "-e" {
					envs = append(envs, got[i])
				}
			}
		}
		if diff := cmp.Diff([]string{"ONE=" + env1, "TWO=" + env2}, envs); diff != "" {
			t.Errorf("Build = %q: env elements (-want +got):\n%s", got, diff)
		}
	})
}

func BenchmarkBuild(b *testing.B) {
	opts := Options{
		Interactive: true, TTY: true, Name: "n",
		DockerArgs: []string{"-e", "X=1", "--network", "host"},
		Command:    []string{"sh", "-c", "echo hi"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(fullSpec, opts); err != nil {
			b.Fatal(err)
		}
	}
}
