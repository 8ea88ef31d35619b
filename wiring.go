package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"hark/app"
	"hark/asr"
	"hark/audio"
	"hark/llm"
	"hark/ui"
)

// This file adapts the concrete engines to the interfaces package app declares, and turns
// settings into the assistant's configuration and loaders. It is the only place that knows
// both sides. (Audio capture and voice detection are in wiring_audio.go.)

// engineFlags are the options the window and `hark listen` share; set ones override the
// saved settings for this run (they are not saved).
type engineFlags struct {
	mode, asrModel, llmModel, vadModel, device, wake string
	set                                              map[string]bool
}

func (f *engineFlags) register(fs *flag.FlagSet, withMode bool) {
	if withMode {
		fs.StringVar(&f.mode, "mode", "", "window mode: desktop, kiosk or car (default: desktop)")
	}
	fs.StringVar(&f.asrModel, "asr-model", "", "whisper.cpp speech model `FILE` (.bin)")
	fs.StringVar(&f.llmModel, "llm-model", "", "language model `FILE` (.gguf)")
	fs.StringVar(&f.vadModel, "vad-model", "", "Silero VAD model `FILE` (ggml-silero-*.bin); none: energy-based detection")
	fs.StringVar(&f.device, "device", "", "microphone `NAME` (see `hark devices`); default: the system's")
	fs.StringVar(&f.wake, "wake", "", "wake `PHRASE` that must start each question, e.g. \"hey hark\" (hands-free)")
}

// visit records which flags were given, after parsing.
func (f *engineFlags) visit(fs *flag.FlagSet) {
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
}

// apply overrides s with the flags that were given.
func (f *engineFlags) apply(s ui.Settings) ui.Settings {
	if f.set["asr-model"] {
		s.ASRModel = f.asrModel
	}
	if f.set["llm-model"] {
		s.LLMModel = f.llmModel
	}
	if f.set["vad-model"] {
		s.VADModel = f.vadModel
	}
	if f.set["device"] {
		s.Microphone = f.device
	}
	if f.set["wake"] {
		s.WakePhrase = f.wake
	}
	return s
}

// assistantConfig is the assistant's configuration for settings s.
func assistantConfig(s ui.Settings) app.Config {
	c := app.DefaultConfig()
	c.HandsFree = s.HandsFree
	c.WakePhrase = s.WakePhrase
	if s.SystemPrompt != "" {
		c.SystemPrompt = s.SystemPrompt
	}
	c.Speak = s.Speak
	if s.Mode == ui.ModeKiosk {
		c.IdleWipe, c.WipeHistory = s.IdleWipe, true
	}
	return c
}

// engineThreads is how many threads each engine computes with: all cores but one, which is left
// to the window, the audio and the other engine. ggml's threads wait for each other by spinning:
// on a busy 2-core machine stories260K generated 200 tokens in 0.13 s with 1 thread and in 55 s
// with 2, so oversubscribing is far worse than leaving a core idle.
func engineThreads() int { return max(1, min(runtime.NumCPU()-1, 8)) }

// loaders returns the loaders for settings s (all of them).
func loaders(s ui.Settings) app.Loaders {
	threads := engineThreads()
	return app.Loaders{
		Transcriber: loadTranscriber(s.ASRModel, s.Language, threads),
		Brain:       loadBrain(s.LLMModel, threads),
		Segmenter:   loadSegmenter(s.VADModel, s.TrailingSilence),
		Microphone:  openMicrophone(s.Microphone),
	}
}

// changedLoaders returns the loaders of the engines whose settings differ between old and new.
func changedLoaders(old, new ui.Settings) app.Loaders {
	all := loaders(new)
	var l app.Loaders
	if old.ASRModel != new.ASRModel || old.Language != new.Language {
		l.Transcriber = all.Transcriber
	}
	if old.LLMModel != new.LLMModel {
		l.Brain = all.Brain
	}
	if old.VADModel != new.VADModel || old.TrailingSilence != new.TrailingSilence {
		l.Segmenter = all.Segmenter
	}
	if old.Microphone != new.Microphone {
		l.Microphone = all.Microphone
	}
	return l
}

// modelFile checks that a model path is set and names a file, with advice for the person.
func modelFile(path, what, flagName, kind string) error {
	if path == "" {
		return &app.UserError{Msg: "No " + what + " is chosen",
			Hint: fmt.Sprintf("Choose a %s file in Settings, or start Hark with --%s FILE.", kind, flagName)}
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return app.Explain(err, "The "+what+" file is missing",
			fmt.Sprintf("Check the path in Settings, or choose another %s file.", kind))
	case err != nil:
		return app.Explain(err, "The "+what+" file cannot be read", "Check its permissions.")
	case st.IsDir():
		return &app.UserError{Msg: "The " + what + " path is a folder: " + path,
			Hint: fmt.Sprintf("Choose the %s file inside it.", kind)}
	}
	return nil
}

// ---- Speech recognition ----

// transcriber adapts *asr.Model.
type transcriber struct {
	m       *asr.Model
	threads int
}

func loadTranscriber(path, language string, threads int) func(context.Context, func(float64)) (app.Transcriber, error) {
	return func(ctx context.Context, _ func(float64)) (app.Transcriber, error) {
		if err := modelFile(path, "speech model", "asr-model", "whisper .bin"); err != nil {
			return nil, err
		}
		m, err := asr.Load(path)
		if err != nil {
			return nil, app.Explain(err, "The speech model could not be loaded",
				"It must be a whisper.cpp model (ggml .bin); choose another file in Settings.")
		}
		return transcriber{m: m, threads: threads}, nil
	}
}

func (t transcriber) Transcribe(ctx context.Context, pcm audio.PCM) (app.Transcript, error) {
	start := time.Now()
	text, err := t.m.Transcribe(ctx, pcm.Samples, t.threads)
	return app.Transcript{Text: text, Compute: time.Since(start)}, err
}

func (t transcriber) Close() error { return t.m.Close() }

// ---- Language model ----

// brain adapts *llm.Model. Until llm has conversations of its own, the chat keeps the turns and
// writes a plain-text prompt for each question.
type brain struct {
	m         *llm.Model
	maxTokens int
}

const llmContext = 2048

func loadBrain(path string, threads int) func(context.Context, func(float64)) (app.Brain, error) {
	return func(ctx context.Context, _ func(float64)) (app.Brain, error) {
		if err := modelFile(path, "language model", "llm-model", "GGUF (.gguf)"); err != nil {
			return nil, err
		}
		m, err := llm.Load(path, llmContext, threads)
		if err != nil {
			return nil, app.Explain(err, "The language model could not be loaded",
				"It must be a GGUF model for llama.cpp; choose another file in Settings.")
		}
		return &brain{m: m, maxTokens: 256}, nil
	}
}

func (b *brain) NewChat(system string) (app.Chat, error) { return &chat{b: b, system: system}, nil }

func (b *brain) Close() error { return b.m.Close() }

type chat struct {
	b      *brain
	system string
	turns  []string // alternating "User: ..." and "Assistant: ..." lines
}

func (c *chat) prompt(user string) string {
	var p strings.Builder
	p.WriteString(c.system + "\n\n")
	// llm.Generate evaluates the prompt in one batch of at most 512 tokens: keep the history
	// to the newest turns that fit in about 200 characters (with a small vocabulary a token can be one character).
	turns := c.turns
	for len(turns) > 0 && len(strings.Join(turns, "\n")) > 200 {
		turns = turns[2:]
	}
	for _, t := range turns {
		p.WriteString(t + "\n")
	}
	p.WriteString("User: " + user + "\nAssistant:")
	return p.String()
}

func (c *chat) Send(ctx context.Context, user string, emit func(string) error) (app.Reply, error) {
	start := time.Now()
	tokens := 0
	text, err := c.b.m.Generate(ctx, c.prompt(user), c.b.maxTokens, func(p string) error {
		tokens++
		return emit(p)
	})
	rep := app.Reply{Text: strings.TrimSpace(text), Tokens: tokens, Compute: time.Since(start), Interrupted: ctx.Err() != nil}
	reply := rep.Text
	if len(reply) > 100 {
		reply = reply[:100]
	}
	c.turns = append(c.turns, "User: "+user, "Assistant: "+reply)
	return rep, err
}

func (c *chat) Reset() { c.turns = nil }
