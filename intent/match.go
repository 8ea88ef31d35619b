package intent

import (
	"sort"
	"strings"
)

// Match is a sentence recognised as an intent.
type Match struct {
	Intent   string
	Language string
	Template string         // the sentence template that matched
	Slots    map[string]any // slot → value: a list's out value, an int or float from a range, text from a wildcard
	Text     string         // the normalized sentence
	score    int
	wild     int
}

// Result is what Match found: at most one Best match, or several equally good matches for
// different intents (Ambiguous), or nothing.
type Result struct {
	Best      *Match
	Ambiguous []Match // set when two or more intents fit equally well: ask which
}

// Match compares sentence with the templates of lang ("" or "auto": every language) and
// returns the most specific match: the one whose literal text covers most of the sentence,
// wildcards least.
func (s *Set) Match(lang, sentence string) Result {
	var langs []string
	if lang == "" || lang == "auto" || s.byLang[lang] == nil {
		langs = s.Languages()
	} else {
		langs = []string{lang}
	}
	return s.match(langs, sentence)
}

func (s *Set) match(langs []string, sentence string) Result {
	var found []Match
	for _, l := range langs {
		text := Normalize(l, sentence)
		if unspaced[l] {
			// Spaces mean nothing here: Normalize sets numbers apart, a recogniser puts spaces
			// anywhere. Only Latin words and numbers side by side keep theirs ("iphone 15", "7 30").
			text = joinUnspaced(text)
		}
		if text == "" {
			continue
		}
		for _, t := range s.byLang[l] {
			if m, ok := t.match(s, text); ok {
				found = append(found, m)
			}
		}
	}
	if len(found) == 0 {
		return Result{}
	}
	sort.SliceStable(found, func(i, j int) bool {
		a, b := found[i], found[j]
		if a.wild != b.wild {
			return a.wild < b.wild
		}
		return a.score > b.score
	})
	best := found[0]
	var amb []Match
	seen := map[string]bool{best.Intent: true}
	for _, m := range found[1:] {
		if m.wild == best.wild && m.score == best.score && !seen[m.Intent] {
			if amb == nil {
				amb = []Match{best}
			}
			amb = append(amb, m)
			seen[m.Intent] = true
		}
	}
	if amb != nil {
		return Result{Ambiguous: amb}
	}
	return Result{Best: &best}
}

func (t *template) match(s *Set, text string) (Match, bool) {
	idx := t.re.FindStringSubmatchIndex(text)
	if idx == nil {
		return Match{}, false
	}
	m := Match{Intent: t.intent, Language: t.lang, Template: t.source, Text: text, Slots: map[string]any{}}
	for k, v := range t.fixed {
		m.Slots[k] = v
	}
	for i, ref := range t.slots {
		g := 2 * (i + 1)
		if idx[g] < 0 {
			continue // an optional part that was not said
		}
		raw := text[idx[g]:idx[g+1]]
		var v any
		var ok bool
		if ref.list.dynamic {
			if r := s.resolver(ref.list.name); r != nil {
				v, ok = r(t.lang, strings.TrimSpace(raw))
			}
		} else {
			v, ok = ref.list.slotValue(raw)
		}
		if !ok {
			return Match{}, false
		}
		if ref.list.wildcard {
			m.wild += len([]rune(strings.ReplaceAll(raw, " ", "")))
		}
		m.Slots[ref.slot] = v
	}
	m.score = t.literal
	return m, true
}
