package app

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mozillazg/go-pinyin"

	"hark/internal/textdist"
)

// MatchWake reports whether transcript begins with (something close to) phrase, and returns
// what follows it. Recognisers mishear short phrases ("hey hark" → "Hey, Hark!", "hey hart",
// "a hark", "hay ark"), so words are compared without case or punctuation, by edit distance
// over their letters, and the phrase may start after one filler word ("okay, hey hark").
// Chinese is written without spaces and recognisers pick any of several characters for one
// sound (哈克, 哈客), so each Han character is a word of its own, compared by its toneless
// pinyin: "你好哈克，今天天气怎么样" matches 你好哈客 and leaves "今天天气怎么样".
// similarity is the least 1 - distance/length that matches (0.7 is a good start).
func MatchWake(transcript, phrase string, similarity float64) (ok bool, rest string) {
	phraseWords := wakeWords(phrase)
	var want strings.Builder
	for _, w := range phraseWords {
		want.WriteString(w.norm)
	}
	if want.Len() == 0 {
		return true, strings.TrimSpace(transcript)
	}
	words := wakeWords(transcript)
	n := len(phraseWords)
	best, bestEnd := -1.0, 0
	for start := 0; start <= 1 && start < len(words); start++ {
		for k := max(1, n-1); k <= n+1 && start+k <= len(words); k++ {
			var got strings.Builder
			for _, w := range words[start : start+k] {
				got.WriteString(w.norm)
			}
			if s := similar(got.String(), want.String()); s > best {
				best, bestEnd = s, start+k
			}
		}
	}
	if best < similarity {
		return false, ""
	}
	if bestEnd >= len(words) {
		return true, ""
	}
	rest = strings.Join(strings.Fields(transcript[words[bestEnd-1].end:]), " ")
	return true, strings.TrimLeftFunc(rest, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
}

// wakeWord is a word of a transcript as MatchWake compares it: norm is its lowercased letters
// and digits (a Han character's toneless pinyin), end the byte offset just past it.
type wakeWord struct {
	norm string
	end  int
}

var pinyinArgs = pinyin.NewArgs() // toneless, first reading

// wakeWords splits s into words: runs of letters and digits, and each Han character alone.
func wakeWords(s string) []wakeWord {
	var words []wakeWord
	var cur strings.Builder
	flush := func(end int) {
		if cur.Len() > 0 {
			words = append(words, wakeWord{norm: cur.String(), end: end})
			cur.Reset()
		}
	}
	for i, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			flush(i)
			norm := string(unicode.ToLower(r))
			if p := pinyin.SinglePinyin(r, pinyinArgs); len(p) > 0 && p[0] != "" {
				norm = p[0]
			}
			words = append(words, wakeWord{norm: norm, end: i + utf8.RuneLen(r)})
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur.WriteRune(unicode.ToLower(r))
		default:
			flush(i)
		}
	}
	flush(len(s))
	return words
}

// similar is 1 - (edit distance)/(longer length), in [0, 1].
func similar(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	longer := max(len(ra), len(rb))
	if longer == 0 {
		return 1
	}
	return 1 - float64(textdist.Levenshtein(ra, rb))/float64(longer)
}
