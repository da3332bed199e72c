#!/usr/bin/env bash
# setup-wine.sh — make this machine able to run the project's Windows binaries and tests under
# wine (Debian 12, wine 8.0). Idempotent: a second run only checks and restarts the wineserver.
#
#   1. installs wine64 and gcc-mingw-w64-x86-64 with apt-get if missing (needs root then)
#   2. creates the prefix (WINEPREFIX, default ~/.cache/ssh-ecs-run-task/wine, outside the repo)
#   3. builds windows/prng/bcryptprimitives.c into the prefix's system32: wine 8.0 has no
#      ProcessPrng, which every Go >= 1.22 program needs to start
#   4. starts a wineserver (-p60: it lingers 60 s after the last program) and wineboot with their
#      output sent to /dev/null, so that later programs do not hand their stdout to wine's
#      background services (a caller waiting for EOF would wait seconds)
#
# Prints one line per step. Environment: see windows/wine-env.sh.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/wine-env.sh"

say() { printf 'setup-wine: %s\n' "$*"; }
die() { printf 'setup-wine: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

MINGW_CC=x86_64-w64-mingw32-gcc

# 1. packages
if [ -x "$WINE" ] && command -v "$MINGW_CC" >/dev/null 2>&1; then
	say "packages: wine64 and $MINGW_CC present"
else
	[ "$(id -u)" = 0 ] || die "wine64 or $MINGW_CC missing; as root run: apt-get install -y --no-install-recommends wine64 gcc-mingw-w64-x86-64"
	t=$(now)
	export DEBIAN_FRONTEND=noninteractive
	# apt-get update once, and only when the package lists do not know the packages yet.
	if ! apt-cache show wine64 gcc-mingw-w64-x86-64 >/dev/null 2>&1; then
		apt-get update -qq >/dev/null
	fi
	apt-get install -y -qq --no-install-recommends wine64 gcc-mingw-w64-x86-64 >/dev/null
	[ -x "$WINE" ] || die "$WINE not found after installing wine64"
	say "packages: installed wine64 and gcc-mingw-w64-x86-64 in $(since "$t")"
fi

# 2. prefix. The stamp is written last, so a prefix whose creation was cut short is made again.
stamp="$WINEPREFIX/.ssh-ecs-run-task-prefix"
log="$(dirname "$WINEPREFIX")/setup-wine.log"
if [ -f "$stamp" ]; then
	say "prefix: $WINEPREFIX exists"
else
	t=$(now)
	mkdir -p "$(dirname "$WINEPREFIX")"
	if [ -e "$WINEPREFIX" ]; then
		"$WINESERVER" -k >/dev/null 2>&1 || true
		rm -rf "$WINEPREFIX"
	fi
	# wineboot -i also starts this prefix's wineserver; all of it writes to the log, not to us.
	if ! "$WINE" wineboot -i </dev/null >"$log" 2>&1; then
		tail -20 "$log" >&2
		die "wineboot -i failed (log: $log)"
	fi
	[ -d "$WINEPREFIX/drive_c/windows/system32" ] || die "wineboot made no system32 in $WINEPREFIX (log: $log)"
	# wineboot -i leaves a server that does not linger (-p0); stop it (it saves the registry) so
	# step 4 can start the lingering one.
	"$WINESERVER" -k >/dev/null 2>&1 || true
	"$WINESERVER" -w >/dev/null 2>&1 || true
	date -u +%FT%TZ >"$stamp"
	say "prefix: created $WINEPREFIX in $(since "$t")"
fi

# 3. bcryptprimitives.dll, rebuilt whenever its source changes.
src="$here/prng/bcryptprimitives.c"
dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
want=$(sha256sum "$src" | cut -d' ' -f1)
if [ -f "$dll" ] && [ "$(cat "$dll.sha256" 2>/dev/null)" = "$want" ]; then
	say "prng: $dll up to date"
else
	"$MINGW_CC" -O2 -shared -s -Wall -Wextra -o "$dll.tmp" "$src" -ladvapi32
	mv -f "$dll.tmp" "$dll"
	printf '%s\n' "$want" >"$dll.sha256"
	say "prng: built $dll"
fi

# 4. wineserver and wine's background services, detached from our stdout/stderr.
# The same lock and commands as wine-exec.sh (wine_ensure_server in wine-env.sh).
t=$(now)
case $(wine_ensure_server) in
started) say "wineserver: started for $WINEPREFIX (TMPDIR=$TMPDIR, lingers 60 s), wineboot in $(since "$t")" ;;
*) say "wineserver: already running for $WINEPREFIX (TMPDIR=$TMPDIR)" ;;
esac
