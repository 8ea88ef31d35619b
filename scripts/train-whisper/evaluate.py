#!/usr/bin/python3
"""Evaluates a whisper model through Hark's own path: renders the held-out clips listed in
eval.json (written by train.py) and runs `hark transcribe --json` (greedy, language auto, the
trimmed audio_ctx, the default hallucination guard) on each. Prints exact-sentence rate and WER
by set and by condition; writes the figures as JSON.

    /usr/bin/python3 scripts/train-whisper/evaluate.py --hark bin/hark --model M.bin --eval eval.json --out results.json
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import wave
from collections import defaultdict
from multiprocessing.pool import ThreadPool

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokens  # noqa: E402
import train  # noqa: E402


def write_wav(path, pcm):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(train.SR)
        w.writeframes((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hark", default="bin/hark")
    ap.add_argument("--model", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--every", type=int, default=1, help="evaluate every Nth clip of the speech sets (a quicker look; all noise clips)")
    args = ap.parse_args()
    sets = json.load(open(args.eval))
    tmp = tempfile.mkdtemp(prefix="hark-wer-")
    items = []
    for name, jobs in sets.items():
        for k, j in enumerate(jobs):
            if k % args.every and name != "noise":
                continue
            p = os.path.join(tmp, f"{name}-{k}.wav")
            write_wav(p, train.render(j))
            items.append((name, j, p))

    def run(item):
        name, j, p = item
        out = subprocess.run([args.hark, "transcribe", "--model", args.model, "--json", "--threads", "1", p],
                             capture_output=True, text=True)
        if out.returncode != 0:
            return item, {"text": "", "error": out.stderr.strip()[-300:]}
        return item, json.loads(out.stdout)

    with ThreadPool(args.jobs) as pool:
        results = pool.map(run, items)
    by = defaultdict(lambda: [0, 0, 0, 0])  # errors, words, exact, clips
    rows = []
    for (name, j, p), r in results:
        ref = "" if j["text"] == tokens.BLANK else j["text"]
        hyp = r.get("text", "")
        e, n = train.wer(ref, hyp, j["lang"])
        ok = hyp == ref
        rows.append({"set": name, "ref": ref, "hyp": hyp, "lang": r.get("language"), "dropped": r.get("dropped", ""),
                     "voice": j["voice"], "variant": j["variant"], "speed": j["speed"], "snr": j["snr"],
                     "noise": j["kind"], "error": r.get("error", "")})
        conds = [name, f"{name}/lang={j['lang']}"]
        if name != "noise":
            conds += [f"{name}/snr={j['snr'] or 'clean'}", f"{name}/speed={j['speed']}",
                      f"{name}/variant={j['variant'] or 'default'}", f"{name}/voice={j['voice']}"]
        else:
            conds += [f"noise/kind={j['kind']}"]
        for c in conds:
            b = by[c]
            b[0] += e
            b[1] += n
            b[2] += ok
            b[3] += 1
    figures = {}
    for c in sorted(by):
        e, n, ok, k = by[c]
        figures[c] = {"clips": k, "exact": ok / k, "wer": e / n if n else None, "words_or_texts": e if not n else n}
        if c.startswith("noise"):
            print(f"{c:40s} clips {k:4d}  with text {k - ok:3d}")
        else:
            print(f"{c:40s} clips {k:4d}  exact {100 * ok / k:5.1f}%  WER {100 * e / max(1, n):5.1f}%")
    with open(args.out, "w") as f:
        json.dump({"model": os.path.basename(args.model), "figures": figures, "clips": rows}, f, ensure_ascii=False,
                  indent=1)
    for r in rows:
        if r["ref"] != r["hyp"]:
            print(f"MISS {r['set']}: {r['ref']!r} -> {r['hyp']!r} ({r['voice']}+{r['variant']} s{r['speed']} snr {r['snr']} {r['noise']}) {r['error']}")


if __name__ == "__main__":
    main()
