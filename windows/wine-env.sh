# wine-env.sh — the one place that says how this project runs wine. Sourced (not run) by
# setup-wine.sh and wine-exec.sh so both talk to the same prefix and the same wineserver.
#
# Knobs (all optional):
#   WINEPREFIX           the prefix; default ~/.cache/ssh-ecs-run-task/wine of the user running it
#                        (from the password database, not $HOME, which tests change)
#   SSH_ECS_WINE_TMPDIR  TMPDIR that every wine process gets; wine keeps its server socket under
#                        it, so one fixed value means one shared wineserver; default /tmp
#   SSH_ECS_WINE         the wine loader; default /usr/lib/wine/wine64 (Debian 12's wine64)

if [ -z "${WINEPREFIX:-}" ]; then
	_wine_home=$(getent passwd "$(id -u)" | cut -d: -f6)
	WINEPREFIX="${_wine_home:-$HOME}/.cache/ssh-ecs-run-task/wine"
	unset _wine_home
fi
WINE="${SSH_ECS_WINE:-/usr/lib/wine/wine64}"
WINESERVER="$(dirname "$WINE")/wineserver"
export WINEPREFIX WINEARCH=win64
export WINEDEBUG=-all
# No .NET/Gecko install prompts on prefix creation, no desktop menu entries.
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
export TMPDIR="${SSH_ECS_WINE_TMPDIR:-/tmp}"
# No X: wine must not try to open windows or a graphical console.
unset DISPLAY WAYLAND_DISPLAY

# wine_ensure_server makes sure this prefix's wineserver runs, and if it had to start one, also
# starts wine's background services (wineboot). Both get /dev/null for stdin/stdout/stderr and no
# other inherited descriptor: a server or service started by a test binary would inherit the
# binary's stdout, and `go test`, which waits for EOF on it, would wait until they exit (60 s+).
# A lock keeps two callers (go test runs test binaries in parallel) from racing: the second waits
# until the first has finished wineboot. Prints "started" or "running".
# wineserver -p60 exits 2 at once (8 ms) when a server is already up.
wine_ensure_server() {
	local rc=0
	mkdir -p "$WINEPREFIX"
	(
		# Descriptors the caller passed down (make's jobserver, a harness's pipes) stay here.
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			if [ "$fd" -gt 2 ] && [ "$fd" != 9 ]; then eval "exec $fd>&-"; fi
		done
		flock 9
		# 9>&-: the server and the services must not inherit the lock, or it stays held
		# as long as they live.
		if "$WINESERVER" -p60 </dev/null >/dev/null 2>&1 9>&-; then
			"$WINE" wineboot </dev/null >/dev/null 2>&1 9>&-
			echo started
		else
			echo running
		fi
	) 9>"$WINEPREFIX/.ssh-ecs-run-task-lock" || rc=$?
	return $rc
}
