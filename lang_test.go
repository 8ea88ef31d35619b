package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/internal/testmodels"
)

// Tests of Hark in Chinese (and of the locale) that need no display: the voice, and start-up
// under the locales Debian ships by default.

// TestSayChinese: `hark say --voice zh` reads Chinese characters as Mandarin syllables with
// tones (espeak-ng's pinyin phonemes: 你 n'i, 好 X'Au214), and speaks a reply with numbers.
func TestSayChinese(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	out := cliStep{args: []string{"say", "--voice", "zh", "--phonemes", "你好"}, wantOut: []string{"n'i", "X'Au214"}}.check(t)
	if strings.Contains(out, "(en)") {
		t.Errorf("hark say --voice zh --phonemes 你好 = %q: read in English", out)
	}
	// The language alone picks the same voice; numbers are written out in Chinese first.
	cliStep{args: []string{"say", "--lang", "zh", "--phonemes", "你好"}, wantOut: []string{"n'i", "X'Au214"}}.check(t)
	wav := filepath.Join(t.TempDir(), "zh.wav")
	cliStep{args: []string{"say", "--voice", "zh", "--out", wav, "你好，今天最高气温28°C，降水概率是25%。"}, wantOut: []string{"wrote"}}.check(t)
	if pcm := readWAVNative(t, wav); pcm.Duration() < 3*time.Second {
		t.Errorf("the Chinese sentence lasts %v; want over 3 s", pcm.Duration())
	}
}

// TestNoLocaleNoise: a fresh Debian machine runs with LANG=C.UTF-8 (or C, or nothing) and no
// LANGUAGE; hark must print nothing of Fyne's locale parsing to stderr.
func TestNoLocaleNoise(t *testing.T) {
	bin := harkBinary(t)
	for _, lang := range []string{"", "C", "C.UTF-8", "POSIX", "zh_CN.UTF-8"} {
		t.Run("LANG="+lang, func(t *testing.T) {
			cmd := exec.Command(bin, "version")
			var env []string
			for _, e := range os.Environ() {
				if !strings.HasPrefix(e, "LANG=") && !strings.HasPrefix(e, "LANGUAGE=") && !strings.HasPrefix(e, "LC_") {
					env = append(env, e)
				}
			}
			if lang != "" {
				env = append(env, "LANG="+lang)
			}
			cmd.Env = env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("hark version: %v\n%s", err, stderr.String())
			}
			if stderr.Len() != 0 {
				t.Errorf("hark version with LANG=%q printed to stderr:\n%s", lang, stderr.String())
			}
		})
	}
}

// TestTranscribeAuto: `hark transcribe --lang auto` on a multilingual model (random weights,
// whisper's 51,865-token vocabulary) reports the language it detected, one of the model's 99;
// yue, which only large-v3 knows, is refused with the model's own limit.
func TestTranscribeAuto(t *testing.T) {
	o := testmodels.TinyWhisper()
	o.Multilingual = true
	model := testmodels.Whisper(t, o)
	wav := testmodels.JFK(t)
	out := cliStep{args: []string{"transcribe", "--model", model, "--lang", "auto", "--no-guard", "--max-tokens", "4", "--json", wav}}.check(t)
	var res struct{ Language string }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Language == "" || res.Language == "auto" || res.Language == "yue" {
		t.Errorf("detected language %q", res.Language)
	}
	cliStep{args: []string{"transcribe", "--model", model, "--lang", "yue", wav}, wantCode: 1, wantErr: []string{"unknown language"}}.check(t)
}
