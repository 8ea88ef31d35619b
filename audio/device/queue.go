package device

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"hark/audio"
)

// ErrInterrupted is what a queued sound reports when another sound's cancellation stopped the
// player before it was heard (see [Player.Enqueue]).
var ErrInterrupted = errors.New("audio: playback interrupted by the cancellation of an earlier sound")

// queued is a sound waiting in, or being fed from, the Player's queue.
type queued struct {
	ctx     context.Context
	data    []float32 // at the device's rate, mono
	written int       // samples of data in the ring
	end     uint64    // the ring's write count after data's last sample (once written)
	heardAt time.Time // when the last sample will have been heard (zero: not yet known)
	done    chan error
	stop    func() bool // unregisters the ctx watch
}

func (q *queued) finish(err error) {
	q.stop()
	q.done <- err
	close(q.done)
}

// soundQueue is the Player's queue of sounds: Enqueue adds, one feeder goroutine plays them.
type soundQueue struct {
	mu      sync.Mutex
	items   []*queued
	feeding bool          // a feeder goroutine runs
	kick    chan struct{} // capacity 1: a sound was added or cancelled
}

// Enqueue adds pcm (any rate) to the end of the player's queue and returns at once. Queued
// sounds play back to back without a gap, where consecutive Play calls leave one (Play waits
// for the device's buffer to drain, and the next call must refill it): a speaker of sentences
// queues the next sentence while the current one plays.
//
// The channel receives one value and is then closed: nil once the sound's last sample has
// been heard (as Play returns), or an error. When ctx is done before that, the player stops
// and drops everything queued, as a cancelled Play does; the sound reports ctx.Err() and
// the sounds queued after it report ErrInterrupted (unless their own ctx is done too). A Play
// waits for the queue to empty, and the queue for a Play in progress.
func (p *Player) Enqueue(ctx context.Context, pcm audio.PCM) <-chan error {
	it := &queued{ctx: ctx, done: make(chan error, 1), stop: func() bool { return false }}
	var err error
	switch {
	case p.closing.Load():
		err = ErrClosed
	case ctx.Err() != nil:
		err = ctx.Err() // cancelled already: not a sound
	case len(pcm.Samples) == 0:
	case pcm.Rate < audio.MinRate || pcm.Rate > audio.MaxRate:
		err = fmt.Errorf("audio: cannot play sound at %d Hz (%d..%d Hz are supported)", pcm.Rate, audio.MinRate, audio.MaxRate)
	default:
		it.data = audio.Resample(pcm, p.rate).Samples
	}
	if len(it.data) == 0 {
		it.finish(err)
		return it.done
	}
	q := &p.queue
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.kick == nil {
		q.kick = make(chan struct{}, 1)
	}
	kick := q.kick
	it.stop = context.AfterFunc(ctx, func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	})
	q.items = append(q.items, it)
	if !q.feeding {
		q.feeding = true
		go p.feed()
	}
	select {
	case kick <- struct{}{}:
	default:
	}
	return it.done
}

// feed plays the queue until it is empty. It holds p.mu meanwhile, as Play does.
func (p *Player) feed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := &p.queue
	t := time.NewTimer(stallTimeout / 4)
	defer t.Stop()
	for {
		q.mu.Lock()
		items := append([]*queued(nil), q.items...)
		if len(items) == 0 {
			q.feeding = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()

		var failed error
		if p.closing.Load() {
			failed = ErrClosed
		} else if err := p.checkLost(); err != nil {
			failed = err
		}
		cancelled := -1
		for i, it := range items {
			if it.ctx.Err() != nil {
				cancelled = i
				break
			}
		}
		if failed == nil && cancelled >= 0 {
			failed = p.fadeOut(ErrInterrupted)
		}
		if failed != nil {
			p.dropQueued(len(items), failed)
			continue
		}

		// Feed the ring, in order, as far as it has room (a sound after silence on a new
		// stream: see freshStart).
		if it := items[0]; it.written == 0 {
			it.written = p.freshStart(it.data)
			if it.written == len(it.data) {
				it.end = p.ring.w.Load()
			}
		}
		for _, it := range items {
			if it.written < len(it.data) {
				it.written += p.ring.write(it.data[it.written:])
				if it.written < len(it.data) {
					break
				}
				it.end = p.ring.w.Load()
			}
		}
		// Report the sounds that have been heard: their last sample has left the stream's
		// buffer (a period of sound or silence followed it out), and the sound server's own
		// latency has passed.
		now := time.Now()
		played, silence := p.played.Load(), p.silence.Load()
		heard := 0
		wait := stallTimeout / 4
		for _, it := range items {
			if it.written < len(it.data) || played < it.end || played-it.end+silence < p.latency {
				break
			}
			if it.heardAt.IsZero() {
				it.heardAt = now.Add(tailMargin)
			}
			if now.Before(it.heardAt) {
				wait = min(wait, it.heardAt.Sub(now))
				break
			}
			heard++
		}
		if heard > 0 {
			q.mu.Lock()
			done := q.items[:heard]
			q.items = q.items[heard:]
			q.mu.Unlock()
			for _, it := range done {
				it.finish(nil)
			}
			continue
		}
		t.Reset(wait)
		select {
		case <-p.wake:
		case <-q.kick:
		case <-p.done:
		case <-t.C:
		}
	}
}

// dropQueued fails the first n queued sounds: a cancelled one with its context's error, the
// others with err.
func (p *Player) dropQueued(n int, err error) {
	q := &p.queue
	q.mu.Lock()
	drop := q.items[:n]
	q.items = q.items[n:]
	q.mu.Unlock()
	for _, it := range drop {
		if cerr := it.ctx.Err(); cerr != nil {
			it.finish(cerr)
		} else {
			it.finish(err)
		}
	}
}
