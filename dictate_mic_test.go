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
// into SRT and WebVTT files (dir/visit.srt, dir/visit.vtt) with extra args, with the whisper
// model m (saying m's sentences).
func dictateThroughMic(tb testing.TB, length time.Duration, m micModel, extra ...string) micDictation {
	tb.Helper()
	testenv.Require(tb)
	testenv.LockAudio(tb)
	asrModel := m.path
	dir := tb.TempDir()
	wav := filepath.Join(dir, "dictation.wav")
	spans := writeDictationWAVOf(tb, wav, length, m.sentences)
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
		"--seconds", fmt.Sprint(length.Seconds() + 1.5), "--srt", "--vtt", "--out", out}, append(m.args, extra...)...)
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
// or sound the microphone dropped a sentence without one). It also returns what was heard
// of each sentence (its cues' texts, joined).
func checkDictated(tb testing.TB, d micDictation) (int, []string) {
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
	heard := make([]string, len(d.spans))
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
		heard[in] = strings.TrimSpace(heard[in] + " " + c.Text)
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
	return len(cues), heard
}

// wordErrors compares what was heard of each sentence with what was said, word by word
// (lower case, punctuation and bracketed tags such as [BLANK_AUDIO] left out). A word missing
// or extra at either end of a sentence is at a border: windows are cut in the pauses between
// sentences, so a word lost or doubled by a cut shows there. Every other difference (a word
// heard wrong, or inside a sentence) is the model's. words is how many words were said.
func wordErrors(spans []spokenSpan, heard []string) (border, other, words int) {
	norm := func(s string) []string {
		s = bracketedTag.ReplaceAllString(strings.ToLower(s), " ")
		return strings.FieldsFunc(s, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '\'')
		})
	}
	for k, sp := range spans {
		a, b := norm(sp.text), norm(heard[k])
		words += len(a)
		dist, end := endGaps(a, b)
		_, start := endGaps(reversed(a), reversed(b))
		border += min(dist, start+end)
		other += dist - min(dist, start+end)
	}
	return border, other, words
}

// bracketedTag is a tag whisper writes instead of words, such as [BLANK_AUDIO].
var bracketedTag = regexp.MustCompile(`\[[^\]]*\]`)

func reversed(x []string) []string {
	y := slices.Clone(x)
	slices.Reverse(y)
	return y
}

// endGaps is the word edit distance from a to b, and how many words are missing or extra
// after the last pair of the alignment (a word matched or heard wrong), ties going to gaps
// so that a doubled last word counts there.
func endGaps(a, b []string) (dist, gaps int) {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		for j := range d[i] {
			switch {
			case i == 0:
				d[i][j] = j
			case j == 0:
				d[i][j] = i
			default:
				sub := d[i-1][j-1]
				if a[i-1] != b[j-1] {
					sub++
				}
				d[i][j] = min(sub, d[i-1][j]+1, d[i][j-1]+1)
			}
		}
	}
	for i, j := len(a), len(b); i > 0 || j > 0; gaps++ {
		switch {
		case j > 0 && d[i][j] == d[i][j-1]+1:
			j--
		case i > 0 && d[i][j] == d[i-1][j]+1:
			i--
		default:
			return d[len(a)][len(b)], gaps
		}
	}
	return d[len(a)][len(b)], gaps
}

// TestWordErrors: words lost or doubled at a sentence's ends are border errors, words heard
// wrong or lost inside it are not.
func TestWordErrors(t *testing.T) {
	said := "What is the capital of France?"
	for _, c := range []struct {
		heard         string
		border, other int
	}{
		{"What is the capital of France?", 0, 0},
		{"what is the capital of france [BLANK_AUDIO]", 0, 0},
		{"is the capital of France?", 1, 0},             // the first word lost
		{"What is the capital of?", 1, 0},               // the last word lost
		{"What is the capital of France France.", 1, 0}, // the last word doubled
		{"What what is the capital of France?", 1, 0},   // the first word doubled
		{"France? What is the capital of France?", 1, 0},
		{"What is a capital of France?", 0, 1}, // heard wrong
		{"What is capital of France?", 0, 1},   // lost inside
		{"What is the capital of Spain? Spain.", 1, 1},
		{"", 6, 0},
	} {
		border, other, words := wordErrors([]spokenSpan{{text: said}}, []string{c.heard})
		if border != c.border || other != c.other || words != 6 {
			t.Errorf("%q: %d at borders, %d others, %d words; want %d, %d, 6", c.heard, border, other, words, c.border, c.other)
		}
	}
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
// `hark dictate --note soap --save`, with the whisper model of [dictationModel] (the trained
// test model by default) and the random test language model (its note's text is gibberish, so
// what is checked is the structure): the subtitles parse and cover every sentence and nothing
// else ([checkDictated]); the SOAP note beside the transcript has every section; the kept copy
// is private.
func TestDictateMicrophone(t *testing.T) {
	home := isolate(t)
	m := dictationModel(t)
	d := dictateThroughMic(t, 75*time.Second, m, "--note", "soap", "--save",
		"--llm-model", testmodels.Shared(t, "llama-2-tiny-random.gguf"), "--seed", "4", "--section-chars", "200")
	cues, heard := checkDictated(t, d)
	checkSOAPNote(t, d)
	if m.trained {
		border, other, words := wordErrors(d.spans, heard)
		t.Logf("%d of %d words lost or doubled at a border, %d others wrong", border, words, other)
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
	t.Logf("%d sentences, %d cues; speech recognition %v for 75 s; wall %v", len(d.spans), cues, d.compute, d.wall.Round(time.Millisecond))
}

// BenchmarkDictateMicrophone10Min: the 10-minute dictation through the virtual
// microphone into `hark dictate --srt --vtt --note soap`, checked as [TestDictateMicrophone]
// checks its 75 s: both subtitle files parse, every sentence has a cue and no cue lies
// outside the sentences, and the SOAP note has every section; and no sound may be dropped
// (the proof that nothing said was lost). Reports the speech engine's real-time factor (the
// time spent in whisper over the audio's length), the time from the audio's end to the
// transcript's end (the recording goes on 1.5 s after the audio, then the windows still queued
// are transcribed; loading the models comes before), the note's time (loading the language
// model, writing the note), the process's peak RSS, seconds of sound dropped, sentences and
// cues, and with the trained test model the words lost or doubled at window borders and the
// other words heard wrong.
//
// The whisper model is HARK_DICTATION_ASR's ([dictationModel]: by default the trained test
// model, which keeps up with real time on a loaded machine; "random" or a model file such as
// ggml-base.en.bin for other figures; BenchmarkDictateModel is the base-sized real-time
// factor on its own). The language model is the random test model unless HARK_BENCH_LLM
// names a real instruct GGUF:
//
//	export HARK_TESTENV=/tmp/hark-testenv-$USER; scripts/testenv/start.sh; . scripts/testenv/env.sh
//	go test -run '^$' -bench DictateMicrophone10Min -benchtime 1x -timeout 40m -v .
func BenchmarkDictateMicrophone10Min(b *testing.B) {
	llm := os.Getenv("HARK_BENCH_LLM")
	if llm == "" {
		llm = testmodels.Shared(b, "llama-2-tiny-random.gguf")
	}
	m := dictationModel(b)
	for range b.N {
		isolateB(b)
		d := dictateThroughMic(b, 10*time.Minute, m, "--note", "soap", "--llm-model", llm, "--seed", "4")
		// The figures first: they are worth having even when the checks below fail.
		b.Logf("%s", d.stderr)
		b.Logf("model %s: rtf %.3f, %.1f s after the audio, note %.1f s, peak RSS %.1f MiB, %.1f s of sound dropped",
			filepath.Base(m.path), d.compute.Seconds()/(10*60), (d.heard - 10*time.Minute).Seconds(), d.after.Seconds(), d.rss, d.dropped)
		cues, heard := checkDictated(b, d)
		checkSOAPNote(b, d)
		if d.dropped > 0 {
			b.Errorf("%.1f s of sound was dropped: what was said there is lost", d.dropped)
		}
		if m.trained {
			border, other, words := wordErrors(d.spans, heard)
			b.Logf("%d of %d words lost or doubled at a window border; %d other words heard wrong", border, words, other)
			b.ReportMetric(float64(border), "border-words")
			b.ReportMetric(float64(other)/float64(max(1, words)), "other-wer")
		}
		b.ReportMetric(d.compute.Seconds()/(10*60), "rtf")
		b.ReportMetric((d.heard - 10*time.Minute).Seconds(), "s-after-audio")
		b.ReportMetric(d.after.Seconds(), "s-note")
		b.ReportMetric(d.rss, "peak-MiB")
		b.ReportMetric(d.dropped, "s-dropped")
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
