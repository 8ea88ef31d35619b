package bargein

import (
	"time"
)

// Gate sits between the microphone (after echo cancellation) and the assistant's voice
// activity detector in hands-free mode. While the assistant's voice plays, it keeps the
// microphone signal from the detector — the assistant would otherwise hear itself and
// interrupt its own reply — and holds back the last Hold of it. When the Detector decides that
// a person is talking over the reply, it lets the held audio through, so the new utterance
// starts with its first syllable, and then everything live until the playback has stopped.
//
// The output keeps the input's timeline: every input sample comes out once, either as itself
// or, when it was the assistant's echo, as silence. While the gate is shut the output lags the
// input by Hold.
//
// A Gate is used by one goroutine (the capture loop).
type Gate struct {
	d    *Detector
	hold int // samples

	shut    bool      // the assistant is playing and nobody has barged in yet
	barged  bool      // a barge-in was let through during this playback
	held    []float32 // while shut: the last hold samples, not yet output
	playing bool
}

// NewGate returns a gate that decides with d and holds back hold of audio while shut. The
// hold should cover the detector's MinSpeech plus the pre-roll the voice activity detector
// wants before speech (default 500 ms).
func NewGate(d *Detector, hold time.Duration) *Gate {
	if hold <= 0 {
		hold = 500 * time.Millisecond
	}
	return &Gate{d: d, hold: int(hold.Seconds() * float64(d.cfg.Rate))}
}

// Process takes the next stretch of signals (lined up as for Detector.Push) and returns the
// audio for the voice activity detector, and whether a barge-in was let through by this call.
func (g *Gate) Process(in Input) (out []float32, bargedIn bool, err error) {
	wasPlaying := g.playing
	barged, err := g.d.Push(in)
	if err != nil {
		return nil, false, err
	}
	g.playing = g.d.Last().Playing
	switch {
	case g.playing && !wasPlaying:
		g.shut, g.barged = true, false
	case !g.playing && wasPlaying:
		// The playback (and its echo) is over: what is held was the echo; open again.
		out = append(out, make([]float32, len(g.held))...)
		g.held = g.held[:0]
		g.shut, g.barged = false, false
		g.d.Reset()
	}
	switch {
	case !g.shut:
		return append(out, in.Mic...), false, nil
	case barged:
		out = append(out, g.held...)
		out = append(out, in.Mic...)
		g.held = g.held[:0]
		g.shut, g.barged = false, true
		return out, true, nil
	}
	g.held = append(g.held, in.Mic...)
	if over := len(g.held) - g.hold; over > 0 {
		out = append(out, make([]float32, over)...) // the assistant's echo: silence
		g.held = append(g.held[:0], g.held[over:]...)
	}
	return out, false, nil
}

// Barged reports whether a barge-in has been let through during the current playback.
func (g *Gate) Barged() bool { return g.barged }
