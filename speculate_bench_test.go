package main

import (
	"context"
	"testing"
	"time"

	"hark/asr"
	"hark/audio"
	"hark/audio/vad"
	"hark/internal/testmodels"
)

// pausedSentences are questions and commands with natural pauses inside them (espeak-ng pauses
// at commas), for the cost of speculative end of turn.
var pausedSentences = []string{
	"Hey Hark, what time is it?",
	"Turn on the lights in the kitchen, please.",
	"Set a timer for ten minutes, and then remind me to call my mother.",
	"What is the weather like tomorrow, in Paris?",
	"Add milk, eggs, bread and coffee to my shopping list.",
	"Tell me a joke, a short one.",
	"How far is the moon, in kilometres?",
	"Well, I was wondering, what is the capital of France?",
}

// BenchmarkSpeculationWaste measures what speculative end of turn costs on speech with pauses
// inside it: five of the held-out espeak-ng voices and speeds (trained_asr_test.go) say
// pausedSentences, with a second of silence around each; the real Silero VAD and the
// endpointer (audio.speculative_silence 200 ms, trailing silence 600 ms) cut them. A pause
// that is followed by more speech is a dropped start; its cost is the base-sized whisper
// transcription it would have run (the model BenchmarkLatencyAtDevices uses, 12 tokens, the
// trimmed audio_ctx). No sentence may be cut in two:
//
//	go test -run '^$' -bench SpeculationWaste -benchtime 1x .
func BenchmarkSpeculationWaste(b *testing.B) {
	d, err := vad.Load(testmodels.Shared(b, "ggml-silero-v6.2.0.bin"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	m, err := asr.Load(testmodels.WhisperCached(b, testmodels.BaseWhisper()), asr.LoadOptions{Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	opts := asr.DefaultOptions()
	opts.Language, opts.MaxTokens, opts.Guard = "en", 12, &asr.Guard{Off: true}
	cfg := audio.DefaultEndpointerConfig()
	cfg.PauseSilence = 200 * time.Millisecond
	var started, dropped, committed, split, sentences int
	var wasted, compute time.Duration
	for b.Loop() {
		for _, v := range heldOutVoices[:5] { // five voices: a few minutes on two cores
			for _, text := range pausedSentences {
				speech := speakAs(b, text, v.voice, v.speed, 50)
				pcm := make([]float32, 0, len(speech)+2*audio.SampleRate)
				pcm = append(pcm, make([]float32, audio.SampleRate)...)
				pcm = append(pcm, speech...)
				pcm = append(pcm, make([]float32, audio.SampleRate)...)
				ep := audio.NewEndpointer(d, cfg)
				sentences++
				ends := 0
				var paused audio.PCM
				for i := 0; i < len(pcm); i += 512 {
					evs, err := ep.Push(pcm[i:min(i+512, len(pcm))])
					if err != nil {
						b.Fatal(err)
					}
					for _, e := range evs {
						switch e.Kind {
						case audio.SpeechPaused:
							started++
							paused = e.Utterance
						case audio.SpeechResumed:
							dropped++
							res, err := m.Transcribe(context.Background(), paused.Samples, opts)
							if err != nil {
								b.Fatal(err)
							}
							wasted += res.Timings.Mel + res.Timings.Encode + res.Timings.Decode
						case audio.SpeechEnded:
							ends++
							committed++
							res, err := m.Transcribe(context.Background(), e.Utterance.Samples, opts)
							if err != nil {
								b.Fatal(err)
							}
							compute += res.Timings.Mel + res.Timings.Encode + res.Timings.Decode
						}
					}
				}
				if ends != 1 {
					split++
					b.Logf("%q (%s, %d wpm): %d utterances", text, v.voice, v.speed, ends)
				}
			}
		}
	}
	b.ReportMetric(float64(started)/float64(sentences), "starts/sentence")
	b.ReportMetric(float64(dropped)/float64(max(started, 1)), "dropped-share")
	b.ReportMetric(float64(wasted.Milliseconds())/float64(sentences), "wasted-ms/sentence")
	b.ReportMetric(float64(wasted)/float64(max(compute, 1)), "wasted/asr-compute")
	b.ReportMetric(float64(split), "sentences-split")
	b.Logf("%d sentences: %d speculative starts, %d dropped, %d committed; wasted %v of transcription against %v for the turns themselves; %d split",
		sentences, started, dropped, committed, wasted.Round(time.Millisecond), compute.Round(time.Millisecond), split)
}
