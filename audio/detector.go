package audio

import (
	"fmt"
	"math"
	"time"
)

// Detector is a voice activity detector: it gives the probability that each consecutive
// fixed-size frame of 16 kHz mono audio holds speech. A Detector is used by one goroutine at a
// time.
type Detector interface {
	FrameSize() int                          // samples per frame (Silero: 512)
	Speech(frame []float32) (float32, error) // probability in [0,1]; frames arrive in order
	Reset()                                  // forget the stream's state (a new stream begins)
}

// EnergyConfig tunes the energy detector. Zero fields take the defaults of
// DefaultEnergyConfig.
type EnergyConfig struct {
	FrameSize int           // samples per frame at 16 kHz (default 320: 20 ms)
	MinLevel  float64       // dBFS: frames quieter than this are never speech (default -50)
	Margin    float64       // dB above the noise floor where speech probability reaches 0.5 (default 10)
	Window    time.Duration // the noise floor is the quietest frame of this last stretch (default 2 s)
}

// DefaultEnergyConfig returns the energy detector's defaults.
func DefaultEnergyConfig() EnergyConfig {
	return EnergyConfig{FrameSize: 320, MinLevel: -50, Margin: 10, Window: 2 * time.Second}
}

// digitalSilence is the level below which a frame is taken for digital silence rather than the
// quietest a real room and microphone can be (16-bit dither alone is around -101 dBFS).
const digitalSilence = -90.0

// energyDetector calls a frame speech when it is clearly louder than the background. Its level
// is the RMS of the last three frames (60 ms, which steadies the level of noise), compared with
// the noise floor: the quietest such level of the last Window (minimum statistics: pauses
// between words keep it down during speech, and a steady noise raises it within one Window).
// It knows nothing of what speech sounds like — a slammed door is speech to it — which is why
// the Silero model (audio/vad) is preferred.
type energyDetector struct {
	cfg    EnergyConfig
	powers [3]float64 // the last frames' mean squares
	levels []float64  // ring of the last Window's smoothed levels
	n, at  int
	frames int
}

// NewEnergyDetector returns the fallback detector for when no VAD model is configured.
func NewEnergyDetector(cfg EnergyConfig) Detector {
	def := DefaultEnergyConfig()
	if cfg.FrameSize <= 0 {
		cfg.FrameSize = def.FrameSize
	}
	if cfg.MinLevel == 0 {
		cfg.MinLevel = def.MinLevel
	}
	if cfg.Margin == 0 {
		cfg.Margin = def.Margin
	}
	if cfg.Window <= 0 {
		cfg.Window = def.Window
	}
	w := int(cfg.Window * SampleRate / time.Second / time.Duration(cfg.FrameSize))
	return &energyDetector{cfg: cfg, levels: make([]float64, max(w, 1))}
}

func (e *energyDetector) FrameSize() int { return e.cfg.FrameSize }

func (e *energyDetector) Reset() { e.n, e.at, e.frames = 0, 0, 0 }

func (e *energyDetector) Speech(frame []float32) (float32, error) {
	if len(frame) != e.cfg.FrameSize {
		return 0, fmt.Errorf("audio: energy detector: frame of %d samples, want %d", len(frame), e.cfg.FrameSize)
	}
	var sum float64
	for _, s := range frame {
		sum += float64(s) * float64(s)
	}
	e.powers[e.frames%len(e.powers)] = sum / float64(len(frame))
	e.frames++
	var p float64
	k := min(e.frames, len(e.powers))
	for _, v := range e.powers[:k] {
		p += v
	}
	level := PowerDB(p / float64(k))
	e.levels[e.at] = level
	e.at = (e.at + 1) % len(e.levels)
	e.n = min(e.n+1, len(e.levels))
	// Digital silence (a muted input, the padding before a recording) says nothing about the
	// room: it does not count towards the floor unless there is nothing else.
	floor := math.Inf(1)
	for _, l := range e.levels[:e.n] {
		if l > digitalSilence {
			floor = math.Min(floor, l)
		}
	}
	if math.IsInf(floor, 1) {
		floor = SilenceDB
	}
	threshold := math.Max(floor+e.cfg.Margin, e.cfg.MinLevel)
	// 2 dB per e-fold: 4 dB above the threshold is p=0.88, 4 dB below p=0.12.
	return float32(1 / (1 + math.Exp(-(level-threshold)/2))), nil
}
