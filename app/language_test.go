package app

import (
	"slices"
	"testing"
	"time"
)

func TestTypedLanguage(t *testing.T) {
	for text, want := range map[string]string{
		"今天天气怎么样？": "zh", "今天天氣怎麼樣": "zh", "今日はいい天気ですね": "ja", "東京タワー": "ja",
		"안녕하세요": "ko", "what time is it": "", "Wie spät ist es?": "", "": "",
	} {
		if got := typedLanguage(text); got != want {
			t.Errorf("typedLanguage(%q) = %q, want %q", text, got, want)
		}
	}
}

// TestTurnLanguage: listening for any language, each question is answered in the language it
// was asked in: the language model is told so, and the speaker and the chat get the language
// in their context. With a fixed language nothing is added.
func TestTurnLanguage(t *testing.T) {
	zhNote := "\n\n(Always answer in Simplified Chinese. 请用简体中文回答。)"
	tests := []struct {
		name      string
		language  string
		voice     bool // a spoken question (the recogniser says lang), else typed
		lang      string
		text      string
		wantAsked string
		wantLang  string
	}{
		{"auto, spoken chinese", "auto", true, "zh", "今天天气怎么样", "今天天气怎么样" + zhNote, "zh"},
		{"auto, spoken english", "auto", true, "en", "what time is it", "what time is it\n\n(Always answer in English.)", "en"},
		{"auto, spoken german", "auto", true, "de", "wie spät ist es", "wie spät ist es\n\n(Always answer in German.)", "de"},
		{"auto, typed chinese", "auto", false, "", "你好", "你好" + zhNote, "zh"},
		{"auto, typed latin", "auto", false, "", "hello", "hello", ""},
		{"fixed zh, spoken", "zh", true, "zh", "你好", "你好", ""},
		{"fixed en, typed chinese", "en", false, "", "你好", "你好", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := func(c *Config) { c.Language = tt.language; handsFree(c) }
			r := newRig(t, withConfig(cfg), withSpeaker(false))
			r.asr.lang = tt.lang
			r.asr.set(func(int) (string, error) { return tt.text, nil })
			i := r.ready(t)
			if tt.voice {
				r.say(500 * time.Millisecond)
			} else {
				r.a.Ask(tt.text)
			}
			r.rec.next(t, i, EventTurnDone)
			r.stop()
			c := r.brain.chat(0)
			c.mu.Lock()
			asked, langs := slices.Clone(c.asked), slices.Clone(c.langs)
			c.mu.Unlock()
			if !slices.Equal(asked, []string{tt.wantAsked}) || !slices.Equal(langs, []string{tt.wantLang}) {
				t.Errorf("the chat was asked %q in language %q; want %q in %q", asked, langs, tt.wantAsked, tt.wantLang)
			}
			r.spk.mu.Lock()
			spoken := slices.Clone(r.spk.langs)
			r.spk.mu.Unlock()
			if !slices.Equal(spoken, []string{tt.wantLang}) {
				t.Errorf("the reply was spoken in %q, want %q", spoken, tt.wantLang)
			}
		})
	}
}
