package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hark/app"
	"hark/app/config"
	"hark/app/history"
	"hark/asr"
	"hark/audio"
	"hark/llm"
	"hark/models"
	"hark/ui"
)

// This file adapts the concrete engines to the interfaces package app declares, and turns the
// configuration (app/config) into the assistant's settings, engine loaders and history. It is
// the only place that knows both sides. (Audio capture and voice detection are in
// wiring_audio.go.)

// bindConfigFlags adds the options the window and `hark listen` share: --config, --set, and
// shorthands for the keys people change most. Given flags win over the file for this run and
// are not saved.
func bindConfigFlags(fs *flag.FlagSet, window bool) *config.Flags {
	cf := config.NewFlags(fs)
	if window {
		cf.Bind("mode", "assistant.mode")
	}
	cf.Bind("asr-model", "models.asr")
	cf.Bind("llm-model", "models.llm")
	cf.Bind("vad-model", "models.vad")
	cf.Bind("device", "audio.input_device")
	cf.Bind("wake", "assistant.wake_phrase")
	cf.Bind("models-dir", "models.dir")
	return cf
}

// setup is the effective configuration and the model store it points at.
type setup struct {
	cfg      *config.Config
	manifest *models.Manifest
	store    *models.Store
	problems error     // what is wrong in the configuration (those keys keep their defaults)
	noGuard  bool      // --no-guard: keep what whisper hears even when the hallucination guard would drop it
	echo     *echoLink // joins the speaker and the microphone (wiring_speech.go)
}

// noGuardFlag adds --no-guard.
func noGuardFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("no-guard", false, "keep what speech recognition hears even when its hallucination guard would drop it "+
		"(for models the guard misjudges, and random-weight test models)")
}

func newSetup(opts config.Options) (*setup, error) {
	cfg, err := config.Load(opts)
	s := &setup{cfg: cfg, echo: &echoLink{}}
	var ce *config.Error
	switch {
	case errors.As(err, &ce):
		s.problems = err
	case err != nil:
		return nil, err
	}
	if s.manifest, err = models.LoadManifest(); err != nil {
		return nil, err
	}
	dir := cfg.Models.Dir
	if dir != "" {
		if dir, err = models.ExpandPath(dir); err != nil {
			return nil, err
		}
	}
	if s.store, err = models.NewStore(dir); err != nil {
		return nil, err
	}
	return s, nil
}

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

// threads is how many threads each engine computes with: performance.threads, or all cores but
// one, which is left to the window, the audio and the other engine. ggml's threads wait for
// each other by spinning: on a busy 2-core machine stories260K generated 200 tokens in 0.13 s
// with 1 thread and in 55 s with 2, so oversubscribing is far worse than leaving a core idle.
func (s *setup) threads() int {
	if n := s.cfg.Performance.Threads; n > 0 {
		return n
	}
	return max(1, min(runtime.NumCPU()-1, 8))
}

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

// modelPath resolves the configured model of kind k (a manifest name, a path, or "" for the
// device class's default) to a file, with advice when it cannot.
func (s *setup) modelPath(k models.Kind, ref string) (string, error) {
	byDefault := ref == ""
	if byDefault {
		class, err := s.manifest.Class(s.cfg.DeviceClass())
		if err != nil {
			return "", err
		}
		ref = class.For(s.cfg.Assistant.Language).Model(k)
	}
	p, e, err := s.store.Resolve(s.manifest, ref, k)
	switch {
	case err == nil:
		return p, nil
	case errors.Is(err, models.ErrNotInstalled):
		return "", &app.UserError{Msg: fmt.Sprintf("The %s %s is not downloaded yet", k.Describe(), e.Name),
			Hint: fmt.Sprintf("Download it from the welcome screen, or run `hark models pull %s`, or choose a local %s in Settings.", e.Name, k.FileHint()),
			Err:  err}
	case errors.Is(err, os.ErrNotExist):
		return "", app.Explain(err, "The "+k.Describe()+" file is missing",
			fmt.Sprintf("Check the path in Settings, or choose another %s.", k.FileHint()))
	}
	return "", app.Explain(err, "The "+k.Describe()+" setting is not usable",
		fmt.Sprintf("Choose a model from `hark models list` or a local %s in Settings.", k.FileHint()))
}

// ---- Speech recognition ----

// transcriber adapts *asr.Model.
type transcriber struct {
	m    *asr.Model
	opts asr.Options
}

func (s *setup) loadTranscriber() func(context.Context, func(float64)) (app.Transcriber, error) {
	ref, threads := s.cfg.Models.ASR, s.threads()
	opts := asr.DefaultOptions()
	opts.Language = s.cfg.Assistant.Language
	opts.TraditionalChinese = s.cfg.Assistant.Chinese == "traditional"
	if s.noGuard {
		opts.Guard = &asr.Guard{Off: true}
	}
	return func(ctx context.Context, _ func(float64)) (app.Transcriber, error) {
		path, err := s.modelPath(models.ASR, ref)
		if err != nil {
			return nil, err
		}
		if _, err := asr.CheckFile(path); err != nil {
			return nil, app.Explain(err, "The speech model file is not usable",
				"It must be a whisper.cpp model (ggml .bin); choose another file in Settings, or run `hark models verify`.")
		}
		m, err := asr.Load(path, asr.LoadOptions{Threads: threads})
		if err != nil {
			return nil, app.Explain(err, "The speech model could not be loaded",
				"It must be a whisper.cpp model (ggml .bin); choose another file in Settings.")
		}
		return transcriber{m: m, opts: opts}, nil
	}
}

// Transcribe reports the engine's own compute (mel, encoder, decoder), not time spent waiting
// for a free whisper state while a live transcript finishes: that wait is the pipeline's.
func (t transcriber) Transcribe(ctx context.Context, pcm audio.PCM) (app.Transcript, error) {
	res, err := t.m.Transcribe(ctx, pcm.Samples, t.opts)
	tm := res.Timings
	return app.Transcript{Text: res.Text, Compute: tm.Mel + tm.Encode + tm.Decode, Dropped: res.Dropped, Language: res.Language}, err
}

func (t transcriber) Close() error { return t.m.Close() }

// ---- Language model ----

// brain adapts *llm.Model: one llm.Chat per conversation, so each turn evaluates only its own
// tokens (the rest stays in the KV cache) and the chat template comes from the model file.
type brain struct {
	m   *llm.Model
	gen llm.GenOptions
}

func (s *setup) loadBrain() func(context.Context, func(float64)) (app.Brain, error) {
	if s.cfg.LLM.Backend == "openai" {
		return s.loadRemoteBrain()
	}
	ref := s.cfg.Models.LLM
	opts := llm.Options{ContextSize: s.cfg.Performance.ContextSize, Threads: s.threads()}
	gen := llm.DefaultGenOptions()
	gen.MaxTokens, gen.Temperature = s.cfg.Assistant.MaxTokens, float32(s.cfg.Assistant.Temperature)
	return func(ctx context.Context, progress func(float64)) (app.Brain, error) {
		path, err := s.modelPath(models.LLM, ref)
		if err != nil {
			return nil, err
		}
		opts := opts
		opts.Progress = progress
		m, err := llm.Load(path, opts)
		if err != nil {
			return nil, app.Explain(err, "The language model could not be loaded",
				"It must be a GGUF chat model for llama.cpp; choose another file in Settings.")
		}
		return &brain{m: m, gen: gen}, nil
	}
}

func (b *brain) NewChat(system string) (app.Chat, error) {
	c, err := b.m.NewChat(system)
	if err != nil {
		return nil, app.Explain(err, "The language model could not start a conversation",
			"Shorten the system prompt in Settings, or raise performance.context_size.")
	}
	return &chat{c: c, gen: b.gen}, nil
}

func (b *brain) Close() error { return b.m.Close() }

// chat adapts *llm.Chat. app calls Reset right after cancelling a turn whose Send may still be
// finishing, and must not wait for it; llm.Chat.Reset would. So Reset only marks the
// conversation for forgetting and forgets it in the background as soon as the Send is done
// (a kiosk's idle wipe must not leave the conversation in memory until the next question);
// a Send that comes first forgets it before it starts. mu orders the two.
type chat struct {
	c       *llm.Chat
	gen     llm.GenOptions
	mu      sync.Mutex
	pending atomic.Bool
}

func (c *chat) forget() {
	if c.pending.Swap(false) {
		c.c.Reset()
	}
}

// Send's Compute is the engine's prompt evaluation and generation minus the time spent in emit
// (the pipeline's own work: events, the window), so the pipeline's overhead is not hidden in
// the engine's figure.
func (c *chat) Send(ctx context.Context, user string, emit func(string) error) (app.Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forget()
	var inEmit time.Duration
	rep, err := c.c.Send(ctx, user, c.gen, func(p string) error {
		t := time.Now()
		err := emit(p)
		inEmit += time.Since(t)
		return err
	})
	st := rep.Stats
	out := app.Reply{Text: strings.TrimSpace(rep.Text), Tokens: st.GeneratedTokens,
		Compute: max(0, st.PromptEval+st.Generation-inEmit), Interrupted: rep.Interrupted || ctx.Err() != nil,
		PromptTokens: st.PromptTokens, ReusedTokens: st.ReusedTokens}
	if errors.Is(err, llm.ErrPromptTooLong) {
		err = app.Explain(err, "The question does not fit in the language model's context",
			"Ask something shorter, start a new conversation (Ctrl+N), or raise performance.context_size.")
	}
	return out, err
}

func (c *chat) Reset() {
	c.pending.Store(true)
	go func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.forget()
	}()
}

// ---- Settings store and first run ----

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

// frontEndSetup reads the configuration for a front end (the window, `hark listen`). A typo on
// the command line is a usage error; a bad value in the file or the environment is reported
// on stderr, prefixed with who, and that setting keeps its default, so the assistant still
// starts.
func frontEndSetup(cf *config.Flags, noGuard bool, stderr io.Writer, who string) (*setup, error) {
	s, err := newSetup(cf.Options())
	if err != nil {
		return nil, err
	}
	s.noGuard = noGuard
	if s.problems != nil {
		if flagProblem(s.problems) {
			return nil, fmt.Errorf("%w: %v", errUsage, s.problems)
		}
		fmt.Fprintf(stderr, "%s: %v (those settings keep their defaults)\n", who, s.problems)
	}
	return s, nil
}

// flagProblem reports whether a configuration error comes from the command line.
func flagProblem(err error) bool {
	var ce *config.Error
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			if strings.HasPrefix(p.Where, "--") {
				return true
			}
		}
	}
	return false
}

// ---- History ----

// openTurnHistory opens the history database the configuration names (nil when history is off, or
// when it cannot be opened: the assistant then works without one, and the log says why).
func openTurnHistory(s *setup, logf *log.Logger) (app.History, func()) {
	if !s.cfg.History.Enabled {
		return nil, func() {}
	}
	path, err := s.cfg.HistoryPath()
	if err == nil {
		var st *history.Store
		st, err = history.Open(path, history.Options{RetentionDays: s.cfg.History.RetentionDays, StoreAudio: s.cfg.History.StoreAudio})
		if err == nil {
			return &historyLog{st: st, mode: string(s.mode()), asr: s.cfg.Models.ASR, llm: s.cfg.Models.LLM,
				convs: map[string]int64{}, turns: map[string]int64{}}, func() { _ = st.Close() }
		}
	}
	logf.Printf("history is off for this run: %v", err)
	return nil, func() {}
}

// historyLog adapts *history.Store to app.History. The assistant calls it from one goroutine.
type historyLog struct {
	st       *history.Store
	mode     string
	asr, llm string
	convs    map[string]int64 // the assistant's conversation IDs → the database's
	turns    map[string]int64 // "conversation/turn" → the database's turn ID
}

func turnKey(r app.TurnRecord) string { return fmt.Sprintf("%s/%d", r.Conversation, r.Turn) }

func (h *historyLog) Begin(ctx context.Context, r app.TurnRecord) error {
	cid, ok := h.convs[r.Conversation]
	if !ok {
		var err error
		if cid, err = h.st.StartConversation(ctx, h.mode); err != nil {
			return err
		}
		h.convs[r.Conversation] = cid
	}
	tid, err := h.st.StartTurn(ctx, cid, history.TurnStart{ASRModel: h.asr, LLMModel: h.llm})
	if err != nil {
		return err
	}
	h.turns[turnKey(r)] = tid
	return h.st.SetTranscript(ctx, tid, r.Transcript)
}

func (h *historyLog) Finish(ctx context.Context, r app.TurnRecord) error {
	tid, ok := h.turns[turnKey(r)]
	if !ok {
		return nil
	}
	delete(h.turns, turnKey(r))
	t := r.Timings
	return h.st.FinishTurn(ctx, tid, history.TurnEnd{Reply: r.Reply, Interrupted: r.Interrupted, Err: r.Err,
		Timings: history.Timings{ASR: t.Transcribe, FirstToken: t.Transcribe + t.FirstToken, LLM: t.Generate, TTS: t.Spoken, Total: t.Total},
		Audio:   r.Audio.Samples, AudioRate: r.Audio.Rate})
}

// Wipe deletes a conversation (the kiosk's idle wipe) and compacts the file.
func (h *historyLog) Wipe(ctx context.Context, conversation string) error {
	cid, ok := h.convs[conversation]
	if !ok {
		return nil
	}
	delete(h.convs, conversation)
	return h.st.DeleteConversation(ctx, cid)
}

// timingLog logs each finished turn's timings (the window's and `hark listen`'s stderr).
func timingLog(logf func(string, ...any)) app.Sink {
	return app.SinkFunc(func(e app.Event) {
		if e.Kind != app.EventTurnDone || e.Timings == nil || strings.HasPrefix(e.Reason, "ignored") {
			return
		}
		t := e.Timings
		state := "done"
		switch {
		case e.Err != nil:
			state = "failed"
		case e.Interrupted:
			state = "interrupted"
		}
		logf("turn %d %s (%s): speech %v, end of speech → transcript %v → first token %v, → last token %v (%d tokens), spoken %v; asr %v, llm %v, pipeline overhead %v",
			e.Turn, state, e.Input, t.Speech.Round(time.Millisecond), t.Transcribe.Round(time.Millisecond), t.FirstToken.Round(time.Millisecond),
			t.Generate.Round(time.Millisecond), t.Tokens, t.Spoken.Round(time.Millisecond), t.ASRCompute.Round(time.Millisecond),
			t.LLMCompute.Round(time.Millisecond), t.Overhead.Round(10*time.Microsecond))
	})
}
