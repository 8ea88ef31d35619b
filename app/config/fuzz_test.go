package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad loads arbitrary bytes as the configuration file: Load must never panic, must always
// return a usable Config, and must report what is wrong as an *Error listing problems (the
// form `hark config check` and the window show).
func FuzzLoad(f *testing.F) {
	f.Add([]byte(Reference()))
	for _, s := range []string{
		"[assistant]\nmode = \"kiosk\"\nmax_tokens = 300\n",
		"[audio]\ninput_device = \"USB\"\n[kiosk]\nadmin_chord = \"ctrl+alt+shift+a\"\n",
		"models.asr = \"base.en\"\n[ui]\ntheme = 'dark'\n",
		"[assistant]\nsystem_prompt = \"\"\"\nmulti\nline\"\"\"\n",
		"[[x]]\na = [1, 2, {b = 3}]\n",
		"[assistant\nmode=",
	} {
		f.Add([]byte(s))
	}
	p := filepath.Join(f.TempDir(), "config.toml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(Options{Path: p})
		if c == nil {
			t.Fatalf("no Config (error %v)", err)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || len(e.Problems) == 0 {
				t.Fatalf("%T %v is not an *Error with problems", err, err)
			}
		}
	})
}
