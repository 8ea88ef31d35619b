#!/usr/bin/env bash
# Compares Hark's llm benchmarks with llama.cpp's llama-bench on the same files, threads and
# batch size. On a shared machine single runs are noisy, so the two are interleaved ROUNDS
# times and the best run of each is kept (the one least disturbed by other load).
#
# usage: scripts/bench-llm.sh [LLAMA_BENCH] [THREADS] [ROUNDS] [FA]
#   LLAMA_BENCH  default /tmp/ref/build/bin/llama-bench (../shared/bench/build-llama-ref.sh
#                /tmp/ref/build builds it: llama.cpp's default build, the same sources, options
#                and ISA as Hark's own build of llama.cpp)
#   FA           flash attention, on, off or auto (default auto, as Hark and llama-bench run;
#                auto means on for the CPU)
# With llama-quantize next to LLAMA_BENCH (or named by $HARK_LLAMA_QUANTIZE), a Q4_K_M variant of
# the 100M model is measured too (quantized once from an F16 file the test writer makes).
# Needs the cgo environment (eval "$(make -s env)").
set -euo pipefail
BENCH="${1:-/tmp/ref/build/bin/llama-bench}"
THREADS="${2:-$(nproc)}"
ROUNDS="${3:-8}"
FA="${4:-auto}"
case "$FA" in on | off | auto) ;; *) echo "FA must be on, off or auto" >&2; exit 2 ;; esac
export HARK_BENCH_FA=$FA HARK_BENCH_THREADS=$THREADS
QUANTIZE="${HARK_LLAMA_QUANTIZE:-$(dirname "$BENCH")/llama-quantize}"
MODELS="stories260K q4_0-100M"
if [ -x "$QUANTIZE" ]; then export HARK_LLAMA_QUANTIZE=$QUANTIZE; MODELS="$MODELS q4_K_M-100M"; else unset HARK_LLAMA_QUANTIZE; fi
cd "$(dirname "$0")/.."
TEST=$(mktemp -d)/llm.test
go test -c -o "$TEST" ./llm/
# Writes the 100M-parameter models into $HARK_TEST_CACHE (once) and prints nothing else.
"$TEST" -test.run '^$' -test.bench 'Generation/q4' -test.benchtime 1x >/dev/null
CACHE="${HARK_TEST_CACHE:-${TMPDIR:-/tmp}/hark-testmodels}"
Q4=$(ls -t "$CACHE"/hark-bench-100m-q4_0-*.gguf | head -1)
Q4KM=$(ls -t "$CACHE"/hark-bench-100m-f16-*-q4_k_m.gguf 2>/dev/null | head -1 || true)
STORIES="${HARK_TEST_MODELS:-../shared/models}/stories260K.gguf"
best() { case "$1" in *us/token*) sort -g | head -1 ;; *) sort -g | tail -1 ;; esac; }
for model in $MODELS; do
  case $model in stories260K) file=$STORIES ;; q4_0-100M) file=$Q4 ;; q4_K_M-100M) file=$Q4KM ;; esac
  : >/tmp/bench-llm-$model.txt
  for _ in $(seq "$ROUNDS"); do
    "$BENCH" -m "$file" -t "$THREADS" -p 512 -n 128 -b 512 -ub 512 -fa "$FA" -r 1 -o csv 2>/dev/null |
      awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); col[$i] = i }; next }
        { gsub(/"/, ""); print ($col["n_prompt"] > 0 ? "llama-bench-pp512" : "llama-bench-tg128"), $col["avg_ts"] }' >>/tmp/bench-llm-$model.txt || true
    "$TEST" -test.run '^$' -test.bench "(PromptEval|Generation|RawDecode)/$model" -test.benchtime 2x 2>/dev/null |
      awk '/^Benchmark/ { for (i = 1; i <= NF; i++) if ($i ~ /tok\/s$/ || $i ~ /us\/token$/) print $1 "-" $i, $(i-1) }' >>/tmp/bench-llm-$model.txt
  done
  echo "== $model ($file), $THREADS threads, flash attention $FA, best of $ROUNDS"
  for key in $(awk '{print $1}' /tmp/bench-llm-$model.txt | sort -u); do
    printf '%-60s %s\n' "$key" "$(awk -v k="$key" '$1 == k { print $2 }' /tmp/bench-llm-$model.txt | best "$key")"
  done
done
