package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"hark/app"
)

// runListen is `hark listen`: the assistant without a window, hands-free on the microphone,
// printing its events as JSON lines on stdout (for screenless head units, scripts and tests).
func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("listen", stderr)
	cf := bindConfigFlags(fs, false)
	noGuard := noGuardFlag(fs)
	verbose := verboseFlag(fs)
	levels := fs.Bool("levels", false, "also print the microphone's level, several times a second")
	turns := fs.Int("turns", 0, "exit after `N` answered questions (0: run until interrupted)")
	partials := fs.Bool("partials", true, "print live transcripts while someone speaks")
	typed := fs.Bool("typed", false, "also answer questions typed on standard input, one a line, as the window's text entry does")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: listen: unexpected argument %q", errUsage, fs.Arg(0))
	}
	setVerbose(*verbose, stderr, "hark listen")
	s, err := openSetup(cf, stderr, "hark listen", false)
	if err != nil {
		return err
	}
	s.noGuard = *noGuard
	cfg := s.assistantConfig()
	cfg.HandsFree = true
	if !*partials {
		cfg.PartialEvery = -1
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var answered atomic.Int64
	var micReported atomic.Bool
	// Without a window nobody can pick another model: once every engine has loaded or failed,
	// say everything that is wrong (not only what failed first) and stop. A missing
	// microphone is retried instead (it may be plugged in), and without a speaker the replies
	// are still printed.
	var mu sync.Mutex
	loading := map[app.Component]bool{}
	var failed []error
	out := app.NewJSONSink(stdout, *levels)
	count := app.SinkFunc(func(e app.Event) {
		switch {
		case e.Kind == app.EventTurnDone && e.Ignored == "" && e.Err == nil:
			if n := answered.Add(1); *turns > 0 && n >= int64(*turns) {
				cancel(nil)
			}
		case e.Kind == app.EventComponent && e.Component == app.ComponentMicrophone && e.Phase == app.PhaseFailed:
			// One line, once: the assistant keeps retrying (it may be plugged in).
			if !micReported.Swap(true) {
				fmt.Fprintf(stderr, "hark listen: %s: %v (retrying; --verbose shows the sound system's messages)\n", app.Message(e.Err), errors.Unwrap(e.Err))
			}
		case e.Kind == app.EventComponent && e.Component == app.ComponentMicrophone && e.Phase == app.PhaseReady:
			micReported.Store(false)
		case e.Kind == app.EventDevice:
			fmt.Fprintf(stderr, "hark listen: the default microphone changed: now listening on %q\n", e.Text)
		case e.Kind == app.EventComponent && e.Component != app.ComponentMicrophone && e.Component != app.ComponentSpeech:
			mu.Lock()
			defer mu.Unlock()
			loading[e.Component] = e.Phase == app.PhaseLoading
			if e.Phase == app.PhaseFailed {
				msg := app.Message(e.Err)
				if h := app.Hint(e.Err); h != "" {
					msg += " (" + h + ")"
				}
				failed = append(failed, fmt.Errorf("%s: %s", e.Component.Title(), msg))
			}
			if len(failed) > 0 && !slices.Contains(slices.Collect(maps.Values(loading)), true) {
				cancel(errors.Join(failed...))
			}
		}
	})
	logger := log.New(stderr, "hark listen: ", log.LstdFlags)
	hist, closeHist := openTurnHistory(s, logger)
	defer closeHist()
	acts, err := openActions(s)
	if err != nil {
		logger.Printf("commands are off for this run: %v", err)
	}
	defer acts.Close()
	opts := app.Options{Config: cfg, Loaders: s.loaders(), Sink: s.withVolume(s.withEarcons(app.Tee(out, count, timingLog(logger.Printf)))), History: hist, Logf: logger.Printf, Knowledge: openKnowledge(s.cfg, stderr)}
	attach := acts.attach(&opts, s)
	a := app.New(opts)
	attach(a)
	if *typed {
		go askLines(os.Stdin, a.Ask, logger)
	}
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

// askLines asks each line of r as a typed question (a too long one is refused by the assistant
// with a message, as in the window), until r ends.
func askLines(r io.Reader, ask func(string), logger *log.Logger) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if q := strings.TrimSpace(line); q != "" {
			ask(q)
		}
		if err != nil {
			if err != io.EOF {
				logger.Printf("typed questions: %v", err)
			}
			return
		}
	}
}
