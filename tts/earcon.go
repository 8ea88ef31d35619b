package tts

import (
	"math"

	"hark/audio"
)

// Earcon is a short sound that tells a person what the assistant is doing without words.
type Earcon int

const (
	EarconListening Earcon = iota // the microphone is open: two rising notes
	EarconGotIt                   // the question was heard: one short falling step
	EarconError                   // something went wrong: two low falling notes
	EarconTimer                   // a timer or alarm came due: a bright rising bell, three notes
)

func (e Earcon) String() string {
	switch e {
	case EarconListening:
		return "listening"
	case EarconGotIt:
		return "got it"
	case EarconError:
		return "error"
	case EarconTimer:
		return "timer"
	}
	return "unknown earcon"
}

// note is one tone of an earcon.
type note struct {
	freq   float64 // Hz
	ms     int     // length
	bright float64 // level of the 2nd and 3rd harmonics relative to the fundamental
}

var earconNotes = map[Earcon][]note{
	EarconListening: {{880, 70, 0.15}, {1318.5, 110, 0.15}},                 // A5 then E6
	EarconGotIt:     {{1318.5, 60, 0.1}, {987.8, 90, 0.1}},                  // E6 then B5
	EarconError:     {{440, 140, 0.35}, {349.2, 200, 0.35}},                 // A4 then F4: lower, rougher
	EarconTimer:     {{1568, 150, 0.2}, {1568, 150, 0.2}, {2093, 300, 0.2}}, // G6 G6 C7: a bell that asks for attention
}

// earconPeak is the earcons' peak level, -12 dBFS: clearly audible, below speech.
const earconPeak = 0.25

// PCM renders the earcon at audio.SampleRate. Each note fades in and out, so nothing clicks.
func (e Earcon) PCM() audio.PCM {
	notes := earconNotes[e]
	var out []float32
	for _, n := range notes {
		out = append(out, renderNote(n)...)
	}
	peak := 0.0
	for _, s := range out {
		peak = math.Max(peak, math.Abs(float64(s)))
	}
	if peak > 0 {
		g := float32(earconPeak / peak)
		for i := range out {
			out[i] *= g
		}
	}
	return audio.PCM{Rate: audio.SampleRate, Samples: out}
}

func renderNote(n note) []float32 {
	const rate = audio.SampleRate
	total := n.ms * rate / 1000
	attack := 4 * rate / 1000
	release := 12 * rate / 1000
	s := make([]float32, total)
	for i := range s {
		t := float64(i) / rate
		ph := 2 * math.Pi * n.freq * t
		v := math.Sin(ph) + n.bright*math.Sin(2*ph) + n.bright/2*math.Sin(3*ph)
		// Bell-like decay, with a raised-cosine attack and release.
		env := math.Exp(-3 * t / (float64(n.ms) / 1000))
		switch {
		case i < attack:
			env *= 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(attack))
		case i >= total-release:
			env *= 0.5 - 0.5*math.Cos(math.Pi*float64(total-1-i)/float64(release))
		}
		s[i] = float32(v * env)
	}
	return s
}
