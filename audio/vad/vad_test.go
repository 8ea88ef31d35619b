package vad_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"hark/audio"
	"hark/audio/internal/audiotest"
	"hark/audio/internal/speechtest"
	"hark/audio/vad"
	"hark/internal/testmodels"
)

const modelName = "ggml-silero-v6.2.0.bin"

func load(t testing.TB) *vad.Silero {
	t.Helper()
	s, err := vad.Load(testmodels.Shared(t, modelName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestLoad(t *testing.T) {
	s := load(t)
	if s.FrameSize() != 512 {
		t.Errorf("FrameSize %d, want 512", s.FrameSize())
	}
	if i := s.Info(); i.Type != "silero-16k" || i.Version != "6.2.0" || i.Tensors != 15 {
		t.Errorf("Info %+v", i)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Speech(make([]float32, 512)); !errors.Is(err, vad.ErrClosed) {
		t.Errorf("Speech after Close: %v, want ErrClosed", err)
	}
}

// TestLoadBadFiles: broken model files get a clear error from Go, never a crash in C.
func TestLoadBadFiles(t *testing.T) {
	good, err := os.ReadFile(testmodels.Shared(t, modelName))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cases := map[string][]byte{
		"empty":           nil,
		"text":            []byte("this is not a model\n"),
		"wrong magic":     append([]byte("GGUF"), good[4:]...),
		"whisper model":   mustRead(t, testmodels.Shared(t, "for-tests-ggml-base.en.bin")),
		"huge name":       patch(good, 4, 0x7fffffff),
		"three layers":    patch(good, 4+4+10+20, 3),
		"header only":     good[:200],
		"zero layer size": patch(good, 4+4+10+24+4, 0),
	}
	// Cut the file at many places: inside the header, a tensor header, a name, tensor data.
	for _, n := range []int{3, 9, 30, 60, 100, 150, 1000, len(good) / 2, len(good) - 1} {
		cases["cut at "+itoa(n)] = good[:n]
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, "m.bin")
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := vad.Load(p)
			if err == nil {
				s.Close()
				t.Fatal("Load succeeded")
			}
			if !errors.Is(err, vad.ErrBadModel) {
				t.Errorf("error %q does not wrap ErrBadModel", err)
			}
		})
	}
	if _, err := vad.Load(filepath.Join(dir, "missing.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func patch(b []byte, off int, v uint32) []byte {
	c := append([]byte(nil), b...)
	c[off], c[off+1], c[off+2], c[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	return c
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSpeechProbabilities(t *testing.T) {
	s := load(t)
	probs := func(samples []float32) (lo, hi float32) {
		s.Reset()
		lo, hi = 1, 0
		for i := 0; i+512 <= len(samples); i += 512 {
			p, err := s.Speech(samples[i : i+512])
			if err != nil {
				t.Fatal(err)
			}
			lo, hi = min(lo, p), max(hi, p)
		}
		return lo, hi
	}
	if _, hi := probs(make([]float32, 3*audio.SampleRate)); hi > 0.2 {
		t.Errorf("silence: speech probability up to %.2f", hi)
	}
	if _, hi := probs(audiotest.WhiteNoise(3*audio.SampleRate, -40, 1)); hi > 0.3 {
		t.Errorf("white noise: speech probability up to %.2f", hi)
	}
	speech, err := audio.ReadWAV(testmodels.JFK(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, hi := probs(speech.Samples[:2*audio.SampleRate]); hi < 0.9 {
		t.Errorf("speech: speech probability at most %.2f", hi)
	}
	if _, err := s.Speech(make([]float32, 100)); err == nil {
		t.Error("a short frame was accepted")
	}
}

// TestEndpointerSilero: the endpointer on Silero finds every utterance of real speech with
// known boundaries, within 150 ms.
func TestEndpointerSilero(t *testing.T) {
	s := load(t)
	for _, st := range append([]speechtest.Stream{speechtest.Espeak(t), speechtest.JFK(t)}, speechtest.LibriVox(t)...) {
		t.Run(st.Name, func(t *testing.T) {
			cfg := audio.DefaultEndpointerConfig()
			ep := audio.NewEndpointer(s, cfg)
			found := speechtest.Utterances(speechtest.Push(t, ep, st.PCM.Samples))
			t.Logf("%s: found %v, speech %v", st.Name, found, st.Speech)
			speechtest.Check(t, st.Name, found, st.Speech, cfg.TrailingSilence, 150*time.Millisecond)
		})
	}
}

func TestEndpointerSileroNoSpeech(t *testing.T) {
	s := load(t)
	for _, tc := range []struct {
		name string
		pcm  []float32
	}{
		{"digital silence", make([]float32, 20*audio.SampleRate)},
		{"white noise at -40 dBFS", audiotest.WhiteNoise(20*audio.SampleRate, -40, 5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := audio.NewEndpointer(s, audio.DefaultEndpointerConfig())
			if ev := speechtest.Push(t, ep, tc.pcm); len(ev) != 0 {
				t.Errorf("events in %s: %+v", tc.name, ev)
			}
		})
	}
}

// BenchmarkEndpointerSilero: Silero (one thread, the default) + endpointer real-time factor on
// 60 s of speech (LibriVox clips back to back, looped), pushed in 100 ms chunks as a microphone
// would deliver them.
func BenchmarkEndpointerSilero(b *testing.B) {
	s := load(b)
	min60 := speechtest.Loop60(speechtest.LibriVox(b)[5].PCM.Samples)
	ep := audio.NewEndpointer(s, audio.DefaultEndpointerConfig())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < len(min60); i += 1600 {
			if _, err := ep.Push(min60[i : i+1600]); err != nil {
				b.Fatal(err)
			}
		}
		ep.Flush()
	}
	b.ReportMetric(b.Elapsed().Seconds()/(60*float64(b.N)), "rtf")
}
