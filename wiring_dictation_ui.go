//go:build !nowindow

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"hark/app"
	"hark/audio"
	"hark/audio/device"
	"hark/dictation"
	"hark/notes"
	"hark/ui"
)

// The window's dictation mode: ui.Dictator over the microphone, the dictation package and the
// notes. The speech model is loaded for each dictation and the language model for each note,
// and both are freed after, so that an idle window holds no second copy of them.
type windowDictator struct {
	s *setup
	// quiet(true) stops the assistant listening hands-free while a dictation records (it
	// would take the dictation for questions); quiet(false) restores it. nil: nothing to do.
	quiet func(on bool)
}

func (s *setup) windowDictator(quiet func(on bool)) ui.Dictator {
	return &windowDictator{s: s, quiet: quiet}
}

// quietAssistant is windowDictator's quiet for the window's assistant: hands-free and spoken
// notices off while dictating, then the configuration as it is now (the settings may have changed meanwhile).
func quietAssistant(store *configStore, asst *app.Assistant) func(on bool) {
	return func(on bool) {
		store.mu.Lock()
		c := store.cur.assistantConfig()
		store.mu.Unlock()
		c.HandsFree = c.HandsFree && !on
		c.Dictating = on // nothing said unasked into the recording
		asst.Configure(c)
	}
}

func (w *windowDictator) Templates() []string {
	dir, _ := w.s.cfg.NoteTemplatesDir()
	return notes.Names(dir)
}

func (w *windowDictator) Note(ctx context.Context, template, transcript string) (string, string, error) {
	t, err := w.s.noteTemplate(template)
	if err != nil {
		return "", "", err
	}
	chars, seed := 1500, uint(0)
	n, err := w.s.makeNote(ctx, t, transcript, noteFlags{sectionChars: &chars, seed: &seed}, io.Discard)
	if err != nil {
		return "", "", err
	}
	return n.Markdown(), n.Text(), nil
}

func (w *windowDictator) Dictate(ctx context.Context, paused func() bool, show func(string)) error {
	_, d, closeModels, err := w.s.loadDictation()
	if err != nil {
		return err
	}
	defer closeModels()
	if w.quiet != nil {
		w.quiet(true)
		defer w.quiet(false)
	}
	c, err := device.OpenCapture(device.CaptureOptions{Device: w.s.cfg.Audio.InputDevice})
	if err != nil {
		return app.Explain(err, "The microphone could not be opened", "Check that a microphone is connected, or choose another one in Settings.")
	}
	defer c.Close()
	err = dictatePausable(ctx, c, d, paused, show)
	if o := c.Overruns(); o > 0 {
		// The person is told (the window's status) and the log keeps it.
		dropped := ui.SoundDropped{Seconds: float64(o) / audio.SampleRate}
		fmt.Fprintf(os.Stderr, "hark: dictation: %v\n", dropped)
		if err == nil {
			err = dropped
		} else {
			err = errors.Join(err, dropped)
		}
	}
	return err
}

// dictatePausable transcribes src through d until ctx is done or src fails. While paused()
// the sound is dropped, and what was said before the pause is transcribed at once. The
// microphone is read on its own goroutine so that a window being transcribed does not stop
// the recording.
func dictatePausable(ctx context.Context, src reader, d *dictation.Dictation, paused func() bool, show func(string)) error {
	type chunk struct {
		x      []float32
		err    error
		paused bool // when it was captured: the consumer may be a window behind
	}
	q := make(chan chunk, dictationBacklog)
	go func() {
		defer close(q)
		// Stop ends the recording here, before the queued windows are transcribed: the
		// microphone is released, and sound it would keep capturing meanwhile is not counted
		// as dropped.
		if c, ok := src.(io.Closer); ok {
			defer c.Close()
		}
		for ctx.Err() == nil {
			buf := make([]float32, audio.SampleRate/10)
			n, err := src.Read(ctx, buf)
			select {
			case q <- chunk{buf[:n], err, paused()}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	work := context.WithoutCancel(ctx) // Stop ends the recording, not the transcription of what was said
	emit := func(segs []dictation.Segment) {
		for _, s := range segs {
			show(s.Text)
		}
	}
	var srcErr, err error
	wasPaused := false
	for c := range q {
		if c.err != nil && !errors.Is(c.err, context.Canceled) {
			srcErr = c.err
		}
		if c.paused {
			if !wasPaused {
				var segs []dictation.Segment
				segs, err = d.Flush(work)
				emit(segs)
			}
			wasPaused = true
		} else {
			wasPaused = false
			if len(c.x) > 0 {
				var segs []dictation.Segment
				segs, err = d.Push(work, c.x)
				emit(segs)
			}
		}
		if err != nil || srcErr != nil {
			break
		}
	}
	segs, ferr := d.Flush(work)
	emit(segs)
	return errors.Join(srcErr, err, ferr)
}
