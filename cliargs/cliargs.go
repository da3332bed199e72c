// Package cliargs classifies the command line of ssh-ecs-run-task: tool
// options, --ssh-* and --sudo-* pass-throughs, docker run options, and the
// command after the first "--".
//
// It is pure and does no I/O. It must never split, merge, unquote or
// re-quote a token: the command is kept byte for byte as separate
// arguments, and each pass-through option keeps its exact tokens. It checks
// what can be checked without the network and leaves AWS and SSH to others.
package cliargs

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/sudo"
)

// DefaultWaitTimeout is how long Fargate mode waits for its task by default.
const DefaultWaitTimeout = 5 * time.Minute

// Parsed is the classified command line.
type Parsed struct {
	Task, Cluster, Container, Instance, Service string // Container/Instance "" = default
	Domain, Address, Image, Tag, Workdir, User  string
	NoEnv, NoVolumes                            bool     // +e, +v
	WithSecrets                                 bool     // resolve the task's secrets and environment files (EC2 mode)
	Sudo                                        bool     // --sudo or any --sudo-*
	SudoArgs                                    []string // already translated: "-u","root","--login"
	SSHUser                                     string
	SSHFlags                                    []SSHFlag // in order given
	Verbose, Debug, NonInteractive, DryRun      bool
	Profile, Region                             string
	LaunchType                                  string // "" (EC2) or "FARGATE"
	Subnets, SecurityGroups                     []string
	AssignPublicIP                              bool
	PlatformVersion                             string
	WaitTimeout                                 time.Duration // default 5m
	Timeout                                     time.Duration // EC2 mode: bound on everything before the remote command starts; 0 = none
	DockerArgs                                  []string      // pass-through, exact tokens
	Command                                     []string      // everything after the first "--"
	Help, Version                               bool
}

// SSHFlag is one --ssh-<flag> option: --ssh-o X=Y is {Name: "o", Value:
// "X=Y", HasValue: true}; --ssh-vvv is {Name: "vvv"}.
type SSHFlag struct {
	Name     string
	Value    string
	HasValue bool
}

// UsageError is a command line the tool cannot run. The tool exits 255.
type UsageError struct {
	Msg  string // what is wrong, naming the option
	Hint string // how to fix it; may be empty
}

// Error returns Msg.
func (e *UsageError) Error() string { return e.Msg }

func usagef(hint, format string, args ...any) *UsageError {
	return &UsageError{Msg: fmt.Sprintf(format, args...), Hint: hint}
}

const commandHint = "put the command after --, e.g. -- bash"

// Addresses lists the values --address accepts.
var Addresses = []string{"private-ip", "public-ip", "private-dns", "public-dns", "name", "id"}

// OpenSSH's option letters (ssh.c getopt string): with no value, with one.
const (
	sshNoValue  = "1246ACGKMNTVXYZafgknqstvxy"
	sshOneValue = "BDEFIJLOPQRSWbceilmopw"
)

// Parse classifies args, the command line without the program name. Its
// errors are *UsageError.
func Parse(args []string) (*Parsed, error) {
	p, _, err := parse(args)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// kind says what a run of tokens was classified as.
type kind int

const (
	kindTool kind = iota
	kindSudo
	kindSSH
	kindDocker
	kindCommand // the first "--" and everything after it
)

// item is one classified run of input tokens; the items of a parse,
// concatenated, are the input.
type item struct {
	kind   kind
	tokens []string
}

type parser struct {
	args  []string
	p     *Parsed
	items []item
	// The first option seen that only makes sense in one mode, as typed.
	ec2Only, fargateOnly string
}

func parse(args []string) (*Parsed, []item, error) {
	ps := &parser{args: args, p: &Parsed{WaitTimeout: DefaultWaitTimeout}}
	if err := ps.run(); err != nil {
		return nil, ps.items, err
	}
	if err := ps.check(); err != nil {
		return nil, ps.items, err
	}
	return ps.p, ps.items, nil
}

func (ps *parser) run() error {
	p := ps.p
	for i := 0; i < len(ps.args); {
		tok := ps.args[i]
		if tok == "--" {
			p.Command = slices.Clone(ps.args[i+1:])
			ps.items = append(ps.items, item{kindCommand, ps.args[i:]})
			return nil
		}
		n, k, err := ps.option(ps.args[i:])
		if err != nil {
			return err
		}
		ps.items = append(ps.items, item{k, ps.args[i : i+n]})
		i += n
	}
	return nil
}

// option classifies the option at args[0] and says how many tokens it used.
func (ps *parser) option(args []string) (int, kind, error) {
	tok := args[0]
	p := ps.p
	switch {
	case tok == "+e":
		p.NoEnv = true
		return 1, kindTool, nil
	case tok == "+v":
		p.NoVolumes = true
		ps.noteEC2(tok)
		return 1, kindTool, nil
	case tok == "-h":
		p.Help = true
		return 1, kindTool, nil
	case strings.HasPrefix(tok, "-w"):
		return ps.shortValue(args, func(v string) error { p.Workdir = v; return nil })
	case strings.HasPrefix(tok, "--sudo"):
		return ps.sudo(args)
	case strings.HasPrefix(tok, "--ssh-") && !isToolName(tok):
		return ps.ssh(args)
	case strings.HasPrefix(tok, "--") && tok != "--" && !strings.HasPrefix(tok, "---"):
		name, _, _ := strings.Cut(tok[2:], "=")
		if set, ok := boolOptions[name]; ok {
			if strings.Contains(tok, "=") {
				return 0, 0, usagef("", "option --%s takes no value", name)
			}
			set(ps)
			return 1, kindTool, nil
		}
		if set, ok := valueOptions[name]; ok {
			return ps.longValue(args, name, set)
		}
	case strings.HasPrefix(tok, "+"):
		return 0, 0, usagef("+e and +v are the only + options", "unknown option %q", tok)
	case !strings.HasPrefix(tok, "-") || tok == "-":
		return 0, 0, usagef(commandHint, "unexpected argument %q before --", tok)
	}
	return ps.docker(args)
}

// isToolName reports whether tok is a tool option that starts like an
// --ssh-* pass-through.
func isToolName(tok string) bool {
	name, _, _ := strings.Cut(tok[2:], "=")
	_, ok := valueOptions[name]
	return ok
}

func (ps *parser) noteEC2(opt string) {
	if ps.ec2Only == "" {
		ps.ec2Only = opt
	}
}

func (ps *parser) noteFargate(opt string) {
	if ps.fargateOnly == "" {
		ps.fargateOnly = opt
	}
}

// longValue reads --name VALUE or --name=VALUE for a tool option.
func (ps *parser) longValue(args []string, name string, set func(*parser, string) error) (int, kind, error) {
	flag := "--" + name
	n, value := 1, ""
	if _, v, inline := strings.Cut(args[0], "="); inline {
		value = v
	} else {
		if len(args) < 2 || args[1] == "--" {
			return 0, 0, usagef(fmt.Sprintf("write %s VALUE or %s=VALUE", flag, flag), "option %s needs a value", flag)
		}
		n, value = 2, args[1]
	}
	if err := toolValue(flag, value); err != nil {
		return 0, 0, err
	}
	if err := set(ps, value); err != nil {
		return 0, 0, err
	}
	return n, kindTool, nil
}

// shortValue reads -w DIR, -wDIR or -w=DIR.
func (ps *parser) shortValue(args []string, set func(string) error) (int, kind, error) {
	flag := args[0][:2]
	n, value := 1, strings.TrimPrefix(args[0][2:], "=")
	if len(args[0]) == 2 {
		if len(args) < 2 || args[1] == "--" {
			return 0, 0, usagef("write "+flag+" VALUE", "option %s needs a value", flag)
		}
		n, value = 2, args[1]
	}
	if err := toolValue(flag, value); err != nil {
		return 0, 0, err
	}
	return n, kindTool, set(value)
}

// toolValue refuses values no tool option can mean: empty ones, and ones
// that look like a forgotten value followed by the next option.
func toolValue(flag, value string) error {
	if value == "" {
		return usagef("", "option %s needs a non-empty value", flag)
	}
	if strings.HasPrefix(value, "--") {
		return usagef(fmt.Sprintf("give %s its value before the next option", flag), "option %s needs a value, got option %q", flag, value)
	}
	return nil
}

func (ps *parser) sudo(args []string) (int, kind, error) {
	tok := args[0]
	ps.noteEC2(tok)
	ps.p.Sudo = true
	if tok == "--sudo" {
		return 1, kindSudo, nil
	}
	flag := tok[len("--sudo"):]
	takesValue, err := sudo.Arity(flag)
	if err != nil {
		return 0, 0, usagef("--sudo-<flag> passes -<flag> to sudo, --sudo--<long> passes --<long>", "%s: %v", tok, err)
	}
	if !takesValue {
		ps.p.SudoArgs = append(ps.p.SudoArgs, flag)
		return 1, kindSudo, nil
	}
	if len(args) < 2 || args[1] == "--" {
		return 0, 0, usagef("write "+tok+" VALUE", "option %s needs a value", tok)
	}
	ps.p.SudoArgs = append(ps.p.SudoArgs, flag, args[1])
	return 2, kindSudo, nil
}

func (ps *parser) ssh(args []string) (int, kind, error) {
	tok := args[0]
	letters, value, inline := strings.Cut(tok[len("--ssh-"):], "=")
	if letters == "" {
		return 0, 0, usagef("write --ssh-<flag> as for ssh, e.g. --ssh-i ~/.ssh/key", "invalid ssh option %q", tok)
	}
	allNoValue := true
	for i := 0; i < len(letters); i++ {
		if strings.IndexByte(sshNoValue, letters[i]) < 0 {
			allNoValue = false
		}
	}
	switch {
	case allNoValue:
		if inline {
			return 0, 0, usagef("", "ssh option -%s takes no value", letters)
		}
		ps.p.SSHFlags = append(ps.p.SSHFlags, SSHFlag{Name: letters})
		return 1, kindSSH, nil
	case len(letters) == 1 && strings.Contains(sshOneValue, letters):
		if inline {
			ps.p.SSHFlags = append(ps.p.SSHFlags, SSHFlag{Name: letters, Value: value, HasValue: true})
			return 1, kindSSH, nil
		}
		if len(args) < 2 || args[1] == "--" {
			return 0, 0, usagef("write "+tok+" VALUE", "option %s needs a value", tok)
		}
		ps.p.SSHFlags = append(ps.p.SSHFlags, SSHFlag{Name: letters, Value: args[1], HasValue: true})
		return 2, kindSSH, nil
	case len(letters) > 1 && allLetters(letters, sshNoValue+sshOneValue):
		return 0, 0, usagef("give each ssh option its own --ssh-<flag>, e.g. --ssh-v --ssh-i FILE", "unknown ssh option %s: only flags without a value can be grouped", tok)
	}
	return 0, 0, usagef("ssh flags with no value: "+sshNoValue+"; with one: "+sshOneValue, "unknown ssh option %s", tok)
}

func allLetters(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

func (ps *parser) docker(args []string) (int, kind, error) {
	o, err := dockercmd.ScanOption(args)
	if err != nil {
		return 0, 0, usagef("docker run options go before --, each with its value", "%v", err)
	}
	// Name the option, never its value: a value may be a secret.
	name := "--" + o.Name
	if o.Short {
		name = "-" + o.Name
	}
	if o.Detach() {
		return 0, 0, usagef("leave out -d; the container is removed when the command ends", "docker option %s (--detach) is refused: ssh-ecs-run-task stays attached to the container", name)
	}
	ps.noteEC2(name)
	ps.p.DockerArgs = append(ps.p.DockerArgs, args[:o.Tokens]...)
	return o.Tokens, kindDocker, nil
}

// check validates the whole command line once every option is read.
func (ps *parser) check() error {
	p := ps.p
	if p.Help || p.Version {
		return nil
	}
	if p.Task == "" && p.Service == "" {
		return usagef("pass --task NAME (family, family:revision or ARN) or --service NAME", "no task definition given")
	}
	if p.LaunchType == "FARGATE" {
		if ps.ec2Only == "--with-secrets" {
			return usagef("leave it out: a Fargate task resolves its own secrets with its execution role", "option --with-secrets only works in EC2 mode, not with --launch-type FARGATE")
		}
		if ps.ec2Only != "" {
			return usagef("leave it out, or drop --launch-type FARGATE to run on an EC2 instance", "option %s only works in EC2 mode, not with --launch-type FARGATE", ps.ec2Only)
		}
	} else if ps.fargateOnly != "" {
		return usagef("add --launch-type FARGATE", "option %s only works with --launch-type FARGATE", ps.fargateOnly)
	}
	if !ps.sawSeparator() {
		return usagef(commandHint, "no command given")
	}
	if len(p.Command) == 0 {
		return usagef(commandHint, "no command after --")
	}
	return nil
}

func (ps *parser) sawSeparator() bool {
	return len(ps.items) > 0 && ps.items[len(ps.items)-1].kind == kindCommand
}

// boolOptions are the tool's options that take no value, by long name.
var boolOptions = map[string]func(*parser){
	"verbose":          func(ps *parser) { ps.p.Verbose = true },
	"debug":            func(ps *parser) { ps.p.Debug = true },
	"non-interactive":  func(ps *parser) { ps.p.NonInteractive = true },
	"dry-run":          func(ps *parser) { ps.p.DryRun = true },
	"assign-public-ip": func(ps *parser) { ps.p.AssignPublicIP = true; ps.noteFargate("--assign-public-ip") },
	"with-secrets":     func(ps *parser) { ps.p.WithSecrets = true; ps.noteEC2("--with-secrets") },
	"version":          func(ps *parser) { ps.p.Version = true },
	"help":             func(ps *parser) { ps.p.Help = true },
}

// valueOptions are the tool's options that take one value, by long name.
var valueOptions map[string]func(*parser, string) error

func init() {
	str := func(field func(*Parsed) *string) func(*parser, string) error {
		return func(ps *parser, v string) error { *field(ps.p) = v; return nil }
	}
	valueOptions = map[string]func(*parser, string) error{
		"task":      str(func(p *Parsed) *string { return &p.Task }),
		"cluster":   str(func(p *Parsed) *string { return &p.Cluster }),
		"container": str(func(p *Parsed) *string { return &p.Container }),
		"instance": func(ps *parser, v string) error {
			ps.p.Instance = v
			ps.noteEC2("--instance")
			return nil
		},
		"domain": func(ps *parser, v string) error {
			ps.p.Domain = v
			ps.noteEC2("--domain")
			return nil
		},
		"address": func(ps *parser, v string) error {
			for _, a := range Addresses {
				if v == a {
					ps.p.Address = v
					return nil
				}
			}
			return usagef("one of "+strings.Join(Addresses, ", "), "invalid --address %q", v)
		},
		"image":    str(func(p *Parsed) *string { return &p.Image }),
		"tag":      str(func(p *Parsed) *string { return &p.Tag }),
		"workdir":  str(func(p *Parsed) *string { return &p.Workdir }),
		"user":     str(func(p *Parsed) *string { return &p.User }),
		"ssh-user": str(func(p *Parsed) *string { return &p.SSHUser }),
		"profile":  str(func(p *Parsed) *string { return &p.Profile }),
		"region":   str(func(p *Parsed) *string { return &p.Region }),
		"service":  str(func(p *Parsed) *string { return &p.Service }),
		"launch-type": func(ps *parser, v string) error {
			switch {
			case strings.EqualFold(v, "EC2"):
				ps.p.LaunchType = ""
			case strings.EqualFold(v, "FARGATE"):
				ps.p.LaunchType = "FARGATE"
			default:
				return usagef("EC2 (the default) or FARGATE", "invalid --launch-type %q", v)
			}
			return nil
		},
		"subnets": func(ps *parser, v string) error {
			ps.noteFargate("--subnets")
			return appendList(&ps.p.Subnets, "--subnets", v)
		},
		"security-groups": func(ps *parser, v string) error {
			ps.noteFargate("--security-groups")
			return appendList(&ps.p.SecurityGroups, "--security-groups", v)
		},
		"platform-version": func(ps *parser, v string) error {
			ps.p.PlatformVersion = v
			ps.noteFargate("--platform-version")
			return nil
		},
		"timeout": func(ps *parser, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return usagef("a positive Go duration such as 30s or 2m", "invalid --timeout %q", v)
			}
			ps.p.Timeout = d
			ps.noteEC2("--timeout")
			return nil
		},
		"wait-timeout": func(ps *parser, v string) error {
			ps.noteFargate("--wait-timeout")
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return usagef("a positive Go duration such as 90s or 5m", "invalid --wait-timeout %q", v)
			}
			ps.p.WaitTimeout = d
			return nil
		},
	}
}

// appendList appends the comma-separated ids of v to *list.
func appendList(list *[]string, flag, v string) error {
	for id := range strings.SplitSeq(v, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			return usagef("write the ids separated by commas: "+flag+" a,b", "empty id in %s %q", flag, v)
		}
		*list = append(*list, id)
	}
	return nil
}
