#!/usr/bin/env bash
# wine-exec.sh — run a Windows program under this project's wine prefix:
#
#   windows/wine-exec.sh prog.exe [args...]
#   GOOS=windows go test -exec "$PWD/windows/wine-exec.sh" ./pkg/
#
# The program's argv, stdin, stdout, stderr and exit status are its own: the script only sets the
# environment (windows/wine-env.sh), makes sure the wineserver runs detached from our streams, and
# execs wine. Run windows/setup-wine.sh once first. The program sees SSH_ECS_RUN_TASK_WINE=1, so a
# test can skip what wine cannot do (see windows/README.md).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/wine-env.sh"

if [ $# -eq 0 ]; then
	echo "usage: wine-exec.sh program.exe [args...]" >&2
	exit 2
fi
if [ ! -f "$WINEPREFIX/.ssh-ecs-run-task-prefix" ] || [ ! -x "$WINE" ]; then
	echo "wine-exec.sh: no wine prefix at $WINEPREFIX: run windows/setup-wine.sh (or make test-windows) first" >&2
	exit 127
fi
wine_ensure_server >/dev/null || { echo "wine-exec.sh: could not start the wineserver for $WINEPREFIX" >&2; exit 127; }
export SSH_ECS_RUN_TASK_WINE=1
exec "$WINE" "$@"
