package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"hark/app"
	"hark/app/config"
	"hark/asr"
	"hark/audio/device"
	"hark/llm"
	"hark/models"
)

// One way in for every command and both front ends: the configuration (defaults, config.toml,
// HARK_* variables, flags), checked the same way; the model manifest and store; models resolved
// flag → configuration → the device class's default; the engines' thread count.

// bindConfigFlags adds the options the window and `hark listen` share: --config, --set, and
// shorthands for the keys people change most. Given flags win over the file for this run and
// are not saved.
func bindConfigFlags(fs *flag.FlagSet, window bool) *config.Flags {
	cf := modelsFlags(fs)
	if window {
		cf.Bind("mode", "assistant.mode")
	}
	cf.Bind("asr-model", "models.asr")
	cf.Bind("llm-model", "models.llm")
	cf.Bind("vad-model", "models.vad")
	cf.Bind("device", "audio.input_device")
	cf.Bind("wake", "assistant.wake_phrase")
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
	// asrMaxTokens, when > 0, caps what whisper decodes per utterance (benchmarks with
	// random-weight models, which would otherwise write gibberish up to the limit).
	asrMaxTokens int
	// firstClause, when > 0, sets the length after which the first spoken chunk may end at a
	// comma, and freshStart the player's FreshStart (the latency benchmark's comparisons).
	firstClause int
	freshStart  bool
}

// noGuardFlag adds --no-guard.
func noGuardFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("no-guard", false, "keep what speech recognition hears even when its hallucination guard would drop it "+
		"(for models the guard misjudges, and random-weight test models)")
}

func newSetup(opts config.Options) (*setup, error) {
	cfg, err := config.Load(opts)
	s := &setup{cfg: cfg, echo: &echoLink{vol: newVolume()}}
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

// verboseFlag adds --verbose: the sound library's and the engines' own messages (libasound's
// probing, llama.cpp's and whisper.cpp's logs), which otherwise go nowhere, are shown on stderr
// as debug lines.
func verboseFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("verbose", false, "show the sound library's and the engines' own messages (debug lines on stderr)")
}

// setVerbose makes Hark's log: when on, a debug-level logger on stderr that receives
// libasound's, llama.cpp's and whisper.cpp's messages; when off they go nowhere.
func setVerbose(on bool, stderr io.Writer, who string) {
	if !on {
		device.SetLog(nil)
		llm.SetLogger(nil)
		asr.SetLogger(nil)
		return
	}
	l := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{} // a command's stderr needs no timestamps
			}
			return a
		},
	})).With("cmd", who)
	device.SetLog(func(msg string) { l.Debug(msg, "engine", "libasound") })
	llm.SetLogger(l)
	asr.SetLogger(l)
}

// modelsFlags adds the flags every command that uses models takes: --config, --set and
// --models-dir.
func modelsFlags(fs *flag.FlagSet) *config.Flags {
	cf := config.NewFlags(fs)
	cf.Bind("models-dir", "models.dir")
	return cf
}

// loadConfig loads the configuration with the flags applied. A bad flag value is a usage
// error naming the flag. Problems in the file or the environment are fatal when strict (a
// benchmark must not measure a setting other than the one asked for); otherwise they are
// reported on stderr, prefixed with who, and those keys keep their defaults so the command
// still works.
func loadConfig(cf *config.Flags, stderr io.Writer, who string, strict bool) (*config.Config, error) {
	cfg, err := config.Load(cf.Options())
	if err := checkConfig(err, stderr, who, strict); err != nil {
		return nil, err
	}
	return cfg, nil
}

// checkConfig sorts config.Load's error as loadConfig describes.
func checkConfig(err error, stderr io.Writer, who string, strict bool) error {
	var ce *config.Error
	if !errors.As(err, &ce) {
		return err
	}
	if flags := flagProblems(ce); len(flags) > 0 {
		return fmt.Errorf("%w: %v", errUsage, &config.Error{Problems: flags})
	}
	if strict {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	fmt.Fprintf(stderr, "%s: warning: %v (those settings keep their defaults)\n", who, err)
	return nil
}

// flagProblems are the problems that come from the command line.
func flagProblems(ce *config.Error) []config.Problem {
	var out []config.Problem
	for _, p := range ce.Problems {
		if strings.HasPrefix(p.Where, "--") {
			out = append(out, p)
		}
	}
	return out
}

// openSetup is loadConfig with the manifest and the model store: what every command that uses
// an engine, and both front ends, start from.
func openSetup(cf *config.Flags, stderr io.Writer, who string, strict bool) (*setup, error) {
	s, err := newSetup(cf.Options())
	if err != nil {
		return nil, err
	}
	if err := checkConfig(s.problems, stderr, who, strict); err != nil {
		return nil, err
	}
	return s, nil
}

// selections are the models in use: the configured ones, or the device class's defaults.
func (s *setup) selections() []models.Selection {
	return s.store.Select(s.manifest, s.cfg.DeviceClass(), s.cfg.Assistant.Language, map[models.Kind]string{
		models.ASR: s.cfg.Models.ASR, models.LLM: s.cfg.Models.LLM, models.VAD: s.cfg.Models.VAD})
}

func (s *setup) selection(k models.Kind) models.Selection {
	for _, sel := range s.selections() {
		if sel.Kind == k {
			return sel
		}
	}
	return models.Selection{}
}
