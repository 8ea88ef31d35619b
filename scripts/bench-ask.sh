#!/usr/bin/env bash
# Compares `hark ask` with llama.cpp's own llama-completion on the same GGUF, threads, batch and
# prompt (~500 tokens), greedy, 128 generated tokens: prompt-evaluation and generation speed
# (tokens/s, as each program reports them) and peak memory (maximum resident set size from
# /usr/bin/time). On a shared machine single runs are noisy, so the two are interleaved ROUNDS
# times and the best run of each is kept (speed: highest; memory: lowest).
#
# start-MiB is the peak of each program doing nothing (`hark version`, `llama-completion
# --version`) and engine-MiB is peak-MiB minus start-MiB: most of Hark's start is the pages of its
# ~110 MB executable (GUI, speech, connectors) that the kernel maps while package initialisers
# run, which llama-completion's ~11 MB has no counterpart for.
#
# usage: scripts/bench-ask.sh HARK LLAMA_COMPLETION MODEL.gguf [THREADS] [ROUNDS]
#   HARK              bin/hark (make build)
#   LLAMA_COMPLETION  scripts/native.sh llama-tool llama-completion builds it from the same
#                     llama.cpp sources and options as Hark's own build
#   MODEL.gguf        e.g. the 100M-parameter Q4_0 or Q4_K_M file scripts/bench-llm.sh leaves in
#                     ${HARK_TEST_CACHE:-/tmp/hark-testmodels}
set -euo pipefail
HARK=$1 COMPLETION=$2 MODEL=$3
THREADS="${4:-$(nproc)}"
ROUNDS="${5:-5}"
PROMPT=$(for _ in $(seq 14); do printf 'hello world the a is it what yes no '; done)
out=$(mktemp -d)
for _ in $(seq "$ROUNDS"); do
  /usr/bin/time -f 'peak-kb %M' -o "$out/time" "$HARK" ask --json --model "$MODEL" --system '' --threads "$THREADS" \
    --batch 512 --temp 0 --max-tokens 128 "$PROMPT" >"$out/hark.json" 2>"$out/hark.err" || { cat "$out/hark.err" >&2; exit 1; }
  /usr/bin/python3 - "$out/hark.json" <<'PY' >>"$out/hark.txt"
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
print("prompt-tok/s", s["prompt_tokens_per_s"]); print("gen-tok/s", s["generation_tokens_per_s"])
print("prompt-tokens", s["prompt_tokens"]); print("generated-tokens", s["generated_tokens"])
PY
  awk '{print "peak-MiB", $2/1024}' "$out/time" >>"$out/hark.txt"
  /usr/bin/time -f 'peak-kb %M' -o "$out/time" "$HARK" version >/dev/null
  awk '{print "start-MiB", $2/1024}' "$out/time" >>"$out/hark.txt"
  /usr/bin/time -f 'peak-kb %M' -o "$out/time" "$COMPLETION" -m "$MODEL" -t "$THREADS" -b 512 -ub 512 \
    --temp 0 -n 128 -no-cnv -p "$PROMPT" >/dev/null 2>"$out/ref.err" </dev/null || { tail -20 "$out/ref.err" >&2; exit 1; }
  # "prompt eval time = 812.07 ms / 497 tokens (... 612.02 tokens per second)", "eval time = ... / 127 runs (... tokens per second)"
  awk '/prompt eval time/ { for (i = NF; i >= 1; i--) if ($i == "tokens") n = $(i-1); print "prompt-tokens", n; print "prompt-tok/s", $(NF-3) }
       / eval time/ && !/prompt/ { for (i = NF; i >= 1; i--) if ($i == "runs") n = $(i-1); print "generated-tokens", n; print "gen-tok/s", $(NF-3) }' "$out/ref.err" >>"$out/ref.txt"
  awk '{print "peak-MiB", $2/1024}' "$out/time" >>"$out/ref.txt"
  /usr/bin/time -f 'peak-kb %M' -o "$out/time" "$COMPLETION" --version >/dev/null 2>&1
  awk '{print "start-MiB", $2/1024}' "$out/time" >>"$out/ref.txt"
done
echo "== $(basename "$MODEL"), $THREADS threads, best of $ROUNDS (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-18s %14s %18s %8s\n' metric "hark ask" llama-completion ratio
declare -A H R
row() { printf '%-18s %14s %18s %8s\n' "$1" "$2" "$3" "$(awk -v h="$2" -v r="$3" 'BEGIN { if (r > 0) printf "%.2f", h / r }')"; }
for key in prompt-tokens prompt-tok/s generated-tokens gen-tok/s peak-MiB start-MiB; do
  pick() { case $key in *MiB) sort -g | head -1 ;; *) sort -g | tail -1 ;; esac; }
  h=$(awk -v k="$key" '$1 == k { print $2 }' "$out/hark.txt" | pick)
  r=$(awk -v k="$key" '$1 == k { print $2 }' "$out/ref.txt" | pick)
  row "$key" "$h" "$r"
  H[$key]=$h R[$key]=$r
done
minus() { awk -v a="$1" -v b="$2" 'BEGIN { print a - b }'; }
row engine-MiB "$(minus "${H[peak-MiB]}" "${H[start-MiB]}")" "$(minus "${R[peak-MiB]}" "${R[start-MiB]}")"
rm -rf "$out"
