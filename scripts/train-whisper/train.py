#!/usr/bin/python3
"""Trains Hark's test-grade whisper model on espeak-ng speech and exports it in whisper.cpp's
ggml format (multilingual layout, 51,865 tokens, Q8_0 weights).

    /usr/bin/python3 scripts/train-whisper/train.py --minutes 40 --out MODEL.bin --work DIR

Needs python3-torch and espeak-ng (Debian 12); libopenblas0-pthread makes it ~14x faster.
The model sees audio exactly as Hark gives it to whisper.cpp: whisper.cpp's log-mel
spectrogram of the utterance, the encoder trimmed to its length (audio_ctx = 50 positions a
second), and the prompt <|startoftranscript|><|lang|><|transcribe|><|notimestamps|>.
"""

import argparse
import io
import json
import math
import os
import pickle
import random
import struct
import subprocess
import sys
import time
import wave
from multiprocessing import Pool

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import tokens  # noqa: E402

SR = 16000
N_FFT, HOP, N_MELS = 400, 160, 80
N_AUDIO_CTX, N_TEXT_CTX = 1500, 448
N_VOCAB = 51865
# whisper.cpp's ids in a 99-language multilingual vocabulary.
EOT, SOT, LANG0 = 50257, 50258, 50259
LANG_ID = {"en": 0, "zh": 1}
TRANSLATE, TRANSCRIBE, SOLM, PREV, NOSP, NOTS, BEG = 50358, 50359, 50360, 50361, 50362, 50363, 50364


# ---------------------------------------------------------------- audio


def mel_filters():
    """An 80-band Slaney mel filter bank for a 400-point FFT at 16 kHz (as librosa builds it)."""
    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        mel = f / (200.0 / 3)
        lin = f >= 1000.0
        return np.where(lin, 15.0 + np.log(np.maximum(f, 1e-9) / 1000.0) / (np.log(6.4) / 27.0), mel)

    def mel_to_hz(m):
        m = np.asarray(m, dtype=np.float64)
        f = m * (200.0 / 3)
        lin = m >= 15.0
        return np.where(lin, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), f)

    fft_f = np.linspace(0, SR / 2, N_FFT // 2 + 1)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0), hz_to_mel(SR / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_f[None, :]
    w = np.zeros((N_MELS, N_FFT // 2 + 1))
    for i in range(N_MELS):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        w[i] = np.maximum(0, np.minimum(lower, upper))
    w *= (2.0 / (mel_f[2:N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return w.astype(np.float32)


FILTERS = mel_filters()
HANN = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic


def audio_ctx(n_samples):
    """Hark's TrimmedAudioCtx: 50 encoder positions a second, rounded up."""
    return max(1, min(N_AUDIO_CTX, (n_samples * 50 + SR - 1) // SR))


def log_mel(pcm, n_frames):
    """whisper.cpp 1.9.3's log-mel spectrogram (log_mel_spectrogram), first n_frames frames.

    Returns (mel [80, n_frames] already normalised, floor): floor is the value of frames past
    the audio, which whisper.cpp's zero padding gives after its clamp at max - 8."""
    n = len(pcm)
    pad = N_FFT // 2
    x = np.zeros(n + pad + n_frames * HOP + N_FFT, dtype=np.float32)
    r = min(pad, max(0, n - 1))
    x[pad - r:pad] = pcm[1:1 + r][::-1]
    x[pad:pad + n] = pcm
    idx = np.arange(n_frames)[:, None] * HOP + np.arange(N_FFT)[None, :]
    frames = x[idx] * HANN
    # whisper.cpp windows only up to n_samples + pad; past that it is zero already.
    spec = np.fft.rfft(frames, axis=1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    mel = np.log10(np.maximum(power @ FILTERS.T, 1e-10)).T  # [80, frames]
    # the spectrogram's maximum over the whole padded window: the audio's, or -10 for silence
    mmax = max(float(mel.max()), -10.0) - 8.0
    mel = np.maximum(mel, mmax)
    mel = (mel + 4.0) / 4.0
    floor = (max(-10.0, mmax) + 4.0) / 4.0
    return mel.astype(np.float32), np.float32(floor)


def resample(x, sr_in):
    """Band-limited resampling by FFT; the input is padded to a length whose output length is
    whole (and whose FFT is fast)."""
    if sr_in == SR:
        return x
    g = math.gcd(sr_in, SR)
    step = sr_in // g * 5
    n_in = -(-(len(x) + 256) // step) * step
    n_out = n_in * SR // sr_in
    spec = np.fft.rfft(np.pad(x, (0, n_in - len(x))))
    out = np.fft.irfft(spec[: n_out // 2 + 1], n=n_out) * (n_out / n_in)
    return out[: len(x) * SR // sr_in].astype(np.float32)


def espeak(text, voice, variant, speed, pitch):
    v = voice + ("+" + variant if variant else "")
    out = subprocess.run(["espeak-ng", "-v", v, "-s", str(speed), "-p", str(pitch), "--stdout", text],
                         check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(out)) as w:
        sr = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    return resample(pcm, sr)


NOISE_KINDS_TRAIN = ["white", "pink", "brown", "hum", "fan"]
NOISE_KINDS_HELD = ["pink", "brown", "hum", "fan", "babble"]
# --noisy renderings add two kinds a home has and the held-out babble only hints at: other
# people talking (real espeak-ng speech, four to six talkers) and music (notes with harmonics)
NOISE_KINDS_NOISY = NOISE_KINDS_TRAIN + ["chatter", "music"]

_talkers = []


def talkers():
    """The chatter noise's talkers: each CHATTER sentence in three voices, rendered once a process.
    Fixed, not drawn from a clip's rng, so every worker process has the same pool."""
    if not _talkers:
        for i, (lang, text) in enumerate(corpus.CHATTER):
            for k in range(3):
                voice = corpus.ZH_VOICES[0] if lang == "zh" else corpus.EN_VOICES_TRAIN[(i + k) % len(corpus.EN_VOICES_TRAIN)]
                variant = corpus.VARIANTS_ALL[(7 * i + 31 * k) % len(corpus.VARIANTS_ALL)]
                sp = espeak(text, voice, variant, 140 + 20 * k, 30 + 15 * k)
                _talkers.append(sp / (np.std(sp) + 1e-9))
    return _talkers


def noise(kind, n, rng):
    if kind == "chatter":
        pool = talkers()
        out = np.zeros(n)
        for i in rng.choice(len(pool), size=rng.integers(4, 7), replace=False):
            t = pool[i]
            reps = np.tile(t, n // len(t) + 2)
            start = rng.integers(0, len(t))
            out += reps[start: start + n] * rng.uniform(0.4, 1)
        return out / (np.std(out) + 1e-9)
    if kind == "music":
        out = np.zeros(n)
        pos = 0
        while pos < n:
            seg = int(rng.uniform(0.15, 0.6) * SR)
            t = np.arange(min(seg, n - pos)) / SR
            env = np.minimum(1, t / 0.01) * np.exp(-t * rng.uniform(1, 6))
            for midi in rng.choice(np.arange(48, 85), size=rng.integers(1, 4), replace=False):
                f0 = 440 * 2 ** ((midi - 69) / 12)
                out[pos: pos + len(t)] += env * sum(np.sin(2 * np.pi * f0 * h * t) / h ** 1.5 for h in range(1, 5))
            pos += seg
        out += 0.05 * rng.standard_normal(n)
        return out / (np.std(out) + 1e-9)
    if kind == "babble":  # many faint tones wandering: not speech, but speech-like spectra
        t = np.arange(n) / SR
        out = np.zeros(n)
        for _ in range(6):
            f0 = rng.uniform(100, 300)
            out += np.sin(2 * np.pi * f0 * t + 3 * np.sin(2 * np.pi * rng.uniform(2, 6) * t)) * rng.uniform(0.3, 1)
        out += 0.3 * noise("pink", n, rng)
        return out / (np.std(out) + 1e-9)
    if kind == "hum":
        t = np.arange(n) / SR
        f = rng.choice([50.0, 60.0])
        out = sum(np.sin(2 * np.pi * f * k * t + rng.uniform(0, 6.3)) / k for k in range(1, 6))
        out = out + 0.2 * rng.standard_normal(n)
        return out / np.std(out)
    w = rng.standard_normal(n)
    if kind == "white":
        return w
    spec = np.fft.rfft(w)
    f = np.fft.rfftfreq(n, 1 / SR)
    f[0] = f[1]
    if kind == "pink":
        spec /= np.sqrt(f)
    elif kind == "brown":
        spec /= f
    elif kind == "fan":
        lo, hi = rng.uniform(80, 200), rng.uniform(600, 2000)
        spec *= (f > lo) & (f < hi)
    out = np.fft.irfft(spec, n=n)
    return out / (np.std(out) + 1e-9)


def render(job):
    """One clip: job = dict(lang, text, voice, variant, speed, pitch, snr, kind, gain_db, seed)."""
    rng = np.random.default_rng(job["seed"])
    if job["text"] == tokens.BLANK:
        n = int(rng.uniform(0.4, 3.0) * SR)
        if job["kind"] == "silence":
            pcm = rng.standard_normal(n) * 10 ** (job["gain_db"] / 20)
        else:
            pcm = noise(job["kind"], n, rng) * 10 ** (job["gain_db"] / 20)
    else:
        sp = espeak(job["text"], job["voice"], job["variant"], job["speed"], job["pitch"])
        # trim espeak-ng's own silence, then give it the margins an endpointer leaves
        nz = np.nonzero(np.abs(sp) > 1e-3)[0]
        if len(nz):
            sp = sp[max(0, nz[0] - 160): nz[-1] + 160]
        lead, trail = int(rng.uniform(0.05, 1.0) * SR), int(rng.uniform(0.1, 0.8) * SR)
        pcm = np.concatenate([np.zeros(lead), sp, np.zeros(trail)])
        pcm = pcm / (np.abs(pcm).max() + 1e-9) * 10 ** (job["gain_db"] / 20)
        if job["snr"] is not None:
            rms = np.sqrt(np.mean(sp ** 2)) / (np.abs(sp).max() + 1e-9) * 10 ** (job["gain_db"] / 20)
            pcm = pcm + noise(job["kind"], len(pcm), rng) * rms * 10 ** (-job["snr"] / 20)
        else:
            pcm = pcm + rng.standard_normal(len(pcm)) * 1e-4  # the floor of a real microphone
    return np.clip(pcm, -1, 1).astype(np.float32)


def featurize(job):
    pcm = render(job)
    n = audio_ctx(len(pcm))
    mel, floor = log_mel(pcm, 2 * n)
    return mel.astype(np.float16), floor, n


def make_jobs(sentences, reps, rng, held, variants=None, noisy=False):
    """Renderings of sentences: reps each, conditions drawn from the training or held-out lists
    (noisy: the training lists' voices with SNR_NOISY and NOISE_KINDS_NOISY)."""
    jobs = []
    for lang, text in sentences:
        for _ in range(reps):
            if lang == "zh":
                voice = corpus.ZH_VOICES[0]
            elif held:
                voice = rng.choice(corpus.EN_VOICES_TRAIN + corpus.EN_VOICES_HELD)
            else:
                # the tests' voices (espeak-ng's default and en-us) most often
                voice = rng.choice(["en", "en-us"] * 3 + corpus.EN_VOICES_TRAIN)
            vs = corpus.VARIANTS_HELD if held else (variants or corpus.VARIANTS_TRAIN)
            speeds = corpus.SPEEDS_HELD if held else corpus.SPEEDS_TRAIN
            snrs = corpus.SNR_HELD + [None] if held else corpus.SNR_NOISY if noisy else corpus.SNR_TRAIN
            kinds = NOISE_KINDS_HELD if held else NOISE_KINDS_NOISY if noisy else NOISE_KINDS_TRAIN
            jobs.append(dict(lang=lang, text=text, voice=voice, variant=rng.choice(vs),
                             speed=rng.choice(speeds), pitch=rng.randint(20, 80), snr=rng.choice(snrs),
                             kind=rng.choice(kinds), gain_db=rng.uniform(-30, -2), seed=rng.randrange(1 << 30)))
    return jobs


def noise_jobs(count, rng, held, noisy=False):
    kinds = (NOISE_KINDS_HELD if held else NOISE_KINDS_NOISY if noisy else NOISE_KINDS_TRAIN) + ["silence"]
    jobs = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        gain = rng.uniform(-65, -45) if kind == "silence" else rng.uniform(-50, -15)
        jobs.append(dict(lang=rng.choice(["en", "zh"]), text=tokens.BLANK, voice="", variant="", speed=0, pitch=0,
                         snr=None, kind=kind, gain_db=gain, seed=rng.randrange(1 << 30)))
    return jobs


# ---------------------------------------------------------------- model


class Attn(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.query, self.key, self.value, self.out = nn.Linear(d, d), nn.Linear(d, d, bias=False), nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x, kv, mask):
        B, T, D = x.shape
        S = kv.shape[1]
        q = self.query(x).view(B, T, self.h, -1).transpose(1, 2)
        k = self.key(kv).view(B, S, self.h, -1).transpose(1, 2)
        v = self.value(kv).view(B, S, self.h, -1).transpose(1, 2)
        a = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        if mask is not None:
            a = a.masked_fill(mask, float("-inf"))
        y = (a.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        return self.out(y)


class Block(nn.Module):
    DROPOUT = 0.0  # set by --dropout before the model is built

    def __init__(self, d, h, cross):
        super().__init__()
        self.drop = nn.Dropout(self.DROPOUT)
        self.attn, self.attn_ln = Attn(d, h), nn.LayerNorm(d)
        self.cross_attn = Attn(d, h) if cross else None
        self.cross_attn_ln = nn.LayerNorm(d) if cross else None
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"), nn.Linear(4 * d, d))
        self.mlp_ln = nn.LayerNorm(d)

    def forward(self, x, mask, xa=None, xmask=None):
        y = self.attn_ln(x)
        x = x + self.drop(self.attn(y, y, mask))
        if self.cross_attn is not None:
            x = x + self.drop(self.cross_attn(self.cross_attn_ln(x), xa, xmask))
        return x + self.drop(self.mlp(self.mlp_ln(x)))


def sinusoids(length, channels):
    inc = math.log(10000) / (channels // 2 - 1)
    inv = torch.exp(-inc * torch.arange(channels // 2))
    t = torch.arange(length)[:, None] * inv[None, :]
    return torch.cat([torch.sin(t), torch.cos(t)], dim=1)


class Whisper(nn.Module):
    def __init__(self, d, h, n_enc, n_dec, n_tok):
        super().__init__()
        self.conv1 = nn.Conv1d(N_MELS, d, 3, padding=1)
        self.conv2 = nn.Conv1d(d, d, 3, stride=2, padding=1)
        self.register_buffer("enc_pos", sinusoids(N_AUDIO_CTX, d))
        self.enc = nn.ModuleList([Block(d, h, False) for _ in range(n_enc)])
        self.ln_post = nn.LayerNorm(d)
        self.tok = nn.Embedding(n_tok, d)
        self.dec_pos = nn.Parameter(torch.randn(N_TEXT_CTX, d) * 0.01)
        self.dec = nn.ModuleList([Block(d, h, True) for _ in range(n_dec)])
        self.ln = nn.LayerNorm(d)
        # training aid, not exported: CTC on the encoder's output (blank = the last class) makes
        # the encoder learn the words early, so the decoder's cross-attention has them to find
        self.ctc = nn.Linear(d, n_tok + 1)
        nn.init.normal_(self.tok.weight, std=0.02)

    def encode(self, mel, ctx):
        """mel [B, 80, 2N] (frames past 2*ctx[i] are ignored), ctx [B] → [B, N, d], key mask."""
        B, _, T = mel.shape
        N = T // 2
        fmask = (torch.arange(T)[None, :] < 2 * ctx[:, None]).float()[:, None, :]
        x = F.gelu(self.conv1(mel * fmask), approximate="tanh") * fmask
        x = F.gelu(self.conv2(x), approximate="tanh").transpose(1, 2)
        x = x + self.enc_pos[:N]
        kmask = (torch.arange(N)[None, :] >= ctx[:, None])[:, None, None, :]
        for b in self.enc:
            x = b(x, kmask)
        return self.ln_post(x), kmask

    def decode(self, toks, xa, xmask):
        L = toks.shape[1]
        x = self.tok(toks) + self.dec_pos[:L]
        causal = torch.triu(torch.ones(L, L, dtype=torch.bool), 1)[None, None]
        for b in self.dec:
            x = b(x, causal, xa, xmask)
        return self.ln(x) @ self.tok.weight.T


class Vocab:
    """The compact training vocabulary: text tokens, then whisper's specials, then one row that
    stands for every unused id of the 51,865 (its logit counts log(count) times)."""

    SPECIALS = [("eot", EOT), ("sot", SOT), ("en", LANG0 + 0), ("zh", LANG0 + 1), ("transcribe", TRANSCRIBE),
                ("nosp", NOSP), ("not", NOTS)]

    def __init__(self, text_tokens):
        self.text = [" "] + sorted(set(text_tokens) - {" "})  # " " must exist: whisper.cpp's suppress_blank
        self.index = {t: i for i, t in enumerate(self.text)}
        T = len(self.text)
        self.sp = {name: T + i for i, (name, _) in enumerate(self.SPECIALS)}
        self.null = T + len(self.SPECIALS)
        self.size = self.null + 1
        used = T + len(self.SPECIALS)
        # at <|startoftranscript|> (language detection, the no-speech probability) every id counts;
        # in the text whisper.cpp suppresses timestamps, languages and task tokens: the unused text ids remain
        self.null_sot = math.log(N_VOCAB - used)
        self.null_text = math.log(EOT - T)

    def file_id(self):
        """compact index → whisper.cpp id (the null row is every id not listed)."""
        ids = list(range(len(self.text))) + [fid for _, fid in self.SPECIALS]
        return ids

    def sequence(self, lang, text):
        """(input ids, target ids, loss mask) for one clip."""
        toks = [self.index[t] for t in tokens.split(lang, text)]
        blank = text == tokens.BLANK
        seq = [self.sp["sot"], self.sp[lang], self.sp["transcribe"], self.sp["not"]] + toks + [self.sp["eot"]]
        tgt = seq[1:]
        if blank:
            tgt[0] = self.sp["nosp"]
        mask = [1, 0, 0] + [1] * (len(tgt) - 3)
        return seq[:-1], tgt, mask


def logits_full(model, vocab, toks, xa, xmask):
    lg = model.decode(toks, xa, xmask)
    off = torch.full((toks.shape[1],), vocab.null_text)
    off[0] = vocab.null_sot
    lg[:, :, vocab.null] = lg[:, :, vocab.null] + off
    return lg


# ---------------------------------------------------------------- data


def augment(mel, floor, rng):
    """Another speaker and tempo from one rendering: the spectrogram stretched in time (tempo
    0.88-1.12), warped along the mel axis (vocal tract length 0.9-1.1), and SpecAugment's masks
    (two bands of up to 8 mel channels, two stretches of up to 12 frames, at the clip's mean).
    The padding past the audio (floor) is left as whisper.cpp makes it."""
    T = mel.shape[1]
    f = rng.uniform(0.88, 1.12)
    T2 = max(2, min(2 * N_AUDIO_CTX, int(round(T * f / 2)) * 2))
    pos = np.minimum(np.arange(T2) * (T - 1) / max(1, T2 - 1), T - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, T - 1)
    w = (pos - lo).astype(np.float32)
    m = mel[:, lo] * (1 - w) + mel[:, hi] * w
    a = rng.uniform(0.9, 1.1)
    pos = np.clip(np.arange(N_MELS) * a, 0, N_MELS - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, N_MELS - 1)
    w = (pos - lo).astype(np.float32)[:, None]
    m = m[lo] * (1 - w) + m[hi] * w
    if rng.random() < 0.8:
        fill = float(m.mean())
        for _ in range(2):
            wd = rng.randint(0, 8)
            b = rng.randint(0, N_MELS - wd)
            m[b:b + wd] = fill
        for _ in range(2):
            wd = rng.randint(0, min(12, T2 // 10))
            b = rng.randint(0, T2 - wd)
            m[:, b:b + wd] = fill
    return np.maximum(m, floor).astype(np.float32), T2 // 2


class Clips:
    def __init__(self, feats, jobs, vocab):
        self.mel = [f[0] for f in feats]
        self.floor = [f[1] for f in feats]
        self.ctx = [f[2] for f in feats]
        self.seq = [vocab.sequence(j["lang"], j["text"]) for j in jobs]
        self.jobs = jobs

    def __add__(self, other):
        c = Clips([], [], None)
        c.mel, c.floor, c.ctx = self.mel + other.mel, self.floor + other.floor, self.ctx + other.ctx
        c.seq, c.jobs = self.seq + other.seq, self.jobs + other.jobs
        return c

    def batch(self, idx, extra_pad=None, rng=None, full=False, aug=False, ts_prompt=0.0):
        mels = {}
        if aug:
            for i in idx:
                mels[i] = augment(self.mel[i][:, : 2 * self.ctx[i]].astype(np.float32), self.floor[i], rng)
        ctx = [mels[i][1] if aug else self.ctx[i] for i in idx]
        if full:
            win = [N_AUDIO_CTX for _ in idx]
        elif extra_pad:
            # some windows longer than the utterance: whisper.cpp's language detection runs on the
            # previous call's window length (a fresh state: the whole 30 s)
            win = [c + (rng.randint(0, c) if rng.random() < extra_pad else 0) for c in ctx]
        else:
            win = ctx
        N = max(win)
        mel = np.empty((len(idx), N_MELS, 2 * N), dtype=np.float32)
        for k, i in enumerate(idx):
            m = (mels[i][0] if aug else self.mel[i])[:, : 2 * win[k]]
            mel[k, :, : m.shape[1]] = m
            mel[k, :, m.shape[1]:] = self.floor[i]
        L = max(len(self.seq[i][0]) for i in idx)
        inp = np.zeros((len(idx), L), dtype=np.int64)
        tgt = np.zeros((len(idx), L), dtype=np.int64)
        msk = np.zeros((len(idx), L), dtype=np.float32)
        for k, i in enumerate(idx):
            a, b, c = self.seq[i]
            if ts_prompt and rng.random() < ts_prompt:
                # the prompt whisper.cpp sends when timestamps are on (dictation's cues): no
                # <|notimestamps|>, the text follows <|transcribe|>. A model that only ever saw
                # <|notimestamps|> there is out of its depth at that step and may start a timestamp.
                a, b, c = a[:3] + a[4:], b[:2] + b[3:], c[:2] + c[3:]
            inp[k, : len(a)], tgt[k, : len(b)], msk[k, : len(c)] = a, b, c
        return (torch.from_numpy(mel), torch.tensor(win), torch.from_numpy(inp), torch.from_numpy(tgt),
                torch.from_numpy(msk))


def batches(clips, bs, rng):
    order = sorted(range(len(clips.ctx)), key=lambda i: clips.ctx[i] + rng.random() * 8)
    out = [order[i: i + bs] for i in range(0, len(order), bs)]
    rng.shuffle(out)
    return out


@torch.no_grad()
def greedy(model, vocab, clips, idx, lang_auto=True):
    """Decodes like whisper.cpp with Hark's options: language detected at <|sot|>, greedy, no timestamps."""
    model.eval()
    out = []
    for i in idx:
        mel, win, _, _, _ = clips.batch([i])
        xa, xm = model.encode(mel, win)
        lg = logits_full(model, vocab, torch.tensor([[vocab.sp["sot"]]]), xa, xm)[0, 0]
        lang = "en" if lg[vocab.sp["en"]] >= lg[vocab.sp["zh"]] else "zh"
        seq = [vocab.sp["sot"], vocab.sp[lang], vocab.sp["transcribe"], vocab.sp["not"]]
        text = []
        for step in range(30):
            lg = logits_full(model, vocab, torch.tensor([seq]), xa, xm)[0, -1].clone()
            for s in ("sot", "en", "zh", "transcribe", "nosp", "not"):
                lg[vocab.sp[s]] = -1e9
            if step == 0:
                lg[vocab.sp["eot"]] = -1e9
                lg[vocab.index[" "]] = -1e9
            t = int(lg.argmax())
            if t == vocab.sp["eot"] or t == vocab.null:
                break
            seq.append(t)
            text.append(vocab.text[t])
        out.append((lang, tokens.join(text)))
    model.train()
    return out


# ---------------------------------------------------------------- export


def f16(a):
    return np.asarray(a, dtype=np.float16).tobytes()


def q8_0(a):
    a = np.asarray(a, dtype=np.float32).reshape(-1, 32)
    d = np.abs(a).max(axis=1) / 127.0
    q = np.round(a / np.where(d == 0, 1, d)[:, None]).clip(-127, 127).astype(np.int8)
    rec = np.empty(len(a), dtype=[("d", "<f2"), ("q", "i1", 32)])
    rec["d"], rec["q"] = d.astype(np.float16), q
    return rec.tobytes()


def export(model, vocab, d, h, n_enc, n_dec, path):
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    buf = io.BytesIO()
    w = buf.write
    w(struct.pack("<I", 0x67676D6C))
    w(struct.pack("<11i", N_VOCAB, N_AUDIO_CTX, d, h, n_enc, N_TEXT_CTX, d, h, n_dec, N_MELS, 2000 + 7))
    w(struct.pack("<ii", N_MELS, N_FFT // 2 + 1))
    w(FILTERS.astype("<f4").tobytes())
    w(struct.pack("<i", len(vocab.text)))
    for t in vocab.text:
        b = t.encode("utf-8")
        w(struct.pack("<I", len(b)) + b)

    def tensor(name, a, kind):
        a = np.asarray(a, dtype=np.float32)
        ne = list(reversed(a.shape))
        typ = {"f32": 0, "f16": 1, "q8": 8}[kind]
        nb = name.encode()
        w(struct.pack("<3i", len(ne), len(nb), typ))
        w(struct.pack(f"<{len(ne)}i", *ne))
        w(nb)
        w(a.astype("<f4").tobytes() if kind == "f32" else f16(a) if kind == "f16" else q8_0(a))

    tensor("encoder.positional_embedding", sd["enc_pos"], "f32")
    tensor("encoder.conv1.weight", sd["conv1.weight"], "f16")
    tensor("encoder.conv1.bias", sd["conv1.bias"][:, None], "f32")
    tensor("encoder.conv2.weight", sd["conv2.weight"], "f16")
    tensor("encoder.conv2.bias", sd["conv2.bias"][:, None], "f32")
    tensor("encoder.ln_post.weight", sd["ln_post.weight"], "f32")
    tensor("encoder.ln_post.bias", sd["ln_post.bias"], "f32")

    def block(dst, src, cross):
        for ln in ("mlp_ln",):
            tensor(dst + ln + ".weight", sd[src + ln + ".weight"], "f32")
            tensor(dst + ln + ".bias", sd[src + ln + ".bias"], "f32")
        tensor(dst + "mlp.0.weight", sd[src + "mlp.0.weight"], "q8")
        tensor(dst + "mlp.0.bias", sd[src + "mlp.0.bias"], "f32")
        tensor(dst + "mlp.2.weight", sd[src + "mlp.2.weight"], "q8")
        tensor(dst + "mlp.2.bias", sd[src + "mlp.2.bias"], "f32")
        for a in ["attn"] + (["cross_attn"] if cross else []):
            tensor(dst + a + "_ln.weight", sd[src + a + "_ln.weight"], "f32")
            tensor(dst + a + "_ln.bias", sd[src + a + "_ln.bias"], "f32")
            tensor(dst + a + ".query.weight", sd[src + a + ".query.weight"], "q8")
            tensor(dst + a + ".query.bias", sd[src + a + ".query.bias"], "f32")
            tensor(dst + a + ".key.weight", sd[src + a + ".key.weight"], "q8")
            tensor(dst + a + ".value.weight", sd[src + a + ".value.weight"], "q8")
            tensor(dst + a + ".value.bias", sd[src + a + ".value.bias"], "f32")
            tensor(dst + a + ".out.weight", sd[src + a + ".out.weight"], "q8")
            tensor(dst + a + ".out.bias", sd[src + a + ".out.bias"], "f32")

    for l in range(n_enc):
        block(f"encoder.blocks.{l}.", f"enc.{l}.", False)
    tensor("decoder.positional_embedding", sd["dec_pos"], "f32")
    emb = np.tile(sd["tok.weight"][vocab.null], (N_VOCAB, 1))
    for ci, fid in enumerate(vocab.file_id()):
        emb[fid] = sd["tok.weight"][ci]
    tensor("decoder.token_embedding.weight", emb, "q8")
    tensor("decoder.ln.weight", sd["ln.weight"], "f32")
    tensor("decoder.ln.bias", sd["ln.bias"], "f32")
    for l in range(n_dec):
        block(f"decoder.blocks.{l}.", f"dec.{l}.", True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, path)


def load_ggml(path, vocab):
    """The state dict of a model export() wrote (the committed test model, say), so training can
    go on from it when its checkpoint is gone: q8_0 weights come back as the values whisper.cpp
    computes with. The CTC head is not in the file; it starts afresh."""
    with open(path, "rb") as f:
        b = f.read()
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from(fmt, b, off)
        off += struct.calcsize(fmt)
        return v

    if take("<I")[0] != 0x67676D6C:
        raise SystemExit(f"{path}: not a whisper.cpp ggml file")
    hp = take("<11i")
    n_mels, n_fft = take("<ii")
    off += 4 * n_mels * n_fft
    text = []
    for _ in range(take("<i")[0]):
        n = take("<I")[0]
        text.append(b[off:off + n].decode("utf-8"))
        off += n
    if text != vocab.text:
        raise SystemExit(f"{path}: its vocabulary is not this corpus's ({len(text)} against {len(vocab.text)} text tokens)")
    raw = {}
    while off < len(b):
        nd, nl, typ = take("<3i")
        ne = take(f"<{nd}i")
        name = b[off:off + nl].decode()
        off += nl
        shape = tuple(reversed(ne))
        count = int(np.prod(shape))
        if typ == 0:
            a = np.frombuffer(b, "<f4", count, off).copy()
            off += 4 * count
        elif typ == 1:
            a = np.frombuffer(b, "<f2", count, off).astype(np.float32)
            off += 2 * count
        elif typ == 8:
            rec = np.frombuffer(b, [("d", "<f2"), ("q", "i1", 32)], count // 32, off)
            a = (rec["d"].astype(np.float32)[:, None] * rec["q"].astype(np.float32)).reshape(-1)
            off += rec.nbytes
        else:
            raise SystemExit(f"{path}: tensor {name} has type {typ}, which export() never writes")
        raw[name] = a.reshape(shape)
    sd = {}
    for name, a in raw.items():
        key = name
        for src, dst in (("encoder.blocks.", "enc."), ("decoder.blocks.", "dec.")):
            if key.startswith(src):
                key = dst + key[len(src):]
        key = {"encoder.positional_embedding": "enc_pos", "decoder.positional_embedding": "dec_pos",
               "decoder.ln.weight": "ln.weight", "decoder.ln.bias": "ln.bias"}.get(key, key)
        if key.startswith("encoder."):
            key = key[len("encoder."):]
        if key in ("conv1.bias", "conv2.bias"):
            a = a[:, 0]
        if key == "decoder.token_embedding.weight":
            ids = vocab.file_id()
            unused = next(i for i in range(N_VOCAB - 1, -1, -1) if i not in set(ids))
            a = np.concatenate([a[ids], a[unused:unused + 1]])
            key = "tok.weight"
        sd[key] = torch.from_numpy(np.ascontiguousarray(a))
    return sd, dict(width=hp[2], heads=hp[3], enc=hp[4], dec=hp[8])


# ---------------------------------------------------------------- main


def wer(ref, hyp, lang):
    r = tokens.split(lang, ref.lower()) if ref else []
    h = tokens.split(lang, hyp.lower()) if hyp else []
    r = [t.strip() for t in r if t.strip() not in ".,?!"]
    h = [t.strip() for t in h if t.strip() not in ".,?!"]
    dp = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, dp[0] = dp[0], i
        for j in range(1, len(h) + 1):
            cur = min(dp[j] + 1, dp[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, dp[j] = dp[j], cur
    return dp[len(h)], len(r)


def featurize_all(jobs, cache, procs):
    if cache and os.path.exists(cache):
        with open(cache, "rb") as f:
            return pickle.load(f)
    with Pool(procs) as p:
        feats = p.map(featurize, jobs, chunksize=16)
    if cache:
        with open(cache + ".tmp", "wb") as f:
            pickle.dump(feats, f, protocol=4)
        os.replace(cache + ".tmp", cache)
    return feats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=40)
    ap.add_argument("--steps", type=int, default=0, help="train this many steps (the schedule follows steps, not time)")
    ap.add_argument("--until", default="", help="stop training at this UTC time (HH:MM) if that comes first")
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", required=True, help="folder for the rendered features, checkpoints and eval WAVs")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--reps", type=int, default=10, help="renderings of each training sentence")
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--enc", type=int, default=3)
    ap.add_argument("--dec", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=1, help="one thread: under contention OpenBLAS threads spin and slow each other")
    ap.add_argument("--ctc", type=float, default=0.5, help="weight of the encoder's CTC loss")
    ap.add_argument("--init", default="", help="start from this checkpoint (ckpt.pt), or from a model file export() wrote (.bin)")
    ap.add_argument("--full-every", type=int, default=12, help="every Nth step trains 30-second windows")
    ap.add_argument("--extra-reps", type=int, default=0,
                    help="second stage: also render every sentence, and the other slot combinations (corpus.extra), this many times more")
    ap.add_argument("--extra-seed", type=int, default=0, help="seed of the extra renderings (default: seed + 2)")
    ap.add_argument("--variants", choices=["train", "all"], default="train",
                    help="voice variants of the extra renderings: the first stage's, or every one not held out")
    ap.add_argument("--ts-prompt", type=float, default=0.0,
                    help="share of steps' clips prompted as with timestamps on (no <|notimestamps|>)")
    ap.add_argument("--noisy", action="store_true",
                    help="the extra renderings mostly in noise (corpus.SNR_NOISY), chatter and music among the kinds")
    ap.add_argument("--augment", action="store_true", help="stretch, warp and mask the spectrograms (see augment)")
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--warmup", type=int, default=0, help="learning-rate warm-up steps (default 150, 20 with --init)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    os.makedirs(args.work, exist_ok=True)
    log = lambda *a: print(time.strftime("%H:%M:%S"), *a, flush=True)  # noqa: E731

    train_s, recomb_s = corpus.build(args.seed)
    vocab_tokens = {t for lang, text in train_s for t in tokens.split(lang, text)} | {" " + tokens.BLANK}
    vocab = Vocab(vocab_tokens)
    jobs = make_jobs(train_s, args.reps, rng, held=False) + noise_jobs(len(train_s) * args.reps // 12, rng, held=False)
    # the evaluation sets: trained sentences in held-out conditions, recombined sentences, noise
    erng = random.Random(args.seed + 1)
    eval_jobs = {"trained": make_jobs(train_s, 1, erng, held=True),
                 "recombined": make_jobs(recomb_s, 2, erng, held=True),
                 "noise": noise_jobs(30, erng, held=True)}
    with open(os.path.join(args.work, "eval.json"), "w") as f:
        json.dump(eval_jobs, f, ensure_ascii=False, indent=0)
    with open(os.path.join(args.work, "corpus.json"), "w") as f:
        json.dump({"train": train_s, "recombined": recomb_s, "vocab": vocab.text}, f, ensure_ascii=False, indent=0)
    log(f"{len(train_s)} training sentences, {len(recomb_s)} recombined; {len(jobs)} clips; vocab {vocab.size}")

    t0 = time.time()
    tag = f"s{args.seed}-r{args.reps}"
    feats = featurize_all(jobs, os.path.join(args.work, f"train-{tag}.pkl"), 2)
    clips = Clips(feats, jobs, vocab)
    if args.extra_reps:
        extra_s = corpus.extra(args.seed)
        xseed = args.extra_seed or args.seed + 2
        xrng = random.Random(xseed)
        xsent = train_s + extra_s
        xvars = corpus.VARIANTS_ALL if args.variants == "all" else corpus.VARIANTS_TRAIN
        xjobs = make_jobs(xsent, args.extra_reps, xrng, held=False, variants=xvars, noisy=args.noisy) + \
            noise_jobs(len(xsent) * args.extra_reps // 12, xrng, held=False, noisy=args.noisy)
        log(f"second stage: {len(extra_s)} more sentences; {len(xjobs)} more clips")
        # the second stage's cache keeps its name (no -e, -v), so a rerun reuses its renderings
        cache = f"extra-s{args.seed}-x{args.extra_reps}"
        if args.extra_seed:
            cache += f"-e{xseed}"
        if args.variants != "train":
            cache += f"-v{args.variants}"
        if args.noisy:
            cache += "-noisy"
        xfeats = featurize_all(xjobs, os.path.join(args.work, cache + ".pkl"), 2)
        clips = clips + Clips(xfeats, xjobs, vocab)
        jobs = jobs + xjobs
        with open(os.path.join(args.work, "corpus.json"), "w") as f:
            json.dump({"train": train_s, "extra": extra_s, "recombined": recomb_s, "vocab": vocab.text}, f,
                      ensure_ascii=False, indent=0)
    val_jobs = eval_jobs["trained"][::10][:16] + eval_jobs["recombined"][::8][:8] + eval_jobs["noise"][:4]
    val = Clips(featurize_all(val_jobs, os.path.join(args.work, f"val-{tag}.pkl"), 2), val_jobs, vocab)
    log(f"features in {time.time() - t0:.0f}s; mean audio_ctx {np.mean(clips.ctx):.0f}")

    Block.DROPOUT = args.dropout
    model = Whisper(args.width, args.heads, args.enc, args.dec, vocab.size)
    if args.init:
        if args.init.endswith(".bin"):
            state, shape = load_ggml(args.init, vocab)
            if (shape["width"], shape["heads"]) != (args.width, args.heads):
                raise SystemExit(f"{args.init}: width {shape['width']}, {shape['heads']} heads; give --width and --heads to match")
        else:
            state = torch.load(args.init)
        missing = model.load_state_dict(state, strict=False)
        log(f"started from {args.init} ({missing})")
        # layers the checkpoint lacks (--enc or --dec above its own) start as the identity:
        # their residual branches write zeros, so the grown model answers as the smaller one did
        grown = {".".join(k.split(".")[:2]) for k in missing.missing_keys if k.startswith(("enc.", "dec."))}
        for name in sorted(grown):
            part, i = name.split(".")
            b = getattr(model, part)[int(i)]
            for lin in [b.attn.out, b.mlp[2]] + ([b.cross_attn.out] if b.cross_attn is not None else []):
                nn.init.zeros_(lin.weight)
                nn.init.zeros_(lin.bias)
        if grown:
            log(f"grown: {sorted(grown)} start as the identity")
    log(f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters (training vocabulary)")
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    t_start = time.time()
    budget = args.minutes * 60
    if args.until:
        hh, mm = map(int, args.until.split(":"))
        now = time.gmtime()
        left = (hh * 3600 + mm * 60) - (now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec)
        budget = min(budget, max(60, left))
    log(f"training for {args.steps} steps" if args.steps else f"training for {budget / 60:.1f} min")
    step, epoch, last_eval = 0, 0, time.time()
    done = False
    while not done:
        epoch += 1
        for idx in batches(clips, args.batch, rng):
            frac = step / args.steps if args.steps else (time.time() - t_start) / budget
            if frac >= 1:
                done = True
                break
            lr = args.lr * min(1, (step + 1) / (args.warmup or (20 if args.init else 150))) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
            for g in opt.param_groups:
                g["lr"] = lr
            full = args.full_every > 0 and step % args.full_every == args.full_every - 1
            if full:
                idx = idx[:2]
            mel, win, inp, tgt, msk = clips.batch(idx, extra_pad=0.25, rng=rng, full=full, aug=args.augment,
                                                  ts_prompt=args.ts_prompt)
            xa, xm = model.encode(mel, win)
            lg = logits_full(model, vocab, inp, xa, xm)
            loss = (F.cross_entropy(lg.transpose(1, 2), tgt, reduction="none") * msk).sum() / msk.sum()
            if args.ctc > 0:
                text = [[t for t in clips.seq[i][1][3:] if t < vocab.null - len(Vocab.SPECIALS)] for i in idx]
                lp = model.ctc(xa).log_softmax(-1).transpose(0, 1)  # [N, B, C]
                flat = torch.tensor([t for x in text for t in x], dtype=torch.long)
                ctc = F.ctc_loss(lp, flat, win, torch.tensor([len(x) for x in text]), blank=vocab.size,
                                 zero_infinity=True)
                loss = loss + args.ctc * ctc
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            if step % 25 == 0:
                log(f"step {step} epoch {epoch} loss {loss.item():.4f} lr {lr:.2e} {(time.time() - t_start) / step:.2f}s/step")
            if time.time() - last_eval > 600:
                last_eval = time.time()
                evaluate(model, vocab, val, log)
                torch.save(model.state_dict(), os.path.join(args.work, "ckpt.pt"))
                export(model, vocab, args.width, args.heads, args.enc, args.dec, args.out)
    log(f"trained {step} steps, {epoch} epochs in {(time.time() - t_start) / 60:.1f} min")
    torch.save(model.state_dict(), os.path.join(args.work, "ckpt.pt"))
    export(model, vocab, args.width, args.heads, args.enc, args.dec, args.out)
    evaluate(model, vocab, val, log)
    with open(os.path.join(args.work, "train.json"), "w") as f:
        json.dump({"steps": step, "epochs": epoch, "minutes": (time.time() - t_start) / 60, "seed": args.seed,
                   "args": vars(args), "clips": len(jobs)}, f, indent=1)
    log(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB)")


def evaluate(model, vocab, val, log):
    hyps = greedy(model, vocab, val, range(len(val.jobs)))
    errs = words = exact = 0
    for j, (lang, h) in zip(val.jobs, hyps):
        ref = "" if j["text"] == tokens.BLANK else j["text"]
        hh = "" if h == tokens.BLANK else h
        e, n = wer(ref, hh, j["lang"])
        errs, words, exact = errs + e, words + n, exact + (ref == hh and lang == j["lang"])
    log(f"val: exact {exact}/{len(hyps)}, WER {errs / max(1, words):.3f}; e.g. {hyps[:3]}")


if __name__ == "__main__":
    main()
