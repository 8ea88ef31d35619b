package asr

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Transcriber is what a Streamer drives: *Model implements it.
type Transcriber interface {
	Transcribe(ctx context.Context, pcm []float32, opts Options) (Result, error)
}

var _ Transcriber = (*Model)(nil)

// StreamOptions configure a Streamer.
type StreamOptions struct {
	// Interval is the cadence of partial passes; default 500 ms. A pass starts on a tick only
	// when the previous one has finished: ticks that fall while a pass runs are skipped, so a
	// slow CPU gets fewer partials, never a queue of them.
	Interval time.Duration
	// MinAudio is the least audio worth a partial pass; default 300 ms.
	MinAudio time.Duration
	// Partial are the options of the partial passes; Final those of the final pass.
	// Zero values mean DefaultOptions(); for partials MaxTokens also defaults to 64 (a partial
	// that runs away is not worth the CPU).
	Partial, Final *Options
}

// Partial is one transcript of an utterance in progress, or its final transcript.
type Partial struct {
	Seq    int           // 1, 2, 3... in the order emitted; the final has the highest
	Text   string        // the whole utterance so far (not a delta)
	Audio  time.Duration // how much audio Text covers
	Final  bool          // the final transcript: it replaces every partial before it
	Result Result        // the whole result of the pass
}

// Streamer turns an utterance that is still growing into live partial transcripts and a final
// one. It holds no per-utterance state: Start may be called for each utterance, concurrently.
type Streamer struct {
	t    Transcriber
	opts StreamOptions
}

// NewStreamer returns a Streamer that transcribes with t.
func NewStreamer(t Transcriber, opts StreamOptions) *Streamer {
	if opts.Interval <= 0 {
		opts.Interval = 500 * time.Millisecond
	}
	if opts.MinAudio <= 0 {
		opts.MinAudio = 300 * time.Millisecond
	}
	if opts.Partial == nil {
		p := DefaultOptions()
		p.MaxTokens = 64
		opts.Partial = &p
	}
	if opts.Final == nil {
		f := DefaultOptions()
		opts.Final = &f
	}
	return &Streamer{t: t, opts: opts}
}

// Utterance follows one utterance being spoken. Feed it audio with Append or Update (from any
// one goroutine); end it with Finish (final transcript) or Cancel (none).
type Utterance struct {
	s    *Streamer
	emit func(Partial)

	mu    sync.Mutex
	audio []float32 // append-only while passes may read it
	ended bool

	cancel context.CancelFunc
	done   chan struct{} // closed when the partial loop has returned
	seq    int           // owned by the loop until done, then by Finish
	last   string        // text of the last emitted partial
	passes int
	skips  int
}

// Start begins following an utterance. emit receives partials in order, from one goroutine at a
// time, never after the final one; it should return quickly (hand the text to the UI). Partial
// passes stop when ctx is done.
func (s *Streamer) Start(ctx context.Context, emit func(Partial)) *Utterance {
	ctx, cancel := context.WithCancel(ctx)
	u := &Utterance{s: s, emit: emit, cancel: cancel, done: make(chan struct{})}
	go u.loop(ctx)
	return u
}

// Append adds samples to the utterance (it copies them).
func (u *Utterance) Append(samples []float32) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.audio = append(u.audio, samples...)
}

// Update replaces the utterance's audio with pcm, the whole utterance so far (for example the
// endpointer's current utterance). The Utterance keeps pcm: do not modify it afterwards.
func (u *Utterance) Update(pcm []float32) {
	u.mu.Lock()
	defer u.mu.Unlock()
	// A pass in progress keeps reading the old slice; the new one must not share its array
	// with later appends, so cap it at its length.
	u.audio = pcm[:len(pcm):len(pcm)]
}

// snapshot returns the audio so far. Appends never write below its length, and Update swaps the
// slice, so a pass may read it without the lock.
func (u *Utterance) snapshot() []float32 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.audio[:len(u.audio):len(u.audio)]
}

func (u *Utterance) loop(ctx context.Context) {
	defer close(u.done)
	iv := u.s.opts.Interval
	next := time.Now().Add(iv)
	timer := time.NewTimer(iv)
	defer timer.Stop()
	lastLen := -1
	minSamples := int(u.s.opts.MinAudio.Seconds() * sampleRate)
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		pcm := u.snapshot()
		if len(pcm) >= minSamples && len(pcm) != lastLen {
			lastLen = len(pcm)
			res, err := u.s.t.Transcribe(ctx, pcm, *u.s.opts.Partial)
			if ctx.Err() != nil {
				return
			}
			u.passes++
			// A failed partial pass is not fatal: the final pass reports errors.
			if err == nil && res.Text != u.last {
				u.last = res.Text
				u.seq++
				u.emit(Partial{Seq: u.seq, Text: res.Text, Audio: duration(len(pcm)), Result: res})
			}
		}
		// The next pass starts on the first tick after now: ticks missed while the pass ran
		// are skipped rather than queued.
		now := time.Now()
		next = next.Add(iv)
		for !next.After(now) {
			next = next.Add(iv)
			u.skips++
		}
		timer.Reset(next.Sub(now))
	}
}

// Finish stops the partial passes (interrupting one in progress), transcribes pcm, the whole
// utterance, with the final options and emits the result as the final Partial, which replaces
// every partial. pcm nil means the audio given by Append/Update. After Finish returns, emit is
// not called again. Finish may be called once.
func (u *Utterance) Finish(ctx context.Context, pcm []float32) (Result, error) {
	if err := u.stop(); err != nil {
		return Result{}, err
	}
	if pcm == nil {
		pcm = u.snapshot()
	}
	res, err := u.s.t.Transcribe(ctx, pcm, *u.s.opts.Final)
	if err != nil {
		return Result{}, err
	}
	u.seq++
	u.emit(Partial{Seq: u.seq, Text: res.Text, Audio: duration(len(pcm)), Final: true, Result: res})
	return res, nil
}

// Cancel abandons the utterance without a final transcript (the user barged in, the turn was
// cancelled). It waits for a partial pass in progress to stop. Safe to call after Finish.
func (u *Utterance) Cancel() { _ = u.stop() }

var errEnded = errors.New("asr: the utterance has already ended")

func (u *Utterance) stop() error {
	u.mu.Lock()
	ended := u.ended
	u.ended = true
	u.mu.Unlock()
	u.cancel()
	<-u.done
	if ended {
		return errEnded
	}
	return nil
}

// Stats says how many partial passes ran and how many ticks were skipped because a pass was
// still running (the CPU not keeping up). Valid after Finish or Cancel.
func (u *Utterance) Stats() (passes, skipped int) {
	<-u.done
	return u.passes, u.skips
}

func duration(samples int) time.Duration {
	return time.Duration(samples) * time.Second / sampleRate
}
