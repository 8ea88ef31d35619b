#!/usr/bin/env bash
# test.sh: every test, under a private virtual display and sound server (scripts/testenv).
# Called by `make test` after set-up, build and vet, with the cgo environment exported.
# TESTFLAGS adds flags to `go test` (e.g. TESTFLAGS='-run Capture -v').
# Screenshots, recordings and logs for people to look at go to $HARK_TEST_ARTIFACTS
# (default: test-artifacts/ in the checkout).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export HARK_TEST_ARTIFACTS=${HARK_TEST_ARTIFACTS:-$ROOT/test-artifacts}
export HARK_TEST_MODELS=${HARK_TEST_MODELS:-$ROOT/../shared/models}
rm -rf "$HARK_TEST_ARTIFACTS"
mkdir -p "$HARK_TEST_ARTIFACTS"
[ -f "$HARK_TEST_MODELS/stories260K.gguf" ] || { echo "test: no test models in $HARK_TEST_MODELS (set HARK_TEST_MODELS)"; exit 1; }

scripts/testenv/start.sh
trap 'scripts/testenv/stop.sh >/dev/null; cp -f "$HARK_TESTENV/pulse/pa.log" "$HARK_TEST_ARTIFACTS/" 2>/dev/null || true' EXIT
. scripts/testenv/env.sh
GO=$(scripts/setup.sh go-path)
export PATH="$(dirname "$GO"):$PATH"
# The built app, for end-to-end tests that start it as a person would.
export HARK_BIN=${HARK_BIN:-$ROOT/bin/hark}
"$GO" test -timeout 40m ${TESTFLAGS:-} ./... 2>&1 | tee "$HARK_TEST_ARTIFACTS/go-test.log"
