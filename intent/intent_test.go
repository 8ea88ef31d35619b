package intent

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestNormalize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"What's the TIME?", "whats the time"},
		{"Set a timer for twenty-five minutes.", "set a timer for 25 minutes"},
		{"one hundred and five", "105"},
		{"two thousand three hundred", "2300"},
		{"a hundred", "100"},
		{"five six", "5 6"},
		{"7:30 am", "7 30 am"},
		{"2.5 litres, please", "2.5 litres please"},
		{"1,000 grams", "1000 grams"},
		{"12*7", "12 * 7"},
		{"a timer", "a timer"},
		{"and", "and"},
		{"设置一个五分钟的计时器。", "设置一个五分钟的计时器"},
	}
	for _, c := range cases {
		if got := Normalize("en", c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func compile(t *testing.T, files ...File) *Set {
	t.Helper()
	var nf []NamedFile
	for i, f := range files {
		nf = append(nf, NamedFile{Name: fmt.Sprint("f", i), File: f})
	}
	s, err := Compile(nf)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFormat(t *testing.T) {
	f, err := Decode("test.toml", []byte(`
language = "en"
[expansion_rules]
dur = "{n} (minute|minutes)"
[lists.n]
range = { from = 1, to = 60 }
[lists.color]
values = ["red", { in = "sky blue", out = "blue" }, { in = "forty two", out = 42 }]
[lists.thing]
wildcard = true
[[intents.light]]
sentences = ["(turn|switch) [the] light {color}", "make it {color}"]
[[intents.wait]]
sentences = ["wait <dur>"]
slots = { mode = "sleep" }
[[intents.say]]
sentences = ["say {thing} twice", "say {thing}"]
`))
	if err != nil {
		t.Fatal(err)
	}
	s := compile(t, f)
	cases := []struct {
		in     string
		intent string
		slots  map[string]any
	}{
		{"Turn the light red", "light", map[string]any{"color": "red"}},
		{"switch light sky blue!", "light", map[string]any{"color": "blue"}},
		{"make it skyblue", "light", map[string]any{"color": "blue"}},
		{"make it forty-two", "light", map[string]any{"color": int64(42)}},
		{"wait five minutes", "wait", map[string]any{"n": 5, "mode": "sleep"}},
		{"wait 61 minutes", "", nil}, // out of range
		{"say hello there twice", "say", map[string]any{"thing": "hello there"}},
		{"say hello", "say", map[string]any{"thing": "hello"}},
		{"turn the light green", "", nil},
		{"turnthe light red", "", nil}, // words are not joined in languages with spaces
	}
	for _, c := range cases {
		r := s.Match("en", c.in)
		if c.intent == "" {
			if r.Best != nil {
				t.Errorf("Match(%q) = %s, want none", c.in, r.Best.Intent)
			}
			continue
		}
		if r.Best == nil {
			t.Errorf("Match(%q) = none, want %s", c.in, c.intent)
			continue
		}
		if r.Best.Intent != c.intent || !reflect.DeepEqual(r.Best.Slots, c.slots) {
			t.Errorf("Match(%q) = %s %v, want %s %v", c.in, r.Best.Intent, r.Best.Slots, c.intent, c.slots)
		}
	}
}

func TestAmbiguous(t *testing.T) {
	s := compile(t, File{Language: "en", Intents: map[string][]Group{
		"a": {{Sentences: []string{"open the door"}}},
		"b": {{Sentences: []string{"open [the] door"}}},
		"c": {{Sentences: []string{"open the window"}}},
	}})
	r := s.Match("en", "open the door")
	if r.Best != nil || len(r.Ambiguous) != 2 {
		t.Fatalf("Match = %+v, want ambiguous between a and b", r)
	}
}

// TestUnspacedLanguage: Chinese templates match with or without spaces in the sentence (a
// recogniser may put them anywhere), and a file's language keeps its templates apart.
func TestUnspacedLanguage(t *testing.T) {
	s := compile(t,
		File{Language: "zh", Lists: map[string]List{"n": {Values: []any{map[string]any{"in": "五", "out": int64(5)}, map[string]any{"in": "十", "out": int64(10)}}}},
			Intents: map[string][]Group{"timer_start": {{Sentences: []string{"[设置|定] 一个 {n:n} 分钟 的 计时器", "{n:n}分钟后提醒我"}}}}},
		File{Language: "en", Intents: map[string][]Group{"hello": {{Sentences: []string{"hello"}}}}},
	)
	for _, in := range []string{"设置一个五分钟的计时器", "设置 一个 五分钟的 计时器。", "定一个十分钟的计时器", "五分钟后提醒我"} {
		r := s.Match("zh", in)
		if r.Best == nil || r.Best.Intent != "timer_start" {
			t.Errorf("Match(zh, %q) = %+v, want timer_start", in, r.Best)
		}
	}
	if r := s.Match("zh", "hello"); r.Best != nil {
		t.Errorf("an English template matched for zh")
	}
	if r := s.Match("auto", "hello"); r.Best == nil {
		t.Errorf("auto: no match across languages")
	}
}

func TestParseErrors(t *testing.T) {
	for _, sent := range []string{"open (the door", "open the] door", "open {nolist}", "open [a|b", "wait <nope>", "x {bad-name:n}"} {
		_, err := Compile([]NamedFile{{Name: "bad.toml", File: File{Language: "en",
			Lists:   map[string]List{"n": {Range: &Range{From: 1, To: 2}}},
			Intents: map[string][]Group{"x": {{Sentences: []string{sent}}}}}}})
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Sentence != sent {
			t.Errorf("Compile(%q) = %v, want a ParseError naming the sentence", sent, err)
		}
	}
	if _, err := Decode("x.toml", []byte(`[intents]`)); err == nil {
		t.Error("a file without a language was accepted")
	}
	if _, err := Compile([]NamedFile{{Name: "l.toml", File: File{Language: "en", Lists: map[string]List{"x": {}}}}}); err == nil {
		t.Error("a list with neither values, range nor wildcard was accepted")
	}
}

// BenchmarkMatch matches a sentence against a few hundred templates (the built-in set is
// similar in size and shape): the matcher's cost per sentence.
func BenchmarkMatch(b *testing.B) {
	f := File{Language: "en", Lists: map[string]List{
		"n":     {Range: &Range{From: 1, To: 1000}},
		"name":  {Wildcard: true},
		"color": {Values: []any{"red", "green", "blue", "warm white", "cold white"}},
	}, Intents: map[string][]Group{}}
	for i := range 100 {
		f.Intents[fmt.Sprint("intent", i)] = []Group{{Sentences: []string{
			fmt.Sprintf("(turn|switch) [on] [the] device %d [to] {color}", i),
			fmt.Sprintf("set [the] thing %d to {n} [percent]", i),
			fmt.Sprintf("call the %d {name} now", i),
		}}}
	}
	s := compile(&testing.T{}, f)
	b.Logf("%d templates", s.Len())
	for _, in := range []string{"switch on the device 57 to warm white", "what is the meaning of life"} {
		b.Run(fmt.Sprintf("%.12s", in), func(b *testing.B) {
			for b.Loop() {
				s.Match("en", in)
			}
		})
	}
}

// A dynamic list's values come from its resolver at match time: a device added later matches
// without recompiling, an unknown one does not, and it outranks a wildcard sentence.
func TestDynamicList(t *testing.T) {
	s := compile(t, File{Language: "en",
		Intents: map[string][]Group{
			"turn_on": {{Sentences: []string{"turn on [the] {device}"}}},
			"ask":     {{Sentences: []string{"turn on {anything}"}}},
		},
		Lists: map[string]List{"device": {Dynamic: true}, "anything": {Wildcard: true}},
	})
	if r := s.Match("en", "turn on the kitchen light"); r.Best == nil || r.Best.Intent != "ask" {
		t.Fatalf("without a resolver: %+v, want the wildcard intent", r)
	}
	known := map[string]string{"kitchen light": "light.kitchen"}
	s.SetResolver("device", func(lang, text string) (any, bool) {
		v, ok := known[text]
		return v, ok
	})
	cases := []struct{ in, intent, device string }{
		{"Turn on the kitchen light.", "turn_on", "light.kitchen"},
		{"turn on kitchen light", "turn_on", "light.kitchen"},
		{"turn on the radio", "ask", ""},
	}
	for _, c := range cases {
		r := s.Match("en", c.in)
		if r.Best == nil || r.Best.Intent != c.intent {
			t.Errorf("Match(%q) = %+v, want intent %s", c.in, r, c.intent)
			continue
		}
		if c.device != "" && r.Best.Slots["device"] != c.device {
			t.Errorf("Match(%q) device = %v, want %s", c.in, r.Best.Slots["device"], c.device)
		}
	}
	known["radio"] = "media_player.radio"
	if r := s.Match("en", "turn on the radio"); r.Best == nil || r.Best.Slots["device"] != "media_player.radio" {
		t.Errorf("after adding the radio: %+v", r.Best)
	}
	if _, err := Compile([]NamedFile{{Name: "x", File: File{Language: "en", Lists: map[string]List{"d": {Dynamic: true, Wildcard: true}}}}}); err == nil {
		t.Error("a list both dynamic and wildcard compiled")
	}
}
