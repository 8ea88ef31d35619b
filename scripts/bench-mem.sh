#!/usr/bin/env bash
# Peak memory of `hark ask` against llama.cpp's own llama-cli and llama-completion on the same
# GGUF, threads, batch and prompt (~500 tokens), greedy, 128 generated tokens, each run ROUNDS
# times interleaved; the lowest of each is kept (issue 13: Hark <= llama-cli + 10 %).
#
# Per program it prints
#   peak-MiB   the kernel's maximum resident set size (what /usr/bin/time -v calls "Maximum
#              resident set size"), the figure the issue compares
#   anon-MiB   the highest private anonymous memory seen (RssAnon, sampled every 20 ms): the
#              engine's buffers, the KV cache, repacked weights, Go's heap and runtime
#   file-MiB   the highest file-backed resident memory seen (RssFile, sampled): the model's
#              mapped weights plus the executable's pages. The executable's part depends on the
#              kernel and the page cache, not only on the program: on Linux 6.18 with ext4 large
#              folios and 8 MiB read-ahead, touching one byte of a 2 MiB folio maps all of it,
#              so the same `hark` binary peaks tens of MiB higher when its page cache came from
#              the linker's writes than from a copy (see docs/performance.md)
#   start-MiB  the peak of the program doing nothing (`hark version`, `llama-cli --version`)
#
# COLD=1 (as root) empties the page cache before every run, as after a reboot: each program
# and the model are then read from disk (read-ahead, large folios), the case a person meets first.
#
# usage: scripts/bench-mem.sh HARK LLAMA_CLI LLAMA_COMPLETION MODEL.gguf [THREADS] [ROUNDS]
#   LLAMA_CLI, LLAMA_COMPLETION  scripts/native.sh llama-tool llama-cli (llama-completion) builds
#                                them from the same llama.cpp sources and options as Hark's own
#   MODEL.gguf  e.g. the 100M-parameter Q4_0 or Q4_K_M file in ${HARK_TEST_CACHE:-/tmp/hark-testmodels}
set -euo pipefail
HARK=$1 CLI=$2 COMPLETION=$3 MODEL=$4
THREADS="${5:-1}"
ROUNDS="${6:-3}"
PROMPT=$(for _ in $(seq 14); do printf 'hello world the a is it what yes no '; done)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# peak NAME CMD...: runs CMD (stdout and stderr to $out/NAME.log), appends "NAME peak anon file" in KiB.
peak() {
  local name=$1; shift
  if [ -n "${COLD:-}" ]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi
  /usr/bin/python3 - "$out/$name.log" "$@" <<'PY' >>"$out/mem.txt" || { tail -20 "$out/$name.log" >&2; exit 1; }
import os, subprocess, sys, time
log = open(sys.argv[1], "w")
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
anon = file = 0
while True:
    try:
        with open("/proc/%d/status" % p.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k == "RssAnon": anon = max(anon, int(v.split()[0]))
                elif k == "RssFile": file = max(file, int(v.split()[0]))
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    pid, status, ru = os.wait4(p.pid, os.WNOHANG)
    if pid:
        break
    time.sleep(0.02)
if status != 0:
    sys.exit(1)
print(ru.ru_maxrss, anon, file)
PY
  sed -i "\$s/^/$name /" "$out/mem.txt"
}

for _ in $(seq "$ROUNDS"); do
  peak hark "$HARK" ask --json --model "$MODEL" --system '' --threads "$THREADS" --batch 512 --temp 0 --max-tokens 128 "$PROMPT"
  peak llama-cli "$CLI" -m "$MODEL" -t "$THREADS" -b 512 -ub 512 --temp 0 -n 128 -st --simple-io -p "$PROMPT"
  peak llama-completion "$COMPLETION" -m "$MODEL" -t "$THREADS" -b 512 -ub 512 --temp 0 -n 128 -no-cnv -p "$PROMPT"
  peak hark-start "$HARK" version
  peak llama-cli-start "$CLI" --version
  peak llama-completion-start "$COMPLETION" --version
done
echo "== $(basename "$MODEL"), $THREADS threads, lowest of $ROUNDS (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
awk '
  { n = $1; for (i = 2; i <= 4; i++) if (!((n, i) in m) || $i < m[n, i]) m[n, i] = $i }
  END {
    printf "%-18s %10s %10s %10s %10s %14s\n", "program", "peak-MiB", "anon-MiB", "file-MiB", "start-MiB", "peak/llama-cli"
    split("hark llama-cli llama-completion", p, " ")
    for (j = 1; j <= 3; j++) {
      n = p[j]
      printf "%-18s %10.1f %10.1f %10.1f %10.1f %14.2f\n", n, m[n, 2] / 1024, m[n, 3] / 1024, m[n, 4] / 1024, m[n "-start", 2] / 1024, m[n, 2] / m["llama-cli", 2]
    }
    printf "anon hark / llama-cli %.2f, hark / llama-completion %.2f\n", m["hark", 3] / m["llama-cli", 3], m["hark", 3] / m["llama-completion", 3]
  }' "$out/mem.txt"
