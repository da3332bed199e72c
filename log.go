package main

import (
	"fmt"
	"time"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/cliargs"
)

// logger writes the tool's own messages to stderr: progress and warnings
// unless --ssh-q, details with --verbose, per-phase timings with --debug.
type logger struct {
	s                     *Streams
	quiet, verbos, debugs bool
	start, last           time.Time
}

func newLogger(s *Streams, p *cliargs.Parsed) *logger {
	l := &logger{s: s, verbos: p.Verbose || p.Debug, debugs: p.Debug, start: time.Now()}
	l.last = l.start
	for _, f := range p.SSHFlags {
		if f.Name == "q" {
			l.quiet = true
		}
	}
	return l
}

func (l *logger) info(format string, args ...any) {
	if !l.quiet {
		fmt.Fprintf(l.s.ErrOut, format+"\n", args...)
	}
}

func (l *logger) warn(format string, args ...any) {
	if !l.quiet {
		fmt.Fprintf(l.s.ErrOut, "warning: "+format+"\n", args...)
	}
}

func (l *logger) verbose(format string, args ...any) {
	if l.verbos {
		fmt.Fprintf(l.s.ErrOut, "verbose: "+format+"\n", args...)
	}
}

func (l *logger) debug(format string, args ...any) {
	if l.debugs {
		fmt.Fprintf(l.s.ErrOut, "debug: "+format+"\n", args...)
	}
}

// timing prints how long the phase that just ended took, and the total.
func (l *logger) timing(phase string) {
	if !l.debugs {
		return
	}
	now := time.Now()
	fmt.Fprintf(l.s.ErrOut, "debug: timing: %-12s %7.1f ms (total %7.1f ms)\n", phase,
		float64(now.Sub(l.last).Microseconds())/1000, float64(now.Sub(l.start).Microseconds())/1000)
	l.last = now
}
