package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/audio"
	"hark/internal/subcheck"
	"hark/internal/testmodels"
)

// TestTranscribeLongFile: a 2-minute synthetic dictation (espeak-ng sentences and pauses)
// through `hark transcribe --srt --out`, with the random test model, which writes gibberish:
// only the structure is checked. The file is 0600; the subtitles parse (subcheck: go-astisub
// and a strict reader; cues in order, none overlapping); each cue lies inside a window around
// one sentence that was said (none in the pauses), and every sentence has at least one.
func TestTranscribeLongFile(t *testing.T) {
	model := testmodels.Shared(t, "whisper-tiny-random.en.bin")
	vadModel := testmodels.Shared(t, "ggml-silero-v6.2.0.bin")
	dir := t.TempDir()
	wav := filepath.Join(dir, "visit.wav")
	spans := writeDictationWAV(t, wav, 2*time.Minute)
	out := filepath.Join(dir, "visit.srt")
	code, _, errOut := runCLI(t, "transcribe", "--model", model, "--set", "models.vad="+vadModel, "--lang", "en", "--threads", "2",
		"--max-tokens", "8", "--no-guard", "--srt", "--out", out, wav)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(out)
	cues, err := subcheck.SRT(b)
	if err != nil || len(cues) == 0 {
		t.Fatalf("%d cues, %v:\n%s", len(cues), err, b)
	}
	hit := make([]int, len(spans))
	for i, c := range cues {
		from, to := c.Start, c.End
		in := -1
		for k, s := range spans {
			// A window is the sentence, the pre-roll before it and the trailing silence after.
			if from >= s.start-400*time.Millisecond && to <= s.end+time.Second {
				in = k
			}
		}
		if in < 0 {
			t.Errorf("cue %d (%v --> %v) %q lies outside every sentence", i+1, from, to, c.Text)
			continue
		}
		hit[in]++
	}
	for k, n := range hit {
		if n == 0 {
			t.Errorf("sentence %d (%q at %v) has no cue", k, spans[k].text, spans[k].start)
		}
	}
	t.Logf("%d sentences, %d cues; %s", len(spans), len(cues), strings.TrimSpace(errOut))

	// --json: Hark's report, the same windows.
	code, stdout, errOut := runCLI(t, "transcribe", "--model", model, "--set", "models.vad="+vadModel, "--lang", "en", "--threads", "2",
		"--max-tokens", "8", "--no-guard", "--json", wav)
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, errOut)
	}
	var j transcriptJSON
	if err := json.Unmarshal([]byte(stdout), &j); err != nil {
		t.Fatal(err)
	}
	if j.AudioSeconds < 119 || j.AudioSeconds > 121 || len(j.Segments) < len(spans) || j.Text == "" {
		t.Errorf("--json: %.1f s, %d segments, text %q", j.AudioSeconds, len(j.Segments), j.Text)
	}
}

// TestTranscribeLongSilence: a minute of room noise gives no text and no cue.
func TestTranscribeLongSilence(t *testing.T) {
	model := testmodels.Shared(t, "whisper-tiny-random.en.bin")
	dir := t.TempDir()
	noise := filepath.Join(dir, "noise.wav")
	r := rand.New(rand.NewPCG(1, 1))
	p := audio.PCM{Rate: audio.SampleRate, Samples: make([]float32, 60*audio.SampleRate)}
	for i := range p.Samples {
		p.Samples[i] = float32(r.NormFloat64() * 0.002)
	}
	if err := audio.WriteWAV(noise, p); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut := runCLI(t, "transcribe", "--model", model, "--lang", "en", "--vtt", noise)
	if cues, err := subcheck.VTT([]byte(stdout)); code != 0 || err != nil || len(cues) != 0 {
		t.Errorf("exit %d, %d cues (%v), stdout %q, stderr %q", code, len(cues), err, stdout, errOut)
	}
}
