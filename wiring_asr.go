package main

import (
	"context"

	"hark/app"
	"hark/asr"
	"hark/audio"
	"hark/models"
)

// Speech recognition: asr adapted to app.Transcriber.

// transcriber adapts *asr.Model.
type transcriber struct {
	m    *asr.Model
	opts asr.Options
}

func (s *setup) loadTranscriber() func(context.Context, func(float64)) (app.Transcriber, error) {
	ref, threads := s.cfg.Models.ASR, s.threads()
	opts := asr.DefaultOptions()
	opts.Language = s.cfg.Assistant.Language
	opts.TraditionalChinese = s.cfg.Assistant.Chinese == "traditional"
	if s.noGuard {
		opts.Guard = &asr.Guard{Off: true}
	}
	if s.asrMaxTokens > 0 {
		opts.MaxTokens = s.asrMaxTokens
	}
	return func(ctx context.Context, _ func(float64)) (app.Transcriber, error) {
		path, err := s.modelPath(models.ASR, ref)
		if err != nil {
			return nil, err
		}
		if _, err := asr.CheckFile(path); err != nil {
			return nil, app.Explain(err, "The speech model file is not usable",
				"It must be a whisper.cpp model (ggml .bin); choose another file in Settings, or run `hark models verify`.")
		}
		m, err := asr.Load(path, asr.LoadOptions{Threads: threads})
		if err != nil {
			return nil, app.Explain(err, "The speech model could not be loaded",
				"It must be a whisper.cpp model (ggml .bin); choose another file in Settings.")
		}
		return transcriber{m: m, opts: opts}, nil
	}
}

// Transcribe reports the engine's own compute (mel, encoder, decoder), not time spent waiting
// for a free whisper state while a live transcript finishes: that wait is the pipeline's.
func (t transcriber) Transcribe(ctx context.Context, pcm audio.PCM) (app.Transcript, error) {
	res, err := t.m.Transcribe(ctx, pcm.Samples, t.opts)
	tm := res.Timings
	return app.Transcript{Text: res.Text, Compute: tm.Mel + tm.Encode + tm.Decode, Dropped: res.Dropped, Language: res.Language}, err
}

func (t transcriber) Close() error { return t.m.Close() }
