package ui

import (
	"embed"
	"os"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
)

// translations holds the window's strings in every language it ships: en.json and zh.json
// (Simplified Chinese), keyed by the English text that lang.L is given.
//
//go:embed translations
var translations embed.FS

// loadTranslations hands the translations to Fyne once, when the first window is built (New)
// or the language is set, not at package initialisation: every Hark process links ui, and
// `hark ask` or `hark transcribe` never needs the third of a megabyte it costs.
var loadTranslations = sync.OnceFunc(func() {
	if err := lang.AddTranslationsFS(translations, "translations"); err != nil {
		fyne.LogError("ui: loading the translations", err)
	}
})

// UILanguages are the choices of the interface language setting (config ui.language):
// "system" follows the system locale.
var UILanguages = []string{"system", "en", "zh"}

// languageNames are the setting's choices as people read them, each in its own language.
var languageNames = map[string]string{"system": "System", "en": "English", "zh": "简体中文"}

// SetLanguage makes the window's strings follow code: "en", "zh", or "system" (or "") for the
// system locale, which is systemLanguage (the LANGUAGE the process started with; "" = none).
// Fyne reads the locale from the environment only, so this sets LANGUAGE and has Fyne look
// again. Windows built before the call keep their strings until they are rebuilt.
func SetLanguage(code, systemLanguage string) {
	tag := code
	if code == "" || code == "system" {
		tag = systemLanguage
	}
	if tag == "" {
		_ = os.Unsetenv("LANGUAGE")
	} else {
		_ = os.Setenv("LANGUAGE", tag)
		// gettext (and Fyne) ignore LANGUAGE under the plain C locale: name the messages'
		// locale too, unless LC_ALL (which wins over both) is set.
		if msg := messagesLocale(); msg == "" || msg == "C" || msg == "POSIX" {
			if os.Getenv("LC_ALL") == "" {
				_ = os.Setenv("LC_MESSAGES", strings.ReplaceAll(tag, "-", "_")+".UTF-8")
			}
		}
	}
	// Adding the translations again is how Fyne's lang re-reads the locale.
	if err := lang.AddTranslationsFS(translations, "translations"); err != nil {
		fyne.LogError("ui: loading the translations", err)
	}
}

func messagesLocale() string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}
