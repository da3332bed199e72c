#!/bin/sh
# entrypoint.sh — the ssh-ecs-run-task reference sshd image (Fargate mode, SPEC §7).
#
# Starts the real OpenSSH sshd with the ONE-TIME keys that ssh-ecs-run-task passes as container
# environment overrides, serves exactly one SSH session, then exits (so the task ends).
#
# Environment:
#   SSH_AUTHORIZED_KEYS   required: one or more authorized_keys lines (the client's one-time
#                         public key) -> /root/.ssh/authorized_keys (0600).
#   SSH_HOST_ED25519_KEY  required: the host's private key in OpenSSH private-key format
#                         (-----BEGIN OPENSSH PRIVATE KEY-----) -> /etc/ssh/ssh_host_ed25519_key
#                         (0600), the only host key. Missing -> refuse to start (no TOFU).
#   SSHD_PORT             optional, default 22.
#   SSHD_LISTEN_ADDRESS   optional, default 0.0.0.0.
#   SSHD_IDLE_TIMEOUT     optional, seconds, default 600: exit if no session has been
#                         authenticated by then.
# For both key variables, a value without a real newline but with literal "\n" sequences (a
# console that flattened it) has those sequences turned into newlines.
#
# Everything else in the container environment (minus the two key variables, SSHD_*, and what
# sshd sets per session: HOME USER LOGNAME SHELL TERM MAIL PWD OLDPWD SHLVL SSH_*) is written
# shell-quoted to /etc/profile.d/ecs-task-env.sh; sshd's ForceCommand wrapper
# /usr/local/libexec/ecs-task-session sources it, so `ssh host env` and login shells both see it
# exactly (see that file for why not ~/.ssh/environment).
#
# Exit status: 0 after the first session ended; 1 when the idle timeout passed without a
# session; 2 on a configuration error (missing key, bad port, ...); sshd's status if it died;
# 143 when stopped by SIGTERM (docker stop / ECS StopTask).
#
# POSIX sh only: runs under dash (Debian image) and busybox ash (the e2e test image).
set -eu

PROG=ecs-sshd
SSHD=/usr/sbin/sshd
HOST_KEY=/etc/ssh/ssh_host_ed25519_key
AUTH_KEYS=/root/.ssh/authorized_keys
ENV_FILE=/etc/profile.d/ecs-task-env.sh

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 2; }

nl='
'

# unflatten VALUE: print VALUE with literal \n sequences turned into newlines, but only when it
# has no real newline (a real newline means it arrived intact; leave it alone).
unflatten() {
	_rest=$1 _out=
	case $_rest in
	*"$nl"*) printf '%s\n' "$_rest"; return ;;
	esac
	while :; do
		case $_rest in
		*'\n'*)
			_out=$_out${_rest%%'\n'*}$nl
			_rest=${_rest#*'\n'}
			;;
		*)
			_out=$_out$_rest
			break
			;;
		esac
	done
	printf '%s\n' "$_out"
}

is_uint() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	return 0
}

setup() {
	if [ -z "${SSH_HOST_ED25519_KEY:-}" ]; then
		die "SSH_HOST_ED25519_KEY is not set: refusing to start without the one-time host key" \
			"(OpenSSH private-key format; there is no trust-on-first-use fallback)"
	fi
	if [ -z "${SSH_AUTHORIZED_KEYS:-}" ]; then
		die "SSH_AUTHORIZED_KEYS is not set: refusing to start without the client's one-time public key"
	fi
	port=${SSHD_PORT:-22}
	is_uint "$port" && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
		die "SSHD_PORT=$port is not a port number"
	idle=${SSHD_IDLE_TIMEOUT:-600}
	is_uint "$idle" || die "SSHD_IDLE_TIMEOUT=$idle is not a number of seconds"
	addr=${SSHD_LISTEN_ADDRESS:-0.0.0.0}
	case $addr in
	'' | *[!0-9A-Za-z.:%_-]*) die "SSHD_LISTEN_ADDRESS=$addr is not an address" ;;
	esac

	umask 077

	# The host key: normalised to header, body, footer on lines of their own (OpenSSH ignores
	# how the base64 body is broken into lines, so a body flattened onto one line or split by
	# spaces still decodes).
	key=$(unflatten "$SSH_HOST_ED25519_KEY" | tr -d '\r')
	begin='-----BEGIN OPENSSH PRIVATE KEY-----'
	end='-----END OPENSSH PRIVATE KEY-----'
	case $key in
	*"$begin"*"$end"*) ;;
	*) die "SSH_HOST_ED25519_KEY is not an OpenSSH private key (expected $begin ... $end)" ;;
	esac
	body=${key#*"$begin"}
	body=${body%%"$end"*}
	mkdir -p /etc/ssh
	rm -f "$HOST_KEY"
	{
		printf '%s\n' "$begin"
		set -f
		for chunk in $body; do printf '%s\n' "$chunk"; done
		set +f
		printf '%s\n' "$end"
	} >"$HOST_KEY"
	chmod 0600 "$HOST_KEY"
	unset key body chunk

	mkdir -p /root/.ssh
	chmod 0700 /root /root/.ssh
	unflatten "$SSH_AUTHORIZED_KEYS" | tr -d '\r' >"$AUTH_KEYS"
	chmod 0600 "$AUTH_KEYS"

	# Privilege separation: sshd wants an empty, root-owned, not group/world-writable directory.
	mkdir -p /run/sshd
	chmod 0755 /run/sshd

	# The task environment for sessions. `export -p` quotes every value so that the shell reads
	# it back exactly (quotes, spaces, newlines); the subshell drops what sessions must not see
	# or what sshd sets itself. Names come from `env`; a value line that looks like NAME=... only
	# causes a harmless extra unset of a name in the excluded classes.
	mkdir -p /etc/profile.d
	drop=$(env | sed -n 's/^\(SSH_[A-Za-z0-9_]*\)=.*/\1/p; s/^\(SSHD_[A-Za-z0-9_]*\)=.*/\1/p')
	(
		umask 022
		# shellcheck disable=SC2086 # word splitting of the name list is intended
		unset SSH_AUTHORIZED_KEYS SSH_HOST_ED25519_KEY HOME USER LOGNAME SHELL TERM MAIL \
			PWD OLDPWD SHLVL IFS _ $drop
		{
			echo '# Written by the ssh-ecs-run-task sshd entrypoint: the task container environment.'
			export -p
		} >"$ENV_FILE.tmp"
		chmod 0644 "$ENV_FILE.tmp"
		mv -f "$ENV_FILE.tmp" "$ENV_FILE"
	)

	# Check the configuration and that sshd loads the host key before announcing anything.
	if ! err=$("$SSHD" -t -p "$port" -o "ListenAddress=$addr" 2>&1); then
		die "sshd rejects the configuration or the host key: $err"
	fi

	# Run the supervisor with a fresh environment: the key variables are gone from the
	# environment of PID 1 (/proc/1/environ) and of sshd and everything it starts.
	unset SSH_AUTHORIZED_KEYS SSH_HOST_ED25519_KEY
	export ECS_SSHD_PORT="$port" ECS_SSHD_ADDR="$addr" ECS_SSHD_IDLE="$idle"
	exec "$0" __ecs_sshd_supervise
}

# --- supervisor: one session, then exit ---------------------------------------------------------
#
# sshd itself has no "serve one session, then exit" mode except -d (debug), which also ends after
# a connection that never authenticated (a port probe, a wrong key) and logs at debug level. So
# sshd runs normally (-D -e) as a child of this supervisor, which is PID 1 and watches it:
#
#   started: a session has been authenticated. Primary signal: sshd's own log line
#            "Accepted <method> for <user> ..." (with -e sshd logs to stderr, which goes through a
#            FIFO to a reader that copies every line to the container log and, on that line,
#            creates a marker file; sshd escapes control characters in what it logs, so no
#            client-chosen string can forge a line that starts with "Accepted "). Secondary
#            signal: a process titled "sshd: USER@notty" / "sshd: USER@pts/N" (also
#            "sshd-session: ..." of OpenSSH >= 9.8), the post-authentication title. The log line
#            catches sessions shorter than the poll interval; the title works whatever the log.
#   ended:   after "started", no per-connection process is left, i.e. the sshd listener has no
#            child (each connection is served by a child of the listener for its whole life,
#            pre- and post-authentication, whatever the user). This does not depend on process
#            titles, so the short window between "Accepted" and the title change cannot be
#            mistaken for the end. A connection that is still authenticating (say a probe) keeps
#            the container up at most until sshd's LoginGraceTime.
#   then:    sshd is stopped (SIGTERM) and the container exits 0.
#   idle:    no session started within SSHD_IDLE_TIMEOUT seconds (0 = never) -> stop, exit 1.
#   SIGTERM/SIGINT/SIGHUP (docker stop, ECS StopTask): stop sshd, exit 128+signal.
#   sshd dies by itself: exit with its status (1 if it was 0).
# Failed logins do not count as a session: a wrong key neither ends the container nor resets the
# idle timer. Polling is once a second, over /proc only (no ps needed).

STATE_DIR=/run/ecs-sshd
STARTED=$STATE_DIR/session-started
LOG_FIFO=$STATE_DIR/sshd-log

# proc_stat PID: set $st_state and $st_ppid from /proc/PID/stat; fails when PID is gone.
proc_stat() {
	st_line=
	{ IFS= read -r st_line <"/proc/$1/stat"; } 2>/dev/null || return 1
	[ -n "$st_line" ] || return 1
	# The command name (in parentheses) may contain spaces; everything after the last ") " is
	# numbers and single letters.
	st_line=${st_line##*") "}
	# shellcheck disable=SC2086
	set -- $st_line
	st_state=$1 st_ppid=$2
}

alive() { # alive PID: running and not a zombie
	proc_stat "$1" && [ "$st_state" != Z ] && [ "$st_state" != X ]
}


# session_titled: some process carries sshd's post-authentication title.
session_titled() {
	for _p in /proc/[0-9]*; do
		_t=$(tr '\0' ' ' <"$_p/cmdline" 2>/dev/null) || continue
		case $_t in
		"sshd: "*@notty* | "sshd: "*@pts/* | "sshd-session: "*@notty* | "sshd-session: "*@pts/*)
			# Titles before authentication end in "]" ([accepted], [priv], [net], [preauth]),
			# even for a user name with "@notty" in it.
			_t=${_t%"${_t##*[! ]}"}
			case $_t in *"]") ;; *) return 0 ;; esac
			;;
		esac
	done
	return 1
}

# children PID: the live children of PID.
children() {
	for _p in /proc/[0-9]*; do
		_p=${_p#/proc/}
		if proc_stat "$_p" && [ "$st_ppid" = "$1" ] && [ "$st_state" != Z ] && [ "$st_state" != X ]; then
			printf '%s\n' "$_p"
		fi
	done
}

# stop_sshd: stop the listener and any connection still open (on a signal or the idle timeout
# there may be one), then let the log reader copy sshd's last lines: it ends at EOF of the FIFO,
# which needs every sshd process gone; bounded to 2 s in case one lingers (exiting PID 1 ends
# them all anyway).
stop_sshd() {
	_kids=$(children "$sshd_pid")
	kill -TERM "$sshd_pid" $_kids 2>/dev/null
	wait "$sshd_pid" 2>/dev/null
	(sleep 2 && kill "$reader_pid" 2>/dev/null) &
	_timer=$!
	wait "$reader_pid" 2>/dev/null
	kill "$_timer" 2>/dev/null
}

on_signal() {
	log "received SIG$1: stopping sshd"
	stop_sshd
	exit "$2"
}

supervise() {
	set +e
	port=$ECS_SSHD_PORT addr=$ECS_SSHD_ADDR idle=$ECS_SSHD_IDLE
	unset ECS_SSHD_PORT ECS_SSHD_ADDR ECS_SSHD_IDLE

	rm -rf "$STATE_DIR"
	mkdir -p "$STATE_DIR" || exit 2
	mkfifo "$LOG_FIFO" || exit 2
	while IFS= read -r line; do
		printf '%s\n' "$line" >&2
		case $line in
		"Accepted "*) : >"$STARTED" ;;
		esac
	done <"$LOG_FIFO" &
	reader_pid=$!

	"$SSHD" -D -e -p "$port" -o "ListenAddress=$addr" 2>"$LOG_FIFO" </dev/null &
	sshd_pid=$!
	trap 'on_signal TERM 143' TERM
	trap 'on_signal INT 130' INT
	trap 'on_signal HUP 129' HUP
	log "sshd (pid $sshd_pid) on $addr port $port: serving one session" \
		"(idle timeout ${idle}s)"

	t0=$(date +%s)
	started=
	while :; do
		if ! alive "$sshd_pid"; then
			wait "$sshd_pid"
			rc=$?
			wait "$reader_pid" 2>/dev/null
			log "sshd exited by itself (status $rc)"
			[ "$rc" -eq 0 ] && rc=1
			exit "$rc"
		fi
		if [ -z "$started" ]; then
			if [ -e "$STARTED" ] || session_titled; then
				started=1
				log "session started; will stop when it ends"
			elif [ "$idle" -gt 0 ] && [ $(($(date +%s) - t0)) -ge "$idle" ]; then
				log "no session within SSHD_IDLE_TIMEOUT=${idle}s: stopping sshd"
				stop_sshd
				exit 1
			fi
		fi
		if [ -n "$started" ] && [ -z "$(children "$sshd_pid")" ]; then
			log "session ended: stopping sshd"
			stop_sshd
			exit 0
		fi
		sleep 1
	done
}

if [ "${1:-}" = __ecs_sshd_supervise ]; then
	supervise
else
	setup
fi
