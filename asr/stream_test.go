package asr

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTranscriber "transcribes" by naming the audio length, after delay (or, for calls whose
// InitialPrompt is "block", when ctx is done).
type fakeTranscriber struct {
	delay    time.Duration
	inFlight atomic.Int32
	maxSeen  atomic.Int32
	calls    atomic.Int32
	started  chan struct{} // receives when a blocking call starts, if set
}

func (f *fakeTranscriber) Transcribe(ctx context.Context, pcm []float32, o Options) (Result, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	f.calls.Add(1)
	if o.InitialPrompt == "block" {
		if f.started != nil {
			f.started <- struct{}{}
		}
		<-ctx.Done()
		return Result{}, ctx.Err()
	}
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	return Result{Text: fmt.Sprintf("%d samples", len(pcm))}, nil
}

// recorder collects emitted partials and checks that emit is never called concurrently.
type recorder struct {
	mu       sync.Mutex
	got      []Partial
	busy     atomic.Bool
	overlaps atomic.Int32
	first    chan struct{}
	once     sync.Once
}

func newRecorder() *recorder { return &recorder{first: make(chan struct{})} }

func (r *recorder) emit(p Partial) {
	if !r.busy.CompareAndSwap(false, true) {
		r.overlaps.Add(1)
	}
	defer r.busy.Store(false)
	r.mu.Lock()
	r.got = append(r.got, p)
	r.mu.Unlock()
	r.once.Do(func() { close(r.first) })
}

func (r *recorder) partials() []Partial {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Partial(nil), r.got...)
}

// waitFirst waits for the first partial (a hang guard, not a timing assertion).
func (r *recorder) waitFirst(t *testing.T) {
	t.Helper()
	select {
	case <-r.first:
	case <-time.After(20 * time.Second):
		t.Fatal("no partial transcript within 20 s")
	}
}

// checkOrder verifies Seq 1..n, one final and last, audio never shrinking.
func checkOrder(t *testing.T, got []Partial, wantFinal bool) {
	t.Helper()
	for i, p := range got {
		if p.Seq != i+1 {
			t.Fatalf("partial %d has Seq %d: %+v", i, p.Seq, got)
		}
		if p.Final != (wantFinal && i == len(got)-1) {
			t.Fatalf("partial %d Final = %v (of %d)", i, p.Final, len(got))
		}
		if i > 0 && p.Audio < got[i-1].Audio {
			t.Fatalf("partial %d covers %v, less than the one before (%v)", i, p.Audio, got[i-1].Audio)
		}
	}
}

func TestStreamerOrderAndFinal(t *testing.T) {
	f := &fakeTranscriber{delay: 2 * time.Millisecond}
	s := NewStreamer(f, StreamOptions{Interval: 10 * time.Millisecond, MinAudio: time.Millisecond})
	r := newRecorder()
	u := s.Start(context.Background(), r.emit)
	chunk := make([]float32, 1600)
	u.Append(chunk)
	r.waitFirst(t)
	for range 20 {
		u.Append(chunk)
		time.Sleep(3 * time.Millisecond)
	}
	res, err := u.Finish(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := r.partials()
	checkOrder(t, got, true)
	final := got[len(got)-1]
	if want := "33600 samples"; res.Text != want || final.Text != want || final.Audio != 2100*time.Millisecond {
		t.Fatalf("final %+v (result %q), want the whole utterance %q", final, res.Text, want)
	}
	for _, p := range got[:len(got)-1] {
		if p.Text == final.Text && p.Seq > 1 && got[p.Seq-2].Text == p.Text {
			t.Fatalf("the same partial text was emitted twice: %+v", got)
		}
	}
	time.Sleep(30 * time.Millisecond) // three intervals: a stray pass would emit now
	if n := len(r.partials()); n != len(got) {
		t.Fatalf("%d partials emitted after the final", n-len(got))
	}
	if r.overlaps.Load() != 0 {
		t.Fatal("emit was called concurrently")
	}
	if _, err := u.Finish(context.Background(), nil); err == nil {
		t.Fatal("a second Finish succeeded")
	}
	passes, skipped := u.Stats()
	t.Logf("%d partials, %d passes, %d ticks skipped", len(got)-1, passes, skipped)
}

// TestStreamerSkipsWhenSlow: passes slower than the interval never overlap, and the ticks they
// cover are skipped rather than queued.
func TestStreamerSkipsWhenSlow(t *testing.T) {
	f := &fakeTranscriber{delay: 40 * time.Millisecond}
	s := NewStreamer(f, StreamOptions{Interval: 5 * time.Millisecond, MinAudio: time.Millisecond})
	r := newRecorder()
	u := s.Start(context.Background(), r.emit)
	chunk := make([]float32, 160)
	start := time.Now()
	for range 40 {
		u.Append(chunk)
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := u.Finish(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	passes, skipped := u.Stats()
	if f.maxSeen.Load() != 1 {
		t.Fatalf("%d passes ran at once", f.maxSeen.Load())
	}
	if skipped == 0 || passes == 0 {
		t.Fatalf("%d passes, %d skipped ticks in %v of 40 ms passes every 5 ms", passes, skipped, elapsed)
	}
	if max := int(elapsed/(40*time.Millisecond)) + 1; passes > max {
		t.Fatalf("%d passes of 40 ms in %v", passes, elapsed)
	}
	checkOrder(t, r.partials(), true)
	t.Logf("%d passes, %d skipped ticks in %v", passes, skipped, elapsed)
}

// TestStreamerFinishInterruptsPartial: Finish cancels a partial pass in progress; its text is
// never emitted and the final comes at once.
func TestStreamerFinishInterruptsPartial(t *testing.T) {
	f := &fakeTranscriber{started: make(chan struct{}, 1)}
	partial := Options{InitialPrompt: "block"}
	final := Options{}
	s := NewStreamer(f, StreamOptions{Interval: time.Millisecond, MinAudio: time.Millisecond, Partial: &partial, Final: &final})
	r := newRecorder()
	u := s.Start(context.Background(), r.emit)
	u.Update(make([]float32, 8000))
	select {
	case <-f.started:
	case <-time.After(20 * time.Second):
		t.Fatal("no partial pass started")
	}
	res, err := u.Finish(context.Background(), make([]float32, 16000))
	if err != nil || res.Text != "16000 samples" {
		t.Fatalf("Finish = %q, %v", res.Text, err)
	}
	got := r.partials()
	if len(got) != 1 || !got[0].Final || got[0].Seq != 1 {
		t.Fatalf("emitted %+v, want only the final", got)
	}
}

func TestStreamerCancel(t *testing.T) {
	f := &fakeTranscriber{delay: time.Millisecond}
	s := NewStreamer(f, StreamOptions{Interval: 2 * time.Millisecond, MinAudio: time.Millisecond})
	r := newRecorder()
	u := s.Start(context.Background(), r.emit)
	u.Append(make([]float32, 800))
	r.waitFirst(t)
	u.Cancel()
	n := len(r.partials())
	time.Sleep(10 * time.Millisecond)
	if len(r.partials()) != n {
		t.Fatal("partials emitted after Cancel")
	}
	checkOrder(t, r.partials(), false)
	if _, err := u.Finish(context.Background(), nil); !errors.Is(err, errEnded) {
		t.Fatalf("Finish after Cancel: %v", err)
	}
	u.Cancel() // harmless
}

// TestStreamerRealEngine streams jfk.wav into the real engine in half-second pieces: partials
// come in order, and the final is exactly what a plain Transcribe of the whole says.
func TestStreamerRealEngine(t *testing.T) {
	m := load(t, sharedModel(t), LoadOptions{})
	pcm := jfk(t)[:4*sampleRate]
	partial := Options{Language: "en", TrimAudioCtx: true, MaxTokens: 6, Guard: &Guard{Off: true}}
	final := Options{Language: "en", TrimAudioCtx: true, MaxTokens: 12, Guard: &Guard{Off: true}}
	s := NewStreamer(m, StreamOptions{Interval: 200 * time.Millisecond, Partial: &partial, Final: &final})
	r := newRecorder()
	u := s.Start(context.Background(), r.emit)
	for i := 0; i < len(pcm); i += sampleRate / 2 {
		u.Append(pcm[i:min(i+sampleRate/2, len(pcm))])
		if i == 0 {
			r.waitFirst(t)
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	res, err := u.Finish(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Transcribe(context.Background(), pcm, final)
	if err != nil {
		t.Fatal(err)
	}
	got := r.partials()
	checkOrder(t, got, true)
	if res.Text != want.Text || got[len(got)-1].Text != want.Text {
		t.Fatalf("final %q, plain Transcribe %q", res.Text, want.Text)
	}
	passes, skipped := u.Stats()
	t.Logf("%d partials (%d passes, %d ticks skipped), final %.60q", len(got)-1, passes, skipped, res.Text)
}
