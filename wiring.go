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

// The wiring_*.go files adapt the concrete engines to the interfaces package app declares; they
// are the only place that knows both sides. This one turns the configuration (setup.go) into
// the assistant's settings and engine loaders, saves the settings dialog's changes and
// downloads missing models on the first run. By area: wiring_asr.go (speech recognition),
// wiring_llm.go (the language model), wiring_audio.go (microphone, voice detection),
// wiring_speech.go (speech output), wiring_history.go (history, timing log).

func (s *setup) mode() ui.Mode { return ui.Mode(s.cfg.Assistant.Mode) }

// handsFree: the car always is; a kiosk is unless the configuration says otherwise.
func (s *setup) handsFree() bool {
	switch s.mode() {
	case ui.ModeCar:
		return true
	case ui.ModeKiosk:
		if s.cfg.Origin("assistant.hands_free").Source == config.FromDefault {
			return true
		}
	}
	return s.cfg.Assistant.HandsFree
}

// speak: the car always speaks.
func (s *setup) speak() bool { return s.mode() == ui.ModeCar || s.cfg.Speech.Enabled }

// settings is what the settings dialog shows.
func (s *setup) settings() ui.Settings {
	c := s.cfg
	return ui.Settings{
		Mode:            s.mode(),
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

// assistantConfig is the assistant's configuration.
func (s *setup) assistantConfig() app.Config {
	c := app.DefaultConfig()
	c.HandsFree = s.handsFree()
	c.WakePhrase = s.cfg.Assistant.WakePhrase
	c.FollowUp = s.cfg.Assistant.FollowUp
	if c.FollowUp == 0 {
		c.FollowUp = -1 // "0s: never"
	}
	if p := s.cfg.Assistant.SystemPrompt; p != "" {
		c.SystemPrompt = p
	}
	// A fixed language other than English is part of the system prompt; with auto each
	// question carries its own (app.ReplyInstruction).
	c.Language = s.cfg.Assistant.Language
	if l := c.Language; l != "auto" && l != "en" && app.ReplyInstruction(l) != "" {
		c.SystemPrompt += " " + app.ReplyInstruction(l)
	}
	c.Speak = s.speak()
	c.PreRoll = s.cfg.Audio.PreRoll
	if c.PreRoll == 0 {
		c.PreRoll = -1 // "0s": none (app.Config reads 0 as its default)
	}
	c.MaxUtterance = s.cfg.Audio.MaxUtterance
	c.ConfirmTimeout = s.cfg.Actions.ConfirmTimeout
	if s.mode() == ui.ModeKiosk {
		c.IdleWipe, c.WipeHistory = s.cfg.Kiosk.IdleWipe, true
	}
	return c
}

// loaders returns the loaders of every engine.
func (s *setup) loaders() app.Loaders {
	return app.Loaders{
		Transcriber: s.loadTranscriber(),
		Brain:       s.loadBrain(),
		Segmenter:   s.loadSegmenter(),
		Microphone:  s.withEcho(openMicrophone(s.cfg.Audio.InputDevice, s.capturePeriodMs())),
		Speaker:     s.loadSpeaker(),
	}
}

// changedLoaders returns the loaders of the engines whose configuration differs.
func changedLoaders(old, new *setup) app.Loaders {
	all := new.loaders()
	o, n := old.cfg, new.cfg
	var l app.Loaders
	if o.Models.ASR != n.Models.ASR || o.Assistant.Language != n.Assistant.Language || o.Assistant.Chinese != n.Assistant.Chinese {
		l.Transcriber = all.Transcriber
	}
	if o.Models.LLM != n.Models.LLM || o.LLM != n.LLM {
		l.Brain = all.Brain
	}
	if o.Models.VAD != n.Models.VAD || o.Audio.TrailingSilence != n.Audio.TrailingSilence {
		l.Segmenter = all.Segmenter
	}
	if o.Audio.InputDevice != n.Audio.InputDevice || old.handsFree() != new.handsFree() || old.speak() != new.speak() {
		l.Microphone = all.Microphone
	}
	if o.Speech != n.Speech || o.Audio.OutputDevice != n.Audio.OutputDevice || o.Assistant.Language != n.Assistant.Language {
		l.Speaker = all.Speaker
	}
	return l
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
