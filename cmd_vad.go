package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"hark/app"
	"hark/app/config"
	"hark/audio"
	"hark/audio/vad"
	"hark/models"
)

// segment is one utterance `hark vad` prints.
type segment struct {
	StartMs int64 `json:"start_ms"`
	EndMs   int64 `json:"end_ms"`
}

// runVAD is `hark vad`: the configured voice activity detector (or --vad-model; the energy
// detector when none is installed) behind the endpointer the assistant uses, on a sound file.
func runVAD(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("vad", stderr)
	cf := modelsFlags(fs)
	cf.Bind("vad-model", "models.vad")
	def := audio.DefaultEndpointerConfig()
	energy := fs.Bool("energy", false, "use the energy detector even when a VAD model is available")
	asJSON := fs.Bool("json", false, "print a JSON list of {\"start_ms\", \"end_ms\"} objects")
	threshold := fs.Float64("threshold", float64(def.Threshold), "speech probability threshold (default: audio.vad_threshold when configured)")
	silence := fs.Duration("silence", def.TrailingSilence, "silence that ends an utterance (default: audio.trailing_silence when configured)")
	minSpeech := fs.Duration("min-speech", def.MinSpeech, "shorter sounds are ignored")
	maxUtt := fs.Duration("max-utterance", def.MaxUtterance, "longer speech is split at its quietest point (default: audio.max_utterance when configured)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: vad needs one sound file: %s", errUsage, usage("vad"))
	}
	s, err := openSetup(cf, stderr, "hark vad", false)
	if err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	configured := func(flag, key string) bool {
		return !given[flag] && s.cfg.Origin(key).Source != config.FromDefault
	}
	if configured("threshold", "audio.vad_threshold") {
		*threshold = s.cfg.Audio.VADThreshold
	}
	if configured("silence", "audio.trailing_silence") {
		*silence = s.cfg.Audio.TrailingSilence
	}
	if configured("max-utterance", "audio.max_utterance") && s.cfg.Audio.MaxUtterance > 0 {
		*maxUtt = s.cfg.Audio.MaxUtterance
	}
	pcm, err := audio.ReadAudio(fs.Arg(0))
	if err != nil {
		return err
	}
	var det audio.Detector = audio.NewEnergyDetector(audio.EnergyConfig{})
	if !*energy {
		path, err := s.modelPath(models.VAD, s.cfg.Models.VAD)
		switch {
		case err != nil && s.cfg.Models.VAD != "":
			return err
		case err != nil:
			fmt.Fprintf(stderr, "hark vad: %s; using the energy detector (--vad-model NAME|PATH to choose one)\n", app.Message(err))
		default:
			d, err := vad.Load(path)
			if err != nil {
				return err
			}
			defer d.Close()
			det = d
		}
	}
	cfg := audio.EndpointerConfig{
		Threshold:       float32(*threshold),
		TrailingSilence: *silence,
		PreRoll:         def.PreRoll,
		MinSpeech:       *minSpeech,
		MaxUtterance:    *maxUtt,
	}
	segs, err := endpoint(ctx, audio.NewEndpointer(det, cfg), pcm.Samples)
	if err != nil {
		return err
	}
	if *asJSON {
		if segs == nil {
			segs = []segment{}
		}
		enc := json.NewEncoder(stdout)
		return enc.Encode(segs)
	}
	for _, s := range segs {
		fmt.Fprintf(stdout, "%d\t%d\n", s.StartMs, s.EndMs)
	}
	if len(segs) == 0 {
		fmt.Fprintln(stderr, "hark vad: no speech found")
	}
	return nil
}

// endpoint runs the endpointer over a whole recording, a second at a time so that a long file
// can be interrupted.
func endpoint(ctx context.Context, ep *audio.Endpointer, samples []float32) ([]segment, error) {
	var segs []segment
	add := func(events []audio.EndpointEvent) {
		for _, e := range events {
			if e.Kind == audio.SpeechEnded {
				segs = append(segs, segment{e.Start.Milliseconds(), e.End.Milliseconds()})
			}
		}
	}
	for i := 0; i < len(samples); i += audio.SampleRate {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		events, err := ep.Push(samples[i:min(i+audio.SampleRate, len(samples))])
		add(events)
		if err != nil {
			return nil, err
		}
	}
	add(ep.Flush())
	return segs, nil
}
