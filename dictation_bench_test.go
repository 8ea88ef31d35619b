package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hark/asr"
	"hark/audio"
	"hark/audio/vad"
	"hark/dictation"
	"hark/internal/testmodels"
)

// dictationSentences are what the long synthetic dictations say, in turn.
var dictationSentences = []string{
	"The patient has had a cough for three days.",
	"She reports no fever and no shortness of breath.",
	"We checked the pumps in greenhouse number two.",
	"The night shift replaced the filter on line four.",
	"Next meeting is on Tuesday at nine.",
	"Anna will send the budget before Friday.",
}

// trainedDictationSentences are what the long dictations say with the trained test model
// (testmodels.TrainedWhisper), which hears only its own corpus
// (internal/testmodels/testdata/whisper-hark-test.corpus.json): English sentences of it with
// no slot value to confuse (a number, a room) and without the wake phrase.
var trainedDictationSentences = []string{
	"What is the capital of France?",
	"How long is left on the timer?",
	"What is the weather like tomorrow?",
	"Is it going to rain today?",
	"What is the temperature outside?",
	"How far is the moon?",
	"Tell me a joke.",
	"Play some music.",
}

// micModel names the whisper model of the dictations through the virtual microphone
// (TestDictateMicrophone, BenchmarkDictateMicrophone10Min, TestE2EDictationWindow) and what
// they say. HARK_DICTATION_ASR chooses it:
//   - "" or "trained": the trained test model (the default), with dictation.carry_prompt off
//     (it never saw a prompt in training). It is small and fast, so a 10-minute dictation
//     keeps up with real time even on a loaded machine, and it writes the words that were
//     said, so they can be checked;
//   - "random": whisper-tiny-random.en.bin, which decodes every window to its token limit
//     (slow: it fell behind real time at a load of 18-31 and the microphone dropped sound);
//   - a model file (e.g. ggml-base.en.bin, for base-sized figures).
type micModel struct {
	path      string
	sentences []string
	trained   bool     // the words can be compared with what was said
	args      []string // settings the model needs
}

func dictationModel(tb testing.TB) micModel {
	switch v := os.Getenv("HARK_DICTATION_ASR"); v {
	case "", "trained":
		// It was trained without prompts: after one it writes fragments ("?", "How moon?") and
		// may decode to its token limit, so each window is heard alone.
		return micModel{testmodels.TrainedWhisper(tb), trainedDictationSentences, true, []string{"--set", "dictation.carry_prompt=false"}}
	case "random":
		return micModel{testmodels.Shared(tb, "whisper-tiny-random.en.bin"), dictationSentences, false, nil}
	default:
		return micModel{v, dictationSentences, false, nil}
	}
}

// spokenSpan is where one sentence lies in a synthetic dictation.
type spokenSpan struct {
	text       string
	start, end time.Duration
}

// writeDictationWAV writes a 16-bit 16 kHz WAV file of the sentences (espeak-ng) in turn with
// pauses of 1-2.5 s and faint room noise between them, until it lasts length, streaming it
// to disk so that an hour costs no memory. It returns where each sentence was said.
func writeDictationWAV(tb testing.TB, path string, length time.Duration) []spokenSpan {
	tb.Helper()
	return writeDictationWAVOf(tb, path, length, dictationSentences)
}

// writeDictationWAVOf is writeDictationWAV saying sentences in turn.
func writeDictationWAVOf(tb testing.TB, path string, length time.Duration, sentences []string) []spokenSpan {
	tb.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		tb.Fatalf("espeak-ng is needed (make setup-test installs it): %v", err)
	}
	var voiced [][]float32
	for _, s := range sentences {
		tmp := filepath.Join(tb.TempDir(), "s.wav")
		if out, err := exec.Command("espeak-ng", "-w", tmp, "-v", "en-us", s).CombinedOutput(); err != nil {
			tb.Fatalf("espeak-ng: %v %s", err, out)
		}
		p, err := audio.ReadWAV(tmp)
		if err != nil {
			tb.Fatal(err)
		}
		voiced = append(voiced, p.Samples)
	}
	total := int(length.Seconds() * audio.SampleRate)
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	hdr := make([]byte, 44)
	copy(hdr, "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+2*total))
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1)
	binary.LittleEndian.PutUint16(hdr[22:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], audio.SampleRate)
	binary.LittleEndian.PutUint32(hdr[28:], 2*audio.SampleRate)
	binary.LittleEndian.PutUint16(hdr[32:], 2)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(2*total))
	w.Write(hdr)
	r := rand.New(rand.NewPCG(9, 10))
	n := 0
	put := func(x float32) {
		if n < total {
			binary.Write(w, binary.LittleEndian, int16(max(-32768, min(32767, math.Round(float64(x)*32767)))))
			n++
		}
	}
	var spans []spokenSpan
	at := func() time.Duration { return time.Duration(n) * time.Second / audio.SampleRate }
	for i := 0; n < total; i++ {
		for range (1000 + 500*(i%4)) * audio.SampleRate / 1000 {
			put(float32(r.NormFloat64() * 0.0005))
		}
		s := voiced[i%len(voiced)]
		if n+len(s) > total {
			break
		}
		start := at()
		for _, x := range s {
			put(x)
		}
		spans = append(spans, spokenSpan{sentences[i%len(voiced)], start, at()})
	}
	for n < total {
		put(float32(r.NormFloat64() * 0.0005))
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return spans
}

// peakRSS is the process's peak resident memory (VmHWM) in MiB; resetPeakRSS starts a new
// peak (Linux).
func peakRSS() float64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// nothingHeard is a transcriber that hears nothing, instantly: the streaming path alone.
type nothingHeard struct{ windows int }

func (n *nothingHeard) Transcribe(context.Context, audio.PCM, string) ([]dictation.Segment, error) {
	n.windows++
	return nil, nil
}

// BenchmarkDictateHour streams a one-hour 16 kHz WAV file (115 MB; loaded whole it would be
// 230 MB of float32) through the reader, the endpointer and Silero, with a transcriber that
// costs nothing: peak RSS must stay far below the file's size. Reports peak RSS in MiB
// and the real-time factor of the cutting alone.
func BenchmarkDictateHour(b *testing.B) {
	path := filepath.Join(b.TempDir(), "hour.wav")
	writeDictationWAV(b, path, time.Hour)
	det, err := vad.Load(testmodels.Shared(b, "ggml-silero-v6.2.0.bin"))
	if err != nil {
		b.Fatal(err)
	}
	defer det.Close()
	before := peakRSS()
	resetPeakRSS()
	b.ResetTimer()
	for range b.N {
		t := &nothingHeard{}
		start := time.Now()
		_, heard, err := dictateWAV(context.Background(), path, dictation.New(t, det, dictation.Options{}), func([]dictation.Segment) {})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds()/heard.Seconds(), "rtf")
		b.ReportMetric(float64(t.windows), "windows")
	}
	b.ReportMetric(peakRSS(), "peak-rss-MiB")
	b.ReportMetric(before, "rss-before-MiB")
}

// BenchmarkDictateModel transcribes a 5-minute synthetic dictation with the whole chain: the
// WAV stream, Silero, and whisper (HARK_BENCH_ASR_MODEL, default the random test model, which
// always decodes to its token limit: its real-time factor is an upper bound on the chain's
// overhead, not a figure for a real model). Reports the real-time factor and peak RSS.
//
// HARK_BENCH_ASR_MODEL=base writes a random-weight model of whisper base's shapes and size
// (testmodels.BaseWhisper) and caps each window's decoding at 4 tokens a second of its audio,
// about what English speech needs, so that random weights cost what a real base model's
// transcript would instead of running to the token limit: the issue's "real-time factor of
// dictation with base-sized whisper".
func BenchmarkDictateModel(b *testing.B) {
	model := os.Getenv("HARK_BENCH_ASR_MODEL")
	capped := model == "base"
	switch model {
	case "":
		model = testmodels.Shared(b, "whisper-tiny-random.en.bin")
	case "base":
		model = testmodels.WhisperCached(b, testmodels.BaseWhisper())
	}
	path := filepath.Join(b.TempDir(), "five.wav")
	writeDictationWAV(b, path, 5*time.Minute)
	m, err := asr.Load(model, asr.LoadOptions{Threads: 2, MaxConcurrent: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	det, err := vad.Load(testmodels.Shared(b, "ggml-silero-v6.2.0.bin"))
	if err != nil {
		b.Fatal(err)
	}
	defer det.Close()
	resetPeakRSS()
	b.ResetTimer()
	for range b.N {
		o := asr.DefaultOptions()
		o.Language = "en"
		d := &dictationASR{m: m, opts: o}
		var t dictation.Transcriber = d
		if capped {
			t = tokenCapped{d}
		}
		start := time.Now()
		segs, heard, err := dictateWAV(context.Background(), path, dictation.New(t, det, dictation.Options{}), func([]dictation.Segment) {})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds()/heard.Seconds(), "rtf")
		b.ReportMetric(float64(len(segs)), "segments")
	}
	b.ReportMetric(peakRSS(), "peak-rss-MiB")
}

// tokenCapped limits a random-weight model's decoding to a real transcript's length: 4 tokens
// a second of the window's audio, at least 8.
type tokenCapped struct{ *dictationASR }

func (c tokenCapped) Transcribe(ctx context.Context, pcm audio.PCM, prompt string) ([]dictation.Segment, error) {
	c.opts.MaxTokens = max(8, 4*len(pcm.Samples)/max(1, pcm.Rate))
	return c.dictationASR.Transcribe(ctx, pcm, prompt)
}
