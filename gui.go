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
	"hark/ui"
)

// appID is Hark's Fyne application ID (FyneApp.toml): preferences and storage live under it.
const appID = "org.hark.assistant"

// supervisedEnv marks the child a kiosk supervisor started.
const supervisedEnv = "HARK_SUPERVISED"

func runGUI(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("", "[WINDOW OPTIONS]", stderr)
	var f engineFlags
	f.register(fs, true)
	events := fs.String("events", "", "append the assistant's events to `FILE` as JSON lines (for logs and tests)")
	noSupervise := fs.Bool("no-supervise", false, "kiosk: run the window in this process instead of under a supervisor that restarts it after a crash")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q (`hark help` lists the commands)", errUsage, fs.Arg(0))
	}
	f.visit(fs)
	mode := ui.ModeDesktop
	if f.mode != "" {
		m, err := ui.ParseMode(f.mode)
		if err != nil {
			return fmt.Errorf("%w: --mode: %v", errUsage, err)
		}
		mode = m
	}
	if mode == ui.ModeKiosk && !*noSupervise && os.Getenv(supervisedEnv) == "" {
		return superviseKiosk(ctx, args, stderr)
	}
	a := fyneapp.NewWithID(appID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	store := ui.PreferencesStore{P: a.Preferences()}
	saved, err := store.Load(mode)
	if err != nil {
		return err
	}
	settings := f.apply(saved)

	var sinks []app.Sink
	if *events != "" {
		ef, err := os.OpenFile(*events, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("--events: %w", err)
		}
		defer ef.Close()
		sinks = append(sinks, app.NewJSONSink(ef, false))
	}
	logger := log.New(stderr, "hark: ", log.LstdFlags)
	var w *ui.UI
	sinks = append(sinks, app.SinkFunc(func(e app.Event) { w.Publish(e) }))
	asst := app.New(app.Options{
		Config:  assistantConfig(settings),
		Loaders: loaders(settings),
		Sink:    app.Tee(sinks...),
		Logf:    logger.Printf,
	})
	w = ui.New(a, asst, ui.Options{
		Settings: settings,
		Store:    flagAwareStore{store, saved, settings},
		Apply: func(old, new ui.Settings) {
			asst.Configure(assistantConfig(new))
			asst.Replace(changedLoaders(old, new))
		},
		Devices: captureDevices,
	})

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- asst.Run(runCtx) }()
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) })
	defer stop()
	w.Window().ShowAndRun()
	cancel()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		return errors.New("the assistant did not stop within 10 s; quitting anyway")
	}
}

// flagAwareStore saves what the person changed in the settings dialog without saving the
// command line's one-off overrides over the saved values.
type flagAwareStore struct {
	ui.SettingsStore
	saved, started ui.Settings // saved: on disk at start; started: with the flags applied
}

func (s flagAwareStore) Save(n ui.Settings) error {
	keep := func(dst *string, started, saved, now string) {
		if now == started {
			*dst = saved
		}
	}
	out := n
	keep(&out.ASRModel, s.started.ASRModel, s.saved.ASRModel, n.ASRModel)
	keep(&out.LLMModel, s.started.LLMModel, s.saved.LLMModel, n.LLMModel)
	keep(&out.VADModel, s.started.VADModel, s.saved.VADModel, n.VADModel)
	keep(&out.Microphone, s.started.Microphone, s.saved.Microphone, n.Microphone)
	keep(&out.WakePhrase, s.started.WakePhrase, s.saved.WakePhrase, n.WakePhrase)
	return s.SettingsStore.Save(out)
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
