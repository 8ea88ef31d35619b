package aec

import (
	"math"
	"sync"
	"time"
)

// Stream cancels echo in real time between a player and a capture loop that run on their own
// clocks. The player side calls Played with the samples it is about to play; the capture side
// calls Process with each chunk it reads.
//
// Lining the two up: the reference (what was played) is kept on the microphone's sample clock.
// Within one stretch of continuous playback it is consumed sample for sample with the
// microphone, so it stays aligned however the chunks are cut. When playback starts after a
// pause, its first sample is placed at the microphone sample captured at the wall-clock time
// Played was called (the microphone clock's relation to wall time is estimated from the
// earliest arrival of the chunks: reads are only ever late).
//
// That placement is off by the time the device takes to really start (up to a playback
// period), and an error of even half a millisecond costs a converged filter most of its
// attenuation for seconds. So once the filter has converged, a new placement is verified: for
// the first VerifyWindow of playback (plus the echo delay) the canceller is given no reference
// — it passes the microphone through and keeps what it learnt — while the Stream predicts the
// echo from the placed reference through the filter's own impulse response and finds, by
// cross-correlation with the microphone, how many samples off the prediction is. It shifts the
// rest of the reference by that much and cancellation resumes with the filter still valid.
// Result.Settled is false meanwhile, so that barge-in does not trust the cancelled signal.
// The same measurement runs every VerifyWindow during playback, so that a device that ran dry
// for a moment (an overloaded machine plays silence the reference does not have, and the echo
// comes later from then on) is followed too. A player that reports everything it sends to the
// device, silence included, never lets the reference run dry and needs no re-placement.
type Stream struct {
	c    *Canceller
	rate int
	now  func() time.Time // the clock; tests replace it

	mu       sync.Mutex
	queue    []float32 // reference samples not consumed yet, starting at mic index qStart
	qStart   int64
	pendAt   time.Time // when queue[0] was handed to the player, while not yet placed
	pending  bool
	consumed int64     // mic samples whose reference has been taken
	base     time.Time // estimated wall time of mic sample 0
	haveBase bool

	// Alignment checks (capture side only).
	placedAt  int64     // mic index where the reference was last placed (-1: never)
	verifyAt  int64     // mic index after which to verify a placement (-1: nothing to verify)
	trackAt   int64     // mic index after which to check the alignment again
	ir        []float32 // the filter's impulse response when it last worked well (nil: not yet)
	irAt      int64     // mic index when ir was taken
	peak      int       // index of ir's largest tap: the echo's delay
	eRaw      float64   // smoothed energies of the raw and cancelled microphone while playing
	eClean    float64
	fRaw      float64 // the same, smoothed over a few chunks only
	fClean    float64
	fresh     int   // chunks with playback since the reference was last placed or shifted
	trusted   bool  // the last placement was verified (or needed no verification)
	refillAt  int64 // mic index before which the filter's reference history is not whole yet
	histStart int64 // mic index of histMic[0] and histRef[0]
	histMic   []float32
	histRef   []float32

	near, far, farOut []float32 // samples waiting for a whole frame (far: what the canceller gets)
}

// clockDrift bounds how fast the sound card's clock may run slow against the system clock
// (200 ppm); the estimate of base may creep forward that fast.
const clockDrift = 200e-6

// VerifyWindow is how much predicted echo is cross-correlated with the microphone to find how
// far off the reference is.
const VerifyWindow = 300 * time.Millisecond

// searchAround is how far off the reference is looked for: a placement's error is at most a
// playback period plus scheduling jitter; a device running dry adds its gap.
const searchAround = 100 * time.Millisecond

// minCorrelation is the normalised cross-correlation of predicted echo and microphone below
// which a measurement is not trusted (a person talking over the reply, a muted speaker).
const minCorrelation = 0.5

// goodERLE is the attenuation (dB) at which the filter counts as converged, and its impulse
// response is kept to predict the echo.
const goodERLE = 15

// NewStream returns a Stream with a Canceller configured by cfg. Close it when done.
func NewStream(cfg Config) (*Stream, error) {
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return &Stream{c: c, rate: c.cfg.Rate, now: time.Now, placedAt: -1, verifyAt: -1, trusted: true}, nil
}

// Result is what Process returns for a microphone chunk.
type Result struct {
	Clean []float32 // the echo-cancelled microphone signal
	Far   []float32 // the speaker signal lined up with Clean (zeros while nothing plays)
	Raw   []float32 // the microphone signal lined up with Clean, before cancellation
	// Settled is false while a newly placed reference is being verified (Clean then holds the
	// echo uncancelled) and until the reference from then on has reached the echo's delay, and, when the verification found no clear alignment, until a few
	// chunks show the filter attenuating the echo again: until then Clean cannot be trusted to
	// be free of echo. (A person talking over the reply also lowers the measured attenuation,
	// so a verified placement stays settled through it.)
	Settled bool
}

// Played records samples (at the stream's rate) that the player is about to play, right
// before they are handed to the device.
func (s *Stream) Played(samples []float32) {
	if len(samples) == 0 {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 && !s.pending {
		s.pendAt, s.pending = now, true
	}
	s.queue = append(s.queue, samples...)
}

// Stop drops the reference that has not been consumed: playback was cut short.
func (s *Stream) Stop() {
	s.mu.Lock()
	s.queue, s.pending = nil, false
	s.mu.Unlock()
}

// Lag returns the echo's delay behind the reference as the converged filter learnt it (0
// until it has converged).
func (s *Stream) Lag() time.Duration {
	if s.ir == nil {
		return 0
	}
	return time.Duration(s.peak) * time.Second / time.Duration(s.rate)
}

// Process takes a chunk just read from the microphone and returns the echo-cancelled signal,
// the speaker signal lined up with it, and the raw signal. They hold whole frames: up to one
// frame of the chunk is kept for the next call, so they may be shorter or longer than mic.
// With residual echo suppression on, Clean lags Raw and Far by one frame.
func (s *Stream) Process(mic []float32) (Result, error) {
	from := s.consumed
	ref, placed := s.reference(len(mic))
	win := int64(VerifyWindow.Seconds() * float64(s.rate))
	around := int64(searchAround.Seconds() * float64(s.rate))
	if placed >= 0 {
		s.placedAt = placed
		s.fresh, s.fRaw, s.fClean = 0, 0, 0
		s.trusted = s.ir == nil // nothing learnt yet: nothing to lose
		if s.ir != nil {
			s.verifyAt = placed + int64(s.peak) + win + around
		}
	}
	s.remember(from, mic, ref)
	switch {
	case s.verifyAt >= 0 && s.consumed >= s.verifyAt:
		s.verifyAt = -1
		s.trackAt = s.consumed + win
		s.align(s.placedAt+int64(s.peak), true)
		s.refill()
	case s.verifyAt < 0 && s.ir != nil && s.consumed >= s.trackAt && s.struggling():
		s.trackAt = s.consumed + win
		s.align(s.consumed-win-around, false)
	}
	verifying := s.verifyAt >= 0
	s.near = append(s.near, mic...)
	s.farOut = append(s.farOut, ref...)
	if !verifying {
		s.far = append(s.far, ref...)
	} else {
		s.far = append(s.far, make([]float32, len(ref))...) // keep the filter as it is
	}
	n := s.c.FrameSize()
	frames := len(s.near) / n
	r := Result{
		Clean:   make([]float32, frames*n),
		Far:     append([]float32(nil), s.farOut[:frames*n]...),
		Raw:     append([]float32(nil), s.near[:frames*n]...),
		Settled: !verifying && s.consumed >= s.refillAt && (s.trusted || s.fresh >= 4 && !s.struggling()),
	}
	for f := 0; f < frames; f++ {
		i := f * n
		if err := s.c.Process(s.near[i:i+n], s.far[i:i+n], r.Clean[i:i+n]); err != nil {
			return Result{}, err
		}
	}
	s.near = append(s.near[:0], s.near[frames*n:]...)
	s.far = append(s.far[:0], s.far[frames*n:]...)
	s.farOut = append(s.farOut[:0], s.farOut[frames*n:]...)
	s.learn(r, verifying)
	return r, nil
}

// learn follows the filter's attenuation while the speaker plays, and keeps its impulse
// response (once a second) while it works well.
func (s *Stream) learn(r Result, verifying bool) {
	if verifying || energy(r.Far) < 1e-6*float64(len(r.Far)) {
		return // nothing playing (louder than -60 dBFS)
	}
	const a, f = 0.05, 0.3 // about a second of chunks; a few chunks
	s.fresh++
	er, ec := energy(r.Raw), energy(r.Clean)
	s.eRaw += a * (er - s.eRaw)
	s.eClean += a * (ec - s.eClean)
	s.fRaw += f * (er - s.fRaw)
	s.fClean += f * (ec - s.fClean)
	if s.eClean > 0 && 10*math.Log10(s.eRaw/s.eClean) >= goodERLE && s.consumed-s.irAt >= int64(s.rate) {
		s.ir, s.irAt = s.c.ImpulseResponse(), s.consumed
		s.peak = 0
		for i, v := range s.ir {
			if math.Abs(float64(v)) > math.Abs(float64(s.ir[s.peak])) {
				s.peak = i
			}
		}
	}
}

// struggling reports whether the filter attenuates the echo clearly less than when its impulse
// response was kept: then it is worth checking whether the echo has moved. (While it works,
// a measurement is not needed, and could mistake a pitch period for a shift.)
func (s *Stream) struggling() bool {
	return s.fClean > 0 && 10*math.Log10(s.fRaw/s.fClean) < goodERLE-5
}

func energy(x []float32) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return e
}

// reference returns the n reference samples that line up with a microphone chunk of n
// samples read just now, and the mic index where a new placement starts (-1: none).
func (s *Stream) reference(n int) ([]float32, int64) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	from, to := s.consumed, s.consumed+int64(n)
	s.consumed = to
	// Mic sample `to` was captured about now; reads can be late, never early.
	est := now.Add(-s.samplesToDur(to))
	if !s.haveBase {
		s.base, s.haveBase = est, true
	} else {
		s.base = s.base.Add(time.Duration(float64(now.Sub(s.base.Add(s.samplesToDur(from)))) * clockDrift))
		if est.Before(s.base) {
			s.base = est
		}
	}
	ref := make([]float32, n)
	placed := int64(-1)
	if s.pending {
		s.qStart = max(int64(s.pendAt.Sub(s.base).Seconds()*float64(s.rate)+0.5), from)
		s.pending = false
		placed = s.qStart
	}
	if len(s.queue) == 0 || s.qStart >= to {
		return ref, placed
	}
	if s.qStart < from { // the reference fell behind: drop what is already past
		s.queue = s.queue[min(int(from-s.qStart), len(s.queue)):]
		s.qStart = from
	}
	k := copy(ref[s.qStart-from:], s.queue)
	s.queue = s.queue[k:]
	s.qStart += int64(k)
	if len(s.queue) == 0 {
		s.queue = nil
	}
	return ref, placed
}

// remember keeps the recent microphone signal and placed reference for verification.
func (s *Stream) remember(from int64, mic, ref []float32) {
	if len(s.histMic) == 0 {
		s.histStart = from
	}
	s.histMic = append(s.histMic, mic...)
	s.histRef = append(s.histRef, ref...)
	keep := int((s.c.cfg.Tail+VerifyWindow+searchAround).Seconds()*float64(s.rate)) * 2
	if drop := len(s.histMic) - keep; drop > keep/2 {
		s.histMic = append(s.histMic[:0], s.histMic[drop:]...)
		s.histRef = append(s.histRef[:0], s.histRef[drop:]...)
		s.histStart += int64(drop)
	}
}

// align predicts the echo of the reference over VerifyWindow from mic index m0 through the
// kept impulse response, finds how many samples the microphone's echo is off, and shifts the
// reference still to come by that much. A placement (placed) is shifted on a clear
// correlation; during playback a shift needs to beat the current alignment clearly, since
// voiced speech correlates with itself a pitch period away.
func (s *Stream) align(m0 int64, placed bool) {
	win := int(VerifyWindow.Seconds() * float64(s.rate))
	around := int(searchAround.Seconds() * float64(s.rate))
	// The taps that matter: from just before the peak to 40 ms after it.
	a, b := max(s.peak-s.rate/250, 0), min(s.peak+s.rate/25, len(s.ir))
	i0 := int(m0 - s.histStart)
	if i0-b < 0 || i0+win+around > len(s.histMic) || i0-around < 0 {
		return // not enough history (chunk sizes jumped)
	}
	pred := make([]float64, win)
	var pp float64
	for n := range pred {
		var y float64
		ref := s.histRef[i0+n-b+1 : i0+n-a+1] // ref[i0+n-k] for k in [a, b)
		h := s.ir[a:b]
		for k := range h {
			y += float64(h[k]) * float64(ref[len(ref)-1-k])
		}
		pred[n] = y
		pp += y * y
	}
	if pp == 0 {
		return // the reference was silent
	}
	ncc := func(d int) float64 {
		m := s.histMic[i0+d : i0+d+win]
		var pm, mm float64
		for n, y := range pred {
			pm += y * float64(m[n])
			mm += float64(m[n]) * float64(m[n])
		}
		if mm == 0 {
			return 0
		}
		return pm / math.Sqrt(pp*mm)
	}
	best, bestC := 0, -1.0
	for d := -around; d <= around; d += 2 {
		if c := ncc(d); c > bestC {
			best, bestC = d, c
		}
	}
	for d := best - 1; d <= best+1; d += 2 {
		if c := ncc(d); c > bestC {
			best, bestC = d, c
		}
	}
	if bestC >= minCorrelation && placed {
		s.trusted = true // the placement is verified: the filter is valid from here on
	}
	if best == 0 || bestC < minCorrelation || (!placed && bestC < ncc(0)+0.05) {
		return
	}
	s.shift(best)
	s.refill()
	s.fresh, s.fRaw, s.fClean = 0, 0, 0
	// The next check must look at reference consumed after this shift only.
	s.trackAt = s.consumed + int64(b+win+around)
}

// refill notes that the filter's history of the reference does not match the echo (it was
// given silence while a placement was verified, or the reference was just shifted): its output
// holds echo until the reference from now on reaches the echo's main taps (its delay, 40 ms of
// reverberation, and a frame each for the chunking and the residual echo suppressor).
func (s *Stream) refill() {
	s.refillAt = s.consumed + int64(s.peak+s.rate/25+2*s.c.FrameSize())
}

// shift delays (d > 0) or advances the reference still to come by d samples.
func (s *Stream) shift(d int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case d > 0:
		s.queue = append(make([]float32, d, d+len(s.queue)), s.queue...)
	case d < 0:
		s.queue = s.queue[min(-d, len(s.queue)):]
	}
}

func (s *Stream) samplesToDur(n int64) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(s.rate)
}

// Reset forgets the learnt echo path and any pending reference.
func (s *Stream) Reset() {
	s.Stop()
	s.near, s.far, s.farOut = s.near[:0], s.far[:0], s.farOut[:0]
	s.verifyAt, s.ir, s.eRaw, s.eClean = -1, nil, 0, 0
	s.c.Reset()
}

// Close frees the canceller.
func (s *Stream) Close() error { return s.c.Close() }
