// Package sudo knows sudo's command-line flags: which take a value, which are
// forbidden, and how to put sudo in front of an argv.
//
// The tool passes --sudo-<flag> options through to sudo on the container host.
// This package must refuse every flag that would change what runs there
// (a shell, an editor, a prompt or askpass program, a background job) and must
// keep sudo from reading any word of the wrapped argv as one of its own flags.
// It runs nothing itself.
package sudo

import (
	"fmt"
	"strings"
)

// forbidden maps each forbidden flag, short and long, to its other form.
var forbidden = map[string]string{
	"-s": "--shell", "--shell": "-s",
	"-p": "--prompt", "--prompt": "-p",
	"-b": "--background", "--background": "-b",
	"-A": "--askpass", "--askpass": "-A",
	"-e": "--edit", "--edit": "-e",
}

// noValue holds the flags that take no value (SPEC §2.4). The forbidden
// flags among sudo's no-value letters are checked before this table.
var noValue = map[string]bool{
	"-A": true, "-b": true, "-E": true, "-e": true, "-H": true, "-h": true,
	"-i": true, "-K": true, "-k": true, "-l": true, "-n": true, "-P": true,
	"-S": true, "-s": true, "-V": true, "-v": true,
	"--login": true, "--preserve-env": true, "--set-home": true,
	"--preserve-groups": true, "--non-interactive": true,
	"--reset-timestamp": true, "--stdin": true,
}

// knownLong holds sudo's long flags that take a value, to suggest the long
// form when a short one is misspelt ("-preserve-groups"). Flags missing here
// still work: every flag not in noValue takes a value.
var knownLong = map[string]bool{
	"--user": true, "--group": true, "--chdir": true, "--close-from": true,
	"--role": true, "--type": true, "--command-timeout": true,
	"--other-user": true, "--chroot": true, "--host": true,
}

// Arity reports whether flag takes a value in the next argument. flag is
// what the user wrote after "--sudo": "-u" for --sudo-u, "--user" for
// --sudo--user, "--preserve-env=LIST" for --sudo--preserve-env=LIST.
//
// A long flag written as --name=value is one token and takes nothing more.
// A short flag is a single letter; "-uroot" is refused rather than guessed.
// Every flag not in sudo's no-value table takes one value. Forbidden flags
// and malformed ones return an error that names them.
func Arity(flag string) (takesValue bool, err error) {
	name, _, hasInline := strings.Cut(flag, "=")
	if err := checkSyntax(flag, name, hasInline); err != nil {
		return false, err
	}
	if other, ok := forbidden[name]; ok {
		short, long := name, other
		if strings.HasPrefix(name, "--") {
			short, long = other, name
		}
		return false, fmt.Errorf("forbidden sudo option %s (%s): it would change what runs on the host", short, long)
	}
	if hasInline {
		if noValue[name] && name != "--preserve-env" {
			return false, fmt.Errorf("sudo option %s takes no value, got %q", name, flag)
		}
		return false, nil
	}
	return !noValue[name], nil
}

// checkSyntax refuses anything that is not -L or --long[=value].
func checkSyntax(flag, name string, hasInline bool) error {
	switch {
	case strings.HasPrefix(name, "--"):
		if !isLongName(name[2:]) {
			return fmt.Errorf("invalid sudo option %q", flag)
		}
	case strings.HasPrefix(name, "-"):
		if hasInline || len(name) != 2 || !isLetter(name[1]) {
			if long := "-" + name; knownLong[long] || noValue[long] || forbidden[long] != "" {
				return fmt.Errorf("invalid sudo option %q: a short sudo option is one letter; the long option is %s", flag, long)
			}
			return fmt.Errorf("invalid sudo option %q: a short sudo option is one letter, its value the next argument (--sudo-u root)", flag)
		}
	default:
		return fmt.Errorf("invalid sudo option %q", flag)
	}
	return nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isLongName reports whether s looks like a sudo long option name:
// a letter, then letters, digits and inner dashes.
func isLongName(s string) bool {
	if s == "" || !isLetter(s[0]) || s[len(s)-1] == '-' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !('0' <= c && c <= '9') && c != '-' {
			return false
		}
	}
	return true
}

// Wrap returns argv run through sudo with sudoArgs:
// ["sudo", sudoArgs..., "--", argv...]. The "--" ends sudo's options, so no
// word of argv can ever be taken as a sudo flag. sudoArgs must already have
// been checked with Arity; Wrap does not copy or change argv's words.
func Wrap(sudoArgs []string, argv []string) []string {
	out := make([]string, 0, 2+len(sudoArgs)+len(argv))
	out = append(out, "sudo")
	out = append(out, sudoArgs...)
	out = append(out, "--")
	return append(out, argv...)
}
