#!/usr/bin/env bash
# Short prompts (issue 21): prompt evaluation by batch size, Hark's llm against llama.cpp's own
# llama-bench on the same model, threads and sizes, one after the other so that the machine's
# load falls on both. Both are given in CPU time per token as well as wall-clock tokens/s: on a
# busy machine the wall clock mostly measures the other processes, the CPU time the work.
#
# usage: scripts/bench-shortprompt.sh MODEL.gguf [THREADS] [REPS]
#   THREADS  default 1 (Hark's default on a 2-core machine: all cores but one)
#   REPS     evaluations per size (default 5)
#
# Hark: BenchmarkShortPrompt (llm/shortprompt_bench_test.go), n new tokens after a 40-token
# cached prefix. llama-bench: -p n -n 0 -d 40; its CPU per token is the difference between a run
# with REPS+1 repetitions and one with 1, so that loading, the warm-up run and the 40-token depth
# (which llama-bench evaluates once and restores before every repetition) cancel out. Needs the
# cgo environment (eval "$(make -s env)").
set -euo pipefail
MODEL="${1:?usage: scripts/bench-shortprompt.sh MODEL.gguf [THREADS] [REPS]}"
THREADS="${2:-1}"
REPS="${3:-5}"
cd "$(dirname "$0")/.."
BENCH=$(scripts/native.sh llama-tool llama-bench)
TEST=$(mktemp -d)/llm.test
go test -c -o "$TEST" ./llm/
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== Hark (BenchmarkShortPrompt, $THREADS threads)"
HARK_BENCH_THREADS=$THREADS HARK_BENCH_MODEL=$MODEL "$TEST" -test.run '^$' -test.bench ShortPrompt -test.benchtime "${REPS}x" |
  awk '/^Benchmark/ { printf "%-32s", $1; for (i = 5; i < NF; i += 2) printf " %9s %s", $i, $(i+1); print ""; next } { print }'
# cpu prints the CPU time (seconds, every thread) llama-bench takes for ARGS: perf's task-clock
# where perf is allowed, else /usr/bin/time's user+system (10 ms steps).
cpu() {
  if perf stat -x, -e task-clock -o /tmp/bench-shortprompt.time "$BENCH" -m "$MODEL" -t "$THREADS" -b 512 -ub 512 -n 0 -o csv "$@" >/tmp/bench-shortprompt.csv 2>/dev/null; then
    awk -F, '$3 == "task-clock" { print $1 / 1000 }' /tmp/bench-shortprompt.time
  else
    /usr/bin/time -f '%U %S' -o /tmp/bench-shortprompt.time "$BENCH" -m "$MODEL" -t "$THREADS" -b 512 -ub 512 -n 0 -o csv "$@" >/tmp/bench-shortprompt.csv 2>/dev/null
    awk '{ print $1 + $2 }' /tmp/bench-shortprompt.time
  fi
}
wall() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); c[$i] = i }; next } { gsub(/"/, ""); print $c["avg_ts"] }' /tmp/bench-shortprompt.csv; }
echo "== llama-bench ($BENCH, $THREADS threads)"
for n in 1 8 16 33 64 77 128; do
  a=$(cpu -p "$n" -d 40 -r 1)
  b=$(cpu -p "$n" -d 40 -r $((REPS + 1)))
  awk -v a="$a" -v b="$b" -v r="$REPS" -v n="$n" -v ts="$(wall)" \
    'BEGIN { ms = (b - a) / r * 1000 / n; printf "pp%-4s @ d40 %10.1f tok/s %10.2f cpu-ms/tok %10.1f tok/cpu-s\n", n, ts, ms, 1000 / ms }'
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
