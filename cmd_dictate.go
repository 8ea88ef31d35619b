package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"hark/app"
	"hark/asr"
	"hark/audio"
	"hark/audio/device"
	"hark/audio/vad"
	"hark/dictation"
	"hark/models"
	"hark/notes"
)

const dictateArgs = "[--out FILE] [--srt|--vtt|--txt|--json] [--note soap|minutes|handover|NAME] [--save] [--seconds N] [--device NAME] [--asr-model FILE] [--llm-model FILE] [--vad-model FILE]"

// runDictate is `hark dictate`: the microphone transcribed until Ctrl-C (or --seconds), cut at
// pauses as it goes, the running transcript printed, the whole one written at the end.
func runDictate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dictate", stderr)
	cf := bindConfigFlags(fs, false)
	noGuard := noGuardFlag(fs)
	seconds := fs.Float64("seconds", 0, "stop after `N` seconds of recording, by the clock, even if the machine was too busy to take all the sound (default: at Ctrl-C)")
	prompt := fs.String("prompt", "", "words to spell the way you want (names, places, medicines)")
	outs := bindOutputFlags(fs, "write the transcript as JSON")
	noteName := fs.String("note", "", "then write a note of this template (soap, minutes, handover, NAME) with the language model: to FILE.note.md beside --out, else after the transcript")
	save := fs.Bool("save", false, "keep the transcript and the note in dictation.store (deleted after dictation.retention_days, and by `hark history wipe`)")
	nf := bindNoteFlags(fs, false)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *seconds < 0 {
		return fmt.Errorf("%w: %s", errUsage, usage("dictate"))
	}
	if err := outs.check(); err != nil {
		return err
	}
	s, err := openSetup(cf, stderr, "hark dictate", false)
	if err != nil {
		return err
	}
	s.noGuard = *noGuard
	var tmpl *notes.Template
	if *noteName != "" {
		t, err := s.noteTemplate(*noteName)
		if err != nil {
			return err
		}
		tmpl = &t
	}
	store, err := s.dictationStore(stderr)
	if err != nil && *save {
		return err
	}
	t, d, closeModels, err := s.loadDictation()
	if err != nil {
		return err
	}
	closeAll := sync.OnceFunc(closeModels)
	defer closeAll()
	t.prompt = *prompt
	c, err := device.OpenCapture(device.CaptureOptions{Device: s.cfg.Audio.InputDevice})
	if err != nil {
		return app.Explain(err, "The microphone could not be opened",
			"Check that a microphone is connected, or choose another one with --device (`hark devices` lists them).")
	}
	closeMic := sync.OnceFunc(func() { c.Close() })
	defer closeMic()
	until := "press Ctrl-C to stop"
	if *seconds > 0 {
		until = fmt.Sprintf("for %g s", *seconds)
	}
	fmt.Fprintf(stderr, "● recording from %q, %s\n", c.Device().Name, until)
	segs, err := dictateFrom(ctx, c, time.Duration(*seconds*float64(time.Second)), func() string { return t.language }, d, outs, stdout, stderr)
	if o := c.Overruns(); o > 0 {
		fmt.Fprintf(stderr, "hark dictate: %.2f s of sound was dropped because the machine was too busy\n", float64(o)/audio.SampleRate)
	}
	fmt.Fprintf(stderr, "hark dictate: speech recognition computed for %s\n", t.timings.Total.Round(time.Millisecond))
	closeMic()
	closeAll() // the speech model's memory goes back before the language model loads
	// A lost microphone still leaves a transcript worth a note and keeping.
	var note *notes.Note
	if tmpl != nil && len(segs) > 0 {
		n, nerr := s.makeNote(context.WithoutCancel(ctx), *tmpl, transcriptText(segs), nf, stderr)
		if nerr != nil {
			return errors.Join(err, nerr)
		}
		note = &n
		if werr := writeDictationNote(stdout, stderr, n, *outs.out); werr != nil {
			return errors.Join(err, werr)
		}
	}
	if *save && len(segs) > 0 {
		dir, kerr := keepDictation(store, segs, t.language, note)
		if kerr != nil {
			return errors.Join(err, kerr)
		}
		fmt.Fprintf(stderr, "hark dictate: kept in %s\n", dir)
	}
	return err
}

// transcriptText is the transcript as text for the language model: one segment per line.
func transcriptText(segs []dictation.Segment) string {
	var b bytes.Buffer
	dictation.WriteTXT(&b, segs)
	return b.String()
}

// writeDictationNote writes the note beside the transcript file (FILE.note.md), or after the
// transcript on standard output.
func writeDictationNote(stdout, stderr io.Writer, n notes.Note, out string) error {
	if out == "" {
		fmt.Fprintln(stdout)
		return writeNote(stdout, stderr, n, noteMarkdown, "")
	}
	return writeNote(stdout, stderr, n, noteMarkdown, strings.TrimSuffix(out, filepath.Ext(out))+".note.md")
}

// dictationBacklog is how many 100 ms reads of the microphone a dictation queues for a
// transcriber that is behind: 10 minutes (38 MB at most, allocated only as it fills). A slow
// machine or model (a real-time factor of 1.5 over a 20-minute visit) is absorbed there, where
// a shorter queue made the microphone drop what the doctor said (a minute's queue dropped
// 387 s of a 10-minute dictation at a load of 18-31).
const dictationBacklog = 10 * 60 * 10

// reader is the microphone as dictation reads it (a *device.Capture).
type reader interface {
	Read(ctx context.Context, p []float32) (int, error)
}

// dictateFrom transcribes src until ctx is done, limit (0: none) has passed or limit of audio
// was read (whichever comes first), or src fails. The transcript is written after every window
// when it goes to files, so whatever happens later, what was said so far is on disk.
//
// limit is `--seconds`: the recording's wall time, as a person counts it. Sound the microphone
// dropped because the machine was too busy (reported after) does not make the run longer; a
// source faster than real time (a test's) stops after limit of audio.
func dictateFrom(ctx context.Context, src reader, limit time.Duration, language func() string, d *dictation.Dictation, outs outputFlags, stdout, stderr io.Writer) ([]dictation.Segment, error) {
	// The microphone is read on its own goroutine, into a queue of dictationBacklog, so that a
	// window being transcribed does not stop the recording.
	type chunk struct {
		x   []float32
		err error
	}
	q := make(chan chunk, dictationBacklog)
	rctx, stop := ctx, context.CancelFunc(func() {})
	if limit > 0 {
		rctx, stop = context.WithTimeout(ctx, limit)
	}
	go func() {
		defer close(q)
		defer stop()
		// The recording ends here, before the queued windows are transcribed: the microphone
		// is released, and sound it would keep capturing meanwhile is not counted as dropped.
		if c, ok := src.(io.Closer); ok {
			defer c.Close()
		}
		want := int64(limit) * audio.SampleRate / int64(time.Second)
		var got int64
		for limit == 0 || got < want {
			buf := make([]float32, audio.SampleRate/10)
			n, err := src.Read(rctx, buf)
			if limit > 0 {
				n = int(min(int64(n), want-got))
			}
			got += int64(n)
			q <- chunk{buf[:n], err}
			if err != nil {
				return
			}
		}
	}()
	next := func() ([]float32, error) {
		c, ok := <-q
		if !ok {
			return nil, io.EOF
		}
		return c.x, c.err
	}
	toFiles := *outs.out != ""
	live := stderr
	if toFiles {
		live = stdout
	}
	var sofar []dictation.Segment
	show := func(segs []dictation.Segment) {
		for _, s := range segs {
			fmt.Fprintf(live, "[%s] %s\n", dictationClock(s.Start), s.Text)
		}
		if toFiles {
			sofar = append(sofar, segs...)
			if _, err := outs.write(stdout, sofar, language()); err != nil {
				fmt.Fprintf(stderr, "hark dictate: %v\n", err)
			}
		}
	}
	// Ctrl-C stops the recording, not the transcription of what was already said.
	segs, heard, err := dictateStream(context.WithoutCancel(ctx), d, next, show)
	stopped := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	if stopped {
		err = nil
	}
	written, werr := outs.write(stdout, segs, language())
	if werr != nil {
		return segs, errors.Join(err, werr)
	}
	where := ""
	if len(written) > 0 {
		where = ": " + strings.Join(written, ", ")
	}
	fmt.Fprintf(stderr, "■ %s of audio, %d segments%s\n", heard.Round(100*time.Millisecond), len(segs), where)
	if err != nil {
		kept := "nothing had been said yet"
		if len(segs) > 0 {
			kept = "what was said until then is kept" + where
		}
		return segs, &app.UserError{Msg: fmt.Sprintf("The microphone stopped after %s; %s", heard.Round(time.Second), kept),
			Hint: "Check that the microphone is still connected, then run `hark dictate` again.", Err: err}
	}
	return segs, nil
}

func dictationClock(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// loadDictation loads the configured speech model and voice activity detector (Silero when one
// is configured or downloaded, the energy detector otherwise) for long-form transcription.
func (s *setup) loadDictation() (*dictationASR, *dictation.Dictation, func(), error) {
	path, err := s.modelPath(models.ASR, s.cfg.Models.ASR)
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := asr.Load(path, asr.LoadOptions{Threads: s.threads(), MaxConcurrent: 1})
	if err != nil {
		return nil, nil, nil, app.Explain(err, "The speech model could not be loaded",
			"It must be a whisper.cpp model (ggml .bin); choose another one with --asr-model.")
	}
	opts := asr.DefaultOptions()
	opts.Language = s.cfg.Assistant.Language
	opts.TraditionalChinese = s.cfg.Assistant.Chinese == "traditional"
	if s.noGuard {
		opts.Guard = &asr.Guard{Off: true}
	}
	t := &dictationASR{m: m, opts: opts}
	det, closeDet, err := s.dictationDetector()
	if err != nil {
		m.Close()
		return nil, nil, nil, err
	}
	closeAll := func() { closeDet(); m.Close() }
	return t, dictation.New(t, det, s.dictationOptions()), closeAll, nil
}

// dictationDetector is the configured Silero model (or the downloaded default), else the
// energy detector.
func (s *setup) dictationDetector() (audio.Detector, func(), error) {
	vp, err := s.modelPath(models.VAD, s.cfg.Models.VAD)
	if err != nil {
		if s.cfg.Models.VAD != "" {
			return nil, nil, err
		}
		return audio.NewEnergyDetector(audio.EnergyConfig{}), func() {}, nil
	}
	v, err := vad.Load(vp)
	if err != nil {
		return nil, nil, app.Explain(err, "The voice detection model could not be loaded",
			"Choose a Silero VAD model (ggml-silero-*.bin) with --vad-model, or clear the setting to use simple energy detection.")
	}
	return v, func() { v.Close() }, nil
}

// dictationOptions are the configured endpointer settings; windows are at most
// dictation.MaxWindow whatever audio.max_utterance says.
func (s *setup) dictationOptions() dictation.Options {
	cfg := audio.DefaultEndpointerConfig()
	cfg.Threshold = float32(s.cfg.Audio.VADThreshold)
	cfg.TrailingSilence = s.cfg.Audio.TrailingSilence
	cfg.PreRoll = s.cfg.Audio.PreRoll
	cfg.MaxUtterance = 0
	o := dictation.Options{Endpointer: cfg}
	if !s.cfg.Dictation.CarryPrompt {
		o.PromptChars = -1
	}
	return o
}
