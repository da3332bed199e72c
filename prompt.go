package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/sshsession"
)

// terminalPrompter asks questions (host key confirmation, key passphrases)
// on the local terminal, before the session puts it in raw mode.
type terminalPrompter struct {
	in  *os.File
	out io.Writer
}

var _ sshsession.Prompter = (*terminalPrompter)(nil)

// newPrompter returns a prompter when stdin is a terminal, else nil: without
// a terminal nobody can answer, and sshsession then refuses instead of asking.
func newPrompter(s *Streams) sshsession.Prompter {
	in, ok := s.In.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return nil
	}
	return &terminalPrompter{in: in, out: s.ErrOut}
}

// Prompt prints msg and reads one line; with echo false the typed text is hidden.
func (p *terminalPrompter) Prompt(msg string, echo bool) (string, error) {
	fmt.Fprint(p.out, msg)
	if !echo {
		b, err := term.ReadPassword(int(p.in.Fd()))
		fmt.Fprintln(p.out)
		return string(b), err
	}
	line, err := bufio.NewReader(p.in).ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
