package asr

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"

	"hark/internal/testmodels"

	// The bindings module is not imported by asr itself (see the package doc), but its
	// samples/jfk.wav is Hark's test recording: this keeps the module in go.mod.
	_ "github.com/ggerganov/whisper.cpp/bindings/go"
)

// readWAV reads a PCM WAV file (16-bit integer or 32-bit float, any channel count, any rate)
// as 16 kHz mono float32. It is a test helper: the product reads WAV files with audio.ReadWAV.
func readWAV(t testing.TB, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := decodeWAV(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pcm
}

func decodeWAV(b []byte) ([]float32, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("not a RIFF/WAVE file")
	}
	var format, channels, bits uint16
	var rate uint32
	var data []byte
	for i := 12; i+8 <= len(b); {
		id, n := string(b[i:i+4]), int(binary.LittleEndian.Uint32(b[i+4:]))
		body := b[i+8 : min(len(b), i+8+n)]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, fmt.Errorf("short fmt chunk")
			}
			format, channels = binary.LittleEndian.Uint16(body), binary.LittleEndian.Uint16(body[2:])
			rate, bits = binary.LittleEndian.Uint32(body[4:]), binary.LittleEndian.Uint16(body[14:])
			if format == 0xfffe && len(body) >= 26 {
				format = binary.LittleEndian.Uint16(body[24:])
			}
		case "data":
			data = body
		}
		i += 8 + n + n%2
		if n < 0 || i < 0 {
			break
		}
	}
	if channels == 0 || data == nil {
		return nil, fmt.Errorf("no fmt or data chunk")
	}
	var mono []float32
	switch {
	case format == 1 && bits == 16:
		frames := len(data) / 2 / int(channels)
		mono = make([]float32, frames)
		for f := range frames {
			var sum float32
			for c := range int(channels) {
				sum += float32(int16(binary.LittleEndian.Uint16(data[2*(f*int(channels)+c):]))) / 32768
			}
			mono[f] = sum / float32(channels)
		}
	case format == 3 && bits == 32:
		frames := len(data) / 4 / int(channels)
		mono = make([]float32, frames)
		for f := range frames {
			var sum float32
			for c := range int(channels) {
				sum += math.Float32frombits(binary.LittleEndian.Uint32(data[4*(f*int(channels)+c):]))
			}
			mono[f] = sum / float32(channels)
		}
	default:
		return nil, fmt.Errorf("unsupported WAV format %d with %d bits", format, bits)
	}
	return resample(mono, int(rate), sampleRate), nil
}

// resample converts by linear interpolation: good enough for test speech.
func resample(in []float32, from, to int) []float32 {
	if from == to || len(in) == 0 {
		return in
	}
	n := int(int64(len(in)) * int64(to) / int64(from))
	out := make([]float32, n)
	for i := range out {
		pos := float64(i) * float64(from) / float64(to)
		j := int(pos)
		frac := float32(pos - float64(j))
		a := in[min(j, len(in)-1)]
		b := in[min(j+1, len(in)-1)]
		out[i] = a + (b-a)*frac
	}
	return out
}

// writeWAV16 writes 16 kHz mono 16-bit PCM (for whisper-ref, which reads only that).
func writeWAV16(t testing.TB, path string, pcm []float32) {
	t.Helper()
	var b bytes.Buffer
	put := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	put(uint32(36 + 2*len(pcm)))
	b.WriteString("WAVEfmt ")
	put([]uint32{16})
	put([]uint16{1, 1})
	put([]uint32{sampleRate, 2 * sampleRate})
	put([]uint16{2, 16})
	b.WriteString("data")
	put(uint32(2 * len(pcm)))
	for _, v := range pcm {
		put(int16(max(-1, min(1, v)) * 32767))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// jfk returns the 11-second jfk.wav as float32.
func jfk(t testing.TB) []float32 { return readWAV(t, testmodels.JFK(t)) }

// espeak speaks text with espeak-ng (a test dependency, installed by make setup-test).
func espeak(t testing.TB, text string) []float32 {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatalf("espeak-ng is needed for this test (make setup-test installs it): %v", err)
	}
	out, err := exec.Command("espeak-ng", "--stdout", "-v", "en-us", text).Output()
	if err != nil {
		t.Fatalf("espeak-ng: %v", err)
	}
	pcm, err := decodeWAV(out)
	if err != nil {
		t.Fatalf("espeak-ng output: %v", err)
	}
	return pcm
}

// Generated test signals, each d seconds of 16 kHz audio.

func silence(d float64) []float32 { return make([]float32, int(d*sampleRate)) }

func whiteNoise(d float64, amp float32) []float32 {
	rng := rand.New(rand.NewPCG(1, 2))
	pcm := make([]float32, int(d*sampleRate))
	for i := range pcm {
		pcm[i] = amp * float32(rng.NormFloat64())
	}
	return pcm
}

// musicTone is a sustained chord of three harmonic-rich notes with a slow tremolo: music-like
// to a model that hallucinates "♪" or "Thank you." on it.
func musicTone(d float64) []float32 {
	pcm := make([]float32, int(d*sampleRate))
	notes := []float64{220, 277.18, 329.63}
	for i := range pcm {
		ts := float64(i) / sampleRate
		var v float64
		for _, f := range notes {
			for h := 1.0; h <= 4; h++ {
				v += math.Sin(2*math.Pi*f*h*ts) / h
			}
		}
		v *= 0.08 * (1 + 0.3*math.Sin(2*math.Pi*4*ts))
		pcm[i] = float32(v)
	}
	return pcm
}

// sharedModel is the shared random-weight whisper model (real vocabulary, tiny dimensions).
func sharedModel(t testing.TB) string { return testmodels.Shared(t, "whisper-tiny-random.en.bin") }

// writtenModel writes a random-weight model of the test writer's tiny shape.
func writtenModel(t testing.TB) string { return testmodels.Whisper(t, testmodels.TinyWhisper()) }

// load loads path with one thread per call (the test machine is shared) and closes it after t.
func load(t testing.TB, path string, o LoadOptions) *Model {
	t.Helper()
	if o.Threads == 0 {
		o.Threads = 1
	}
	m, err := Load(path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// testOptions are fixed settings for the engine tests: English, greedy, guard off (a random
// model's output is gibberish the guard would rightly drop).
func testOptions() Options {
	return Options{Language: "en", Guard: &Guard{Off: true}}
}
