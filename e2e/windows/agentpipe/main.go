//go:build windows

// Command agentpipe is a stand-in for the Windows OpenSSH agent in the
// Windows end-to-end tests: it serves the private key in KEYFILE through an
// SSH agent on the named pipe PIPE, prints "ready" once the pipe exists, and
// serves until its stdin is closed.
//
//	agentpipe.exe \\.\pipe\NAME KEYFILE
package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/windows/pipeagent"
)

func main() {
	if err := serve(); err != nil {
		fmt.Fprintln(os.Stderr, "agentpipe:", err)
		os.Exit(1)
	}
}

func serve() error {
	if len(os.Args) != 3 {
		return fmt.Errorf(`usage: agentpipe \\.\pipe\NAME KEYFILE`)
	}
	pemBytes, err := os.ReadFile(os.Args[2])
	if err != nil {
		return err
	}
	key, err := ssh.ParseRawPrivateKey(pemBytes)
	if err != nil {
		return fmt.Errorf("read key %s: %w", os.Args[2], err)
	}
	ring := agent.NewKeyring()
	if err := ring.Add(agent.AddedKey{PrivateKey: key, Comment: "agentpipe"}); err != nil {
		return err
	}
	stop, err := pipeagent.Serve(os.Args[1], ring)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}
