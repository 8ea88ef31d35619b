package main

import (
	"context"
	"errors"
	"io"

	"hark/app"
	"hark/audio"
	"hark/audio/device"
	"hark/audio/vad"
	"hark/models"
)

// The microphone and voice activity detection: audio/device, audio's endpointer and audio/vad,
// adapted to app.Source and app.Segmenter.

// openMicrophone opens the capture device name ("" = the system default) with the capture
// period periodMs (0: the device package's default). Read blocks for audio and reports a lost
// device as an error, which makes the assistant reopen it; on the default, a new default
// device is reported as an *app.DeviceChanged, which makes the assistant reopen it at once
// and say so.
func openMicrophone(name string, periodMs int) func(context.Context) (app.Source, error) {
	return func(context.Context) (app.Source, error) {
		c, err := device.OpenCapture(device.CaptureOptions{Device: name, PeriodMs: periodMs, FollowDefault: name == ""})
		if err != nil {
			return nil, app.Explain(err, "The microphone could not be opened",
				"Check that a microphone is connected, or choose another one in Settings (`hark devices` lists them).")
		}
		return microphone{c}, nil
	}
}

// microphone is a *device.Capture as an app.Source: the device layer's news of a new default
// becomes the assistant's own error type.
type microphone struct{ *device.Capture }

func (m microphone) Read(ctx context.Context, p []float32) (int, error) {
	n, err := m.Capture.Read(ctx, p)
	var ch *device.DefaultChanged
	if errors.As(err, &ch) {
		err = &app.DeviceChanged{Name: ch.To.Name, Err: err}
	}
	return n, err
}

// segmenter adapts audio.Endpointer to app.Segmenter.
type segmenter struct {
	ep     *audio.Endpointer
	closer io.Closer // the Silero model, if any
}

func (s *segmenter) Push(x []float32) ([]app.Boundary, error) {
	evs, err := s.ep.Push(x)
	var out []app.Boundary
	for _, e := range evs {
		switch e.Kind {
		case audio.SpeechStarted:
			out = append(out, app.Boundary{})
		case audio.SpeechEnded:
			out = append(out, app.Boundary{End: true, Utterance: e.Utterance})
		case audio.SpeechPaused:
			out = append(out, app.Boundary{Paused: true, Utterance: e.Utterance})
		case audio.SpeechResumed:
			out = append(out, app.Boundary{Resumed: true})
		}
	}
	return out, err
}

func (s *segmenter) Current() audio.PCM { return s.ep.Current() }
func (s *segmenter) Reset()             { s.ep.Reset() }

func (s *segmenter) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

// loadSegmenter loads the configured voice activity detector (Silero) behind an endpointer.
// When none is configured and the device class's default is not downloaded, it falls back to
// the energy detector, as the configuration documents.
func (s *setup) loadSegmenter() func(context.Context) (app.Segmenter, error) {
	ref := s.cfg.Models.VAD
	cfg := audio.DefaultEndpointerConfig()
	cfg.Threshold = float32(s.cfg.Audio.VADThreshold)
	cfg.TrailingSilence = s.cfg.Audio.TrailingSilence
	cfg.PreRoll = s.cfg.Audio.PreRoll
	cfg.PauseSilence = s.cfg.Audio.SpeculativeSilence
	cfg.MaxUtterance = s.cfg.Audio.MaxUtterance
	return func(context.Context) (app.Segmenter, error) {
		path, err := s.modelPath(models.VAD, ref)
		if err != nil {
			if ref == "" {
				return &segmenter{ep: audio.NewEndpointer(audio.NewEnergyDetector(audio.EnergyConfig{}), cfg)}, nil
			}
			return nil, err
		}
		d, err := vad.Load(path)
		if err != nil {
			return nil, app.Explain(err, "The voice detection model could not be loaded",
				"Choose a Silero VAD model (ggml-silero-*.bin) in Settings, or clear the setting to use simple energy detection.")
		}
		return &segmenter{ep: audio.NewEndpointer(d, cfg), closer: d}, nil
	}
}

// captureDevices lists the microphones' names for the settings dialog.
func captureDevices() ([]string, error) {
	infos, err := device.List()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, in := range infos {
		if in.Kind == device.KindCapture {
			names = append(names, in.Name)
		}
	}
	return names, nil
}
