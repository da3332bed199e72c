package sshsession

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// DefaultConnectTimeout bounds the TCP connect and SSH handshake of each hop
// when neither the options nor ssh_config set ConnectTimeout.
const DefaultConnectTimeout = 60 * time.Second

// Prompter asks the user a question on the terminal. echo=false hides the
// answer (passphrases).
type Prompter interface {
	Prompt(msg string, echo bool) (string, error)
}

// Config is what the caller knows about the connection to make.
type Config struct {
	Host    string // address to dial; ssh_config Host rules match this
	User    string // --ssh-user ("" = ssh_config, then the local user)
	Flags   []Flag // --ssh-* pass-through, in the order given
	HomeDir string // where ~/.ssh lives ("" = os.UserHomeDir)
	Stderr  io.Writer
	// Prompt asks for passphrases and host-key confirmation; nil means no
	// terminal: StrictHostKeyChecking=ask refuses and encrypted keys are
	// skipped with a note.
	Prompt         Prompter
	Verbose, Debug bool
	// Logf receives negotiation details and timings under Verbose, Debug
	// or -v (nil = discard).
	Logf func(format string, args ...any)

	// Signers are in-memory keys offered to the target host before any
	// other (a one-time key, for example).
	Signers []ssh.Signer
	// NoDefaultAuth offers the target host only Signers: no agent keys,
	// no identity files. ProxyJump hops authenticate as usual.
	NoDefaultAuth bool
	// HostKey, when set, is the only key the target host may present:
	// known_hosts and StrictHostKeyChecking are not consulted for it and
	// nothing is recorded. ProxyJump hops are checked as usual.
	HostKey ssh.PublicKey
}

// Plan is a validated connection plan: flags and ssh_config resolved for
// the target host and every ProxyJump hop. It does no network I/O.
type Plan struct {
	target    *hop
	jumps     []*hop // in dial order
	cl        *cmdline
	home      string
	localUser string
	stderr    io.Writer
	prompt    Prompter
	quiet     bool
	logOn     bool
	logf      func(format string, args ...any)
	skipped   []string
	agentNote string // why the agent could not be reached, for the auth error

	signers       []ssh.Signer  // Config.Signers
	noDefaultAuth bool          // Config.NoDefaultAuth
	hostKey       ssh.PublicKey // Config.HostKey
}

// hop is one SSH server to authenticate to.
type hop struct {
	alias          string // name as given (ssh_config Host rules match it)
	hostName       string // what to dial
	port           int
	user           string
	identityFiles  []string // expanded, in order
	identitiesOnly bool
	identityAgent  string // "" = SSH_AUTH_SOCK / platform default, "none"
	knownHosts     []string
	globalHosts    []string
	strict         string // yes, no, ask, accept-new
	hashKnownHosts bool
	hostKeyAlias   string
	connectTimeout time.Duration
	aliveInterval  time.Duration
	aliveCountMax  int
	forwardAgent   bool
	batchMode      bool
	network        string // tcp, tcp4, tcp6
	proxyJump      string
}

func (h *hop) addr() string { return net.JoinHostPort(h.hostName, strconv.Itoa(h.port)) }

func (h *hop) String() string { return fmt.Sprintf("%s@%s", h.user, h.addr()) }

// Prepare validates the flags, reads ssh_config and resolves the plan. It
// does no network I/O. An unsupported flag or keyword is an error naming it.
func Prepare(c Config) (*Plan, error) {
	if c.Host == "" {
		return nil, fmt.Errorf("no host to connect to")
	}
	cl, err := parseFlags(c.User, c.Flags)
	if err != nil {
		return nil, err
	}
	home := c.HomeDir
	if home == "" {
		if home, err = os.UserHomeDir(); err != nil {
			return nil, fmt.Errorf("find home directory: %w", err)
		}
	}
	stderr := c.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	sys := systemConfigPath
	cfg, err := loadSSHConfig(home, cl.configFile, sys)
	if err != nil {
		return nil, err
	}
	p := &Plan{
		cl:        cl,
		home:      home,
		localUser: localUserName(),
		stderr:    stderr,
		prompt:    c.Prompt,
		logf:      c.Logf,
		skipped:   cfg.skipped,

		signers:       c.Signers,
		noDefaultAuth: c.NoDefaultAuth,
		hostKey:       c.HostKey,
	}
	p.target, err = p.resolveHop(cfg, c.Host, cl.opts)
	if err != nil {
		return nil, err
	}
	if pc := cfg.get(c.Host, "ProxyCommand"); pc != "" && !strings.EqualFold(pc, "none") {
		p.skipped = append(p.skipped, fmt.Sprintf("ssh_config ProxyCommand for %s is not supported and was ignored (use ProxyJump)", c.Host))
	}
	p.quiet = cl.quiet || strings.EqualFold(cfg.get(c.Host, "LogLevel"), "quiet")
	p.logOn = c.Debug || c.Verbose || cl.verbosity > 0
	if lv := strings.ToUpper(firstOf(cl.opts, cfg, c.Host, "loglevel")); strings.HasPrefix(lv, "DEBUG") || lv == "VERBOSE" {
		p.logOn = true
	}
	if p.logf == nil {
		p.logOn = false
	}
	p.jumps, err = p.resolveJumps(cfg, p.target.proxyJump, map[string]bool{c.Host: true}, 0)
	if err != nil {
		return nil, err
	}
	// Never a hang: without a ConnectTimeout (OpenSSH has none) a host that
	// accepts TCP and says nothing would stall the run forever. A jump host
	// without its own takes the target's.
	if p.target.connectTimeout == 0 {
		p.target.connectTimeout = DefaultConnectTimeout
	}
	for _, j := range p.jumps {
		if j.connectTimeout == 0 {
			j.connectTimeout = p.target.connectTimeout
		}
	}
	if (c.Verbose || c.Debug) && !p.quiet {
		for _, s := range p.skipped {
			if c.Logf != nil {
				c.Logf("%s", s)
			} else {
				fmt.Fprintln(stderr, s)
			}
		}
	}
	return p, nil
}

func firstOf(o options, cfg *sshConfig, alias, key string) string {
	if v, ok := o.get(key); ok {
		return v
	}
	return cfg.get(alias, keywords[key].name)
}

// resolveHop applies "first obtained value wins": opts (the command line or
// a ProxyJump spec) first, then ssh_config for alias, then defaults.
func (p *Plan) resolveHop(cfg *sshConfig, alias string, opts options) (*hop, error) {
	var firstErr error
	get := func(key string) string {
		kw := keywords[key]
		if v, ok := opts.get(key); ok {
			return v
		}
		v := cfg.get(alias, kw.name)
		if v != "" && kw.check != nil && firstErr == nil {
			if err := kw.check(v); err != nil {
				firstErr = fmt.Errorf("ssh_config for %s: %s: %w", alias, kw.name, err)
			}
		}
		return v
	}
	h := &hop{alias: alias, hostName: alias, port: 22, strict: "ask", aliveCountMax: 3, network: "tcp"}
	if v := get("hostname"); v != "" {
		h.hostName = strings.ReplaceAll(v, "%h", alias)
	}
	if v := get("port"); v != "" {
		h.port, _ = parsePort(v)
	}
	h.user = get("user")
	if h.user == "" {
		h.user = p.localUser
	}
	h.identitiesOnly = isYes(get("identitiesonly"))
	if v := get("stricthostkeychecking"); v != "" {
		h.strict = strings.ToLower(v)
		if h.strict == "off" {
			h.strict = "no"
		}
	}
	h.hashKnownHosts = isYes(get("hashknownhosts"))
	h.hostKeyAlias = get("hostkeyalias")
	h.forwardAgent = isYes(get("forwardagent"))
	h.batchMode = isYes(get("batchmode"))
	if v := get("connecttimeout"); v != "" {
		h.connectTimeout, _ = parseTime(v)
	}
	if v := get("serveraliveinterval"); v != "" {
		h.aliveInterval, _ = parseTime(v)
	}
	if v := get("serveralivecountmax"); v != "" {
		h.aliveCountMax, _ = strconv.Atoi(v)
	}
	switch p.cl.family {
	case "4":
		h.network = "tcp4"
	case "6":
		h.network = "tcp6"
	default:
		switch strings.ToLower(get("addressfamily")) {
		case "inet":
			h.network = "tcp4"
		case "inet6":
			h.network = "tcp6"
		}
	}
	h.proxyJump = get("proxyjump")
	if firstErr != nil {
		return nil, firstErr
	}

	tk := tokens{host: h.hostName, port: strconv.Itoa(h.port), remoteUser: h.user, localUser: p.localUser, home: p.home, alias: alias}
	ids := append([]string(nil), opts["identityfile"]...)
	ids = append(ids, cfg.getAll(alias, "IdentityFile")...)
	seen := map[string]bool{}
	for _, id := range ids {
		path, err := tk.expand("IdentityFile", id)
		if err != nil {
			return nil, err
		}
		if !seen[path] {
			seen[path] = true
			h.identityFiles = append(h.identityFiles, path)
		}
	}
	if v := get("identityagent"); v != "" {
		switch {
		case strings.EqualFold(v, "none"):
			h.identityAgent = "none"
		case v == "SSH_AUTH_SOCK":
		case strings.HasPrefix(v, "$") && !strings.HasPrefix(v, "${"):
			h.identityAgent = os.Getenv(v[1:])
		default:
			path, err := tk.expand("IdentityAgent", v)
			if err != nil {
				return nil, err
			}
			h.identityAgent = path
		}
	}
	files := func(keyword, value string, def []string) ([]string, error) {
		if value == "" {
			return def, nil
		}
		if strings.EqualFold(value, "none") {
			return nil, nil
		}
		var out []string
		for _, f := range strings.Fields(value) {
			path, err := tk.expand(keyword, f)
			if err != nil {
				return nil, err
			}
			out = append(out, path)
		}
		return out, nil
	}
	var err error
	h.knownHosts, err = files("UserKnownHostsFile", get("userknownhostsfile"),
		[]string{filepath.Join(p.home, ".ssh", "known_hosts"), filepath.Join(p.home, ".ssh", "known_hosts2")})
	if err != nil {
		return nil, err
	}
	h.globalHosts, err = files("GlobalKnownHostsFile", get("globalknownhostsfile"), globalKnownHostsFiles)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// resolveJumps turns a ProxyJump value into hops in dial order. Like ssh(1),
// only the first hop's own ProxyJump (from ssh_config) is followed.
func (p *Plan) resolveJumps(cfg *sshConfig, spec string, seen map[string]bool, depth int) ([]*hop, error) {
	if spec == "" || strings.EqualFold(spec, "none") {
		return nil, nil
	}
	if depth > 8 {
		return nil, fmt.Errorf("ProxyJump chain too long at %q", spec)
	}
	var out []*hop
	for i, part := range strings.Split(spec, ",") {
		user, host, port, err := parseJump(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		if seen[host] {
			return nil, fmt.Errorf("ProxyJump loop via %s", host)
		}
		seen[host] = true
		opts := options{}
		if user != "" {
			opts.add("user", user)
		}
		if port != "" {
			opts.add("port", port)
		}
		h, err := p.resolveHop(cfg, host, opts)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			before, err := p.resolveJumps(cfg, h.proxyJump, seen, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, before...)
		}
		out = append(out, h)
	}
	return out, nil
}

// parseJump reads "[user@]host[:port]" or "ssh://[user@]host[:port]".
func parseJump(s string) (user, host, port string, err error) {
	s = strings.TrimPrefix(s, "ssh://")
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		user, s = s[:i], s[i+1:]
	}
	host = s
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", "", fmt.Errorf("ProxyJump %q: missing ]", s)
		}
		host = s[1:end]
		if rest := s[end+1:]; strings.HasPrefix(rest, ":") {
			port = rest[1:]
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 && strings.Count(s, ":") == 1 {
		host, port = s[:i], s[i+1:]
	}
	if host == "" {
		return "", "", "", fmt.Errorf("ProxyJump %q: missing host", s)
	}
	if port != "" {
		if _, err := parsePort(port); err != nil {
			return "", "", "", fmt.Errorf("ProxyJump %q: %w", s, err)
		}
	}
	return user, host, port, nil
}

func localUserName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		name := u.Username
		if i := strings.LastIndexByte(name, '\\'); i >= 0 { // Windows DOMAIN\user
			name = name[i+1:]
		}
		return name
	}
	for _, k := range []string{"USER", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "root"
}

// Describe names the target for progress lines, e.g.
// "ec2-user@10.0.0.5:22 via bastion".
func (p *Plan) Describe() string {
	s := p.target.String()
	if p.target.alias != p.target.hostName {
		s += " (" + p.target.alias + ")"
	}
	if len(p.jumps) > 0 {
		names := make([]string, len(p.jumps))
		for i, j := range p.jumps {
			names[i] = j.alias
		}
		s += " via " + strings.Join(names, ", ")
	}
	return s
}

// OpenSSHCommand returns the ssh(1) command line equivalent to this plan
// running remote, for --verbose and --dry-run. Values are quoted for a
// POSIX shell.
func (p *Plan) OpenSSHCommand(remote string) string {
	args := []string{"ssh"}
	args = append(args, p.cl.echo...)
	args = append(args, "-p", strconv.Itoa(p.target.port), "-l", p.target.user, p.target.alias)
	if remote != "" {
		args = append(args, remote)
	}
	for i, a := range args {
		args[i] = quote(a)
	}
	return strings.Join(args, " ")
}

// quote quotes s for a POSIX shell when it needs it.
func quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@=,+%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// debugf logs negotiation details when logging is on.
func (p *Plan) debugf(format string, args ...any) {
	if p.logOn {
		p.logf(format, args...)
	}
}

// notef prints a message for the user on stderr unless -q.
func (p *Plan) notef(format string, args ...any) {
	if !p.quiet {
		fmt.Fprintf(p.stderr, format+"\n", args...)
	}
}
