// Package audio holds Hark's sound in memory: mono float32 PCM (16 kHz through the pipeline),
// WAV files, resampling, levels and the endpointer that cuts a stream into utterances. It is
// pure Go; the sound devices are in audio/device.
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
