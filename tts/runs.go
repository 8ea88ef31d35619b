package tts

import (
	"strings"
	"unicode"
)

// voiceRun is a stretch of text and the voice that reads it.
type voiceRun struct {
	text  string
	voice Voice
}

// englishVoice reads the Latin words inside Chinese text ("我用 iPhone 打电话"): espeak-ng's
// Mandarin voice would read them as pinyin.
const englishVoice = "en-us"

// voiceRuns splits text for a Chinese voice into runs of Chinese (and everything else) and
// runs of Latin words, each read by a voice that knows it. Other voices read all of text.
func voiceRuns(text string, v Voice) []voiceRun {
	if !isChinese(v.Language) || !hasLatinWord(text) {
		return []voiceRun{{text: text, voice: v}}
	}
	en := Voice{Name: englishVoice, Language: "en", Rate: v.Rate, Pitch: v.Pitch}
	var runs []voiceRun
	add := func(s string, latin bool) {
		if strings.TrimSpace(s) == "" {
			return
		}
		r := voiceRun{text: s, voice: v}
		if latin {
			r.voice = en
		}
		if n := len(runs); n > 0 && runs[n-1].voice == r.voice {
			runs[n-1].text += s
			return
		}
		runs = append(runs, r)
	}
	start, latin := 0, false
	for i, r := range text {
		// Spaces, digits and ASCII punctuation go with the run they are in.
		isLatin := r < unicode.MaxASCII && unicode.IsLetter(r) || (latin && r < unicode.MaxASCII && !unicode.IsLetter(r))
		if r >= unicode.MaxASCII && unicode.IsLetter(r) && unicode.Is(unicode.Latin, r) {
			isLatin = true // é, ü
		}
		if isLatin != latin {
			add(text[start:i], latin)
			start, latin = i, isLatin
		}
	}
	add(text[start:], latin)
	if len(runs) == 0 {
		return []voiceRun{{text: text, voice: v}}
	}
	return runs
}

func hasLatinWord(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Latin, r) {
			return true
		}
	}
	return false
}
