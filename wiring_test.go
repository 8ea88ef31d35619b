package main

import (
	"context"
	"os"
	"path/filepath"
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
