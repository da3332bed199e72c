// Package shellquote quotes an argv so that a POSIX shell on the remote host
// splits it back into exactly the same words.
//
// SSH carries a command as one string that the remote login shell re-parses;
// the original tool lost the user's quoting there. Every word that leaves this
// machine for a remote shell must go through Join or Quote. The package only
// quotes: it must not decide what runs, and it must not be used to build argv
// for a local exec (no shell is involved there).
package shellquote

import "strings"

// Quote returns s as one word for any POSIX sh. Words made only of
// characters that are never special to a shell stay bare; every other word is
// wrapped in single quotes; an embedded single quote closes the quoted part,
// is escaped with a backslash and reopens it. The empty string becomes a pair
// of single quotes.
func Quote(s string) string {
	if isBare(s) {
		return s
	}
	var b strings.Builder
	b.Grow(quotedLen(s))
	writeQuoted(&b, s)
	return b.String()
}

// Join quotes every word of argv with Quote and joins them with single spaces.
func Join(argv []string) string {
	n := 0
	for _, w := range argv {
		n += quotedLen(w) + 1
	}
	if n == 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(n - 1)
	for i, w := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeQuoted(&b, w)
	}
	return b.String()
}

// isBare reports whether s can be given to a shell unquoted.
//
// Beyond the safe character set, two forms are quoted anyway: NAME=value,
// which a shell takes as a variable assignment when it is the first word,
// and a leading '=', which zsh expands to a command's path.
func isBare(s string) bool {
	if s == "" || s[0] == '=' {
		return false
	}
	name := true // s[:i] is still a valid shell variable name
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9':
			if i == 0 {
				name = false
			}
		case c == '=':
			if name {
				return false
			}
			name = false
		case c == '@' || c == '%' || c == '+' || c == ':' || c == ',' ||
			c == '.' || c == '/' || c == '-':
			name = false
		default:
			return false
		}
	}
	return true
}

// quotedLen is the length of what writeQuoted writes for s.
func quotedLen(s string) int {
	if isBare(s) {
		return len(s)
	}
	return len(s) + 2 + 3*strings.Count(s, "'")
}

// writeQuoted writes s to b, bare if it can be, single-quoted otherwise.
func writeQuoted(b *strings.Builder, s string) {
	if isBare(s) {
		b.WriteString(s)
		return
	}
	b.WriteByte('\'')
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(`'\''`)
		s = s[i+1:]
	}
	b.WriteString(s)
	b.WriteByte('\'')
}
