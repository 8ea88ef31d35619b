package tts

import "strings"

// languageVoices maps a language (whisper's codes, which Hark's settings use) to the espeak-ng
// voice that reads it best, chosen by name. Most languages are found by espeak-ng's own language
// match; these are the ones where that match picks a poor voice. espeak-ng's "cmn" (what "zh"
// matches) reads Chinese characters as tone numbers in English; "cmn-latn-pinyin" reads them.
var languageVoices = map[string]string{
	"zh":      "cmn-latn-pinyin",
	"zh-cn":   "cmn-latn-pinyin",
	"zh-tw":   "cmn-latn-pinyin",
	"zh-hans": "cmn-latn-pinyin",
	"zh-hant": "cmn-latn-pinyin",
	"yue":     "yue",
	"zh-yue":  "yue",
	"zh-hk":   "yue",
	"ja":      "ja",
	"ko":      "ko",
	"en":      "en-us",
	"jw":      "jv", // whisper's code for Javanese
}

// VoiceForLanguage returns the voice name for a language code, or "" when espeak-ng's own
// match by language is good enough.
func VoiceForLanguage(lang string) string {
	return languageVoices[strings.ToLower(strings.ReplaceAll(lang, "_", "-"))]
}

// ResolveVoice turns a voice given as a language ("zh", as `hark say --voice zh` or a
// configuration may say) into the voice to speak it with, and fills Language from the voice
// when it is empty, so that the text clean-up follows the voice.
func ResolveVoice(v Voice) Voice {
	if name := VoiceForLanguage(v.Name); name != "" {
		if v.Language == "" {
			v.Language = v.Name
		}
		v.Name = name
	}
	if v.Name == "" && v.Language != "" {
		v.Name = VoiceForLanguage(v.Language)
	}
	if v.Language == "" {
		v.Language = voiceLanguage(v.Name)
	}
	return v
}

// voiceLanguage guesses the language of a voice name ("cmn-latn-pinyin+f3" → "zh").
func voiceLanguage(name string) string {
	base := strings.ToLower(name)
	if i := strings.IndexByte(base, '+'); i >= 0 {
		base = base[:i]
	}
	switch {
	case base == "":
		return ""
	case strings.HasPrefix(base, "cmn") || base == "zh" || strings.HasPrefix(base, "zh-"):
		return "zh"
	case strings.HasPrefix(base, "yue"):
		return "yue"
	}
	return ""
}

// isChinese reports whether lang is a Chinese language (Mandarin or Cantonese), whose text gets
// Chinese clean-up and is cut without spaces.
func isChinese(lang string) bool {
	l := strings.ToLower(lang)
	return l == "zh" || l == "yue" || l == "cmn" || strings.HasPrefix(l, "zh-") || strings.HasPrefix(l, "zh_")
}
