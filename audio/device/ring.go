package device

import "sync/atomic"

// ring is a bounded, lock-free single-producer single-consumer queue of samples: the audio
// thread is one side, one Go goroutine the other. Neither side ever blocks or allocates; a full
// ring refuses what does not fit (the producer counts it), an empty one yields nothing.
type ring struct {
	buf  []float32
	mask uint64
	w, r atomic.Uint64 // samples ever written / read; w-r are queued
}

// newRing returns a ring holding at least n samples.
func newRing(n int) *ring {
	size := 1
	for size < n {
		size <<= 1
	}
	return &ring{buf: make([]float32, size), mask: uint64(size - 1)}
}

func (q *ring) len() int  { return int(q.w.Load() - q.r.Load()) }
func (q *ring) free() int { return len(q.buf) - q.len() }

// write queues as much of p as fits and returns how much that was. Producer only.
func (q *ring) write(p []float32) int {
	w := q.w.Load()
	n := min(len(p), len(q.buf)-int(w-q.r.Load()))
	for i := 0; i < n; i++ {
		q.buf[(w+uint64(i))&q.mask] = p[i]
	}
	q.w.Store(w + uint64(n))
	return n
}

// writeMixed down-mixes interleaved frames of the given channel count (the mean of the
// channels) and queues as many whole frames as fit; it returns how many frames that was.
// Producer only.
func (q *ring) writeMixed(interleaved []float32, channels int) int {
	if channels == 1 {
		return q.write(interleaved)
	}
	frames := len(interleaved) / channels
	w := q.w.Load()
	n := min(frames, len(q.buf)-int(w-q.r.Load()))
	scale := 1 / float32(channels)
	for i := 0; i < n; i++ {
		var sum float32
		for _, v := range interleaved[i*channels : (i+1)*channels] {
			sum += v
		}
		q.buf[(w+uint64(i))&q.mask] = sum * scale
	}
	q.w.Store(w + uint64(n))
	return n
}

// read dequeues up to len(p) samples into p and returns how many. Consumer only.
func (q *ring) read(p []float32) int {
	r := q.r.Load()
	n := min(len(p), int(q.w.Load()-r))
	for i := 0; i < n; i++ {
		p[i] = q.buf[(r+uint64(i))&q.mask]
	}
	q.r.Store(r + uint64(n))
	return n
}

// discard drops everything queued. Consumer only.
func (q *ring) discard() { q.r.Store(q.w.Load()) }
