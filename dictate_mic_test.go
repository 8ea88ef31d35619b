package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hark/internal/subcheck"
	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// triggerWriter calls start once, when what is written to it first contains mark, and notes
// when it first contains end.
type triggerWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	mark  string
	once  sync.Once
	start func()
	end   string
	endAt time.Time
}

func (w *triggerWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	hit := strings.Contains(w.buf.String(), w.mark)
	if w.end != "" && w.endAt.IsZero() && strings.Contains(w.buf.String(), w.end) {
		w.endAt = time.Now()
	}
	w.mu.Unlock()
	if hit {
		w.once.Do(w.start)
	}
	return len(p), nil
}

func (w *triggerWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// micDictation is what one `hark dictate` through the virtual microphone gave.
type micDictation struct {
	spans    []spokenSpan
	srt, vtt string
	stderr   string
	dir      string        // where its files are
	compute  time.Duration // speech recognition's own time
	wall     time.Duration // from the command's start to its end
	heard    time.Duration // from the recording's start ("● recording") to the transcript's end ("■")
	after    time.Duration // from the transcript's end to the command's (the note, keeping)
	rss      float64       // the process's peak RSS, MiB
	dropped  float64       // seconds of sound the microphone dropped because nobody read it in time
}

// dictateThroughMic plays a synthetic dictation of length (espeak-ng sentences and pauses)
// into the virtual microphone, starting when `hark dictate` says it records, and dictates it
// into SRT and WebVTT files (dir/visit.srt, dir/visit.vtt) with extra args. asrModel defaults
// to the random test model.
func dictateThroughMic(tb testing.TB, length time.Duration, asrModel string, extra ...string) micDictation {
	tb.Helper()
	testenv.Require(tb)
	testenv.LockAudio(tb)
	if asrModel == "" {
		asrModel = testmodels.Shared(tb, "whisper-tiny-random.en.bin")
	}
	dir := tb.TempDir()
	wav := filepath.Join(dir, "dictation.wav")
	spans := writeDictationWAV(tb, wav, length)
	out := filepath.Join(dir, "visit.srt")
	var player *exec.Cmd
	var recording time.Time
	stderr := &triggerWriter{mark: "● recording", end: "■ ", start: func() {
		recording = time.Now()
		player = exec.Command("paplay", "-d", "vmic_in", wav)
		if err := player.Start(); err != nil {
			tb.Errorf("paplay: %v", err)
		}
	}}
	tb.Cleanup(func() {
		if player != nil && player.Process != nil {
			player.Process.Kill()
			player.Wait()
		}
	})
	args := append([]string{"dictate", "--device", "VirtualMicIn", "--asr-model", asrModel,
		"--vad-model", testmodels.Shared(tb, "ggml-silero-v6.2.0.bin"), "--set", "assistant.language=en",
		"--set", "performance.threads=2", "--no-guard",
		"--seconds", fmt.Sprint(length.Seconds() + 1.5), "--srt", "--vtt", "--out", out}, extra...)
	resetPeakRSS()
	var stdout bytes.Buffer
	t0 := time.Now()
	code := run(context.Background(), args, &stdout, stderr)
	wall := time.Since(t0)
	if code != 0 {
		tb.Fatalf("hark dictate: exit %d\n%s", code, stderr)
	}
	srt, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	vtt, err := os.ReadFile(strings.TrimSuffix(out, ".srt") + ".vtt")
	if err != nil {
		tb.Fatal(err)
	}
	d := micDictation{spans: spans, srt: string(srt), vtt: string(vtt), stderr: stderr.String(), dir: dir,
		wall: wall, heard: stderr.endAt.Sub(recording), after: t0.Add(wall).Sub(stderr.endAt), rss: peakRSS()}
	if m := regexp.MustCompile(`speech recognition computed for (\S+)`).FindStringSubmatch(d.stderr); m != nil {
		d.compute, _ = time.ParseDuration(m[1])
	}
	if m := regexp.MustCompile(`([\d.]+) s of sound was dropped`).FindStringSubmatch(d.stderr); m != nil {
		d.dropped, _ = strconv.ParseFloat(m[1], 64)
	}
	return d
}

// checkDictated checks a dictation through the microphone against what was said, and returns
// its number of cues. The SRT and WebVTT files must parse ([subcheck]: well-formed, cues in
// order, none overlapping) to the same cues; every cue must lie inside one sentence and every
// sentence must have a cue (windows are cut at pauses; a window cut inside a sentence, where
// a word could be lost or doubled, would leave a cue outside the sentences, and a lost window
// or sound the microphone dropped a sentence without one).
func checkDictated(tb testing.TB, d micDictation) int {
	tb.Helper()
	cues, err := subcheck.SRT([]byte(d.srt))
	if err != nil {
		tb.Fatalf("the SRT file: %v", err)
	}
	vcues, err := subcheck.VTT([]byte(d.vtt))
	if err != nil {
		tb.Fatalf("the WebVTT file: %v", err)
	}
	if !slices.Equal(cues, vcues) || len(cues) == 0 {
		tb.Errorf("%d SRT cues, %d WebVTT cues, not the same", len(cues), len(vcues))
	}
	if d.dropped > 0 {
		// Silence dropped after the last sentence loses nothing; sound dropped earlier
		// shifts the later cues, and the checks below fail.
		tb.Logf("%.1f s of sound was dropped (the machine was too busy to keep up)", d.dropped)
	}
	// The microphone starts a little before the sound reaches it (paplay's start, the sound
	// server's latency): up to 700 ms more on each side than for a file.
	const lag = 700 * time.Millisecond
	hit := make([]int, len(d.spans))
	var outside, missed []string
	for i, c := range cues {
		in := -1
		for k, s := range d.spans {
			if c.Start >= s.start-400*time.Millisecond && c.End <= s.end+time.Second+lag {
				in = k
			}
		}
		if in < 0 {
			outside = append(outside, fmt.Sprintf("cue %d (%v --> %v)", i+1, c.Start, c.End))
			continue
		}
		hit[in]++
	}
	for k, n := range hit {
		if n == 0 {
			missed = append(missed, fmt.Sprintf("sentence %d (%q at %v)", k, d.spans[k].text, d.spans[k].start))
		}
	}
	first := func(l []string) string { return strings.Join(l[:min(len(l), 5)], "; ") }
	if len(outside) > 0 {
		tb.Errorf("%d of %d cues lie outside every sentence: %s", len(outside), len(cues), first(outside))
	}
	if len(missed) > 0 {
		tb.Errorf("%d of %d sentences have no cue: %s", len(missed), len(d.spans), first(missed))
	}
	if len(outside)+len(missed) > 0 {
		tb.Logf("%s", d.stderr)
	}
	return len(cues)
}

// checkSOAPNote checks that the note beside the transcript (dir/visit.note.md) has every
// section of the SOAP template.
func checkSOAPNote(tb testing.TB, d micDictation) {
	tb.Helper()
	note, err := os.ReadFile(filepath.Join(d.dir, "visit.note.md"))
	if err != nil {
		tb.Fatalf("no note: %v\n%s", err, d.stderr)
	}
	for _, h := range []string{"# Clinic visit (SOAP)\n", "\n## Subjective\n", "\n## Objective\n", "\n## Assessment\n", "\n## Plan\n"} {
		if !strings.Contains(string(note), h) {
			tb.Errorf("the note has no %q:\n%s", h, note)
		}
	}
}

// TestDictateMicrophone: 75 s of synthetic dictation through the virtual microphone into
// `hark dictate --note soap --save`, with the random test models (their text is gibberish,
// so what is checked is the structure): the subtitles parse and cover every sentence and
// nothing else ([checkDictated]); the SOAP note beside the transcript has every section; the
// kept copy is private.
func TestDictateMicrophone(t *testing.T) {
	home := isolate(t)
	d := dictateThroughMic(t, 75*time.Second, "", "--note", "soap", "--save",
		"--llm-model", testmodels.Shared(t, "llama-2-tiny-random.gguf"), "--seed", "4", "--section-chars", "200")
	cues := checkDictated(t, d)
	checkSOAPNote(t, d)
	kept, _ := filepath.Glob(filepath.Join(home, "data", "hark", "dictations", "*", "*"))
	var names []string
	for _, k := range kept {
		names = append(names, filepath.Base(k))
		if fi, err := os.Stat(k); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", k, fi.Mode(), err)
		}
	}
	if strings.Join(names, " ") != "note.json note.md transcript.json transcript.txt" {
		t.Errorf("kept %v\n%s", names, d.stderr)
	}
	t.Logf("%d sentences, %d cues; speech recognition %v for 75 s; wall %v", len(d.spans), cues, d.compute, d.wall.Round(time.Millisecond))
}

// BenchmarkDictateMicrophone10Min: the 10-minute dictation through the virtual
// microphone into `hark dictate --srt --vtt --note soap`, checked as [TestDictateMicrophone]
// checks its 75 s: both subtitle files parse, every sentence has a cue and no cue lies
// outside the sentences (sound dropped by a busy machine fails that), and the SOAP note has
// every section. Reports the
// speech engine's real-time factor (the time spent in whisper over the audio's length), the
// time from the audio's end to the transcript's end (the recording goes on 1.5 s after the
// audio, then the windows still queued are transcribed; loading the models comes before),
// the note's time (loading the language model, writing the note), the process's peak RSS,
// sentences and cues. It uses the random test models (whisper decodes to its token limit on
// every window) unless HARK_BENCH_ASR names a real whisper model (ggml-base.en.bin) and
// HARK_BENCH_LLM a real instruct GGUF:
//
//	export HARK_TESTENV=/tmp/hark-testenv-$USER; scripts/testenv/start.sh; . scripts/testenv/env.sh
//	go test -run '^$' -bench DictateMicrophone10Min -benchtime 1x -timeout 40m -v .
func BenchmarkDictateMicrophone10Min(b *testing.B) {
	llm := os.Getenv("HARK_BENCH_LLM")
	if llm == "" {
		llm = testmodels.Shared(b, "llama-2-tiny-random.gguf")
	}
	for range b.N {
		isolateB(b)
		d := dictateThroughMic(b, 10*time.Minute, os.Getenv("HARK_BENCH_ASR"), "--note", "soap", "--llm-model", llm, "--seed", "4")
		// The figures first: they are worth having even when the checks below fail.
		b.Logf("%s", d.stderr)
		b.Logf("rtf %.3f, %.1f s after the audio, note %.1f s, peak RSS %.1f MiB, %.1f s of sound dropped",
			d.compute.Seconds()/(10*60), (d.heard - 10*time.Minute).Seconds(), d.after.Seconds(), d.rss, d.dropped)
		cues := checkDictated(b, d)
		checkSOAPNote(b, d)
		b.ReportMetric(d.compute.Seconds()/(10*60), "rtf")
		b.ReportMetric((d.heard - 10*time.Minute).Seconds(), "s-after-audio")
		b.ReportMetric(d.after.Seconds(), "s-note")
		b.ReportMetric(d.rss, "peak-MiB")
		b.ReportMetric(float64(len(d.spans)), "sentences")
		b.ReportMetric(float64(cues), "cues")
	}
}
func isolateB(b *testing.B) {
	home := b.TempDir()
	for k, v := range map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"),
		"XDG_DATA_HOME": filepath.Join(home, "data"), "HARK_CONFIG": ""} {
		b.Setenv(k, v)
	}
}
