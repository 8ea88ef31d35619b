// Package bargein decides when a person starts talking over the assistant (barge-in) while
// the assistant's own voice may be reaching the microphone.
//
// The decision combines the voice activity detector's speech probability, taken on the
// echo-cancelled microphone signal, with a level test relative to what is being played:
//
//   - Echo coupling: how loud the speakers' sound is at the microphone relative to the
//     playback level: the loudest ratio among the last LearnWindow of frames where nobody
//     else talked (the echo dips between words; its peaks matter). Until half a second of
//     playback has been seen, the echo is assumed at least as loud as the playback (0 dB).
//   - The canceller's attenuation: a low percentile of how much it took out of those frames
//     (those whose echo stands clear of the room's noise, which no canceller takes out).
//   - Raw test (needs no echo canceller): the microphone is louder than the expected echo
//     (playback level + coupling) by Margin. Someone talking clearly over the assistant
//     passes it whatever the canceller does.
//   - Cancelled test: the echo-cancelled signal is louder than the expected residual echo
//     (playback level + coupling − the canceller's measured attenuation) by Margin. It lets a
//     quieter voice through once the canceller works, and is skipped while the canceller's
//     alignment is unsettled (aec.Result.Settled) or its attenuation is under MinERLE.
//
// The playback level is the loudest frame of the last EchoWindow, which covers the delay from
// playing to hearing and the room's reverberation; the microphone's levels are the loudest
// frame of the last 96 ms. When nothing plays, the VAD decides alone.
//
// The cancelled test also needs the cancelled signal to have been no louder than the
// microphone over the frames its level spans: a canceller that has lost its alignment adds its
// estimate of the echo (the assistant's own voice) instead of taking it out, and its output,
// unlike a person talking, is then louder than its input (by 8 dB, the one time the loopback
// test saw Hark interrupt itself).
//
// A barge-in needs MinSpeech of consecutive speech frames that pass, or one frame that passes
// clearly (Frame.Strong: speech probability 0.9 and 6 dB above the margin). One frame is
// enough then because the two kinds of evidence agree by a wide margin: the voice activity
// detector is sure it hears a voice, and it is far louder than any echo the detector has
// seen. (Waiting for a second such frame cost 32 ms of every barge-in.) With two detectors
// interleaved (NewInterleaved), frames overlap by half and come every 16 ms.
//
// [Gate] puts the decision to use in hands-free mode: it keeps the microphone from the
// assistant's voice activity detector while the assistant speaks, and lets a barge-in through.
//
// # Concurrency properties
//
// A Detector and a Gate are used by one goroutine (the capture loop).
package bargein

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// SpeechDetector is the voice activity detector the decision uses; audio.Detector (Silero or
// the energy detector) satisfies it.
type SpeechDetector interface {
	FrameSize() int
	Speech(frame []float32) (float32, error)
	Reset()
}

// Config tunes the decision. Zero fields take the defaults of DefaultConfig.
type Config struct {
	Rate       int           // sample rate of the signals (default 16000)
	Threshold  float32       // speech probability a frame needs (default 0.5)
	MinSpeech  time.Duration // consecutive speech needed to barge in (default 128 ms)
	Margin     float64       // dB above the expected echo (default 4)
	MinERLE    float64       // dB of echo attenuation before the cancelled test is used (default 10)
	EchoWindow time.Duration // how far back the playback level counts (default 400 ms)
	Silent     float64       // dBFS: playback quieter than this is no playback (default -60)
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Rate: 16000, Threshold: 0.5, MinSpeech: 128 * time.Millisecond, Margin: 4,
		MinERLE: 10, EchoWindow: 400 * time.Millisecond, Silent: -60}
}

// Input is one stretch of audio for Push; all signals are lined up, sample for sample.
type Input struct {
	Mic []float32 // the microphone after echo cancellation: what the VAD hears
	Raw []float32 // the microphone before cancellation; nil when there is no canceller
	Far []float32 // what the speakers played; nil or silence when nothing plays
	// Settled is false while the canceller's alignment is new (aec.Result.Settled); then only
	// the raw test counts.
	Settled bool
}

// Detector makes the barge-in decision. The zero value is not usable; call New or
// NewInterleaved.
type Detector struct {
	cfg  Config
	vads []SpeechDetector // one, or two half a frame apart (NewInterleaved)
	size int              // samples per frame
	hop  int              // samples from one frame to the next: size, or half of it interleaved
	nHop int              // frames since Reset (which VAD takes the next)

	mic, raw, far []float32 // samples not yet consumed, from the start of the next frame
	pushed        int64     // samples pushed since New, for Frame.End
	farLevels     []float64 // ring of the last EchoWindow's playback frame levels (whole frames)
	at            int

	// Counts of frames for durations that do not depend on the hop.
	minLearnt, freshNeed int

	coupling   float64   // echo level at the microphone relative to the playback, dB
	erle       float64   // attenuation of the echo by the canceller, dB
	ratios     []float64 // raw − playback of the last echo-only frames (a ring)
	floors     []float64 // the cancelled levels of those frames (a ring, with ratios): the noise floor is their lowest
	attens     []float64 // raw − cancelled of those with an audible echo (a ring)
	nRatio     int       // frames recorded in ratios (up to its length), and the next slot
	nAtten     int
	scratch    []float64
	recent     [][3]float64 // of the frames of the last levelSpan: the microphone levels (cancelled, raw), and how much louder the cancelled signal was over the frame's newest hop
	nRecent    int
	run        int  // consecutive speech frames that passed
	strong     bool // one of them passed clearly (Frame.Strong)
	playFrames int  // frames since the playback started
	settledRun int  // consecutive frames with the canceller settled
	fresh      int  // attenuations learnt since the canceller was last unsettled
	last       Frame
	trace      func(Frame)
}

// Trace makes the detector call f with every frame it decides (nil: none), for debugging and
// tests.
func (d *Detector) Trace(f func(Frame)) { d.trace = f }

// Frame describes the last frame decided, for logs, debugging and tests.
type Frame struct {
	End                time.Duration // where the frame ends in the audio pushed since New
	Speech             float32       // VAD probability
	Mic, Raw, Playback float64       // levels in dBFS (the loudest frame of 96 ms; Playback: of EchoWindow)
	Coupling, ERLE     float64       // what the detector has learnt, dB
	Playing, Passed    bool          // playback was on; the frame counted as the person's speech
	// Strong: it counted clearly (speech probability >= 0.9 and, during playback, 6 dB more
	// than the margin): one such frame is enough.
	Strong bool
	// Settled: the canceller's alignment was trusted (Input.Settled); Run: consecutive
	// frames passed so far, this one included.
	Settled bool
	Run     int
}

// New returns a Detector that uses vad.
func New(vad SpeechDetector, cfg Config) *Detector {
	return newDetector([]SpeechDetector{vad}, vad.FrameSize(), cfg)
}

// NewInterleaved returns a Detector that runs two voice activity detectors of the same kind
// half a frame apart, each on whole frames that follow each other as it expects, so that a
// decision can come every half frame (16 ms with Silero) instead of every frame. A barge-in is
// decided on the frame that completes the evidence; with frames twice as frequent, that frame
// ends 8 ms sooner on average and 16 ms at most, for twice the detectors' work.
func NewInterleaved(a, b SpeechDetector, cfg Config) (*Detector, error) {
	size := a.FrameSize()
	if b.FrameSize() != size || size%2 != 0 {
		return nil, fmt.Errorf("bargein: cannot interleave voice activity detectors with frames of %d and %d samples", size, b.FrameSize())
	}
	return newDetector([]SpeechDetector{a, b}, size/2, cfg), nil
}

// levelSpan is how far back the microphone's level is the loudest frame's: speech dips
// between syllables, and a level test must not break a run of speech frames there.
const levelSpan = 96 * time.Millisecond

func newDetector(vads []SpeechDetector, hop int, cfg Config) *Detector {
	def := DefaultConfig()
	if cfg.Rate <= 0 {
		cfg.Rate = def.Rate
	}
	if cfg.Threshold <= 0 {
		cfg.Threshold = def.Threshold
	}
	if cfg.MinSpeech <= 0 {
		cfg.MinSpeech = def.MinSpeech
	}
	if cfg.Margin <= 0 {
		cfg.Margin = def.Margin
	}
	if cfg.MinERLE <= 0 {
		cfg.MinERLE = def.MinERLE
	}
	if cfg.EchoWindow <= 0 {
		cfg.EchoWindow = def.EchoWindow
	}
	if cfg.Silent == 0 {
		cfg.Silent = def.Silent
	}
	size := vads[0].FrameSize()
	frames := func(d time.Duration) int { return int(math.Ceil(d.Seconds() * float64(cfg.Rate) / float64(hop))) }
	window := int(cfg.EchoWindow.Seconds()*float64(cfg.Rate))/size + 1
	learn := int(LearnWindow.Seconds()*float64(cfg.Rate))/hop + 1
	d := &Detector{cfg: cfg, vads: vads, size: size, hop: hop, farLevels: make([]float64, window),
		ratios: make([]float64, learn), floors: make([]float64, learn), attens: make([]float64, learn), scratch: make([]float64, learn),
		recent:    make([][3]float64, max(int(math.Ceil((levelSpan.Seconds()*float64(cfg.Rate)-float64(size))/float64(hop))), 0)+1),
		minLearnt: frames(minLearnt), freshNeed: frames(freshNeed)}
	d.Reset()
	return d
}

// Reset forgets the stream (and the VAD's state) but keeps what was learnt about the echo:
// the room and the canceller stay the same from one reply to the next.
func (d *Detector) Reset() {
	for _, v := range d.vads {
		v.Reset()
	}
	d.nHop = 0
	d.mic, d.raw, d.far = d.mic[:0], d.raw[:0], d.far[:0]
	d.nRecent = 0
	for i := range d.farLevels {
		d.farLevels[i] = silenceDB
	}
	d.run, d.strong = 0, false
}

// Last returns the most recent frame's decision.
func (d *Detector) Last() Frame { return d.last }

// Push feeds the next stretch of audio and reports whether the person has been talking over
// the assistant for MinSpeech, at any frame of the stretch. Once it has reported true it keeps
// doing so while the speech continues; call Reset before the next reply.
func (d *Detector) Push(in Input) (bool, error) {
	if in.Raw != nil && len(in.Raw) != len(in.Mic) || in.Far != nil && len(in.Far) != len(in.Mic) {
		return false, fmt.Errorf("bargein: signals of %d, %d and %d samples are not lined up", len(in.Mic), len(in.Raw), len(in.Far))
	}
	d.mic = append(d.mic, in.Mic...)
	d.pushed += int64(len(in.Mic))
	if in.Raw != nil {
		d.raw = append(d.raw, in.Raw...)
	} else {
		d.raw = append(d.raw, in.Mic...)
	}
	if in.Far != nil {
		d.far = append(d.far, in.Far...)
	} else {
		d.far = append(d.far, make([]float32, len(in.Mic))...)
	}
	need := int(math.Ceil(d.cfg.MinSpeech.Seconds() * float64(d.cfg.Rate) / float64(d.hop)))
	barged := d.run >= need || d.strong
	for len(d.mic) >= d.size {
		passed, err := d.frame(d.mic[:d.size], d.raw[:d.size], d.far[:d.size], in.Settled)
		if err != nil {
			return false, err
		}
		d.mic, d.raw, d.far = d.mic[d.hop:], d.raw[d.hop:], d.far[d.hop:]
		if passed {
			d.run++
		} else {
			d.run = 0
		}
		// Once decided, the decision holds while the speech goes on (see Push).
		d.strong = passed && (d.last.Strong || d.strong)
		if d.trace != nil {
			f := d.last
			f.Run = d.run
			d.trace(f)
		}
		// A decision within the stretch counts even if a later frame of it breaks the run.
		barged = barged || d.run >= need || d.strong
	}
	// Keep the leftovers at the front of the buffers so they do not grow.
	d.mic = append(d.mic[:0:0], d.mic...)
	d.raw = append(d.raw[:0:0], d.raw...)
	d.far = append(d.far[:0:0], d.far...)
	return barged, nil
}

const silenceDB = -120.0

func levelDB(s []float32) float64 {
	var sum float64
	for _, x := range s {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return silenceDB
	}
	return math.Max(10*math.Log10(sum/float64(len(s))), silenceDB)
}

// frame decides one frame and updates what is learnt about the echo.
func (d *Detector) frame(mic, raw, far []float32, settled bool) (bool, error) {
	phase := d.nHop % len(d.vads)
	p, err := d.vads[phase].Speech(mic)
	if err != nil {
		return false, fmt.Errorf("bargein: voice activity detector: %w", err)
	}
	d.nHop++
	// Microphone levels are the loudest of the frames of the last levelSpan.
	// The cancelled signal against the microphone is compared on the hop this frame adds: an
	// interleaved frame half before a canceller goes wrong would hide half of its excess.
	added := levelDB(mic[len(mic)-d.hop:]) - levelDB(raw[len(raw)-d.hop:])
	d.recent[d.nRecent%len(d.recent)] = [3]float64{levelDB(mic), levelDB(raw), added}
	d.nRecent++
	end := d.pushed - int64(len(d.mic)) + int64(d.size)
	f := Frame{End: time.Duration(end) * time.Second / time.Duration(d.cfg.Rate), Speech: p, Mic: silenceDB, Raw: silenceDB, Settled: settled}
	for _, l := range d.recent[:min(d.nRecent, len(d.recent))] {
		f.Mic, f.Raw = math.Max(f.Mic, l[0]), math.Max(f.Raw, l[1])
		added = math.Max(added, l[2]) // the most the cancelled signal was louder than the microphone, dB
	}
	// The playback level is taken on whole frames that follow each other (the first
	// detector's): overlapping frames would catch a loud syllable at its peak more often, and
	// the level would change with the interleaving.
	if phase == 0 {
		d.farLevels[d.at] = levelDB(far)
		d.at = (d.at + 1) % len(d.farLevels)
	}
	f.Playback = silenceDB
	for _, l := range d.farLevels {
		f.Playback = math.Max(f.Playback, l)
	}
	f.Playing = f.Playback > d.cfg.Silent
	if f.Playing {
		d.playFrames++
	} else {
		d.playFrames = 0
	}
	speech := p >= d.cfg.Threshold
	if !settled {
		d.fresh = 0
		d.erle = 0
		d.settledRun = 0
	} else {
		d.settledRun++
	}
	sure := p >= 0.9
	if !f.Playing {
		f.Passed, f.Strong = speech, sure
	} else {
		echo := f.Playback + d.coupling
		rawTest := f.Raw >= echo+d.cfg.Margin
		// A cancelled signal louder than the microphone in any frame the levels span is the
		// canceller's own doing (see addedByCanceller), not a person: compared hop by hop,
		// as the 96 ms maxima may come from different frames.
		cancelTest := settled && d.erle >= d.cfg.MinERLE && f.Mic >= echo-d.erle+d.cfg.Margin && added <= addedByCanceller
		f.Passed = speech && (rawTest || cancelTest)
		f.Strong = f.Passed && sure && (f.Raw >= echo+d.cfg.Margin+strongExtra ||
			cancelTest && f.Mic >= echo-d.erle+d.cfg.Margin+strongExtra)
		// Learn only from frames the current estimate explains (within half the margin): a
		// person's speech too quiet to pass must not teach that the echo is louder. And only
		// once the playback has gone on for EchoWindow, so that its echo has arrived: the
		// silence before it says nothing about how loud it will be.
		settledIn := d.playFrames*d.hop >= int(d.cfg.EchoWindow.Seconds()*float64(d.cfg.Rate))
		// The canceller's attenuation is measured only where its output counts (settled for
		// all the frames the levels span): while a new alignment is verified the echo passes
		// uncancelled by design, and learning that would leave the attenuation near 0 dB for
		// the next LearnWindow of playback — the cancelled test off, and a person no louder
		// than the echo unheard (and then learnt as echo too).
		if settledIn && !rawTest && !cancelTest && f.Raw <= echo+d.cfg.Margin/2 {
			d.learn(f, d.settledRun >= len(d.recent))
		}
	}
	f.Coupling, f.ERLE = d.coupling, d.erle
	d.last = f
	return f.Passed, nil
}

// strongExtra is how far above the margin a frame's level must be for it to pass clearly
// (Frame.Strong), in dB.
const strongExtra = 6

// addedByCanceller is how much louder than the microphone the cancelled signal may be, in dB,
// before it counts as the canceller's own output (lost alignment) rather than a person: the
// canceller's output is the microphone less its echo estimate, no louder than the microphone
// when the estimate is right; 1 dB is slack for the levels' own fluctuation.
const addedByCanceller = 1

// LearnWindow is how much recent playback the echo's coupling and attenuation are learnt from.
const LearnWindow = 2 * time.Second

// minLearnt is how much echo alone must be seen before the coupling is trusted below 0 dB and
// the attenuation above 0 dB.
const minLearnt = 500 * time.Millisecond

// freshNeed is how much echo the canceller must have been measured on since it was last
// unsettled before its attenuation counts again; the attenuation is also at most the best of
// that much of the latest measurements, so that a canceller that stops working shows soon.
const freshNeed = 256 * time.Millisecond

// learn records a frame judged to be echo alone and updates the coupling (the loudest echo
// relative to the playback: cautious) and, when the canceller was settled (cancelled), its
// attenuation (its 20th percentile: cautious too). A microphone in digital silence counts as -90 dBFS.
func (d *Detector) learn(f Frame, cancelled bool) {
	raw := math.Max(f.Raw, -90)
	d.ratios[d.nRatio%len(d.ratios)] = raw - f.Playback
	d.floors[d.nRatio%len(d.floors)] = math.Max(f.Mic, -90)
	d.nRatio++
	// An echo to measure the canceller on: well above the room's noise, which the canceller
	// cannot take out (measured on noise, it would seem not to work): the noise is at most
	// the quietest cancelled echo-only frame of LearnWindow.
	floor := slicesMin(d.floors[:min(d.nRatio, len(d.floors))])
	if raw > -70 && raw > floor+noiseClearance && cancelled {
		d.attens[d.nAtten%len(d.attens)] = math.Max(raw-math.Max(f.Mic, -90), 0)
		d.nAtten++
		d.fresh++
	}
	n := min(d.nRatio, len(d.ratios))
	d.coupling = slicesMax(d.ratios[:n])
	if d.nRatio < d.minLearnt {
		d.coupling = math.Max(d.coupling, 0)
	}
	d.erle = 0
	if m := min(d.nAtten, len(d.attens)); m >= d.minLearnt {
		s := append(d.scratch[:0], d.attens[:m]...)
		sort.Float64s(s)
		d.erle = s[m/5]
		// And no more than the best of the last freshNeed: when the canceller stops
		// working, that shows within a quarter of a second.
		recent := math.Inf(-1)
		for i := 1; i <= d.freshNeed; i++ { // freshNeed < minLearnt <= m
			recent = math.Max(recent, d.attens[(d.nAtten-i+len(d.attens))%len(d.attens)])
		}
		d.erle = math.Min(d.erle, recent)
	}
	if d.fresh < d.freshNeed {
		d.erle = 0 // the canceller has not shown yet that it works again
	}
}

// noiseClearance is how far above the noise floor a frame's echo must be for the canceller's
// attenuation to be measured on it, in dB.
const noiseClearance = 6

func slicesMin(s []float64) float64 {
	m := math.Inf(1)
	for _, v := range s {
		m = math.Min(m, v)
	}
	return m
}

func slicesMax(s []float64) float64 {
	m := math.Inf(-1)
	for _, v := range s {
		m = math.Max(m, v)
	}
	return m
}
