//go:build !nowindow

package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"hark/app"
	"hark/app/config"
	"hark/models"
	"hark/ui"
)

// The window's side of the wiring: what only the Fyne window needs (the settings dialog's
// values, saving them, the first run's downloads). The nowindow build (gui_nowindow.go) leaves
// it out with the whole ui package.

// uiMode is assistant.mode as the window's type.
func (s *setup) uiMode() ui.Mode { return ui.Mode(s.mode()) }

// settings is what the settings dialog shows.
func (s *setup) settings() ui.Settings {
	c := s.cfg
	return ui.Settings{
		Mode:            s.uiMode(),
		Microphone:      c.Audio.InputDevice,
		ASRModel:        c.Models.ASR,
		LLMModel:        c.Models.LLM,
		VADModel:        c.Models.VAD,
		Language:        c.Assistant.Language,
		HandsFree:       s.handsFree(),
		WakePhrase:      c.Assistant.WakePhrase,
		TrailingSilence: c.Audio.TrailingSilence,
		SystemPrompt:    c.Assistant.SystemPrompt,
		TextSize:        c.UI.TextSize,
		Theme:           c.UI.Theme,
		UILanguage:      c.UI.Language,
		Speak:           s.speak(),
		IdleWipe:        c.Kiosk.IdleWipe,
		AdminChord:      c.Kiosk.AdminChord,
	}
}

// with returns the setup with the dialog's settings n applied, and the configuration keys the
// person changed (compared with the settings they were shown, old).
func (s *setup) with(old, n ui.Settings) (*setup, []string) {
	next := *s
	next.cfg = s.cfg.Clone()
	c := next.cfg
	var keys []string
	set := func(changed bool, key string, apply func()) {
		if changed {
			apply()
			keys = append(keys, key)
		}
	}
	set(old.Mode != n.Mode, "assistant.mode", func() { c.Assistant.Mode = string(n.Mode) })
	set(old.Microphone != n.Microphone, "audio.input_device", func() { c.Audio.InputDevice = n.Microphone })
	set(old.ASRModel != n.ASRModel, "models.asr", func() { c.Models.ASR = n.ASRModel })
	set(old.LLMModel != n.LLMModel, "models.llm", func() { c.Models.LLM = n.LLMModel })
	set(old.VADModel != n.VADModel, "models.vad", func() { c.Models.VAD = n.VADModel })
	set(old.Language != n.Language, "assistant.language", func() { c.Assistant.Language = n.Language })
	set(old.HandsFree != n.HandsFree, "assistant.hands_free", func() { c.Assistant.HandsFree = n.HandsFree })
	set(old.WakePhrase != n.WakePhrase, "assistant.wake_phrase", func() { c.Assistant.WakePhrase = n.WakePhrase })
	set(old.TrailingSilence != n.TrailingSilence, "audio.trailing_silence", func() { c.Audio.TrailingSilence = n.TrailingSilence })
	set(old.SystemPrompt != n.SystemPrompt, "assistant.system_prompt", func() { c.Assistant.SystemPrompt = n.SystemPrompt })
	set(old.TextSize != n.TextSize, "ui.text_size", func() { c.UI.TextSize = n.TextSize })
	set(old.Theme != n.Theme, "ui.theme", func() { c.UI.Theme = n.Theme })
	set(old.UILanguage != n.UILanguage, "ui.language", func() { c.UI.Language = n.UILanguage })
	set(old.Speak != n.Speak, "speech.enabled", func() { c.Speech.Enabled = n.Speak })
	set(old.IdleWipe != n.IdleWipe, "kiosk.idle_wipe", func() { c.Kiosk.IdleWipe = n.IdleWipe })
	return &next, keys
}

// configStore saves the settings dialog's changes into the configuration file (only the keys
// the person changed: comments, other keys and one-off flags are left alone) and applies them.
type configStore struct {
	mu    sync.Mutex
	cur   *setup
	apply func(old, new *setup)
}

func (c *configStore) save(old, n ui.Settings) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	next, keys := c.cur.with(old, n)
	if len(keys) == 0 {
		return nil
	}
	if err := config.Save(next.cfg.Path(), next.cfg, keys...); err != nil {
		return err
	}
	prev := c.cur
	c.cur = next
	if c.apply != nil {
		c.apply(prev, next)
	}
	return nil
}

// firstRun implements ui.ModelSetup on the model store: the speech and language models the
// configuration selects that are not downloaded yet. (A missing voice detector is not listed:
// Hark falls back to energy detection.)
type firstRun struct {
	s      *setup
	loaded func(app.Loaders) // hands the fetched engines to the assistant
}

func (f firstRun) selections() []models.Selection {
	c := f.s.cfg
	sels := f.s.store.Select(f.s.manifest, c.DeviceClass(), c.Assistant.Language, map[models.Kind]string{
		models.ASR: c.Models.ASR, models.LLM: c.Models.LLM, models.VAD: c.Models.VAD})
	var out []models.Selection
	for _, sel := range sels {
		if sel.Kind != models.VAD && sel.Err != nil {
			out = append(out, sel)
		}
	}
	return out
}

func (f firstRun) Missing() []ui.MissingModel {
	var out []ui.MissingModel
	for _, sel := range f.selections() {
		m := ui.MissingModel{What: app.ComponentLLM.Title(), Name: sel.Ref, Problem: "not downloaded yet"}
		if sel.Kind == models.ASR {
			m.What = app.ComponentASR.Title()
		}
		if sel.Entry != nil && errors.Is(sel.Err, models.ErrNotInstalled) {
			m.Size, m.CanDownload = sel.Entry.Size, true
		} else {
			m.Problem = app.Message(sel.Err)
		}
		out = append(out, m)
	}
	return out
}

// Download pulls each missing model (resuming a partial download, checking its checksum), then
// loads the engines.
func (f firstRun) Download(ctx context.Context, progress func(ui.DownloadProgress)) error {
	var l app.Loaders
	for _, sel := range f.selections() {
		if sel.Entry == nil || !errors.Is(sel.Err, models.ErrNotInstalled) {
			continue
		}
		_, err := f.s.store.Pull(ctx, *sel.Entry, models.PullOptions{Mirror: f.s.cfg.Models.Mirror, Progress: func(p models.Progress) {
			eta := p.ETA
			if eta < 0 {
				eta = 0
			}
			var note string
			if p.Attempt > 0 && p.Err != nil {
				note = fmt.Sprintf("reconnecting (attempt %d): %v", p.Attempt, p.Err)
			}
			progress(ui.DownloadProgress{Name: sel.Entry.Name, Done: p.Done, Total: p.Total, BytesPerSec: p.Speed, ETA: eta, Note: note})
		}})
		if err != nil {
			return err
		}
		if sel.Kind == models.ASR {
			l.Transcriber = f.s.loadTranscriber()
		} else {
			l.Brain = f.s.loadBrain()
		}
	}
	if f.loaded != nil {
		f.loaded(l)
	}
	return nil
}
