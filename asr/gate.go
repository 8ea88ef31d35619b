package asr

import (
	"fmt"
	"sync"
	"time"
)

// SpeechDetector is the voice activity detector SpeechGate consults: speech probabilities for
// consecutive fixed-size frames of 16 kHz audio. audio.Detector (the energy detector, the Silero
// VAD in audio/vad) has exactly these methods.
type SpeechDetector interface {
	FrameSize() int
	Speech(frame []float32) (float32, error)
	Reset()
}

// GateConfig tunes SpeechGate.
type GateConfig struct {
	Threshold float32       // a frame is speech at or above this probability; default 0.5
	MinSpeech time.Duration // at least this much speech in total; default 250 ms
}

// SpeechGate returns a function for Options.RequireSpeech: it runs d over the audio, from a
// reset state, and says whether it holds at least MinSpeech of frames the detector calls speech.
// The returned function may be called from several goroutines (calls take turns on d); d must
// not be used elsewhere meanwhile.
//
// The pipeline's endpointer already cuts utterances with the VAD; the gate matters where audio
// reaches Transcribe without that (a file, a push-to-talk button, a too-short burst), so that
// the VAD's verdict, not whisper's guess, decides whether there is anything to transcribe.
func SpeechGate(d SpeechDetector, cfg GateConfig) func(pcm []float32) (bool, error) {
	if cfg.Threshold <= 0 {
		cfg.Threshold = 0.5
	}
	if cfg.MinSpeech <= 0 {
		cfg.MinSpeech = 250 * time.Millisecond
	}
	var mu sync.Mutex
	return func(pcm []float32) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		n := d.FrameSize()
		if n <= 0 {
			return false, fmt.Errorf("asr: speech gate: detector frame size %d", n)
		}
		d.Reset()
		need := int(cfg.MinSpeech.Seconds()*sampleRate+float64(n)-1) / n
		speech := 0
		frame := make([]float32, n)
		for i := 0; i < len(pcm); i += n {
			// The last, partial frame is padded with silence: detectors take whole frames.
			clear(frame[copy(frame, pcm[i:min(i+n, len(pcm))]):])
			p, err := d.Speech(frame)
			if err != nil {
				return false, fmt.Errorf("asr: speech gate: %w", err)
			}
			if p >= cfg.Threshold {
				speech++
				if speech >= need {
					return true, nil
				}
			}
		}
		return false, nil
	}
}
