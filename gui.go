//go:build !nowindow

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"hark/app"
	"hark/assets"
	"hark/internal/display"
	"hark/ui"
)

// appID is Hark's Fyne application ID (FyneApp.toml).
const appID = "org.hark.assistant"

// supervisedEnv marks the child a kiosk supervisor started.
const supervisedEnv = "HARK_SUPERVISED"

func runGUI(ctx context.Context, args []string, stderr io.Writer) error {
	os.Unsetenv(windowExecEnv) // this is the window: what it starts may exec a window again
	fs := newSubFlags("", "[WINDOW OPTIONS]", stderr)
	cf := bindConfigFlags(fs, true)
	noGuard := noGuardFlag(fs)
	verbose := verboseFlag(fs)
	events := fs.String("events", "", "append the assistant's events to `FILE` as JSON lines (for logs and tests)")
	noSupervise := fs.Bool("no-supervise", false, "kiosk: run the window in this process instead of under a supervisor that restarts it after a crash")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q (`hark help` lists the commands)", errUsage, fs.Arg(0))
	}
	setVerbose(*verbose, stderr, "hark")
	s, err := openSetup(cf, stderr, "hark", false)
	if err != nil {
		return err
	}
	s.noGuard = *noGuard
	if _, err := ui.ParseChord(s.cfg.Kiosk.AdminChord); err != nil {
		return fmt.Errorf("kiosk.admin_chord: %w", err)
	}
	if err := waitForDisplay(ctx, s.uiMode(), stderr); err != nil {
		return err
	}
	if s.mode() == modeKiosk && !*noSupervise && os.Getenv(supervisedEnv) == "" {
		return superviseKiosk(ctx, args, stderr)
	}

	a := fyneapp.NewWithID(appID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	var sinks []app.Sink
	if *events != "" {
		ef, err := openPrivateLog(*events)
		if err != nil {
			return fmt.Errorf("--events: %w", err)
		}
		defer ef.Close()
		sinks = append(sinks, app.NewJSONSink(ef, false))
	}
	logger := log.New(stderr, "hark: ", log.LstdFlags)
	hist, closeHist := openTurnHistory(s, logger)
	defer closeHist()
	var w *ui.UI
	sinks = append(sinks, timingLog(logger.Printf), app.SinkFunc(func(e app.Event) { w.Publish(e) }))
	acts, err := openActions(s)
	if err != nil {
		logger.Printf("commands are off for this run: %v", err)
	}
	defer acts.Close()
	kiosk := s.mode() == modeKiosk
	kstore, know := openKnowledgeStore(s.cfg, stderr, kiosk)
	opts := app.Options{
		Config:  s.assistantConfig(),
		Loaders: s.loaders(),
		Sink:    s.withVolume(s.withEarcons(app.Tee(sinks...))),
		History: hist,
		Logf:    logger.Printf,
		// Knowledge: answers from the documents `hark knowledge add` indexed.
		Knowledge: know,
	}
	attach := acts.attach(&opts, s)
	asst := app.New(opts)
	attach(asst)
	store := &configStore{cur: s, apply: func(old, new *setup) {
		asst.Configure(new.assistantConfig())
		asst.Replace(changedLoaders(old, new))
	}}
	w = ui.New(a, asst, ui.Options{
		Settings: s.settings(),
		Save:     store.save,
		Devices:  captureDevices,
		Setup:    firstRun{s: s, loaded: asst.Replace},
		Dictator: s.windowDictator(quietAssistant(store, asst)),

		SystemLanguage: systemLanguage(),
		Home:           homeView(acts),
		Documents:      documentsFor(kstore),
	})

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- asst.Run(runCtx) }()
	if kstore != nil && kiosk && s.cfg.Knowledge.Watch {
		go watchKnowledge(runCtx, kstore, logger.Printf)
	}
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) })
	defer stop()
	w.Window().ShowAndRun()
	w.Detach()
	cancel()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		return errors.New("the assistant did not stop within 10 s; quitting anyway")
	}
}

// superviseKiosk runs the kiosk window in a child process and starts it again when it dies
// (a crash in C code takes the whole process down; a kiosk must come back by itself). The
// admin chord ends the child with status 0, which ends the supervisor too.
func superviseKiosk(ctx context.Context, args []string, stderr io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("kiosk supervisor: %w", err)
	}
	backoff := time.Second
	for {
		cmd := exec.Command(exe, args...)
		cmd.Env = append(os.Environ(), supervisedEnv+"=1")
		cmd.Stdout, cmd.Stderr = os.Stdout, stderr
		started := time.Now()
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("kiosk supervisor: %w", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
			return ctx.Err()
		case err := <-exited:
			if err == nil {
				return nil // the operator quit
			}
			fmt.Fprintf(stderr, "hark: kiosk window ended (%v); starting it again\n", err)
		}
		if time.Since(started) > time.Minute {
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// windowVersion is `hark version`'s line about the window: Fyne, linked into this executable.
func windowVersion(fyneVersion string) string {
	return "window: fyne " + orUnknown(fyneVersion) + " (in this executable)"
}

// waitForDisplay stops the window from starting where GLFW would panic: on a desktop it says in
// one line what is missing and where to go instead; a kiosk or a car unit, often started before
// the compositor, waits for the display instead.
func waitForDisplay(ctx context.Context, mode ui.Mode, stderr io.Writer) error {
	if mode == ui.ModeDesktop {
		if err := display.Check(os.Getenv); err != nil {
			return fmt.Errorf("%w; Hark's window needs one: `hark listen` runs the assistant without a window", err)
		}
		return nil
	}
	return display.Wait(ctx, os.Getenv, 2*time.Second, func(err error) {
		fmt.Fprintf(stderr, "hark: %v; waiting for it (checking every 2 s)\n", err)
	})
}
