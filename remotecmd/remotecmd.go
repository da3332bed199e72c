// Package remotecmd composes what runs on the container host around
// `docker run`: a small POSIX sh wrapper that
//
//   - receives the container's environment from a 0600 file written over the
//     SSH connection (never from a command line, so `ps` on the host shows
//     names only) and hands it to docker through a FIFO (--env-file) or, for
//     values with line breaks, through docker's own environment (-e NAME);
//   - removes the container by name when the SSH session ends without a word
//     (client killed, connection cut): a watcher polls the session's sshd
//     process once a second and runs `docker rm -f NAME` when it is gone;
//   - removes it too when docker run itself was killed by a signal (a PTY
//     hang-up kills the docker client, not the container);
//   - exits with docker run's status.
//
// It is pure: it builds strings and bytes, it runs nothing, and it knows
// neither SSH nor AWS.
package remotecmd

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/shellquote"
)

// EnvDirVar is the placeholder for the host's environment directory in argv
// composed before the directory exists; Command replaces it.
const EnvDirVar = "@ENVDIR@"

// EnvFile is the FIFO docker reads the environment from, inside the
// directory that SetupCommand creates.
const EnvFile = EnvDirVar + "/env"

// Env splits a container environment into what docker can read from an
// env-file (one NAME=VALUE line) and what must travel in docker's own
// environment: values with a line break or carriage return, that are not
// UTF-8, or too long for one env-file line, which docker's env-file parser
// would change or refuse.
type Env struct {
	File  []dockercmd.EnvVar // through --env-file
	Names []dockercmd.EnvVar // through the environment of `docker run`, as -e NAME
}

// SplitEnv sorts env into Env, keeping the task's order in each part. A
// value that cannot go through the env-file under a name that is no shell
// variable name cannot be passed exactly; that is an error naming it.
func SplitEnv(env []dockercmd.EnvVar) (Env, error) {
	var e Env
	for _, v := range env {
		size := len(v.Name) + 1 + len(v.Value)
		if fileSafe(v.Value) && size < maxEnvFileLine {
			e.File = append(e.File, v)
			continue
		}
		if size >= maxEnvString {
			return Env{}, fmt.Errorf("environment variable %q: its value of %d bytes is more than docker run can take (%d KiB)", v.Name, len(v.Value), maxEnvString>>10)
		}
		if !shellName(v.Name) {
			return Env{}, fmt.Errorf("environment variable %q: its value has a line break or is long, and its name is not a shell variable name, so it cannot be passed exactly", v.Name)
		}
		e.Names = append(e.Names, v)
	}
	return e, nil
}

// Limits of docker run's two ways in: its env-file reader stops at lines of
// 64 KiB, and Linux refuses one environment string of 128 KiB or more.
const (
	maxEnvFileLine = 64<<10 - 1
	maxEnvString   = 128 << 10
)

// Empty reports whether there is nothing to pass.
func (e Env) Empty() bool { return len(e.File) == 0 && len(e.Names) == 0 }

// NameList returns the names that travel in docker's environment, for
// sudo's --preserve-env.
func (e Env) NameList() []string {
	names := make([]string, len(e.Names))
	for i, v := range e.Names {
		names[i] = v.Name
	}
	return names
}

// DockerArgs are the docker run options that read e: --env-file for the
// FIFO and -e NAME for the rest, with the directory still as EnvDirVar.
func (e Env) DockerArgs() []string {
	var args []string
	if len(e.File) > 0 {
		args = append(args, "--env-file", EnvFile)
	}
	for _, v := range e.Names {
		args = append(args, "-e", v.Name)
	}
	return args
}

// Payload is the file the host's shell sources: the env-file text as one
// quoted string (_f, written to the FIFO by the shell's builtin printf, so it
// is in no process's argv) and an export per value with a line break.
func (e Env) Payload() []byte {
	var b bytes.Buffer
	if len(e.File) > 0 {
		var f strings.Builder
		for _, v := range e.File {
			f.WriteString(v.Name)
			f.WriteByte('=')
			f.WriteString(v.Value)
			f.WriteByte('\n')
		}
		b.WriteString("_f=" + shellquote.Quote(f.String()) + "\n")
	}
	for _, v := range e.Names {
		b.WriteString("export " + v.Name + "=" + shellquote.Quote(v.Value) + "\n")
	}
	return b.Bytes()
}

// SetupCommand runs in a first SSH session, before the container: it makes
// a private directory, stores its standard input there as the payload file
// (mode 0600) and prints the directory's path. The wrapper deletes the file
// as soon as it has read it; should the wrapper never come (the client died
// in between), a background sleeper deletes it after a minute.
const SetupCommand = `umask 077 && d=$(mktemp -d "${TMPDIR:-/tmp}/ssh-ecs-run-task.XXXXXXXX") && cat > "$d/vars" && ` +
	`{ ( sleep 60; rm -f "$d/vars"; rmdir "$d" ) </dev/null >/dev/null 2>&1 & } && printf '%s\n' "$d"`

// wrapper is the host-side script; see the package doc. Positional
// parameters: the environment directory ("" when there is none), the
// cleanup command (quoted, for eval), then the docker run argv. It is one
// line, so that login shells that dislike newlines in quotes (csh) pass it on.
const wrapper = `p=$PPID d=$1 c=$2; shift 2; ` +
	// The environment: source the payload, delete it, make the FIFO.
	`if [ -n "$d" ]; then . "$d/vars" && rm -f "$d/vars" && mkfifo -m 600 "$d/env" || { echo "ssh-ecs-run-task: cannot prepare the container environment in $d on this host" >&2; rm -rf "$d"; exit 255; }; fi; ` +
	// The watcher: once the session's sshd is gone, remove the container.
	`( trap '' HUP INT TERM QUIT; while kill -0 "$p" 2>/dev/null; do sleep 1; done; eval "$c"; [ -z "$d" ] || rm -rf "$d" ) </dev/null >/dev/null 2>&1 & w=$! f=; ` +
	// The env-file goes into the FIFO from the shell's builtin printf.
	`if [ -n "${_f+x}" ]; then printf %s "$_f" > "$d/env" & f=$!; fi; unset _f; ` +
	// Signals reach docker run (sig-proxy); the wrapper waits for its status.
	`trap : HUP INT TERM QUIT; "$@"; s=$?; kill $w $f 2>/dev/null; ` +
	// docker run killed by a signal leaves its container: remove it.
	`[ "$s" -lt 128 ] || eval "$c" >/dev/null 2>&1; [ -z "$d" ] || rm -rf "$d"; exit $s`

// Command returns the remote command line: the wrapper run by sh with the
// environment directory, the cleanup command and argv, all quoted for the
// login shell. EnvDirVar in argv is replaced by envDir.
func Command(argv []string, envDir string, cleanup []string) string {
	words := make([]string, 0, len(argv)+6)
	words = append(words, "exec", "sh", "-c", wrapper, "ssh-ecs-run-task", envDir, shellquote.Join(cleanup))
	for _, a := range argv {
		words = append(words, strings.ReplaceAll(a, EnvDirVar, envDir))
	}
	return shellquote.Join(words)
}

// ContainerName returns a fresh name for the container, so it can always be
// found and removed by name.
func ContainerName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "ssh-ecs-run-task-" + hex.EncodeToString(b)
}

func fileSafe(v string) bool {
	return !strings.ContainsAny(v, "\n\r\x00") && utf8.ValidString(v)
}

func shellName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}
