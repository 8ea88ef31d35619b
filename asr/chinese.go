package asr

import (
	"strings"
	"sync"

	"github.com/longbridgeapp/opencc"
)

// simplifiedPrompt starts whisper off in Simplified Chinese with Chinese punctuation: whisper
// writes the script and punctuation its context uses, and without one often picks Traditional
// characters and English commas.
const simplifiedPrompt = "以下是普通话的句子，使用简体中文。"

// initialPrompt is the prompt a call uses: the caller's, or for Chinese the Simplified one.
func initialPrompt(o Options, multilingual bool) string {
	if o.InitialPrompt != "" || !multilingual || o.TraditionalChinese {
		return o.InitialPrompt
	}
	if l := strings.ToLower(strings.TrimSpace(o.Language)); l == "zh" || l == "chinese" {
		return simplifiedPrompt
	}
	return ""
}

var t2s struct {
	once sync.Once
	cc   *opencc.OpenCC
}

// simplify converts text transcribed in lang from Traditional to Simplified Chinese (OpenCC's
// t2s tables) unless keep is set; other languages pass through.
func simplify(text, lang string, keep bool) string {
	if keep || lang != "zh" || !hasHan(text) {
		return text
	}
	t2s.once.Do(func() { t2s.cc, _ = opencc.New("t2s") })
	if t2s.cc == nil {
		return text // the tables are compiled in: this does not happen
	}
	if s, err := t2s.cc.Convert(text); err == nil {
		return s
	}
	return text
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x3400 && r <= 0x9FFF || r >= 0xF900 && r <= 0xFAFF || r >= 0x20000 && r <= 0x2FA1F {
			return true
		}
	}
	return false
}
