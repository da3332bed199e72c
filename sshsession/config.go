package sshsession

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// matchCriteria are the words that start a criterion on a Match line.
var matchCriteria = map[string]bool{
	"all": true, "canonical": true, "final": true, "exec": true, "localnetwork": true,
	"host": true, "originalhost": true, "tagged": true, "command": true, "user": true,
	"localuser": true, "version": true, "sessiontype": true, "address": true,
	"localaddress": true, "localport": true, "rdomain": true,
}

// sshConfig is a parsed ssh_config plus what had to be left out.
type sshConfig struct {
	cfg     *ssh_config.Config // nil: no file
	skipped []string           // human-readable notes, one per skipped construct
}

func (s *sshConfig) get(alias, key string) string {
	if s == nil || s.cfg == nil {
		return ""
	}
	v, err := s.cfg.Get(alias, key)
	if err != nil {
		return ""
	}
	return v
}

func (s *sshConfig) getAll(alias, key string) []string {
	if s == nil || s.cfg == nil {
		return nil
	}
	v, _ := s.cfg.GetAll(alias, key)
	return v
}

// loadSSHConfig reads the user's file (or -F FILE) and then the system
// file. Constructs the parser cannot evaluate (Match exec, Match user, …) are
// cut out block by block so the rest of the file still applies; Include
// directives are inlined here, because the parser would resolve them
// against the real home directory and without this filter.
func loadSSHConfig(home, explicit, system string) (*sshConfig, error) {
	out := &sshConfig{}
	var text bytes.Buffer
	type configFile struct {
		path           string
		system, needed bool
	}
	var files []configFile
	switch {
	case strings.EqualFold(explicit, "none"):
	case explicit != "":
		files = append(files, configFile{expandTilde(explicit, home), false, true})
	default:
		files = append(files, configFile{filepath.Join(home, ".ssh", "config"), false, false})
		if system != "" {
			files = append(files, configFile{system, true, false})
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f.path)
		if err != nil {
			if os.IsNotExist(err) && !f.needed {
				continue
			}
			return nil, fmt.Errorf("read ssh config: %w", err)
		}
		// Each file starts with an implicit "Host *".
		text.WriteString("Host *\n")
		filterConfig(&text, b, f.path, home, f.system, 0, out)
	}
	if text.Len() == 0 {
		return out, nil
	}
	cfg, err := ssh_config.DecodeBytes(text.Bytes())
	if err != nil {
		out.skipped = append(out.skipped, fmt.Sprintf("ssh_config ignored entirely: %v", err))
		return out, nil
	}
	out.cfg = cfg
	return out, nil
}

// filterConfig copies src to dst, dropping blocks whose Match line the
// parser cannot evaluate and inlining Include files.
func filterConfig(dst *bytes.Buffer, src []byte, path, home string, system bool, depth int, out *sshConfig) {
	header := "Host *"
	skipping := false
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		raw := sc.Text()
		trimmed := strings.TrimSpace(raw)
		if trimmed == "" || trimmed[0] == '#' {
			dst.WriteString(raw + "\n")
			continue
		}
		key, rest := splitConfigLine(trimmed)
		switch strings.ToLower(key) {
		case "host":
			header, skipping = trimmed, false
			dst.WriteString(raw + "\n")
			continue
		case "match":
			if matchSupported(rest) {
				header, skipping = trimmed, false
				dst.WriteString(raw + "\n")
				continue
			}
			skipping = true
			out.skipped = append(out.skipped, fmt.Sprintf("%s:%d: skipped block %q (this Match criterion cannot be evaluated)", path, line, trimmed))
			continue
		case "include":
			if skipping {
				continue
			}
			if depth >= 5 {
				out.skipped = append(out.skipped, fmt.Sprintf("%s:%d: skipped Include nested too deeply", path, line))
				continue
			}
			for _, pat := range strings.Fields(rest) {
				pat = strings.Trim(pat, `"`)
				switch {
				case filepath.IsAbs(pat):
				case strings.HasPrefix(pat, "~"):
					pat = expandTilde(pat, home)
				case system:
					pat = filepath.Join(filepath.Dir(path), pat)
				default:
					pat = filepath.Join(home, ".ssh", pat)
				}
				matches, _ := filepath.Glob(pat)
				for _, m := range matches {
					b, err := os.ReadFile(m)
					if err != nil {
						out.skipped = append(out.skipped, fmt.Sprintf("%s:%d: skipped Include %s: %v", path, line, m, err))
						continue
					}
					// An included file is read in the context of the
					// enclosing block; its own Host lines end that block.
					filterConfig(dst, b, m, home, system, depth+1, out)
				}
			}
			// Restore the enclosing block for the lines after Include.
			dst.WriteString(header + "\n")
			continue
		}
		if !skipping {
			dst.WriteString(raw + "\n")
		}
	}
}

func splitConfigLine(s string) (key, rest string) {
	i := strings.IndexAny(s, " \t=")
	if i < 0 {
		return s, ""
	}
	rest = strings.TrimSpace(s[i:])
	rest = strings.TrimSpace(strings.TrimPrefix(rest, "="))
	return s[:i], rest
}

// matchSupported reports whether the parser evaluates this Match line
// correctly: "all" alone, or "host" with patterns and no other criterion.
func matchSupported(rest string) bool {
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return false
	}
	switch strings.ToLower(f[0]) {
	case "all":
		return len(f) == 1
	case "host":
		if len(f) < 2 {
			return false
		}
		for _, w := range f[1:] {
			if matchCriteria[strings.ToLower(strings.TrimPrefix(w, "!"))] {
				return false
			}
		}
		return true
	}
	return false
}

// expandTilde replaces a leading "~" or "~/" with home.
func expandTilde(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		return filepath.Join(home, p[2:])
	}
	return p
}

// tokens are the values of the %-tokens of ssh_config(5) for one hop.
type tokens struct {
	host, port, remoteUser, localUser, home, alias string
}

// expand replaces ~, ${VAR} and %-tokens in a path-like value, as OpenSSH
// does for IdentityFile, IdentityAgent and UserKnownHostsFile.
func (t tokens) expand(keyword, v string) (string, error) {
	v = expandTilde(v, t.home)
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '%' && i+1 < len(v):
			i++
			switch v[i] {
			case '%':
				b.WriteByte('%')
			case 'h':
				b.WriteString(t.host)
			case 'p':
				b.WriteString(t.port)
			case 'r':
				b.WriteString(t.remoteUser)
			case 'u':
				b.WriteString(t.localUser)
			case 'd':
				b.WriteString(t.home)
			case 'n':
				b.WriteString(t.alias)
			default:
				return "", fmt.Errorf("%s %q: unsupported token %%%c", keyword, v, v[i])
			}
		case c == '$' && i+1 < len(v) && v[i+1] == '{':
			end := strings.IndexByte(v[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("%s %q: unterminated ${", keyword, v)
			}
			name := v[i+2 : i+end]
			val, ok := os.LookupEnv(name)
			if !ok {
				return "", fmt.Errorf("%s %q: environment variable %s is not set", keyword, v, name)
			}
			b.WriteString(val)
			i += end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
