// Package audio holds Hark's sound in memory: mono float32 PCM (16 kHz through the pipeline),
// WAV files, resampling, levels and the endpointer that cuts a stream into utterances. It is
// pure Go; the sound devices are in audio/device, the Silero voice activity detector in
// audio/vad.
//
// # Usage
//
// A stream of 16 kHz samples (from a Capture, or a file) goes through an [Endpointer] built on
// a [Detector] (Silero, or [NewEnergyDetector] when no model is installed); [Endpointer.Push]
// returns SpeechStarted and SpeechEnded events, the latter with the whole utterance, ready for
// speech recognition, and [Endpointer.Current] gives the utterance so far for partial
// transcripts. [ReadWAV] reads any PCM or float WAV file as 16 kHz mono, [ReadAudio] also FLAC and
// MP3 (mewkiz/flac, go-mp3); [Resample] and the
// streaming [Resampler] convert rates (windowed sinc; quality figures in resample.go).
//
// # Concurrency
//
// PCM and Level are plain values. An Endpointer, a Detector and a Resampler each belong to one
// goroutine at a time; everything else is safe to call from any goroutine.
package audio

import "time"

// SampleRate is the rate of the PCM that flows through Hark (whisper.cpp's rate).
const SampleRate = 16000

// PCM is mono audio: samples in [-1, 1] at Rate samples per second.
type PCM struct {
	Rate    int
	Samples []float32
}

// Duration is how long the audio lasts.
func (p PCM) Duration() time.Duration {
	if p.Rate <= 0 {
		return 0
	}
	return time.Duration(len(p.Samples)) * time.Second / time.Duration(p.Rate)
}
