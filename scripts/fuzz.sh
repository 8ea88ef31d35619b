#!/usr/bin/env bash
# fuzz.sh: run every Go fuzz target (func FuzzX in a _test.go file) for FUZZTIME each
# (default 30s), one after another, and stop at the first failure. A failing input is saved
# by Go under the package's testdata/fuzz/FuzzX/; `go test ./pkg -run FuzzX` replays it.
# Needs the cgo environment for the engine packages: run it through `make fuzz`, or after
# eval "$(make -s env)". The seed inputs alone run in every `go test` (scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
total=0
while IFS=: read -r file _ decl; do
	name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"$decl")
	pkg=./$(dirname "$file")
	echo "== $pkg $name ($FUZZTIME)"
	start=$(date +%s)
	out=$(mktemp)
	# A failure shows the fuzzer's whole last words (why it failed: the input, a hang, a crash);
	# a pass, its last progress line.
	if ! go test "$pkg" -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" ${FUZZFLAGS:-} >"$out" 2>&1; then
		grep -v '^fuzz: elapsed' "$out" | tail -40
		rm -f "$out"
		exit 1
	fi
	grep -E '^(fuzz: elapsed: [0-9]+s, execs|ok)' "$out" | tail -2
	rm -f "$out"
	total=$((total + $(date +%s) - start))
done < <(git grep -n -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' -- '*_test.go' | sed 's#^\./##')
echo "fuzz: every target passed, ${total}s in all"
