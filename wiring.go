package main

import (
	"hark/app"
	"hark/app/config"
)

// The wiring_*.go files adapt the concrete engines to the interfaces package app declares; they
// are the only place that knows both sides. This one turns the configuration (setup.go) into
// the assistant's settings and engine loaders, saves the settings dialog's changes and
// downloads missing models on the first run. By area: wiring_asr.go (speech recognition),
// wiring_llm.go (the language model), wiring_audio.go (microphone, voice detection),
// wiring_speech.go (speech output), wiring_history.go (history, timing log).

// The values of assistant.mode (the window's ui.Mode has the same ones: wiring_window.go).
const (
	modeKiosk = "kiosk"
	modeCar   = "car"
)

// mode is assistant.mode. It is a string here, not ui.Mode, so that the commands without a
// window link no part of the window (gui_nowindow.go).
func (s *setup) mode() string { return s.cfg.Assistant.Mode }

// handsFree: the car always is; a kiosk is unless the configuration says otherwise.
func (s *setup) handsFree() bool {
	switch s.mode() {
	case modeCar:
		return true
	case modeKiosk:
		if s.cfg.Origin("assistant.hands_free").Source == config.FromDefault {
			return true
		}
	}
	return s.cfg.Assistant.HandsFree
}

// speak: the car always speaks.
func (s *setup) speak() bool { return s.mode() == modeCar || s.cfg.Speech.Enabled }

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
	if s.mode() == modeKiosk {
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
