#!/usr/bin/env bash
# The test-grade whisper model's whole recipe (internal/testmodels/testdata/README.md): five
# stages, each starting from the checkpoint the one before left in WORK. Each stage is
# time-budgeted (MINUTES1..5), so the number of steps depends on the machine; the seed, the
# corpus, the renderings and the held-out clips do not.
#
#   1. the training sentences, 20 renderings each in the first voice variants (5,330 clips);
#   2. plus 16 new renderings of them and of every other slot combination but the held-out
#      ones, with tempo, vocal-tract and SpecAugment augmentation and dropout;
#   3. plus 24 renderings in every espeak-ng voice variant not held out, a fifth of the clips
#      prompted as whisper.cpp prompts with timestamps on (dictation);
#   4. the same with 32 fresh renderings in every variant (another seed) at half the learning rate;
#   5. 32 fresh renderings again (another seed), mostly in noise (6-30 dB SNR, other talkers and
#      music among the kinds: --noisy), at the same learning rate.
#
# usage: scripts/train-whisper/recipe.sh WORK MODEL.bin
set -euo pipefail
WORK=${1:?usage: recipe.sh WORK MODEL.bin}
OUT=${2:?usage: recipe.sh WORK MODEL.bin}
here=$(dirname "$0")
train() {
  OPENBLAS_NUM_THREADS=1 nice -n 15 /usr/bin/python3 "$here/train.py" --seed 17 --reps 20 --work "$WORK" --out "$OUT" "$@"
}
train --minutes "${MINUTES1:-100}"
train --init "$WORK/ckpt.pt" --extra-reps 16 --augment --dropout 0.1 --lr 1e-3 --warmup 100 --minutes "${MINUTES2:-117}"
train --init "$WORK/ckpt.pt" --extra-reps 24 --extra-seed 31 --variants all --augment --dropout 0.1 --ts-prompt 0.2 \
  --lr 1e-3 --warmup 100 --minutes "${MINUTES3:-88}"
train --init "$WORK/ckpt.pt" --extra-reps 32 --extra-seed 41 --variants all --augment --dropout 0.1 --ts-prompt 0.2 \
  --lr 5e-4 --warmup 300 --minutes "${MINUTES4:-75}"
train --init "$WORK/ckpt.pt" --extra-reps 32 --extra-seed 51 --variants all --noisy --augment --dropout 0.1 \
  --ts-prompt 0.2 --lr 5e-4 --warmup 300 --minutes "${MINUTES5:-75}"
