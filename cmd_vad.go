package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"hark/audio"
	"hark/audio/vad"
)

// vadModelName is the Silero VAD model Hark looks for in its models folder.
const vadModelName = "ggml-silero-v6.2.0.bin"

// userModelPath is where an installed model lives: $XDG_DATA_HOME/hark/models/NAME (by default
// ~/.local/share/hark/models/NAME).
func userModelPath(name string) string {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "hark", "models", name)
}

// segment is one utterance `hark vad` prints.
type segment struct {
	StartMs int64 `json:"start_ms"`
	EndMs   int64 `json:"end_ms"`
}

func runVAD(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const synopsis = "[--vad-model PATH] [--json] FILE.wav"
	fs := newFlags("vad", synopsis, stderr)
	def := audio.DefaultEndpointerConfig()
	model := fs.String("vad-model", "", "Silero VAD model (default: "+userModelPath(vadModelName)+" when installed, else the energy detector)")
	energy := fs.Bool("energy", false, "use the energy detector even when a VAD model is available")
	asJSON := fs.Bool("json", false, "print a JSON list of {\"start_ms\", \"end_ms\"} objects")
	threshold := fs.Float64("threshold", float64(def.Threshold), "speech probability threshold")
	silence := fs.Duration("silence", def.TrailingSilence, "silence that ends an utterance")
	minSpeech := fs.Duration("min-speech", def.MinSpeech, "shorter sounds are ignored")
	maxUtt := fs.Duration("max-utterance", def.MaxUtterance, "longer speech is split at its quietest point")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: vad needs one WAV file: hark vad %s", errUsage, synopsis)
	}
	pcm, err := audio.ReadWAV(fs.Arg(0))
	if err != nil {
		return err
	}
	var det audio.Detector
	switch {
	case *energy:
		det = audio.NewEnergyDetector(audio.EnergyConfig{})
	case *model != "":
		s, err := vad.Load(*model)
		if err != nil {
			return err
		}
		defer s.Close()
		det = s
	default:
		p := userModelPath(vadModelName)
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintf(stderr, "hark vad: no VAD model at %s; using the energy detector (--vad-model PATH to choose one)\n", p)
			det = audio.NewEnergyDetector(audio.EnergyConfig{})
			break
		}
		s, err := vad.Load(p)
		if err != nil {
			return err
		}
		defer s.Close()
		det = s
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
