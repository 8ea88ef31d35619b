package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"hark/app/config"
	"hark/asr"
	"hark/audio"
	"hark/dictation"
	"hark/models"
)

// runTranscribe is `hark transcribe`: the configured speech model (or --model: a manifest name
// or a file) on a sound file.
func runTranscribe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("transcribe", stderr)
	cf := modelsFlags(fs)
	cf.Bind("model", "models.asr")
	cf.Bind("threads", "performance.threads")
	lang := fs.String("lang", "", "spoken language: a code (en, de, ...) or auto (default: assistant.language when configured, else auto)")
	asJSON := fs.Bool("json", false, "print text, segments, language and timings as JSON")
	beam := fs.Int("beam", 0, "beam search width (0 or 1: greedy)")
	fallback := fs.Bool("fallback", false, "re-decode at higher temperatures when decoding fails")
	prompt := fs.String("prompt", "", "initial prompt: words to spell the way you want (names, places)")
	translate := fs.Bool("translate", false, "translate into English (multilingual models)")
	full := fs.Bool("full-window", false, "encode whisper's full 30-second window instead of the audio's length")
	timestamps := fs.Bool("timestamps", false, "timestamped segments")
	maxTokens := fs.Int("max-tokens", 0, "at most this many tokens per segment (0: no limit)")
	traditional := fs.Bool("traditional", false, "write Chinese as whisper does (often Traditional) instead of Simplified")
	noGuard := fs.Bool("no-guard", false, "keep text the hallucination guard would drop")
	verbose := fs.Bool("verbose", false, "show whisper.cpp's log (debug lines on stderr)")
	live := fs.Bool("live", false, "feed the file in at real-time pace and show live partial transcripts (on stderr, or in the JSON)")
	outs := bindOutputFlags(fs, "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: transcribe needs one sound file: %s", errUsage, usage("transcribe"))
	}
	if err := outs.check(); err != nil {
		return err
	}
	if (*live || *asJSON) && outs.asked() {
		return fmt.Errorf("%w: --live and --json print to standard output; they do not combine with --txt, --srt, --vtt or --out", errUsage)
	}
	s, err := openSetup(cf, stderr, "hark transcribe", false)
	if err != nil {
		return err
	}
	path, err := s.modelPath(models.ASR, s.cfg.Models.ASR)
	if err != nil {
		return err
	}
	if *lang == "" {
		*lang = "auto"
		if s.cfg.Origin("assistant.language").Source != config.FromDefault {
			*lang = s.cfg.Assistant.Language
		}
	}
	// A file longer than whisper's window (or one asked for as subtitles) is transcribed as a
	// dictation: streamed, cut at pauses, window by window.
	var snd soundFile
	if *live {
		p, err := audio.ReadAudio(fs.Arg(0))
		if err != nil {
			return err
		}
		snd = soundFile{head: p.Samples, close: func() {}}
	} else if snd, err = openSound(fs.Arg(0), int(dictation.MaxWindow.Seconds())*audio.SampleRate); err != nil {
		return err
	}
	defer snd.close()
	pcm := audio.PCM{Rate: audio.SampleRate, Samples: snd.head}
	setVerbose(*verbose, stderr, "hark")
	m, err := asr.Load(path, asr.LoadOptions{Threads: s.threads(), MaxConcurrent: 1})
	if err != nil {
		return err
	}
	defer m.Close()
	o := asr.DefaultOptions()
	o.Language, o.BeamSize, o.TemperatureFallback = *lang, *beam, *fallback
	o.InitialPrompt, o.Translate, o.TrimAudioCtx = *prompt, *translate, !*full
	o.Timestamps, o.MaxTokens, o.TraditionalChinese = *timestamps, *maxTokens, *traditional
	if *noGuard {
		o.Guard = &asr.Guard{Off: true}
	}
	if snd.rest != nil || outs.asked() {
		return transcribeLong(ctx, s, m, o, *prompt, snd, outs, *asJSON, stdout, stderr)
	}
	var res asr.Result
	var partials []partialJSON
	if *live {
		res, partials, err = transcribeLive(ctx, m, pcm.Samples, o, func(p asr.Partial) {
			if !*asJSON {
				fmt.Fprintf(stderr, "… %s\n", p.Text)
			}
		})
	} else {
		res, err = m.Transcribe(ctx, pcm.Samples, o)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeTranscriptJSON(stdout, m.Info(), pcm.Duration().Seconds(), res, partials)
	}
	fmt.Fprintln(stdout, res.Text)
	if res.Dropped != "" {
		fmt.Fprintf(stderr, "hark: dropped by the hallucination guard: %s\n", res.Dropped)
	}
	return nil
}

// transcribeLong transcribes a sound file of any length as a dictation (package dictation):
// cut at pauses by the configured voice activity detector, window by window with the text
// before as the prompt. Without an output format each segment is printed as it is heard.
func transcribeLong(ctx context.Context, s *setup, m *asr.Model, o asr.Options, prompt string, snd soundFile, outs outputFlags, asJSON bool, stdout, stderr io.Writer) error {
	o.InitialPrompt = ""
	t := &dictationASR{m: m, opts: o, prompt: prompt}
	det, closeDet, err := s.dictationDetector()
	if err != nil {
		return err
	}
	defer closeDet()
	d := dictation.New(t, det, s.dictationOptions())
	next, nsegs := snd.all(), 0
	show := func(segs []dictation.Segment) { nsegs += len(segs) }
	if !asJSON && !outs.asked() {
		show = func(segs []dictation.Segment) {
			for _, g := range segs {
				fmt.Fprintln(stdout, g.Text)
			}
		}
	} else {
		// Nothing is printed until the end: say how far it is, for a file of hours.
		next = withProgress(next, func(heard time.Duration) {
			of := ""
			if snd.length > 0 {
				of = fmt.Sprintf(" of %s (%d%%)", clock(snd.length), min(100, 100*heard/snd.length))
			}
			fmt.Fprintf(stderr, "hark transcribe: %s%s heard, %d segments\n", clock(heard), of, nsegs)
		})
	}
	segs, heard, err := dictateStream(ctx, d, next, show)
	if err != nil {
		return err
	}
	dropped := strings.Join(t.dropped, "; ")
	switch {
	case asJSON:
		res := asr.Result{Text: dictation.Text(segs), Language: t.language, Timings: t.timings, Dropped: dropped}
		for _, g := range segs {
			res.Segments = append(res.Segments, asr.Segment{Start: g.Start, End: g.End, Text: g.Text, NoSpeechProb: -1})
		}
		return writeTranscriptJSON(stdout, m.Info(), heard.Seconds(), res, nil)
	case outs.asked():
		written, err := outs.write(stdout, segs, t.language)
		if err != nil {
			return err
		}
		if len(written) > 0 {
			fmt.Fprintf(stderr, "hark transcribe: %s of audio, %d segments in %d windows: %s\n", heard.Round(time.Second), len(segs), d.Windows(), strings.Join(written, ", "))
		}
	}
	if dropped != "" && !asJSON {
		fmt.Fprintf(stderr, "hark: dropped by the hallucination guard: %s\n", dropped)
	}
	return nil
}

// progressEvery is how much audio `hark transcribe` hears between two progress lines.
const progressEvery = 10 * time.Minute

// withProgress passes next's chunks on, calling report each time the audio handed out passes a
// multiple of progressEvery.
func withProgress(next func() ([]float32, error), report func(heard time.Duration)) func() ([]float32, error) {
	var n int64
	mark := progressEvery
	return func() ([]float32, error) {
		c, err := next()
		n += int64(len(c))
		for ; audioTime(n) >= mark; mark += progressEvery {
			report(mark)
		}
		return c, err
	}
}

// clock writes d as h:mm:ss.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// transcribeLive plays pcm into an asr.Streamer in 100 ms pieces at real-time pace, as a
// microphone would deliver it, and returns the final result and the partials shown on the way.
func transcribeLive(ctx context.Context, m *asr.Model, pcm []float32, o asr.Options, show func(asr.Partial)) (asr.Result, []partialJSON, error) {
	partial := o
	if partial.MaxTokens == 0 || partial.MaxTokens > 64 {
		partial.MaxTokens = 64 // a partial that runs away is not worth the CPU
	}
	var partials []partialJSON
	start := time.Now()
	u := asr.NewStreamer(m, asr.StreamOptions{Partial: &partial, Final: &o}).Start(ctx, func(p asr.Partial) {
		if !p.Final {
			partials = append(partials, partialJSON{At: time.Since(start).Seconds(), Audio: p.Audio.Seconds(), Text: p.Text})
			show(p)
		}
	})
	const piece = 1600 // 100 ms
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < len(pcm); i += piece {
		u.Append(pcm[i:min(i+piece, len(pcm))])
		select {
		case <-ctx.Done():
			u.Cancel()
			return asr.Result{}, nil, ctx.Err()
		case <-tick.C:
		}
	}
	res, err := u.Finish(ctx, nil)
	return res, partials, err
}

// transcriptJSON is `hark transcribe --json`'s output: times in seconds, timings in milliseconds.
type transcriptJSON struct {
	Text     string        `json:"text"`
	Language string        `json:"language"`
	Segments []segmentJSON `json:"segments"`
	Dropped  string        `json:"dropped,omitempty"`
	Timings  struct {
		Mel    float64 `json:"mel_ms"`
		Encode float64 `json:"encode_ms"`
		Decode float64 `json:"decode_ms"`
		Total  float64 `json:"total_ms"`
	} `json:"timings"`
	AudioSeconds float64       `json:"audio_seconds"`
	AudioCtx     int           `json:"audio_ctx"`
	Partials     []partialJSON `json:"partials,omitempty"`
	Model        struct {
		Path        string `json:"path"`
		Type        string `json:"type"`
		WeightType  string `json:"weight_type"`
		MemoryBytes int64  `json:"memory_bytes"`
	} `json:"model"`
}

// partialJSON is one live partial transcript: when it came (seconds after the start) and how
// much audio it covers.
type partialJSON struct {
	At    float64 `json:"at"`
	Audio float64 `json:"audio_seconds"`
	Text  string  `json:"text"`
}

type segmentJSON struct {
	Start        float64 `json:"start"`
	End          float64 `json:"end"`
	Text         string  `json:"text"`
	NoSpeechProb float32 `json:"no_speech_prob"`
	AvgLogProb   float32 `json:"avg_logprob"`
	Dropped      string  `json:"dropped,omitempty"`
}

func writeTranscriptJSON(w io.Writer, info asr.Info, audioSeconds float64, res asr.Result, partials []partialJSON) error {
	ms := func(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }
	var j transcriptJSON
	j.Text, j.Language, j.Dropped, j.AudioCtx = res.Text, res.Language, res.Dropped, res.AudioCtx
	j.Segments = []segmentJSON{}
	for _, s := range res.Segments {
		j.Segments = append(j.Segments, segmentJSON{s.Start.Seconds(), s.End.Seconds(), strings.TrimSpace(s.Text), s.NoSpeechProb, s.AvgLogProb, s.Dropped})
	}
	j.Timings.Mel, j.Timings.Encode, j.Timings.Decode, j.Timings.Total = ms(res.Timings.Mel), ms(res.Timings.Encode), ms(res.Timings.Decode), ms(res.Timings.Total)
	j.AudioSeconds = audioSeconds
	j.Partials = partials
	j.Model.Path, j.Model.Type, j.Model.WeightType, j.Model.MemoryBytes = info.Path, info.Type, info.WeightType, info.MemoryBytes
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(j)
}
