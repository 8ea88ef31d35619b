package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// triggerWriter calls start once, when what is written to it first contains mark.
type triggerWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	mark  string
	once  sync.Once
	start func()
}

func (w *triggerWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	hit := strings.Contains(w.buf.String(), w.mark)
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
	spans   []spokenSpan
	srt     string
	stderr  string
	dir     string        // where its files are
	compute time.Duration // speech recognition's own time
	wall    time.Duration // from the command's start to its end
	rss     float64       // the process's peak RSS, MiB
}

// dictateThroughMic plays a synthetic dictation of length (espeak-ng sentences and pauses)
// into the virtual microphone, starting when `hark dictate` says it records, and dictates it
// into an SRT file with extra args. asrModel and llmModel default to the random test models.
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
	stderr := &triggerWriter{mark: "● recording", start: func() {
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
		"--seconds", fmt.Sprint(length.Seconds() + 1.5), "--out", out}, extra...)
	resetPeakRSS()
	var stdout bytes.Buffer
	t0 := time.Now()
	code := run(context.Background(), args, &stdout, stderr)
	wall := time.Since(t0)
	if code != 0 {
		tb.Fatalf("hark dictate: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	d := micDictation{spans: spans, srt: string(b), stderr: stderr.String(), dir: dir, wall: wall, rss: peakRSS()}
	if m := regexp.MustCompile(`speech recognition computed for (\S+)`).FindStringSubmatch(d.stderr); m != nil {
		d.compute, _ = time.ParseDuration(m[1])
	}
	return d
}

// TestDictateMicrophone: 75 s of synthetic dictation through the virtual microphone into
// `hark dictate --note soap --save`, with the random test models (their text is gibberish,
// so what is checked is the structure). Every sentence has a cue and no cue lies in a pause
// (windows are cut at pauses; a window cut inside a sentence, where a word could be lost or
// doubled, would leave a cue outside the sentences or a sentence without one); the SOAP note
// beside the transcript has every section; the kept copy is private.
func TestDictateMicrophone(t *testing.T) {
	home := isolate(t)
	d := dictateThroughMic(t, 75*time.Second, "", "--note", "soap", "--save",
		"--llm-model", testmodels.Shared(t, "llama-2-tiny-random.gguf"), "--seed", "4", "--section-chars", "200")
	cueRE := regexp.MustCompile(`(?m)^(\d+)\n(\d{2}:\d{2}:\d{2},\d{3}) --> (\d{2}:\d{2}:\d{2},\d{3})\n([^\n]+)\n\n`)
	cues := cueRE.FindAllStringSubmatch(d.srt, -1)
	if rest := cueRE.ReplaceAllString(d.srt, ""); rest != "" || len(cues) == 0 {
		t.Fatalf("%d cues, and this is not a cue: %q", len(cues), rest)
	}
	stamp := func(s string) time.Duration {
		var h, m, sec, ms int
		fmt.Sscanf(s, "%d:%d:%d,%d", &h, &m, &sec, &ms)
		return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second + time.Duration(ms)*time.Millisecond
	}
	// The microphone starts a little before the sound reaches it (paplay's start, the sound
	// server's latency): up to 700 ms more on each side than for a file.
	const lag = 700 * time.Millisecond
	hit := make([]int, len(d.spans))
	for i, c := range cues {
		from, to := stamp(c[2]), stamp(c[3])
		in := -1
		for k, s := range d.spans {
			if from >= s.start-400*time.Millisecond && to <= s.end+time.Second+lag {
				in = k
			}
		}
		if in < 0 {
			t.Errorf("cue %d (%v --> %v) lies outside every sentence", i+1, from, to)
			continue
		}
		hit[in]++
	}
	for k, n := range hit {
		if n == 0 {
			t.Errorf("sentence %d (%q at %v) has no cue", k, d.spans[k].text, d.spans[k].start)
		}
	}
	note, err := os.ReadFile(filepath.Join(d.dir, "visit.note.md"))
	if err != nil {
		t.Fatalf("no note: %v\n%s", err, d.stderr)
	}
	for _, h := range []string{"# Clinic visit (SOAP)\n", "\n## Subjective\n", "\n## Objective\n", "\n## Assessment\n", "\n## Plan\n"} {
		if !strings.Contains(string(note), h) {
			t.Errorf("the note has no %q:\n%s", h, note)
		}
	}
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
	t.Logf("%d sentences, %d cues; speech recognition %v for 75 s; wall %v", len(d.spans), len(cues), d.compute, d.wall.Round(time.Millisecond))
}

// BenchmarkDictateMicrophone10Min: the 10-minute dictation through the virtual
// microphone. Reports the speech engine's real-time factor (its compute time over the audio's
// length), the time beyond the audio's length (loading the models, the last window, writing), and peak RSS. It
// uses the random whisper model unless HARK_BENCH_ASR names a real one (ggml-base.en.bin):
//
//	HARK_TESTENV=/tmp/hark-testenv-$USER scripts/testenv/start.sh; . scripts/testenv/env.sh
//	HARK_BENCH_ASR=~/.local/share/hark/models/ggml-base.en.bin go test -run '^$' -bench DictateMicrophone10Min -benchtime 1x .
func BenchmarkDictateMicrophone10Min(b *testing.B) {
	for range b.N {
		isolateB(b)
		d := dictateThroughMic(b, 10*time.Minute, os.Getenv("HARK_BENCH_ASR"))
		b.ReportMetric(d.compute.Seconds()/(10*60), "rtf")
		b.ReportMetric((d.wall - 10*time.Minute).Seconds(), "s-over")
		b.ReportMetric(d.rss, "peak-MiB")
	}
}

func isolateB(b *testing.B) {
	home := b.TempDir()
	for k, v := range map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"),
		"XDG_DATA_HOME": filepath.Join(home, "data"), "HARK_CONFIG": ""} {
		b.Setenv(k, v)
	}
}
