package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"strings"
	"sync/atomic"
	"time"

	"hark/app"
	"hark/ui"
)

// runListen is `hark listen`: the assistant without a window, hands-free on the microphone,
// printing its events as JSON lines on stdout (for screenless head units, scripts and tests).
func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("listen", "[OPTIONS]", stderr)
	var f engineFlags
	f.register(fs, false)
	levels := fs.Bool("levels", false, "also print the microphone's level, several times a second")
	turns := fs.Int("turns", 0, "exit after `N` answered questions (0: run until interrupted)")
	language := fs.String("language", "en", "spoken language (whisper code), or auto")
	silence := fs.Duration("silence", 600*time.Millisecond, "silence that ends an utterance")
	system := fs.String("system", "", "system prompt (default: short, speakable answers)")
	partials := fs.Bool("partials", true, "print live transcripts while someone speaks")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: listen: unexpected argument %q", errUsage, fs.Arg(0))
	}
	f.visit(fs)
	s := f.apply(ui.DefaultSettings(ui.ModeDesktop))
	s.HandsFree, s.Language, s.TrailingSilence, s.SystemPrompt = true, *language, *silence, *system
	cfg := assistantConfig(s)
	if !*partials {
		cfg.PartialEvery = -1
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var answered atomic.Int64
	out := app.NewJSONSink(stdout, *levels)
	count := app.SinkFunc(func(e app.Event) {
		switch {
		case e.Kind == app.EventTurnDone && !strings.HasPrefix(e.Reason, "ignored") && e.Err == nil:
			if n := answered.Add(1); *turns > 0 && n >= int64(*turns) {
				cancel(nil)
			}
		case e.Kind == app.EventComponent && e.Phase == app.PhaseFailed && e.Component != app.ComponentMicrophone:
			// Without a window nobody can pick another model: say what is wrong and stop. (A
			// missing microphone is retried: it may be plugged in.)
			msg := app.Message(e.Err)
			if h := app.Hint(e.Err); h != "" {
				msg += " (" + h + ")"
			}
			cancel(fmt.Errorf("%s: %s", e.Component.Title(), msg))
		}
	})
	logger := log.New(stderr, "hark listen: ", log.LstdFlags)
	a := app.New(app.Options{Config: cfg, Loaders: loaders(s), Sink: app.Tee(out, count), Logf: logger.Printf})
	if err := a.Run(ctx); err != nil {
		return err
	}
	if err := out.Err(); err != nil {
		return fmt.Errorf("listen: writing events: %w", err)
	}
	if err := context.Cause(ctx); err != nil && err != context.Canceled {
		return err
	}
	return nil
}
