package asr

import (
	"context"
	"slices"
	"testing"

	"hark/internal/testmodels"
)

// multilingualModel writes a random-weight model with whisper's multilingual vocabulary
// (51,865 tokens: 99 language tokens).
func multilingualModel(t testing.TB) string {
	o := testmodels.TinyWhisper()
	o.Multilingual = true
	return testmodels.Whisper(t, o)
}

// TestLanguageDetection: a multilingual model detects a language from its own list (99
// languages: no yue, which only large-v3 has), auto and a named language both work, and an
// unknown one is an error.
func TestLanguageDetection(t *testing.T) {
	m := load(t, multilingualModel(t), LoadOptions{})
	info := m.Info()
	if !info.Multilingual || len(info.Languages) != 99 || slices.Contains(info.Languages, "yue") || !slices.Contains(info.Languages, "zh") {
		t.Fatalf("model info: multilingual %v, %d languages (yue: %v)", info.Multilingual, len(info.Languages), slices.Contains(info.Languages, "yue"))
	}
	o := testOptions()
	o.Language, o.TrimAudioCtx, o.MaxTokens = "auto", true, 8
	res, err := m.Transcribe(context.Background(), jfk(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(info.Languages, res.Language) {
		t.Errorf("detected language %q is not one of the model's", res.Language)
	}
	t.Logf("detected %q on jfk.wav", res.Language)
	o.Language = "zh"
	if res, err = m.Transcribe(context.Background(), jfk(t), o); err != nil || res.Language != "zh" {
		t.Errorf("language zh: %q, %v", res.Language, err)
	}
	o.Language = "yue"
	if _, err = m.Transcribe(context.Background(), jfk(t), o); err == nil {
		t.Errorf("yue on a 99-language model: no error")
	}
}

// TestLanguageDetectionWindow: the language detected for an utterance does not depend on
// what the model heard before. whisper.cpp 1.9.3 detects the language before it applies the
// call's audio_ctx to the (reused) state, so detection ran on the previous utterance's window.
func TestLanguageDetectionWindow(t *testing.T) {
	path := multilingualModel(t)
	o := testOptions()
	o.Language, o.TrimAudioCtx, o.MaxTokens = "auto", true, 4
	speech := jfk(t)
	short, long := speech[:16000*2], speech
	detect := func(m *Model, pcm []float32) string {
		res, err := m.Transcribe(context.Background(), pcm, o)
		if err != nil {
			t.Fatal(err)
		}
		return res.Language
	}
	var alone []string
	for _, pcm := range [][]float32{short, long} {
		alone = append(alone, detect(load(t, path, LoadOptions{MaxConcurrent: 1}), pcm))
	}
	reused := load(t, path, LoadOptions{MaxConcurrent: 1})
	for round := range 2 {
		for i, pcm := range [][]float32{long, short, long, short} {
			if got := detect(reused, pcm); got != alone[1-i%2] {
				t.Errorf("round %d, utterance %d (%.1f s) after others: detected %q, alone %q", round, i, float64(len(pcm))/16000, got, alone[1-i%2])
			}
		}
	}
	t.Logf("alone: 2 s → %q, 11 s → %q", alone[0], alone[1])
}
