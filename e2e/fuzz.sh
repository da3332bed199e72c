#!/usr/bin/env bash
# e2e/fuzz.sh DURATION — run every fuzz target of the project for DURATION each (go test -fuzz
# runs one target at a time). New interesting inputs land in each package's testdata/fuzz and are
# kept as the corpus; a failure leaves its input there and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-60s}
targets=(
	"./shellquote FuzzJoinRoundTrip"
	"./cliargs FuzzParse"
	"./dockercmd FuzzBuild"
)
for t in "${targets[@]}"; do
	set -- $t
	echo "fuzz: $1 $2 for $fuzztime"
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime" "$1"
done
