package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/cliargs"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/ecs"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/sshsession"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"

// Streams are the three standard streams. stdout carries only the remote
// command's output; everything the tool says goes to ErrOut.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// run is the whole program: parse, resolve, connect, run, and return the
// exit status. Every error is printed here, once.
func run(ctx context.Context, args []string, s *Streams, sigs <-chan os.Signal) int {
	p, err := cliargs.Parse(args)
	if err != nil {
		printError(s.ErrOut, err)
		return 255
	}
	switch {
	case p.Help:
		fmt.Fprint(s.Out, helpText)
		return 0
	case p.Version:
		fmt.Fprintf(s.Out, "ssh-ecs-run-task %s\n", version)
		return 0
	}
	status, err := execute(ctx, p, s, sigs)
	if err != nil {
		printError(s.ErrOut, err)
		return 255
	}
	return status
}

// signalRouter turns the process's signals into context cancellation while
// the tool prepares, and into relayed signals once the remote command runs.
type signalRouter struct {
	mu      sync.Mutex
	running bool
	relay   chan os.Signal
	caught  os.Signal
}

// route starts routing; the returned context is cancelled by a signal that
// arrives before start is called.
func route(ctx context.Context, sigs <-chan os.Signal) (context.Context, *signalRouter, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	r := &signalRouter{relay: make(chan os.Signal, 4)}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case sig := <-sigs:
				r.mu.Lock()
				running := r.running
				if !running {
					r.caught = sig
				}
				r.mu.Unlock()
				if running {
					select {
					case r.relay <- sig:
					default:
					}
				} else {
					cancel()
				}
			}
		}
	}()
	return ctx, r, cancel
}

// start switches from cancelling to relaying.
func (r *signalRouter) start() <-chan os.Signal {
	r.mu.Lock()
	r.running = true
	r.mu.Unlock()
	return r.relay
}

// interrupted reports the signal that cancelled the preparation, if any.
func (r *signalRouter) interrupted() os.Signal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.caught
}

// hinted is an error that carries advice for the user.
type hinted interface{ Hint() string }

// printError prints the one-line error and, when there is one, a hint line.
func printError(w io.Writer, err error) {
	msg := strings.TrimSpace(err.Error())
	msg = strings.ReplaceAll(msg, "\n", " ")
	fmt.Fprintf(w, "ssh-ecs-run-task: %s\n", shorten(msg))
	if h := hintOf(err); h != "" {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
}

// longQuoted is a quoted value too long to be useful in a message.
var longQuoted = regexp.MustCompile(`"(?:[^"\\]|\\.){120,}"`)

// maxMessage is the longest error line printed, in bytes.
const maxMessage = 2000

// shorten keeps an error line readable when it quotes an absurdly long
// value (a 100 000-character --task, say): long quoted values keep their
// start and end, and the whole line is capped.
func shorten(msg string) string {
	msg = longQuoted.ReplaceAllStringFunc(msg, func(q string) string {
		return fmt.Sprintf("%s…%s (%d bytes)", q[:61], q[len(q)-21:], len(q)-2)
	})
	if len(msg) > maxMessage {
		msg = strings.ToValidUTF8(msg[:maxMessage/2], "") + " … " + strings.ToValidUTF8(msg[len(msg)-maxMessage/4:], "")
	}
	return msg
}

// hintOf finds the advice attached to an error by any package.
func hintOf(err error) string {
	var (
		h  hinted
		ue *cliargs.UsageError
		ee *ecs.Error
		se *sshsession.Error
	)
	switch {
	case errors.As(err, &ue):
		return ue.Hint
	case errors.As(err, &ee):
		return ee.Hint
	case errors.As(err, &se):
		return se.Hint
	case errors.As(err, &h):
		return h.Hint()
	}
	return ""
}

// usageError is the tool's own error with a hint, for checks made in main.
type usageError struct{ msg, hint string }

func (e *usageError) Error() string { return e.msg }
func (e *usageError) Hint() string  { return e.hint }
