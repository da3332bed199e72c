#!/usr/bin/env bash
# e2e/fuzz.sh DURATION — run every fuzz target of the project for DURATION each. The targets run at
# the same time (go test -fuzz takes one target per run), so the whole takes DURATION plus the time
# to minimise what they find (at most 5 s an input: minimising a long input through the shellquote
# target, which starts a real sh per try, would otherwise eat the whole budget). New interesting
# inputs join the cache's corpus; a failure writes its input to the package's testdata/fuzz (keep
# it: it becomes a regression case) and makes this exit non-zero.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-60s}
targets=(
	"./shellquote FuzzJoinRoundTrip"
	"./cliargs FuzzParse"
	"./dockercmd FuzzBuild"
)
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
pids=()
for i in "${!targets[@]}"; do
	set -- ${targets[$i]}
	echo "fuzz: $1 $2 for $fuzztime"
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s -parallel 1 "$1" >"$logs/$i" 2>&1 &
	pids+=($!)
done
status=0
for i in "${!targets[@]}"; do
	if wait "${pids[$i]}"; then
		echo "fuzz: ${targets[$i]}: ok ($(grep -o 'execs: [0-9]*' "$logs/$i" | tail -1))"
	else
		status=1
		echo "fuzz: ${targets[$i]}: FAILED"
		cat "$logs/$i"
	fi
done
exit $status
