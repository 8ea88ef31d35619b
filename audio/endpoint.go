package audio

import (
	"fmt"
	"slices"
	"time"
)

// EndpointerConfig tunes how the endpointer cuts speech into utterances.
type EndpointerConfig struct {
	Threshold       float32       // speech probability threshold (default 0.5)
	TrailingSilence time.Duration // silence that ends an utterance (default 600 ms)
	PreRoll         time.Duration // audio kept before the speech onset, so first syllables are not cut (default 300 ms)
	MinSpeech       time.Duration // shorter bursts are ignored: clicks, knocks (default 150 ms)
	MaxUtterance    time.Duration // longer speech is split at the quietest point (default 30 s)
	// PauseSilence, when > 0 and shorter than TrailingSilence, is the silence after which the
	// endpointer reports SpeechPaused: the utterance may be over, and work on it can start
	// while the rest of the trailing silence elapses (speculative end of turn). 0: never.
	PauseSilence time.Duration
}

// DefaultEndpointerConfig returns the defaults.
func DefaultEndpointerConfig() EndpointerConfig {
	return EndpointerConfig{
		Threshold:       0.5,
		TrailingSilence: 600 * time.Millisecond,
		PreRoll:         300 * time.Millisecond,
		MinSpeech:       150 * time.Millisecond,
		MaxUtterance:    30 * time.Second,
	}
}

// EndpointKind says what an EndpointEvent reports.
type EndpointKind int

const (
	SpeechStarted EndpointKind = iota + 1 // speech began (reported once MinSpeech of it was heard)
	SpeechEnded                           // the utterance is complete
	// SpeechPaused: PauseSilence of silence after speech; the utterance ends here if the
	// silence lasts TrailingSilence. Reported once per pause.
	SpeechPaused
	SpeechResumed // speech went on after a SpeechPaused: the utterance is not over
)

func (k EndpointKind) String() string {
	switch k {
	case SpeechStarted:
		return "speech started"
	case SpeechEnded:
		return "speech ended"
	case SpeechPaused:
		return "speech paused"
	case SpeechResumed:
		return "speech resumed"
	}
	return fmt.Sprintf("EndpointKind(%d)", int(k))
}

// EndpointEvent is something the endpointer found in the stream. Times are stream time: the
// duration of audio pushed since the stream began (NewEndpointer, Reset or Flush).
type EndpointEvent struct {
	Kind EndpointKind
	// Start is the speech onset: the start of the first frame the detector called speech.
	Start time.Duration
	// End (SpeechEnded only) is the end of the last speech frame; for an utterance split at
	// MaxUtterance, the split point.
	End time.Duration
	// Utterance (SpeechEnded only) is the whole utterance: PreRoll before Start (less when the
	// previous utterance ended closer than that), the speech, and the trailing silence that
	// ended it. Consecutive utterances never overlap.
	//
	// For SpeechPaused, Utterance is the utterance as SpeechEnded will deliver it if the
	// silence holds: the audio so far, and zeros for the rest of the trailing silence (same
	// length, same speech); End is where the speech faded.
	Utterance PCM
	// UtteranceStart is the stream time of Utterance's first sample (of the utterance to come,
	// for SpeechStarted).
	UtteranceStart time.Duration
	// Split (SpeechEnded only) is true when speech went on past MaxUtterance: the utterance was
	// cut at its quietest point and the next one (whose SpeechStarted follows at once, with no
	// pre-roll) continues it. The pieces concatenate to the audio that was spoken.
	Split bool
}

type epState int

const (
	epIdle  epState = iota
	epMaybe         // speech heard, but less than MinSpeech yet
	epSpeech
)

// Endpointer turns a stream of 16 kHz mono audio into utterances with a Detector. It is used by
// one goroutine at a time.
type Endpointer struct {
	d      Detector
	cfg    EndpointerConfig
	frame  int
	negThr float32
	// Durations in samples.
	preRoll, trailing, minSpeech, maxUtt int64
	pause                                int64 // PauseSilence in samples; 0: off
	paused                               bool  // SpeechPaused reported for the current silence

	buf      []float32 // audio from stream position bufStart to the newest sample
	bufStart int64
	pos      int64 // samples the detector has seen (a multiple of frame, but after Flush)

	state      epState
	onset      int64     // speech onset of the current utterance
	uttStart   int64     // its first sample, pre-roll included
	lastSpeech int64     // end of its last speech frame
	speechEnd  int64     // where that speech faded (refineEnd), once silence follows; -1 before
	lastEnd    int64     // end of the previous utterance: pre-roll never reaches back past it
	energy     []float64 // per-frame energy of the current utterance's frames, from energyPos
	energyPos  int64     // stream position of energy[0]
	levels     []float64 // scratch for refineEnd
	sorted     []float64
}

// NewEndpointer returns an endpointer that reads speech probabilities from d, and resets d for
// the new stream. Zero Threshold, TrailingSilence and MaxUtterance take their defaults; zero
// PreRoll and MinSpeech mean none. MaxUtterance is at least 1 s.
func NewEndpointer(d Detector, cfg EndpointerConfig) *Endpointer {
	def := DefaultEndpointerConfig()
	if cfg.Threshold <= 0 || cfg.Threshold >= 1 {
		cfg.Threshold = def.Threshold
	}
	if cfg.TrailingSilence <= 0 {
		cfg.TrailingSilence = def.TrailingSilence
	}
	if cfg.MaxUtterance <= 0 {
		cfg.MaxUtterance = def.MaxUtterance
	}
	cfg.MaxUtterance = max(cfg.MaxUtterance, time.Second)
	cfg.PreRoll = max(cfg.PreRoll, 0)
	cfg.MinSpeech = max(cfg.MinSpeech, 0)
	e := &Endpointer{
		d:         d,
		cfg:       cfg,
		frame:     d.FrameSize(),
		negThr:    max(cfg.Threshold-0.15, 0.01),
		preRoll:   samplesOf(cfg.PreRoll),
		trailing:  samplesOf(cfg.TrailingSilence),
		minSpeech: samplesOf(cfg.MinSpeech),
		maxUtt:    samplesOf(cfg.MaxUtterance),
	}
	if cfg.PauseSilence < 0 || cfg.PauseSilence >= cfg.TrailingSilence {
		cfg.PauseSilence = 0
		e.cfg.PauseSilence = 0
	}
	e.pause = samplesOf(cfg.PauseSilence)
	e.Reset()
	return e
}

func samplesOf(d time.Duration) int64 { return int64(d) * SampleRate / int64(time.Second) }

func streamTime(samples int64) time.Duration {
	return time.Duration(samples) * time.Second / SampleRate
}

// Config returns the configuration in use, defaults filled in.
func (e *Endpointer) Config() EndpointerConfig { return e.cfg }

// Reset forgets the stream and resets the detector; stream time starts again at zero.
func (e *Endpointer) Reset() {
	e.d.Reset()
	e.buf = e.buf[:0]
	e.bufStart, e.pos = 0, 0
	e.state = epIdle
	e.paused = false
	e.onset, e.uttStart, e.lastSpeech, e.lastEnd = 0, 0, 0, 0
	e.energy = e.energy[:0]
}

// Push feeds 16 kHz mono samples (any chunk size) and returns what happened in them. On a
// detector error it returns the events found before it; the stream can go on.
func (e *Endpointer) Push(samples []float32) ([]EndpointEvent, error) {
	e.buf = append(e.buf, samples...)
	var events []EndpointEvent
	for e.pos+int64(e.frame) <= e.bufStart+int64(len(e.buf)) {
		i := int(e.pos - e.bufStart)
		var err error
		events, err = e.step(events, e.buf[i:i+e.frame], e.frame)
		if err != nil {
			return events, err
		}
	}
	e.trim()
	return events, nil
}

// Flush ends the stream: the last partial frame is judged (padded with silence), an open
// utterance is closed, and the endpointer is Reset.
func (e *Endpointer) Flush() []EndpointEvent {
	var events []EndpointEvent
	if rest := int(e.bufStart + int64(len(e.buf)) - e.pos); rest > 0 {
		frame := make([]float32, e.frame)
		copy(frame, e.buf[len(e.buf)-rest:])
		events, _ = e.step(events, frame, rest) // an error only loses the verdict on this last bit
	}
	if e.state == epSpeech {
		events = append(events, e.end(e.pos, e.refineEnd(e.pos), false))
	}
	e.Reset()
	return events
}

// Current returns a copy of the utterance in progress (pre-roll included) for partial
// transcripts; an empty PCM when no speech is in progress.
func (e *Endpointer) Current() PCM {
	if e.state != epSpeech {
		return PCM{Rate: SampleRate}
	}
	a, b := e.uttStart-e.bufStart, e.pos-e.bufStart
	return PCM{Rate: SampleRate, Samples: append([]float32(nil), e.buf[a:b]...)}
}

// step judges one frame; n (<= len(frame)) of its samples are real audio.
func (e *Endpointer) step(events []EndpointEvent, frame []float32, n int) ([]EndpointEvent, error) {
	p, err := e.d.Speech(frame)
	if err != nil {
		return events, fmt.Errorf("audio: voice activity detection: %w", err)
	}
	start := e.pos
	e.pos += int64(n)
	var energy float64
	for _, s := range frame[:n] {
		energy += float64(s) * float64(s)
	}
	switch e.state {
	case epIdle:
		if p >= e.cfg.Threshold {
			e.state = epMaybe
			e.onset = start
			e.uttStart = max(start-e.preRoll, e.lastEnd, e.bufStart)
			e.lastSpeech = e.pos
			e.speechEnd = -1
			e.energy = append(e.energy[:0], energy)
			e.energyPos = start
		}
	case epMaybe, epSpeech:
		// Hysteresis, as in Silero's own segmentation: a frame at or above the threshold is
		// speech; one below the lower threshold is silence and may end the utterance; one in
		// between (a breath, a fading vowel) does neither. The trailing silence is counted from
		// where the speech really faded (refineEnd), not from the lagging detector's verdict.
		e.energy = append(e.energy, energy)
		if p >= e.cfg.Threshold {
			e.lastSpeech = e.pos
			e.speechEnd = -1
			if e.paused {
				e.paused = false
				events = append(events, EndpointEvent{Kind: SpeechResumed, Start: streamTime(e.onset), UtteranceStart: streamTime(e.uttStart)})
			}
		} else if p < e.negThr {
			if e.speechEnd < 0 {
				e.speechEnd = e.refineEnd(e.pos)
			}
			if e.pos-e.speechEnd < e.trailing {
				if e.state == epSpeech && e.pause > 0 && !e.paused && e.pos-e.speechEnd >= e.pause {
					e.paused = true
					events = append(events, e.pausedAt())
				}
				break
			}
			if e.state == epSpeech {
				events = append(events, e.end(e.pos, e.speechEnd, false))
			} else {
				e.state = epIdle // a click: forget it
			}
			return events, nil
		}
	}
	if e.state == epMaybe && e.lastSpeech-e.onset >= max(e.minSpeech, 1) {
		e.state = epSpeech
		events = append(events, EndpointEvent{Kind: SpeechStarted, Start: streamTime(e.onset), UtteranceStart: streamTime(e.uttStart)})
	}
	if e.state == epSpeech && e.pos-e.uttStart >= e.maxUtt {
		split := e.quietest()
		events = append(events, e.end(split, split, true))
		e.state = epSpeech
		e.onset, e.uttStart = split, split
		e.lastSpeech = max(e.lastSpeech, split)
		e.speechEnd = -1
		events = append(events, EndpointEvent{Kind: SpeechStarted, Start: streamTime(split), UtteranceStart: streamTime(split)})
	}
	return events, nil
}

// end closes the utterance at stream position stop (its audio ends there; its speech at
// speechEnd) and returns its SpeechEnded event.
func (e *Endpointer) end(stop, speechEnd int64, split bool) EndpointEvent {
	a, b := e.uttStart-e.bufStart, stop-e.bufStart
	u := PCM{Rate: SampleRate, Samples: append([]float32(nil), e.buf[a:b]...)}
	ev := EndpointEvent{
		Kind:           SpeechEnded,
		Start:          streamTime(e.onset),
		End:            streamTime(speechEnd),
		Utterance:      u,
		UtteranceStart: streamTime(e.uttStart),
		Split:          split,
	}
	e.lastEnd = stop
	e.paused = false
	e.state = epIdle
	if split {
		// Keep the energies of the frames after the split for the next search.
		k := int((stop - e.energyPos) / int64(e.frame))
		e.energy = append(e.energy[:0], e.energy[k:]...)
		e.energyPos += int64(k * e.frame)
	} else {
		e.energy = e.energy[:0]
	}
	return ev
}

// refineEnd places the end of speech where the sound fades rather than where the detector
// stopped calling it speech: detectors lag (Silero's LSTM calls speech for 100-250 ms after the
// last phoneme has faded, measured on LibriVox recordings), and their frames are coarse (32 ms).
// Within refineWindow before the last speech frame's end, the end moves back to the end of the
// last 10 ms that is still within 40 dB of the utterance's loudest 10 ms and, when the utterance
// holds some silence to measure, 12 dB above its background (the 10th percentile of its 10 ms
// levels, pre-roll and trailing silence included). The detector alone decides whether there is
// speech; the energy only says precisely where it ends. stop is the end of the utterance's
// audio.
func (e *Endpointer) refineEnd(stop int64) int64 {
	const step = SampleRate / 100
	const refineWindow = 300 * SampleRate / 1000
	a := e.uttStart
	levels := e.levels[:0]
	for i := a; i+step <= stop; i += step {
		var sum float64
		for _, s := range e.buf[i-e.bufStart : i-e.bufStart+step] {
			sum += float64(s) * float64(s)
		}
		levels = append(levels, PowerDB(sum/step))
	}
	e.levels = levels
	if len(levels) < 10 {
		return e.lastSpeech
	}
	sorted := append(e.sorted[:0], levels...)
	slices.Sort(sorted)
	e.sorted = sorted
	peak, floor := sorted[len(sorted)-1], sorted[len(sorted)/10]
	thr := peak - 40
	if floor < peak-20 {
		thr = max(thr, floor+12)
	}
	from := max(e.lastSpeech-refineWindow, e.onset)
	for i := int((e.lastSpeech-a)/step) - 1; i >= 0 && a+int64(i)*step >= from; i-- {
		if levels[i] >= thr {
			return min(a+int64(i+1)*step, e.lastSpeech)
		}
	}
	return max(from, e.onset+step)
}

// pausedAt is the SpeechPaused event for the silence in progress: the utterance padded with
// zeros to where SpeechEnded will cut it (the first frame boundary TrailingSilence after the
// speech faded).
func (e *Endpointer) pausedAt() EndpointEvent {
	f := int64(e.frame)
	stop := e.pos
	for stop-e.speechEnd < e.trailing {
		stop += f
	}
	a, b := e.uttStart-e.bufStart, e.pos-e.bufStart
	u := make([]float32, stop-e.uttStart)
	copy(u, e.buf[a:b])
	return EndpointEvent{
		Kind:           SpeechPaused,
		Start:          streamTime(e.onset),
		End:            streamTime(e.speechEnd),
		Utterance:      PCM{Rate: SampleRate, Samples: u},
		UtteranceStart: streamTime(e.uttStart),
	}
}

// quietest picks where to split an over-long utterance: the middle of the quietest stretch of
// three frames in its second half, so that neither piece is short and the cut falls in a
// pause between words rather than inside one.
func (e *Endpointer) quietest() int64 {
	f := int64(e.frame)
	from := max(int((e.uttStart+e.maxUtt/2-e.energyPos)/f), 1)
	to := len(e.energy) - 2 // the last full window
	best, bestAt := -1.0, -1
	for i := from; i <= to; i++ {
		if s := e.energy[i-1] + e.energy[i] + e.energy[i+1]; bestAt < 0 || s < best {
			best, bestAt = s, i
		}
	}
	if bestAt < 0 {
		return e.pos // no room to search: cut here
	}
	return e.energyPos + int64(bestAt)*f + f/2
}

// trim drops audio no utterance can need any more: everything before the utterance in
// progress or, while idle, before the pre-roll.
func (e *Endpointer) trim() {
	keep := e.uttStart
	if e.state == epIdle {
		keep = max(e.pos-e.preRoll, e.lastEnd)
	}
	drop := int(keep - e.bufStart)
	if drop < SampleRate || drop < len(e.buf)/2 {
		return
	}
	n := copy(e.buf, e.buf[drop:])
	e.buf = e.buf[:n]
	e.bufStart = keep
}
