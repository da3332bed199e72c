package sshsession

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Flag is one --ssh-<flag> pass-through option: "--ssh-o X=Y" arrives as
// {Name: "o", Value: "X=Y"} and "--ssh-vvv" as {Name: "vvv"}.
type Flag struct {
	Name  string
	Value string
}

// Flags of ssh(1) that take no value and flags that take one (OpenSSH's
// option table, SPEC §2.3).
const (
	noValueFlags = "1246ACGKMNTVXYZafgknqstvxy"
	valueFlags   = "BDEFIJLOPQRSWbceilmopw"
)

// flagHints explains the flags users are most likely to try.
var flagHints = map[byte]string{
	't': "a PTY is allocated when stdin is a terminal; use --non-interactive to disable it",
	'T': "use --non-interactive to run without a PTY",
	'C': "compression is not implemented by the in-process SSH client",
	'L': "port forwarding is not implemented",
	'R': "port forwarding is not implemented",
	'D': "port forwarding is not implemented",
	'X': "X11 forwarding is not implemented",
	'Y': "X11 forwarding is not implemented",
	'W': "use -J (ProxyJump) to go through a bastion host",
}

// keyword describes one ssh_config keyword the package implements.
type keyword struct {
	name  string               // canonical spelling, for messages and OpenSSHCommand
	check func(v string) error // validates a value; nil = anything
	multi bool                 // cumulative (IdentityFile): every occurrence counts
}

var keywords = map[string]keyword{
	"user":                  {name: "User"},
	"hostname":              {name: "HostName"},
	"port":                  {name: "Port", check: checkPort},
	"identityfile":          {name: "IdentityFile", multi: true},
	"identitiesonly":        {name: "IdentitiesOnly", check: checkYesNo},
	"identityagent":         {name: "IdentityAgent"},
	"proxyjump":             {name: "ProxyJump"},
	"stricthostkeychecking": {name: "StrictHostKeyChecking", check: checkStrict},
	"userknownhostsfile":    {name: "UserKnownHostsFile"},
	"globalknownhostsfile":  {name: "GlobalKnownHostsFile"},
	"hostkeyalias":          {name: "HostKeyAlias"},
	"connecttimeout":        {name: "ConnectTimeout", check: checkTime},
	"serveraliveinterval":   {name: "ServerAliveInterval", check: checkTime},
	"serveralivecountmax":   {name: "ServerAliveCountMax", check: checkCount},
	"forwardagent":          {name: "ForwardAgent", check: checkYesNo},
	"loglevel":              {name: "LogLevel", check: checkLogLevel},
	"hashknownhosts":        {name: "HashKnownHosts", check: checkYesNo},
	"addressfamily":         {name: "AddressFamily", check: checkOneOf("any", "inet", "inet6")},
	"batchmode":             {name: "BatchMode", check: checkYesNo},
}

// options holds option values in the order they were obtained; as in
// OpenSSH the first obtained value of a keyword wins (except cumulative
// ones).
type options map[string][]string

func (o options) add(key, value string) { o[key] = append(o[key], value) }

func (o options) get(key string) (string, bool) {
	if v := o[key]; len(v) > 0 {
		return v[0], true
	}
	return "", false
}

// cmdline is what the --ssh-* flags say, split into options that apply to
// the target host only and settings that apply to the whole run (as ssh(1)
// passes only -F, -q, -v, -4/-6 on to its ProxyJump hops).
type cmdline struct {
	opts       options
	configFile string // -F
	quiet      bool   // -q or LogLevel QUIET
	verbosity  int    // number of -v
	family     string // "4", "6" or ""
	echo       []string
}

// parseFlags validates the pass-through flags and collects what they say.
func parseFlags(user string, flags []Flag) (*cmdline, error) {
	c := &cmdline{opts: options{}}
	if user != "" {
		c.opts.add("user", user)
	}
	for _, f := range flags {
		name := strings.TrimLeft(f.Name, "-")
		if name == "" {
			return nil, fmt.Errorf("empty ssh option")
		}
		if len(name) == 1 && strings.IndexByte(valueFlags, name[0]) >= 0 {
			if err := c.valueFlag(name[0], f.Value); err != nil {
				return nil, err
			}
			continue
		}
		if f.Value != "" {
			if strings.IndexByte(noValueFlags, name[0]) >= 0 || strings.IndexByte(valueFlags, name[0]) >= 0 {
				return nil, fmt.Errorf("ssh option -%s takes no value (got %q)", name, f.Value)
			}
		}
		for i := 0; i < len(name); i++ {
			if err := c.boolFlag(name[i]); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

func unsupportedFlag(b byte) error {
	err := fmt.Errorf("unsupported ssh option -%c", b)
	if h, ok := flagHints[b]; ok {
		return &Error{Err: err, Hint: h}
	}
	return err
}

func (c *cmdline) boolFlag(b byte) error {
	switch b {
	case 'q':
		c.quiet = true
		c.echo = append(c.echo, "-q")
	case 'v':
		c.verbosity++
		c.echo = append(c.echo, "-v")
	case 'A':
		c.opts.add("forwardagent", "yes")
		c.echo = append(c.echo, "-A")
	case 'a':
		c.opts.add("forwardagent", "no")
		c.echo = append(c.echo, "-a")
	case '4', '6':
		c.family = string(b)
		c.echo = append(c.echo, "-"+string(b))
	case 'x', 'k':
		// Disable X11 forwarding / GSSAPI delegation: the in-process client
		// never does either, so these are true no-ops.
		c.echo = append(c.echo, "-"+string(b))
	default:
		if strings.IndexByte(noValueFlags, b) < 0 {
			if strings.IndexByte(valueFlags, b) >= 0 {
				return fmt.Errorf("ssh option -%c needs a value", b)
			}
			return fmt.Errorf("unknown ssh option -%c", b)
		}
		return unsupportedFlag(b)
	}
	return nil
}

func (c *cmdline) valueFlag(b byte, v string) error {
	if v == "" {
		return fmt.Errorf("ssh option -%c needs a value", b)
	}
	var key string
	switch b {
	case 'i':
		key = "identityfile"
	case 'p':
		key = "port"
	case 'l':
		key = "user"
	case 'J':
		key = "proxyjump"
	case 'F':
		if c.configFile == "" {
			c.configFile = v
		}
		c.echo = append(c.echo, "-F", v)
		return nil
	case 'o':
		k, val, err := splitOption(v)
		if err != nil {
			return err
		}
		kw, ok := keywords[strings.ToLower(k)]
		if !ok {
			return fmt.Errorf("unsupported ssh option -o %s", k)
		}
		if kw.check != nil {
			if err := kw.check(val); err != nil {
				return fmt.Errorf("ssh option -o %s: %w", kw.name, err)
			}
		}
		lk := strings.ToLower(k)
		if lk == "loglevel" && strings.EqualFold(val, "quiet") {
			c.quiet = true
		}
		c.opts.add(lk, val)
		c.echo = append(c.echo, "-o", kw.name+"="+val)
		return nil
	default:
		return unsupportedFlag(b)
	}
	if kw := keywords[key]; kw.check != nil {
		if err := kw.check(v); err != nil {
			return fmt.Errorf("ssh option -%c: %w", b, err)
		}
	}
	c.opts.add(key, v)
	if b != 'p' && b != 'l' { // -p and -l are printed from the resolved plan
		c.echo = append(c.echo, "-"+string(b), v)
	}
	return nil
}

// splitOption splits "Key=Value", "Key Value" and "Key = Value".
func splitOption(s string) (key, value string, err error) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "= \t")
	if i <= 0 {
		return "", "", fmt.Errorf("ssh option -o %q: want Key=Value", s)
	}
	key = s[:i]
	value = strings.TrimSpace(s[i:])
	value = strings.TrimSpace(strings.TrimPrefix(value, "="))
	if value == "" {
		return "", "", fmt.Errorf("ssh option -o %s: missing value", key)
	}
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	return key, value, nil
}

func checkYesNo(v string) error {
	switch strings.ToLower(v) {
	case "yes", "no", "true", "false":
		return nil
	}
	return fmt.Errorf("want yes or no, got %q", v)
}

func isYes(v string) bool {
	v = strings.ToLower(v)
	return v == "yes" || v == "true"
}

func checkOneOf(values ...string) func(string) error {
	return func(v string) error {
		for _, w := range values {
			if strings.EqualFold(v, w) {
				return nil
			}
		}
		return fmt.Errorf("want one of %s, got %q", strings.Join(values, ", "), v)
	}
}

var (
	checkStrict   = checkOneOf("yes", "no", "off", "ask", "accept-new")
	checkLogLevel = checkOneOf("QUIET", "FATAL", "ERROR", "INFO", "VERBOSE", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3")
)

func checkPort(v string) error {
	_, err := parsePort(v)
	return err
}

func parsePort(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("bad port %q", v)
	}
	return n, nil
}

func checkCount(v string) error {
	if n, err := strconv.Atoi(v); err != nil || n < 0 {
		return fmt.Errorf("want a count, got %q", v)
	}
	return nil
}

func checkTime(v string) error {
	_, err := parseTime(v)
	return err
}

// parseTime reads OpenSSH's time format: plain seconds or a sequence of
// number+unit with the units s, m, h, d, w ("1m30s").
func parseTime(v string) (time.Duration, error) {
	if v == "" {
		return 0, fmt.Errorf("empty time value")
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("bad time value %q", v)
		}
		return time.Duration(n) * time.Second, nil
	}
	var total time.Duration
	num := ""
	for i := 0; i < len(v); i++ {
		ch := v[i]
		if ch >= '0' && ch <= '9' {
			num += string(ch)
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil {
			return 0, fmt.Errorf("bad time value %q", v)
		}
		var unit time.Duration
		switch ch | 0x20 {
		case 's':
			unit = time.Second
		case 'm':
			unit = time.Minute
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		case 'w':
			unit = 7 * 24 * time.Hour
		default:
			return 0, fmt.Errorf("bad time value %q", v)
		}
		total += time.Duration(n) * unit
		num = ""
	}
	if num != "" {
		n, _ := strconv.Atoi(num)
		total += time.Duration(n) * time.Second
	}
	return total, nil
}
