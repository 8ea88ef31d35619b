package app

import (
	"strings"
	"unicode"
)

// MatchWake reports whether transcript begins with (something close to) phrase, and returns
// what follows it. Recognisers mishear short phrases ("hey hark" → "Hey, Hark!", "hey hart",
// "a hark", "hay ark"), so words are compared without case or punctuation, by edit distance
// over their letters, and the phrase may start after one filler word ("okay, hey hark").
// similarity is the least 1 - distance/length that matches (0.7 is a good start).
func MatchWake(transcript, phrase string, similarity float64) (ok bool, rest string) {
	want := strings.Join(normWords(phrase), "")
	if want == "" {
		return true, strings.TrimSpace(transcript)
	}
	fields := strings.Fields(transcript)
	// words[i] is the normalised fields[idx[i]]; fields of punctuation alone are skipped.
	var words []string
	var idx []int
	for i, f := range fields {
		if w := strings.Join(normWords(f), ""); w != "" {
			words = append(words, w)
			idx = append(idx, i)
		}
	}
	n := len(normWords(phrase))
	best, bestEnd := -1.0, 0
	for start := 0; start <= 1 && start < len(words); start++ {
		for k := max(1, n-1); k <= n+1 && start+k <= len(words); k++ {
			got := strings.Join(words[start:start+k], "")
			if s := similar(got, want); s > best {
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
	rest = strings.Join(fields[idx[bestEnd]:], " ")
	return true, strings.TrimLeftFunc(rest, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
}

// normWords lowercases s and splits it into words of letters and digits.
func normWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// similar is 1 - (edit distance)/(longer length), in [0, 1].
func similar(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	longer := max(len(ra), len(rb))
	if longer == 0 {
		return 1
	}
	return 1 - float64(editDistance(ra, rb))/float64(longer)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
