//go:build !nowindow

package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"hark/app/config"
)

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

// The first-run screen lists what is missing and can be downloaded.
func TestFirstRunListsMissingModels(t *testing.T) {
	missing := firstRun{s: testSetup(t, "")}.Missing()
	if len(missing) != 2 || !missing[0].CanDownload || missing[0].Size == 0 || missing[0].What != "Speech recognition" {
		t.Errorf("first-run list = %+v", missing)
	}
}
