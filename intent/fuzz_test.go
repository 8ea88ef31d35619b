package intent

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTemplates compiles arbitrary template files (a person's own files in actions.templates):
// a bad file must give an error, never a panic or a hang, and a set that compiles must match
// sentences safely.
func FuzzTemplates(f *testing.F) {
	f.Add("language = \"en\"\n[intents.timer_start]\nsentences = [\"set a [{name}] timer for {minutes} minute[s]\"]\n[lists.minutes]\nrange = { from = 1, to = 600 }\n[lists.name]\nwildcard = true\n", "set a tea timer for 5 minutes")
	f.Add("language = \"zh\"\n[intents.light]\nsentences = [\"(打开|开)[一下]{room}的灯\"]\n[lists.room]\nvalues = [{ in = \"厨房\", out = \"kitchen\" }]\n", "打开厨房的灯")
	f.Add("language = \"en\"\n[expansion_rules]\nr = \"<r>\"\n[intents.x]\nsentences = [\"<r>\"]\n", "x")
	f.Add("language = \"en\"\n[intents.x]\nsentences = [\"((((a|b)|c)|d\"]\n", "a")
	f.Fuzz(func(t *testing.T, file, sentence string) {
		fl, err := Decode("fuzz.toml", []byte(file))
		if err != nil {
			return
		}
		set, err := Compile([]NamedFile{{Name: "fuzz.toml", File: fl}})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error message")
			}
			return
		}
		if r := set.Match(fl.Language, sentence); r.Best != nil && r.Best.Intent == "" {
			t.Fatalf("a match without an intent: %+v", *r.Best)
		}
	})
}

// FuzzMatch runs hostile sentences (a novel pasted into the entry, control characters, broken
// UTF-8) through the built-in-style templates.
func FuzzMatch(f *testing.F) {
	set, err := Compile([]NamedFile{{Name: "t.toml", File: mustDecode(f, `language = "en"
[intents.timer_start]
sentences = ["set a [{name}] timer for {minutes} minute[s]", "(start|begin) a {minutes} minute timer"]
[intents.calc]
sentences = ["what is {expression}"]
[lists.minutes]
range = { from = 1, to = 600 }
[lists.name]
wildcard = true
[lists.expression]
wildcard = true
`)}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"set a tea timer for five minutes", "what is 2 + 2", strings.Repeat("timer ", 500), "\x00\xff\xfe", "五分钟"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sentence string) {
		if r := set.Match("en", sentence); r.Best != nil {
			for k, v := range r.Best.Slots {
				if s, ok := v.(string); ok && !utf8.ValidString(s) && utf8.ValidString(sentence) {
					t.Fatalf("slot %s = %q is not valid UTF-8", k, s)
				}
			}
		}
	})
}

func mustDecode(f *testing.F, s string) File {
	fl, err := Decode("t.toml", []byte(s))
	if err != nil {
		f.Fatal(err)
	}
	return fl
}
