package dockercmd

import (
	"fmt"
	"strings"
)

// noValue holds the docker run options that take no value (SPEC §2.5),
// by name without dashes: long names and single letters.
var noValue = map[string]bool{
	"d": true, "detach": true,
	"i": true, "interactive": true,
	"t": true, "tty": true,
	"rm": true, "init": true, "privileged": true,
	"P": true, "publish-all": true,
	"read-only": true, "no-healthcheck": true, "oom-kill-disable": true,
	"sig-proxy": true, "disable-content-trust": true,
	"q": true, "quiet": true,
	"help": true,
}

// TakesValue reports whether the docker run option name, written without
// its dashes ("e", "env", "rm"), takes a value. Every option not in
// docker's short no-value list (SPEC §2.5) takes exactly one: the next
// argument, or the rest of the token in "--opt=value" and "-eVALUE".
func TakesValue(name string) bool { return !noValue[name] }

// Option is one docker run option as the user wrote it.
type Option struct {
	Name     string // without dashes: "e", "env", "rm"; for a short cluster its letters, "it"
	Short    bool   // written with one dash
	Value    string // the value, if HasValue
	HasValue bool
	Tokens   int // how many argv elements it used: 1 or 2
}

// ScanOption reads the docker run option starting at args[0] and reports
// what it is and how many elements of args it uses. A cluster of short
// letters ("-it", "-itv/x:/y") is read as docker reads it: no-value letters
// up to the first that takes a value, which takes the rest of the token
// (after an optional "=") or, if nothing is left, the next argument. It is
// an error if args[0] is not an option or its value is missing; a value is
// never "--", which ends the tool's options.
func ScanOption(args []string) (Option, error) {
	tok := args[0]
	switch {
	case strings.HasPrefix(tok, "---") || tok == "--" || tok == "-" || !strings.HasPrefix(tok, "-"):
		return Option{}, fmt.Errorf("%q is not a docker run option", tok)
	case strings.HasPrefix(tok, "--"):
		name, value, inline := strings.Cut(tok[2:], "=")
		if name == "" {
			return Option{}, fmt.Errorf("%q is not a docker run option", tok)
		}
		if inline {
			return Option{Name: name, Value: value, HasValue: true, Tokens: 1}, nil
		}
		if !TakesValue(name) {
			return Option{Name: name, Tokens: 1}, nil
		}
		return withNext(Option{Name: name, HasValue: true}, "--"+name, args)
	}
	for i := 1; i < len(tok); i++ {
		if tok[i] == '=' && i > 1 {
			// "-d=false": the value of the no-value letter before it.
			return Option{Name: tok[1:i], Short: true, Value: tok[i+1:], HasValue: true, Tokens: 1}, nil
		}
		if !TakesValue(tok[i : i+1]) {
			continue
		}
		o := Option{Name: tok[1 : i+1], Short: true, HasValue: true, Tokens: 1}
		if rest := tok[i+1:]; rest != "" {
			o.Value = strings.TrimPrefix(rest, "=")
			return o, nil
		}
		return withNext(o, "-"+tok[i:i+1], args)
	}
	return Option{Name: tok[1:], Short: true, Tokens: 1}, nil
}

func withNext(o Option, flag string, args []string) (Option, error) {
	if len(args) < 2 || args[1] == "--" {
		return Option{}, fmt.Errorf("docker option %s needs a value", flag)
	}
	o.Value, o.Tokens = args[1], 2
	return o, nil
}

// Detach reports whether o asks docker to detach from the container:
// --detach in any form, or -d alone or in a cluster of short flags.
func (o Option) Detach() bool {
	if o.Short {
		// Only the last letter of a cluster can take a value, and d never does.
		return strings.IndexByte(o.Name, 'd') >= 0
	}
	return o.Name == "detach"
}

// userArgs is what Build needs to know about the user's docker options.
type userArgs struct{ entrypoint, init bool }

// scanUserArgs checks that args are only docker options with their values,
// so that none of them can be taken for the image, and notes the ones that
// replace what Build would add.
func scanUserArgs(args []string) (userArgs, error) {
	var u userArgs
	for len(args) > 0 {
		o, err := ScanOption(args)
		if err != nil {
			return u, err
		}
		if !o.Short {
			switch o.Name {
			case "entrypoint":
				u.entrypoint = true
			case "init":
				u.init = true
			}
		}
		args = args[o.Tokens:]
	}
	return u, nil
}
