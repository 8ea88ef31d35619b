package app

import (
	"context"
	"unicode"

	"hark/internal/turnlang"
)

// The language of a turn: what whisper detected when the assistant listens for any language
// ("auto"), or what a typed question is written in. It reaches the engines through the
// context of Chat.Send and Speaker.Speak (LanguageOf), so the reply is written, and spoken, in
// the language of the question.

// WithLanguage returns ctx carrying a turn's language (whisper's code, e.g. "zh"). The key
// is the action layer's too (action.WithLanguage): one value for both.
func WithLanguage(ctx context.Context, lang string) context.Context {
	return turnlang.With(ctx, lang)
}

// LanguageOf returns the language of the turn ctx belongs to, "" when unknown.
func LanguageOf(ctx context.Context) string { return turnlang.Of(ctx) }

// languageNames are the names the language model is told to answer in.
var languageNames = map[string]string{
	"en": "English", "zh": "Simplified Chinese", "yue": "Cantonese", "ja": "Japanese", "ko": "Korean",
	"de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
	"nl": "Dutch", "pl": "Polish", "ru": "Russian", "uk": "Ukrainian", "sv": "Swedish",
	"tr": "Turkish", "ar": "Arabic", "hi": "Hindi", "vi": "Vietnamese", "th": "Thai", "id": "Indonesian",
}

// ReplyInstruction is the instruction that makes the language model answer in lang, "" for
// a language it has no name for.
func ReplyInstruction(lang string) string {
	name, ok := languageNames[lang]
	if !ok {
		return ""
	}
	s := "Always answer in " + name + "."
	if lang == "zh" {
		s += " 请用简体中文回答。"
	}
	return s
}

// typedLanguage guesses the language of typed text from its script: Chinese characters (with
// no kana) are Chinese, kana Japanese, Hangul Korean; anything else is unknown ("").
func typedLanguage(text string) string {
	var han, kana, hangul int
	for _, r := range text {
		switch {
		case unicode.In(r, unicode.Hiragana, unicode.Katakana):
			kana++
		case unicode.Is(unicode.Hangul, r):
			hangul++
		case unicode.Is(unicode.Han, r):
			han++
		}
	}
	switch {
	case kana > 0:
		return "ja"
	case hangul > 0:
		return "ko"
	case han > 0:
		return "zh"
	}
	return ""
}

// turnQuestion is what the language model is sent for a question in lang: when the assistant
// listens for any language, the question with the instruction to answer in its language (the
// system prompt names no language then).
func (a *Assistant) turnQuestion(question, lang string) string {
	if a.cfg.Language != "auto" || lang == "" {
		return question
	}
	if in := ReplyInstruction(lang); in != "" {
		return question + "\n\n(" + in + ")"
	}
	return question
}
