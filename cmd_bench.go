package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"hark/app"
	"hark/audio"
)

// runBench is `hark bench`: N spoken questions from a WAV file through the real pipeline
// (speech recognition and language model; no microphone, no speech output), with each stage's
// median and 90th percentile and the pipeline's own overhead: the time of a turn that is not
// the engines' compute.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	cf := bindConfigFlags(fs, false)
	noGuard := noGuardFlag(fs)
	wav := fs.String("wav", "", "the spoken question, a WAV `FILE`")
	turns := fs.Int("turns", 5, "measured turns (after one warm-up turn)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *wav == "" {
		return fmt.Errorf("%w: bench needs --wav (and the models: --asr-model, --llm-model, or the configured ones)", errUsage)
	}
	s, err := openSetup(cf, stderr, "hark bench", true)
	if err != nil {
		return err
	}
	s.noGuard = *noGuard
	if *turns < 1 {
		return fmt.Errorf("%w: bench: --turns must be at least 1", errUsage)
	}
	pcm, err := audio.ReadAudio(*wav)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	res, err := bench(ctx, benchSetup{
		loaders: app.Loaders{Transcriber: s.loadTranscriber(), Brain: s.loadBrain()},
		turns:   *turns,
		submit: func(a *app.Assistant) {
			a.Submit(pcm)
		},
	})
	if err != nil {
		return err
	}
	res.WAV, res.ASRModel, res.LLMModel = *wav, s.cfg.Models.ASR, s.cfg.Models.LLM
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	res.print(stdout)
	return nil
}

// benchSetup is what bench runs: engines, how many turns, and how a turn is asked.
type benchSetup struct {
	loaders app.Loaders
	turns   int
	submit  func(*app.Assistant)
}

// benchResult is the measurement, in milliseconds.
type benchResult struct {
	WAV      string                `json:"wav,omitempty"`
	ASRModel string                `json:"asr_model,omitempty"`
	LLMModel string                `json:"llm_model,omitempty"`
	Turns    int                   `json:"turns"`
	Stages   map[string]benchStats `json:"stages_ms"`
	order    []string
}

type benchStats struct {
	Median float64 `json:"median"`
	P90    float64 `json:"p90"`
}

// bench runs one warm-up turn and then setup.turns measured ones, each in a new conversation
// so that every turn does the same work.
func bench(ctx context.Context, setup benchSetup) (benchResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan app.Event, 1024)
	sink := app.SinkFunc(func(e app.Event) {
		switch e.Kind {
		case app.EventTurnDone, app.EventComponent, app.EventIgnored, app.EventError:
			events <- e // few; the buffer never fills
		}
	})
	cfg := app.DefaultConfig()
	cfg.PartialEvery = -1
	a := app.New(app.Options{Config: cfg, Loaders: setup.loaders, Sink: sink})
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// Wait for both engines.
	for ready := map[app.Component]bool{}; !ready[app.ComponentASR] || !ready[app.ComponentLLM]; {
		select {
		case e := <-events:
			if e.Kind == app.EventComponent && e.Phase == app.PhaseFailed {
				return benchResult{}, fmt.Errorf("bench: %s: %w", e.Component.Title(), e.Err)
			}
			if e.Kind == app.EventComponent && e.Phase == app.PhaseReady {
				ready[e.Component] = true
			}
		case <-ctx.Done():
			return benchResult{}, ctx.Err()
		}
	}
	type sample struct {
		t    app.Timings
		wall time.Duration
	}
	var samples []sample
	for i := 0; i <= setup.turns; i++ {
		a.NewConversation()
		start := time.Now()
		setup.submit(a)
		var done app.Event
		for done.Kind != app.EventTurnDone {
			select {
			case e := <-events:
				switch {
				case e.Kind == app.EventTurnDone:
					done = e
				case e.Kind == app.EventIgnored && e.Turn == 0:
					return benchResult{}, fmt.Errorf("bench: the question was not taken: %s", e.Reason)
				}
			case <-ctx.Done():
				return benchResult{}, ctx.Err()
			}
		}
		wall := time.Since(start)
		switch {
		case done.Err != nil:
			return benchResult{}, fmt.Errorf("bench: turn %d failed: %w", i, done.Err)
		case done.Ignored != "":
			return benchResult{}, fmt.Errorf("bench: turn %d was %s (the recogniser heard nothing in the WAV?)", i, done.Reason)
		case done.Timings == nil:
			return benchResult{}, errors.New("bench: a turn ended without timings")
		}
		if i > 0 { // the first turn warms the engines up
			samples = append(samples, sample{*done.Timings, wall})
		}
	}
	res := benchResult{Turns: len(samples), Stages: map[string]benchStats{}}
	add := func(name string, f func(sample) time.Duration) {
		var v []float64
		for _, s := range samples {
			v = append(v, float64(f(s))/1e6)
		}
		res.Stages[name] = benchStats{percentile(v, 0.5), percentile(v, 0.9)}
		res.order = append(res.order, name)
	}
	add("speech (audio length)", func(s sample) time.Duration { return s.t.Speech })
	add("end of speech → transcript", func(s sample) time.Duration { return s.t.Transcribe })
	add("transcript → first token", func(s sample) time.Duration { return s.t.FirstToken })
	add("transcript → last token", func(s sample) time.Duration { return s.t.Generate })
	add("end of speech → last token", func(s sample) time.Duration { return s.t.Total })
	add("asr compute", func(s sample) time.Duration { return s.t.ASRCompute })
	add("llm compute", func(s sample) time.Duration { return s.t.LLMCompute })
	add("pipeline overhead (total − compute)", func(s sample) time.Duration { return s.t.Overhead })
	add("round trip overhead (caller's wall − compute)", func(s sample) time.Duration {
		return s.wall - s.t.ASRCompute - s.t.LLMCompute
	})
	return res, nil
}

// percentile is the p-quantile of v (nearest rank).
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func (r benchResult) print(w io.Writer) {
	fmt.Fprintf(w, "hark bench: %d turns", r.Turns)
	if r.WAV != "" {
		fmt.Fprintf(w, " of %s", r.WAV)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\tmedian ms\tp90 ms\t")
	for _, name := range r.order {
		s := r.Stages[name]
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t\n", name, s.Median, s.P90)
	}
	tw.Flush()
	if o, ok := r.Stages["pipeline overhead (total − compute)"]; ok {
		verdict := "within"
		if o.Median > 30 {
			verdict = "OVER"
		}
		fmt.Fprintf(w, "pipeline overhead %.2f ms median: %s the 30 ms goal\n", o.Median, verdict)
	}
}
