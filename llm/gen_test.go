package llm

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"hark/internal/testmodels"
)

// commonWords are words any few sentences of TinyStories English contain some of.
var commonWords = []string{"the", "a", "was", "to", "and", "she", "he", "her", "his", "it", "in", "of", "with", "day", "they", "said", "play", "little", "big", "one", "time", "there", "upon", "once"}

// TestStoriesGreedy: stories260K continues a story greedily, the same way every time, in
// English, and the streamed pieces add up to the text; a plain-format chat gives the same
// reply as completion.
func TestStoriesGreedy(t *testing.T) {
	m := stories(t)
	g := GenOptions{MaxTokens: 60}
	first, _ := complete(t, m, "Once upon a time", g)
	again, _ := complete(t, m, "Once upon a time", g)
	if first.Text != again.Text {
		t.Fatalf("greedy generation is not deterministic:\n%q\n%q", first.Text, again.Text)
	}
	words := strings.FieldsFunc(strings.ToLower(first.Text), func(r rune) bool { return !('a' <= r && r <= 'z' || r == '\'') })
	known := 0
	for _, w := range words {
		if slices.Contains(commonWords, w) {
			known++
		}
	}
	if len(words) < 20 || known < 6 {
		t.Fatalf("expected English from stories260K, got %q (%d words, %d common)", first.Text, len(words), known)
	}
	if first.Stats.GeneratedTokens != 60 || first.Stop != StopMaxTokens {
		t.Errorf("stats %+v, stop %s: want 60 tokens and max_tokens", first.Stats, first.Stop)
	}
	c, err := m.NewChat("")
	if err != nil {
		t.Fatal(err)
	}
	if r := send(t, c, "Once upon a time", g); r.Text != first.Text {
		t.Errorf("plain chat reply %q differs from completion %q", r.Text, first.Text)
	}
	t.Logf("stories260K: %q", first.Text)
}

// TestSeeds: the same seed gives the same sampled text (also after the KV cache has been
// reused); different seeds give different texts.
func TestSeeds(t *testing.T) {
	m := stories(t)
	g := GenOptions{MaxTokens: 40, Temperature: 1, TopK: 40, TopP: 0.95, MinP: 0.02, RepeatPenalty: 1.1}
	texts := map[string]bool{}
	for seed := uint32(1); seed <= 4; seed++ {
		g.Seed = seed
		a, _ := complete(t, m, "Once upon a time", g)
		other, _ := complete(t, m, "The dog", g) // the cache now holds another prompt
		b, _ := complete(t, m, "Once upon a time", g)
		if a.Text != b.Text || a.Stats.Seed != seed {
			t.Fatalf("seed %d: %q then %q (seed in stats %d)", seed, a.Text, b.Text, a.Stats.Seed)
		}
		texts[a.Text] = true
		_ = other
	}
	if len(texts) < 3 {
		t.Errorf("4 seeds gave only %d different texts: %v", len(texts), texts)
	}
	g.Seed = 0
	r, _ := complete(t, m, "Once upon a time", g)
	if r.Stats.Seed == 0 {
		t.Error("seed 0 should pick a random seed and report it")
	}
	g.Seed = r.Stats.Seed
	if again, _ := complete(t, m, "Once upon a time", g); again.Text != r.Text {
		t.Errorf("the reported random seed %d does not reproduce the text", r.Stats.Seed)
	}
}

// TestStopAndMaxTokens on stories260K, the ChatML random model and llama-2-tiny-random: a
// stop sequence spanning two tokens ends the text just before it and never shows; max tokens
// hold.
func TestStopAndMaxTokens(t *testing.T) {
	models := map[string]*Model{
		"stories260K":         stories(t),
		"chatml random":       chatML(t, Options{}),
		"llama-2-tiny-random": load(t, testmodels.Shared(t, "llama-2-tiny-random.gguf"), Options{}),
	}
	for name, m := range models {
		t.Run(name, func(t *testing.T) {
			g := GenOptions{MaxTokens: 30, IgnoreEOS: true, Temperature: 0.8, Seed: 7}
			full, _ := complete(t, m, "Once upon a time", g)
			if full.Stats.GeneratedTokens != 30 || full.Stop != StopMaxTokens {
				t.Fatalf("MaxTokens 30: %d tokens, stop %s", full.Stats.GeneratedTokens, full.Stop)
			}
			// Find a stop string across a piece boundary in the middle of the text.
			_, ps := complete(t, m, "Once upon a time", g)
			stop, before := "", ""
			for i := len(ps) / 3; i+1 < len(ps) && stop == ""; i++ {
				a, b := []rune(ps[i]), []rune(ps[i+1])
				if len(a) >= 1 && len(b) >= 1 && strings.TrimSpace(string(a[len(a)-1:])+string(b[:1])) != "" {
					stop = string(a[len(a)-1:]) + string(b[:min(2, len(b))])
					before = strings.Join(ps[:i], "") + string(a[:len(a)-1])
				}
			}
			if stop == "" {
				// The model and its sampling are deterministic: the same text every run.
				t.Fatalf("no piece boundary to put a stop sequence on in %q", ps)
			}
			if i := strings.Index(full.Text, stop); i >= 0 && i < len(before) {
				before = full.Text[:i] // the stop string occurs earlier
			}
			g.Stop = []string{stop}
			r, _ := complete(t, m, "Once upon a time", g)
			if r.Stop != StopSequence || strings.Contains(r.Text, stop) || r.Text != strings.TrimRight(before, " \n\t") {
				t.Errorf("stop %q: got %q (stop %s), want %q", stop, r.Text, r.Stop, strings.TrimRight(before, " \n\t"))
			}
			for _, n := range []int{1, 5} {
				if r, _ := complete(t, m, "Once upon a time", GenOptions{MaxTokens: n, IgnoreEOS: true}); r.Stats.GeneratedTokens != n {
					t.Errorf("MaxTokens %d: generated %d", n, r.Stats.GeneratedTokens)
				}
			}
		})
	}
}

// TestUTF8Pieces: a model with a real 32000-token vocabulary (byte tokens, CJK, emoji pieces)
// sampled hot streams only valid UTF-8, over many seeds.
func TestUTF8Pieces(t *testing.T) {
	m := load(t, testmodels.Shared(t, "llama-2-tiny-random.gguf"), Options{})
	multibyte := 0
	for seed := uint32(1); seed <= 8; seed++ {
		r, ps := complete(t, m, "Hello", GenOptions{MaxTokens: 64, IgnoreEOS: true, Temperature: 1.5, Seed: seed})
		for _, p := range ps {
			if utf8.RuneCountInString(p) < len(p) {
				multibyte++
			}
		}
		if !utf8.ValidString(r.Text) {
			t.Fatalf("seed %d: invalid UTF-8 %q", seed, r.Text)
		}
	}
	if multibyte == 0 {
		t.Error("no multi-byte character in 512 tokens of a multilingual vocabulary: the test shows nothing")
	}
}

// TestGrammar: output follows a GBNF grammar and a JSON schema over many seeds; invalid ones
// are clear errors, not crashes.
func TestGrammar(t *testing.T) {
	m := stories(t)
	const schema = `{"type": "object", "properties": {
		"name": {"type": "string", "maxLength": 12},
		"age": {"type": "integer", "minimum": 1, "maximum": 99},
		"mood": {"enum": ["happy", "sad", "sleepy"]},
		"friends": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3}
	}, "required": ["name", "age", "mood", "friends"], "additionalProperties": false}`
	for seed := uint32(1); seed <= 24; seed++ {
		r, _ := complete(t, m, "Once upon a time", GenOptions{JSONSchema: schema, Temperature: 1, Seed: seed, MaxTokens: 300})
		if err := checkAgainstSchema(r.Text); err != nil {
			t.Fatalf("seed %d: %q: %v", seed, r.Text, err)
		}
		if seed == 1 {
			t.Logf("%s", r.Text)
		}
	}
	for seed := uint32(1); seed <= 8; seed++ {
		r, _ := complete(t, m, "Is it on?", GenOptions{Grammar: `root ::= ("yes" | "no") "."`, Temperature: 1, Seed: seed, MaxTokens: 20})
		if r.Text != "yes." && r.Text != "no." {
			t.Fatalf("seed %d: %q is not yes. or no.", seed, r.Text)
		}
	}
	bad := []struct {
		g    GenOptions
		want error
		says string
	}{
		{GenOptions{Grammar: `root ::= "unterminated`}, ErrBadGrammar, "end of input"},
		{GenOptions{Grammar: `root = "a"`}, ErrBadGrammar, "::="},
		{GenOptions{Grammar: `start ::= "a"`}, ErrBadGrammar, "root"},
		{GenOptions{Grammar: `root ::= undefined-rule`}, ErrBadGrammar, "undefined-rule"},
		{GenOptions{Grammar: `root ::= root "a" | "b"`}, ErrBadGrammar, "recursion"},
		{GenOptions{JSONSchema: `{"type": `}, ErrBadGrammar, "JSON schema"},
		{GenOptions{Grammar: `root ::= "a"`, JSONSchema: `{}`}, ErrBadOptions, "not both"},
		{GenOptions{TopP: 2}, ErrBadOptions, "TopP"},
	}
	for _, b := range bad {
		_, err := m.Complete(context.Background(), "x", b.g, nil)
		if !errors.Is(err, b.want) || !strings.Contains(err.Error(), b.says) {
			t.Errorf("%+v: got %v, want %v saying %q", b.g, err, b.want, b.says)
		}
		t.Logf("%v", err)
	}
	// The model still works after all that.
	if r, _ := complete(t, m, "Once upon a time", GenOptions{MaxTokens: 5}); r.Text == "" {
		t.Error("no text after the grammar errors")
	}
}

// TestNoMarkupInReplies: a reply that would run into the next turn's markup ends before it,
// whether the markup comes as special tokens or as plain characters.
func TestNoMarkupInReplies(t *testing.T) {
	m := chatML(t, Options{})
	for _, tc := range []struct{ grammar, want string }{
		{`root ::= "ok\n<|im_start|>user\nmore"`, "ok"}, // the same as characters
		{`root ::= "fine<|im_end|>\nmore"`, "fine"},
	} {
		c, err := m.NewChat("")
		if err != nil {
			t.Fatal(err)
		}
		r := send(t, c, "hello", GenOptions{Grammar: tc.grammar, MaxTokens: 40})
		if r.Text != tc.want || strings.Contains(r.Text, "<|") {
			t.Errorf("grammar %s: reply %q (stop %s), want %q", tc.grammar, r.Text, r.Stop, tc.want)
		}
	}
}

// checkAgainstSchema validates the JSON of TestGrammar's schema.
func checkAgainstSchema(text string) error {
	var v struct {
		Name    *string  `json:"name"`
		Age     *float64 `json:"age"`
		Mood    *string  `json:"mood"`
		Friends []string `json:"friends"`
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("text after the JSON value")
	}
	switch {
	case v.Name == nil || utf8.RuneCountInString(*v.Name) > 12:
		return errors.New("name missing or too long")
	case v.Age == nil || *v.Age != float64(int(*v.Age)) || *v.Age < 1 || *v.Age > 99:
		return errors.New("age missing, not an integer or out of range")
	case v.Mood == nil || !slices.Contains([]string{"happy", "sad", "sleepy"}, *v.Mood):
		return errors.New("mood missing or not in the enum")
	case v.Friends == nil || len(v.Friends) > 3:
		return errors.New("friends missing or too many")
	}
	for _, f := range v.Friends {
		if utf8.RuneCountInString(f) > 8 {
			return errors.New("friend name too long")
		}
	}
	return nil
}
