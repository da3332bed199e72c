package cliargs

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// base is what Parse returns for "--task t -- cmd"; cases change fields of a copy.
func base(change func(p *Parsed)) *Parsed {
	p := &Parsed{Task: "t", WaitTimeout: DefaultWaitTimeout, Command: []string{"cmd"}}
	if change != nil {
		change(p)
	}
	return p
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want *Parsed
	}{
		{"minimal", []string{"--task", "t", "--", "cmd"}, base(nil)},
		{"inline value", []string{"--task=t", "--", "cmd"}, base(nil)},
		{
			"command is byte for byte after the first --",
			[]string{"--task", "t", "--", "sh", "-c", `echo "a  b"; exit 3`, "--", "--task", "", "+e"},
			base(func(p *Parsed) { p.Command = []string{"sh", "-c", `echo "a  b"; exit 3`, "--", "--task", "", "+e"} }),
		},
		{
			"tool options",
			[]string{
				"--task", "ecscompose-web--staging:3", "--cluster", "web--staging", "--container", "web",
				"--instance", "-1", "--domain", "example.com", "--address", "name", "--image", "app:1",
				"--tag", "2.0", "-w", "/srv", "--user", "nobody", "--ssh-user", "ec2-user",
				"--verbose", "--debug", "--non-interactive", "--dry-run", "--profile", "prod",
				"--region", "eu-west-1", "+e", "+v", "--", "bash",
			},
			&Parsed{
				Task: "ecscompose-web--staging:3", Cluster: "web--staging", Container: "web",
				Instance: "-1", Domain: "example.com", Address: "name", Image: "app:1", Tag: "2.0",
				Workdir: "/srv", User: "nobody", SSHUser: "ec2-user", Verbose: true, Debug: true,
				NonInteractive: true, DryRun: true, Profile: "prod", Region: "eu-west-1",
				NoEnv: true, NoVolumes: true, WaitTimeout: DefaultWaitTimeout, Command: []string{"bash"},
			},
		},
		{"workdir forms", []string{"--task", "t", "--workdir=/a", "-w/b", "--", "cmd"}, base(func(p *Parsed) { p.Workdir = "/b" })},
		{"workdir -w=", []string{"--task", "t", "-w=/c", "--", "cmd"}, base(func(p *Parsed) { p.Workdir = "/c" })},
		{"last value wins", []string{"--task", "a", "--task", "t", "--", "cmd"}, base(nil)},
		{"service instead of task", []string{"--service", "s", "--", "cmd"},
			base(func(p *Parsed) { p.Task, p.Service = "", "s" })},
		{
			"sudo",
			[]string{"--task", "t", "--sudo-u", "root", "--sudo--login", "--sudo--preserve-env=A,B", "--sudo--chdir", "/x", "--sudo-n", "--", "cmd"},
			base(func(p *Parsed) {
				p.Sudo = true
				p.SudoArgs = []string{"-u", "root", "--login", "--preserve-env=A,B", "--chdir", "/x", "-n"}
			}),
		},
		{"plain sudo", []string{"--sudo", "--task", "t", "--", "cmd"}, base(func(p *Parsed) { p.Sudo = true })},
		{"sudo value looks like an option", []string{"--task", "t", "--sudo-u", "-n", "--", "cmd"},
			base(func(p *Parsed) { p.Sudo, p.SudoArgs = true, []string{"-u", "-n"} })},
		{
			"ssh",
			[]string{"--task", "t", "--ssh-i", "~/.ssh/key", "--ssh-vvv", "--ssh-o", "User=ec2-user", "--ssh-q", "--ssh-p=2222", "--ssh-A", "--ssh-4", "--", "cmd"},
			base(func(p *Parsed) {
				p.SSHFlags = []SSHFlag{
					{Name: "i", Value: "~/.ssh/key", HasValue: true},
					{Name: "vvv"},
					{Name: "o", Value: "User=ec2-user", HasValue: true},
					{Name: "q"},
					{Name: "p", Value: "2222", HasValue: true},
					{Name: "A"},
					{Name: "4"},
				}
			}),
		},
		{"ssh -vvv does not swallow", []string{"--ssh-vvv", "--sudo-u", "bob", "--task", "t", "--", "cmd"},
			base(func(p *Parsed) {
				p.SSHFlags = []SSHFlag{{Name: "vvv"}}
				p.Sudo, p.SudoArgs = true, []string{"-u", "bob"}
			})},
		{
			"docker options keep their exact tokens",
			[]string{"--task", "t", "-e", "FOO=a b", "--env=X=1", "-it", "--rm", "-p", "8080:80", "-eY=2",
				"--network", "host", "--init", "--entrypoint", "", "-e", "--task", "--name", "n", "--", "cmd"},
			base(func(p *Parsed) {
				p.DockerArgs = []string{"-e", "FOO=a b", "--env=X=1", "-it", "--rm", "-p", "8080:80", "-eY=2",
					"--network", "host", "--init", "--entrypoint", "", "-e", "--task", "--name", "n"}
			}),
		},
		{"timeout", []string{"--task", "t", "--timeout", "45s", "--", "cmd"},
			base(func(p *Parsed) { p.Timeout = 45 * time.Second })},
		{"docker long option with inline value", []string{"--task", "t", "--sig-proxy=false", "--", "cmd"},
			base(func(p *Parsed) { p.DockerArgs = []string{"--sig-proxy=false"} })},
		{
			"fargate",
			[]string{"--launch-type", "fargate", "--task", "t", "--subnets", "subnet-a, subnet-b", "--subnets=subnet-c",
				"--security-groups", "sg-1", "--assign-public-ip", "--platform-version", "1.4.0", "--wait-timeout", "90s",
				"--ssh-p", "22", "+e", "--", "cmd"},
			base(func(p *Parsed) {
				p.LaunchType = "FARGATE"
				p.Subnets = []string{"subnet-a", "subnet-b", "subnet-c"}
				p.SecurityGroups = []string{"sg-1"}
				p.AssignPublicIP = true
				p.PlatformVersion = "1.4.0"
				p.WaitTimeout = 90 * time.Second
				p.SSHFlags = []SSHFlag{{Name: "p", Value: "22", HasValue: true}}
				p.NoEnv = true
			}),
		},
		{"launch type EC2", []string{"--launch-type", "ec2", "--task", "t", "--", "cmd"}, base(nil)},
		{"with secrets", []string{"--task", "t", "--with-secrets", "--", "cmd"}, base(func(p *Parsed) { p.WithSecrets = true })},
		{"with secrets and explicit EC2", []string{"--with-secrets", "--launch-type", "EC2", "--task", "t", "--", "cmd"},
			base(func(p *Parsed) { p.WithSecrets = true })},
		{"help needs nothing else", []string{"-h"}, &Parsed{Help: true, WaitTimeout: DefaultWaitTimeout}},
		{"--help", []string{"--task", "t", "--help"}, &Parsed{Task: "t", Help: true, WaitTimeout: DefaultWaitTimeout}},
		{"version", []string{"--version"}, &Parsed{Version: true, WaitTimeout: DefaultWaitTimeout}},
		{"--help after -- is the command", []string{"--task", "t", "--", "--help"}, base(func(p *Parsed) { p.Command = []string{"--help"} })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.args, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestParseAddresses(t *testing.T) {
	for _, a := range Addresses {
		got, err := Parse([]string{"--task", "t", "--address", a, "--", "cmd"})
		if err != nil {
			t.Errorf("--address %s: %v", a, err)
			continue
		}
		if got.Address != a {
			t.Errorf("--address %s: Address = %q, want %q", a, got.Address, a)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		args     []string
		wantMsg  string
		wantHint string
	}{
		{[]string{"--task", "t"}, "no command given", commandHint},
		{[]string{"--task", "t", "bash"}, `unexpected argument "bash" before --`, commandHint},
		{[]string{"--task", "t", "--"}, "no command after --", commandHint},
		{[]string{"--task", "t", ""}, `unexpected argument "" before --`, commandHint},
		{[]string{"--", "cmd"}, "no task definition given", "--service"},
		{[]string{"--task"}, "option --task needs a value", "--task VALUE"},
		{[]string{"--task", "--", "cmd"}, "option --task needs a value", ""},
		{[]string{"--task", "--cluster", "c", "--", "cmd"}, `option --task needs a value, got option "--cluster"`, ""},
		{[]string{"--task=", "--", "cmd"}, "option --task needs a non-empty value", ""},
		{[]string{"--cluster"}, "option --cluster needs a value", ""},
		{[]string{"--task", "t", "-w"}, "option -w needs a value", ""},
		{[]string{"--task", "t", "--verbose=yes", "--", "x"}, "option --verbose takes no value", ""},
		{[]string{"--task", "t", "--address", "ip", "--", "x"}, `invalid --address "ip"`, "private-ip"},
		{[]string{"--task", "t", "--launch-type", "ecs", "--", "x"}, `invalid --launch-type "ecs"`, "FARGATE"},
		{[]string{"--task", "t", "--launch-type", "FARGATE", "--wait-timeout", "0s", "--", "x"}, `invalid --wait-timeout "0s"`, ""},
		{[]string{"--task", "t", "--launch-type", "FARGATE", "--wait-timeout", "5", "--", "x"}, `invalid --wait-timeout "5"`, ""},
		{[]string{"--task", "t", "--launch-type", "FARGATE", "--subnets", "a,,b", "--", "x"}, `empty id in --subnets "a,,b"`, ""},
		{[]string{"--task", "t", "--sudo-s", "--", "x"}, "--sudo-s: forbidden sudo option -s (--shell)", ""},
		{[]string{"--task", "t", "--sudo--edit", "--", "x"}, "--sudo--edit: forbidden sudo option -e (--edit)", ""},
		{[]string{"--task", "t", "--sudo-uroot", "--", "x"}, `--sudo-uroot: invalid sudo option "-uroot"`, ""},
		{[]string{"--task", "t", "--sudox", "--", "x"}, `--sudox: invalid sudo option "x"`, ""},
		{[]string{"--task", "t", "--sudo-u"}, "option --sudo-u needs a value", ""},
		{[]string{"--task", "t", "--sudo-u", "--", "x"}, "option --sudo-u needs a value", ""},
		{[]string{"--task", "t", "--ssh-i"}, "option --ssh-i needs a value", ""},
		{[]string{"--task", "t", "--ssh-H", "--", "x"}, "unknown ssh option --ssh-H", ""},
		{[]string{"--task", "t", "--ssh-", "--", "x"}, `invalid ssh option "--ssh-"`, ""},
		{[]string{"--task", "t", "--ssh-config", "f", "--", "x"}, "unknown ssh option --ssh-config", ""},
		{[]string{"--task", "t", "--ssh-vi", "f", "--", "x"}, "unknown ssh option --ssh-vi: only flags without a value can be grouped", "--ssh-v --ssh-i FILE"},
		{[]string{"--task", "t", "--ssh-q=1", "--", "x"}, "ssh option -q takes no value", ""},
		{[]string{"--task", "t", "-d", "--", "x"}, "docker option -d (--detach) is refused", ""},
		{[]string{"--task", "t", "-itd", "--", "x"}, "docker option -itd (--detach) is refused", ""},
		{[]string{"--task", "t", "--detach", "--", "x"}, "docker option --detach (--detach) is refused", ""},
		{[]string{"--task", "t", "-e"}, "docker option -e needs a value", ""},
		{[]string{"--task", "t", "-e", "--", "x"}, "docker option -e needs a value", ""},
		{[]string{"--task", "t", "--name", "--", "x"}, "docker option --name needs a value", ""},
		{[]string{"--task", "t", "---x", "--", "x"}, `"---x" is not a docker run option`, ""},
		{[]string{"--task", "t", "+x", "--", "x"}, `unknown option "+x"`, ""},
		{[]string{"--task", "t", "--launch-type", "FARGATE", "--instance", "1", "--", "x"}, "option --instance only works in EC2 mode", ""},
		{[]string{"--task", "t", "--sudo", "--launch-type", "FARGATE", "--", "x"}, "option --sudo only works in EC2 mode", ""},
		{[]string{"--task", "t", "--launch-type", "FARGATE", "--sudo-u", "x", "--", "x"}, "option --sudo-u only works in EC2 mode", ""},
		{[]string{"--task", "t", "--launch-type", "FARGATE", "-e", "A=1", "--", "x"}, "option -e only works in EC2 mode", ""},
		{[]string{"--task", "t", "--launch-type", "FARGATE", "--env=SECRET=x", "--", "x"}, "option --env only works in EC2 mode", ""},
		{[]string{"--task", "t", "-deSECRET=x", "--", "x"}, "docker option -de (--detach) is refused", ""},
		{[]string{"--task", "t", "--launch-type", "FARGATE", "+v", "--", "x"}, "option +v only works in EC2 mode", ""},
		{[]string{"--task", "t", "--launch-type", "FARGATE", "--domain", "d", "--", "x"}, "option --domain only works in EC2 mode", ""},
		{[]string{"--task", "t", "--launch-type", "FARGATE", "--with-secrets", "--", "x"}, "option --with-secrets only works in EC2 mode", "resolves its own secrets"},
		{[]string{"--with-secrets", "--task", "t", "--launch-type", "fargate", "--", "x"}, "option --with-secrets only works in EC2 mode", ""},
		{[]string{"--task", "t", "--with-secrets=yes", "--", "x"}, "option --with-secrets takes no value", ""},
		{[]string{"--task", "t", "--subnets", "s", "--", "x"}, "option --subnets only works with --launch-type FARGATE", "add --launch-type FARGATE"},
		{[]string{"--task", "t", "--wait-timeout", "1m", "--", "x"}, "option --wait-timeout only works with --launch-type FARGATE", ""},
		{[]string{"--task", "t", "--timeout", "soon", "--", "x"}, `invalid --timeout "soon"`, "30s"},
		{[]string{"--task", "t", "--timeout", "-1s", "--", "x"}, `invalid --timeout "-1s"`, ""},
		{[]string{"--task", "t", "--launch-type", "FARGATE", "--subnets", "s", "--timeout", "1m", "--", "x"}, "option --timeout only works in EC2 mode", ""},
	}
	for _, tt := range tests {
		got, err := Parse(tt.args)
		if err == nil {
			t.Errorf("Parse(%q) = %+v, want error %q", tt.args, got, tt.wantMsg)
			continue
		}
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("Parse(%q) error %T %v, want *UsageError", tt.args, err, err)
			continue
		}
		if !strings.Contains(ue.Msg, tt.wantMsg) {
			t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.args, ue.Msg, tt.wantMsg)
		}
		if !strings.Contains(ue.Hint, tt.wantHint) {
			t.Errorf("Parse(%q) hint = %q, want it to contain %q", tt.args, ue.Hint, tt.wantHint)
		}
		if strings.Contains(ue.Msg+ue.Hint, "SECRET") {
			t.Errorf("Parse(%q) error %q (hint %q) shows an option's value", tt.args, ue.Msg, ue.Hint)
		}
		if ue.Error() != ue.Msg {
			t.Errorf("Parse(%q): Error() = %q, want Msg %q", tt.args, ue.Error(), ue.Msg)
		}
	}
}

// checkClassification checks that a successful parse of args classified
// every token exactly once, in order, and that Parsed agrees with it.
func checkClassification(t *testing.T, args []string, p *Parsed, items []item) {
	t.Helper()
	var all, docker, sudoArgs []string
	var command []string
	sawCommand := false
	for _, it := range items {
		if len(it.tokens) == 0 {
			t.Fatalf("Parse(%q): empty item %+v", args, it)
		}
		all = append(all, it.tokens...)
		switch it.kind {
		case kindDocker:
			docker = append(docker, it.tokens...)
		case kindSudo:
			if it.tokens[0] != "--sudo" {
				sudoArgs = append(sudoArgs, it.tokens[0][len("--sudo"):])
				sudoArgs = append(sudoArgs, it.tokens[1:]...)
			}
		case kindCommand:
			sawCommand = true
			command = it.tokens[1:]
		}
	}
	if diff := cmp.Diff(args, all); diff != "" {
		t.Fatalf("Parse(%q): items do not reproduce the input (-want +got):\n%s", args, diff)
	}
	if i := slices.Index(args, "--"); i >= 0 {
		if !sawCommand {
			t.Fatalf("Parse(%q): the first -- at %d was not the separator", args, i)
		}
		if diff := cmp.Diff(args[i+1:], command); diff != "" {
			t.Errorf("Parse(%q): command item (-want +got):\n%s", args, diff)
		}
		if !slices.Equal(p.Command, args[i+1:]) {
			t.Errorf("Parse(%q).Command = %q, want %q", args, p.Command, args[i+1:])
		}
	}
	if !slices.Equal(p.DockerArgs, docker) {
		t.Errorf("Parse(%q).DockerArgs = %q, want %q", args, p.DockerArgs, docker)
	}
	if !isSubsequence(p.DockerArgs, args) {
		t.Errorf("Parse(%q).DockerArgs = %q, not an in-order subsequence of the input", args, p.DockerArgs)
	}
	if !slices.Equal(p.SudoArgs, sudoArgs) {
		t.Errorf("Parse(%q).SudoArgs = %q, want %q", args, p.SudoArgs, sudoArgs)
	}
}

func isSubsequence(sub, of []string) bool {
	for _, s := range of {
		if len(sub) > 0 && sub[0] == s {
			sub = sub[1:]
		}
	}
	return len(sub) == 0
}

func TestParseClassifiesEveryToken(t *testing.T) {
	for _, args := range fuzzSeeds {
		p, items, err := parse(args)
		if err != nil {
			t.Errorf("parse(%q): %v", args, err)
			continue
		}
		checkClassification(t, args, p, items)
	}
}

var fuzzSeeds = [][]string{
	{"--task", "t", "--", "bash"},
	{"--task=t", "-it", "-e", "A=1", "--sudo-u", "root", "--ssh-vvv", "+e", "+v", "--", "sh", "-c", "echo \"a  b\"", "--"},
	{"--service", "s", "--launch-type", "FARGATE", "--subnets", "a,b", "--wait-timeout=90s", "--", "--", "x"},
	{"-e", "--task", "--task", "t", "-w/x", "--ssh-o", "User=x", "--sudo--preserve-env=A", "--", ""},
	{"--task", "t", "--entrypoint", "", "-p8080:80", "--", "-d"},
	{"-h"},
	{"--task", "t", "--with-secrets", "+e", "--", "env"},
}

func FuzzParse(f *testing.F) {
	for _, args := range fuzzSeeds {
		f.Add(strings.Join(args, "\x00"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		p, items, err := parse(args)
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) || ue.Msg == "" {
				t.Fatalf("parse(%q) error %T %q, want a *UsageError with a message", args, err, err)
			}
			return
		}
		checkClassification(t, args, p, items)
		pub, err := Parse(args)
		if err != nil || !cmp.Equal(pub, p) {
			t.Errorf("Parse(%q) = %+v, %v; parse gave %+v", args, pub, err, p)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	args := []string{
		"--task", "ecscompose-web--staging", "--cluster", "web--staging", "--sudo-u", "root",
		"--ssh-i", "~/.ssh/key", "--ssh-o", "StrictHostKeyChecking=accept-new", "--verbose",
		"-e", "FOO=bar", "-v", "/data:/data", "--network=host", "-w", "/srv",
		"--", "sh", "-c", "echo hi",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(args); err != nil {
			b.Fatal(err)
		}
	}
}
