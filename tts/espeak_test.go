package tts

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"hark/audio"
)

func newEspeak(t testing.TB) *Espeak {
	t.Helper()
	e, err := NewEspeak()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func TestEspeakSynthesize(t *testing.T) {
	e := newEspeak(t)
	pcm, err := e.Synthesize(context.Background(), "Hello there, how are you today?", Voice{})
	if err != nil {
		t.Fatal(err)
	}
	if pcm.Rate != 22050 {
		t.Errorf("rate %d, want 22050", pcm.Rate)
	}
	if d := pcm.Duration(); d < time.Second || d > 4*time.Second {
		t.Errorf("duration %v, want 1-4 s for a six-word sentence", d)
	}
	t.Logf("%d samples, %v", len(pcm.Samples), pcm.Duration())
}

// espeakProgram runs the espeak-ng program once per call, the alternative to the library that
// the package doc compares against.
type espeakProgram struct{}

func (espeakProgram) Synthesize(ctx context.Context, text string, v Voice) (audio.PCM, error) {
	args := []string{"--stdout"}
	if v.Name != "" {
		args = append(args, "-v", v.Name)
	} else if v.Language != "" {
		args = append(args, "-v", v.Language)
	}
	if v.Rate > 0 {
		args = append(args, "-s", strconv.Itoa(v.Rate))
	}
	if v.Pitch > 0 {
		args = append(args, "-p", strconv.Itoa(v.Pitch))
	}
	args = append(args, "--", text)
	out, err := exec.CommandContext(ctx, "espeak-ng", args...).Output()
	if err != nil {
		return audio.PCM{}, fmt.Errorf("espeak-ng: %w", err)
	}
	// espeak-ng writes a 44-byte canonical WAV header, 16-bit mono.
	if len(out) < 44 || !bytes.Equal(out[:4], []byte("RIFF")) {
		return audio.PCM{}, errors.New("espeak-ng: no WAV output")
	}
	rate := int(binary.LittleEndian.Uint32(out[24:28]))
	data := out[44:]
	s := make([]float32, len(data)/2)
	for i := range s {
		s[i] = float32(int16(binary.LittleEndian.Uint16(data[2*i:]))) / 32768
	}
	return audio.PCM{Rate: rate, Samples: s}, nil
}

func TestEspeakVoiceParameters(t *testing.T) {
	e := newEspeak(t)
	ctx := context.Background()
	text := "The quick brown fox jumps over the lazy dog."
	slow, err := e.Synthesize(ctx, text, Voice{Rate: 120})
	if err != nil {
		t.Fatal(err)
	}
	fast, err := e.Synthesize(ctx, text, Voice{Rate: 300})
	if err != nil {
		t.Fatal(err)
	}
	if r := float64(len(slow.Samples)) / float64(len(fast.Samples)); r < 1.6 {
		t.Errorf("120 wpm lasts %v, 300 wpm %v: ratio %.2f, want >= 1.6", slow.Duration(), fast.Duration(), r)
	}
	_, err = e.Synthesize(ctx, text, Voice{Name: "no-such-voice"})
	if !errors.Is(err, ErrVoiceNotFound) || !strings.Contains(err.Error(), "hark voices") {
		t.Errorf("unknown voice: error %v, want ErrVoiceNotFound mentioning `hark voices`", err)
	}
	// The library works again after the error, with the previous settings forgotten.
	again, err := e.Synthesize(ctx, text, Voice{Rate: 300})
	if err != nil || math.Abs(float64(len(again.Samples)-len(fast.Samples))) > 0.01*float64(len(fast.Samples)) {
		t.Errorf("after an unknown voice: %d samples (want %d), %v", len(again.Samples), len(fast.Samples), err)
	}
	if pcm, err := e.Synthesize(ctx, "", Voice{}); err != nil || pcm.Duration() > 500*time.Millisecond {
		t.Errorf("empty text: %v of audio, %v", pcm.Duration(), err)
	}
}

// countingCtx is a context whose Err turns to Canceled on its nth call: synthesis notices the
// cancellation at its next audio buffer, with no timing involved.
type countingCtx struct {
	context.Context
	calls, n int
}

func (c *countingCtx) Err() error {
	c.calls++
	if c.calls >= c.n {
		return context.Canceled
	}
	return nil
}

func TestEspeakCancel(t *testing.T) {
	e := newEspeak(t)
	long := strings.Repeat("This sentence is spoken again and again until somebody stops it. ", 40)
	ctx := &countingCtx{Context: context.Background(), n: 4}
	_, err := e.Synthesize(ctx, long, Voice{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Synthesize: %v, want context.Canceled", err)
	}
	if ctx.calls > 6 {
		t.Errorf("synthesis ran %d buffers after it was cancelled at the 4th", ctx.calls-4)
	}
	// Still usable afterwards.
	if _, err := e.Synthesize(context.Background(), "Hello.", Voice{}); err != nil {
		t.Errorf("after a cancel: %v", err)
	}
}

// TestEspeakChinesePhonemes: the zh voice reads Chinese characters as Mandarin syllables with
// tones (espeak-ng's pinyin phonemes), where espeak-ng's default Mandarin voice, cmn, spells
// the tone numbers out in English; Latin words inside Chinese are read by an English voice.
func TestEspeakChinesePhonemes(t *testing.T) {
	e := newEspeak(t)
	tests := []struct {
		text     string
		v        Voice
		want     []string
		dontWant []string
	}{
		{"你好", Voice{Name: "zh"}, []string{"n'i", "X'Au214"}, []string{"(en)"}},
		{"你好", Voice{Language: "zh"}, []string{"n'i", "X'Au214"}, []string{"(en)"}},
		{"你好", Voice{Name: "cmn"}, []string{"(en)"}, []string{"X'Au214"}},
		{"我用 iPhone 打电话", Voice{Name: "zh"}, []string{"w'o214", "f'oUn", "t'A214"}, nil},
		{"你好", Voice{Name: "yue"}, []string{"n'ei5", "h'ou2"}, nil},
	}
	for _, tt := range tests {
		got, err := e.Phonemes(tt.text, tt.v)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("Phonemes(%q, %+v) = %q, want it to contain %q", tt.text, tt.v, got, w)
			}
		}
		for _, w := range tt.dontWant {
			if strings.Contains(got, w) {
				t.Errorf("Phonemes(%q, %+v) = %q, want no %q", tt.text, tt.v, got, w)
			}
		}
	}
	// And the audio: the zh voice speaks two syllables for 你好, shorter than cmn's English
	// tone numbers ("ni three hao three"; 0.83 s against 1.12 s with espeak-ng 1.51).
	zh, err := e.Synthesize(context.Background(), "你好", Voice{Name: "zh"})
	if err != nil {
		t.Fatal(err)
	}
	cmn, err := e.Synthesize(context.Background(), "你好", Voice{Name: "cmn"})
	if err != nil {
		t.Fatal(err)
	}
	if zh.Duration() <= 0 || zh.Duration()*11/10 > cmn.Duration() {
		t.Errorf("你好 lasts %v with the zh voice and %v with cmn; want the pinyin reading much shorter", zh.Duration(), cmn.Duration())
	}
}
