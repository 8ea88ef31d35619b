package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/app"
	"hark/app/config"
)

// testSetup loads a setup from a configuration file with the given content (and flags), with
// an empty models folder.
func testSetup(t *testing.T, file string, flags ...config.Override) *setup {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	flags = append([]config.Override{{Key: "models.dir", Value: filepath.Join(dir, "models"), Flag: "--models-dir"}}, flags...)
	s, err := newSetup(config.Options{Path: path, Env: []string{}, Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	if s.problems != nil {
		t.Fatal(s.problems)
	}
	return s
}

func TestSettingsFromTheConfiguration(t *testing.T) {
	tests := []struct {
		name            string
		file            string
		handsFree, talk bool
	}{
		{"desktop defaults", "", false, true},
		{"desktop hands-free", "[assistant]\nhands_free = true\n[speech]\nenabled = false\n", true, false},
		{"kiosk listens by default", "[assistant]\nmode = \"kiosk\"\n", true, true},
		{"kiosk told not to", "[assistant]\nmode = \"kiosk\"\nhands_free = false\n", false, true},
		{"the car always listens and speaks", "[assistant]\nmode = \"car\"\nhands_free = false\n[speech]\nenabled = false\n", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSetup(t, tt.file)
			got := s.settings()
			if got.HandsFree != tt.handsFree || got.Speak != tt.talk {
				t.Errorf("hands-free %v speak %v, want %v %v", got.HandsFree, got.Speak, tt.handsFree, tt.talk)
			}
			c := s.assistantConfig()
			if c.HandsFree != tt.handsFree || c.Speak != tt.talk {
				t.Errorf("assistant config hands-free %v speak %v, want %v %v", c.HandsFree, c.Speak, tt.handsFree, tt.talk)
			}
		})
	}
	k := testSetup(t, "[assistant]\nmode = \"kiosk\"\n[kiosk]\nidle_wipe = \"45s\"\n").assistantConfig()
	if k.IdleWipe != 45*time.Second || !k.WipeHistory {
		t.Errorf("kiosk config = %+v", k)
	}
}

func TestSavingSettingsKeepsTheFileAndTheFlags(t *testing.T) {
	file := "# my settings\n[assistant]\nwake_phrase = \"computer\" # short\n"
	s := testSetup(t, file, config.Override{Key: "models.llm", Value: "/from/flag.gguf", Flag: "--llm-model"})
	var applied []*setup
	store := &configStore{cur: s, apply: func(old, new *setup) { applied = append(applied, old, new) }}
	old := s.settings()
	n := old
	n.ASRModel, n.TextSize = "/picked.bin", "large" // what the person changed in the dialog
	if err := store.save(old, n); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(s.cfg.Path())
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{"# my settings", `wake_phrase = "computer" # short`, `asr = "/picked.bin"`, `text_size = "large"`} {
		if !strings.Contains(got, want) {
			t.Errorf("config file lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "flag.gguf") {
		t.Errorf("the --llm-model flag was saved:\n%s", got)
	}
	if len(applied) != 2 || applied[1].cfg.Models.ASR != "/picked.bin" || applied[1].cfg.Models.LLM != "/from/flag.gguf" {
		t.Errorf("applied %v", applied)
	}
	if l := changedLoaders(applied[0], applied[1]); l.Transcriber == nil || l.Brain != nil {
		t.Errorf("changed loaders: asr %v llm %v, want only asr", l.Transcriber != nil, l.Brain != nil)
	}
}

func TestChangedLoaders(t *testing.T) {
	old := testSetup(t, "")
	tests := []struct {
		name                 string
		edit                 func(*config.Config)
		asr, llm, vad, micro bool
	}{
		{"nothing", func(*config.Config) {}, false, false, false, false},
		{"wake phrase only", func(c *config.Config) { c.Assistant.WakePhrase = "hey" }, false, false, false, false},
		{"speech model", func(c *config.Config) { c.Models.ASR = "/x.bin" }, true, false, false, false},
		{"language", func(c *config.Config) { c.Assistant.Language = "de" }, true, false, false, false},
		{"language model", func(c *config.Config) { c.Models.LLM = "/x.gguf" }, false, true, false, false},
		{"trailing silence", func(c *config.Config) { c.Audio.TrailingSilence = time.Second }, false, false, true, false},
		{"microphone", func(c *config.Config) { c.Audio.InputDevice = "USB" }, false, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := *old
			n.cfg = old.cfg.Clone()
			tt.edit(n.cfg)
			l := changedLoaders(old, &n)
			if (l.Transcriber != nil) != tt.asr || (l.Brain != nil) != tt.llm || (l.Segmenter != nil) != tt.vad || (l.Microphone != nil) != tt.micro {
				t.Errorf("changedLoaders: asr %v llm %v vad %v mic %v; want %v %v %v %v", l.Transcriber != nil, l.Brain != nil,
					l.Segmenter != nil, l.Microphone != nil, tt.asr, tt.llm, tt.vad, tt.micro)
			}
		})
	}
}

func TestBrokenModelFilesKeepTheAssistantUsable(t *testing.T) {
	junk := filepath.Join(t.TempDir(), "junk.gguf")
	if err := os.WriteFile(junk, []byte("this is not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := testSetup(t, "", config.Override{Key: "models.llm", Value: junk, Flag: "--llm-model"},
		config.Override{Key: "models.asr", Value: junk, Flag: "--asr-model"})
	if _, err := s.loadBrain()(context.Background(), nil); err == nil || app.Hint(err) == "" {
		t.Errorf("loading a junk GGUF: %v (hint %q), want an explained error", err, app.Hint(err))
	}
	if _, err := s.loadTranscriber()(context.Background(), nil); err == nil || app.Hint(err) == "" {
		t.Errorf("loading a junk whisper model: %v (hint %q), want an explained error", err, app.Hint(err))
	}
}
