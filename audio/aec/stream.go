package aec

import (
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
// Played was called; the microphone clock's relation to wall time is estimated from the
// earliest arrival of the chunks (reads are only ever late), so scheduling jitter of the
// capture loop does not move the reference. The speaker's echo reaches the microphone later
// than Played is called (the output and input latencies), so the reference leads the echo by
// about the same delay every time, which the adaptive filter models as long as it is shorter
// than Config.Tail.
//
// What wall-clock placement cannot see is when the device really starts playing (up to a
// playback period after Played), and an error of even half a millisecond costs the converged
// filter most of its attenuation until it re-adapts (seconds). So the best reference is
// continuous: a player that calls Played with everything it sends to the device, silence
// included, keeps the queue from ever running dry and the alignment never changes (the tests
// show both cases). Result.Settled tells consumers (barge-in) when the alignment changed
// recently, so that they do not trust the cancellation until the filter has re-adapted.
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
	placedAt int64     // mic sample where the reference was last placed by the clock (-1: never)
	base     time.Time // estimated wall time of mic sample 0
	haveBase bool

	near, far []float32 // capture side: samples waiting for a whole frame
}

// clockDrift bounds how fast the sound card's clock may run slow against the system clock
// (200 ppm); the estimate of base may creep forward that fast.
const clockDrift = 200e-6

// NewStream returns a Stream with a Canceller configured by cfg. Close it when done.
func NewStream(cfg Config) (*Stream, error) {
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return &Stream{c: c, rate: c.cfg.Rate, now: time.Now, placedAt: -1}, nil
}

// SettleTime is how long after the reference was placed anew (a reply starting after a pause,
// with a player that does not report its silence) Result.Settled stays false: the time SpeexDSP
// takes to re-adapt (see TestStream).
const SettleTime = 2 * time.Second

// Result is what Process returns for a microphone chunk.
type Result struct {
	Clean []float32 // the echo-cancelled microphone signal
	Far   []float32 // the speaker signal lined up with Clean (zeros while nothing plays)
	Raw   []float32 // the microphone signal lined up with Clean, before cancellation
	// Settled is false for SettleTime after the reference was lined up anew: until the filter
	// has adapted to the new alignment, Clean may hold much of the echo.
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

// Process takes a chunk just read from the microphone and returns the echo-cancelled signal,
// the speaker signal lined up with it, and the raw signal. They hold whole frames: up to one
// frame of the chunk is kept for the next call, so they may be shorter or longer than mic.
// With residual echo suppression on, Clean lags Raw and Far by one frame.
func (s *Stream) Process(mic []float32) (Result, error) {
	ref, settled := s.reference(len(mic))
	s.near = append(s.near, mic...)
	s.far = append(s.far, ref...)
	n := s.c.FrameSize()
	frames := len(s.near) / n
	r := Result{
		Clean:   make([]float32, frames*n),
		Far:     append([]float32(nil), s.far[:frames*n]...),
		Raw:     append([]float32(nil), s.near[:frames*n]...),
		Settled: settled,
	}
	for f := 0; f < frames; f++ {
		i := f * n
		if err := s.c.Process(s.near[i:i+n], s.far[i:i+n], r.Clean[i:i+n]); err != nil {
			return Result{}, err
		}
	}
	s.near = append(s.near[:0], s.near[frames*n:]...)
	s.far = append(s.far[:0], s.far[frames*n:]...)
	return r, nil
}

// reference returns the n reference samples that line up with a microphone chunk of n
// samples read just now, and whether the alignment has been stable for SettleTime.
func (s *Stream) reference(n int) ([]float32, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	from, to := s.consumed, s.consumed+int64(n)
	s.consumed = to
	// Mic sample `to` was captured about now; reads can be late, never early.
	est := now.Add(-s.samplesToDur(to))
	switch {
	case !s.haveBase:
		s.base, s.haveBase = est, true
	default:
		s.base = s.base.Add(time.Duration(float64(now.Sub(s.base.Add(s.samplesToDur(from)))) * clockDrift))
		if est.Before(s.base) {
			s.base = est
		}
	}
	ref := make([]float32, n)
	if s.pending {
		s.qStart = max(int64(s.pendAt.Sub(s.base).Seconds()*float64(s.rate)+0.5), from)
		s.pending = false
		s.placedAt = s.qStart
	}
	settled := s.placedAt < 0 || to-s.placedAt >= int64(SettleTime.Seconds()*float64(s.rate))
	if len(s.queue) == 0 || s.qStart >= to {
		return ref, settled
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
	return ref, settled
}

func (s *Stream) samplesToDur(n int64) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(s.rate)
}

// Reset forgets the learnt echo path and any pending reference.
func (s *Stream) Reset() {
	s.Stop()
	s.near, s.far = s.near[:0], s.far[:0]
	s.c.Reset()
}

// Close frees the canceller.
func (s *Stream) Close() error { return s.c.Close() }
