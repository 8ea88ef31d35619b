package enginetest

import (
	"context"
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"unicode"

	"hark/asr"
	"hark/internal/testmodels"
	"hark/llm"
)

// TestBothEnginesInOneBinary loads a real tiny LLM and generates text, then loads whisper models
// (the shared random-weight one and one this test writes) and runs whisper_full on jfk.wav, all
// in this one process, and repeats the LLM step afterwards to show neither engine disturbed the
// other's global state.
func TestBothEnginesInOneBinary(t *testing.T) {
	ctx := context.Background()
	lm, err := llm.Load(testmodels.Shared(t, "stories260K.gguf"), llm.Options{ContextSize: 256, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer lm.Close()
	generate := func() string {
		t.Helper()
		var pieces []string
		r, err := lm.Complete(ctx, "Once upon a time", llm.GenOptions{MaxTokens: 40}, func(p string) error { pieces = append(pieces, p); return nil })
		if err != nil {
			t.Fatal(err)
		}
		text := r.Text
		if strings.Join(pieces, "") != text {
			t.Fatalf("streamed pieces %q do not add up to the text %q", pieces, text)
		}
		return text
	}
	first := generate()
	t.Logf("stories260K: %q", first)
	if letters := strings.IndexFunc(first, unicode.IsLetter); letters < 0 || len(strings.Fields(first)) < 5 {
		t.Fatalf("expected several words of English from stories260K, got %q", first)
	}

	pcm := readPCM16(t, testmodels.JFK(t))
	for _, model := range []string{
		testmodels.Shared(t, "whisper-tiny-random.en.bin"),
		testmodels.Whisper(t, testmodels.TinyWhisper()),
	} {
		// One thread: on a loaded 2-core machine ggml's two spinning threads can take minutes.
		m, err := asr.Load(model, asr.LoadOptions{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		// The guard is off: it would rightly drop much of a random model's gibberish.
		res, err := m.Transcribe(ctx, pcm, asr.Options{Language: "en", Guard: &asr.Guard{Off: true}})
		m.Close()
		text := res.Text
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		// Random weights decode real word pieces into gibberish; that text exists at all shows
		// the encoder and decoder ran.
		if text == "" {
			t.Fatalf("%s: whisper_full returned no text for jfk.wav", model)
		}
		t.Logf("whisper %s (%s): %.60q", asr.Version(), model, text)
	}

	if again := generate(); again != first {
		t.Fatalf("greedy generation changed after whisper ran: %q then %q", first, again)
	}
	t.Logf("llama.cpp %s", llm.Version())
}

// readPCM16 reads a 16 kHz mono 16-bit WAV (jfk.wav) as float32 samples.
func readPCM16(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 12; i+8 <= len(b); {
		id, n := string(b[i:i+4]), int(binary.LittleEndian.Uint32(b[i+4:]))
		if id == "data" {
			body := b[i+8 : min(len(b), i+8+n)]
			pcm := make([]float32, len(body)/2)
			for j := range pcm {
				pcm[j] = float32(int16(binary.LittleEndian.Uint16(body[2*j:]))) / 32768
			}
			return pcm
		}
		i += 8 + n + n%2
	}
	t.Fatalf("%s: no data chunk", path)
	return nil
}
