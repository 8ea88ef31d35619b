package device

import (
	"context"
	"errors"
	"testing"
	"time"

	"hark/audio"
)

// callbacks runs the player's audio callback every few milliseconds, as a device would, and
// returns everything it output (mono) once stop is called.
func callbacks(p *Player, frames int) (stop func() []float32) {
	p.start = time.Now()
	quit, out := make(chan struct{}), make(chan []float32)
	go func() {
		var got []float32
		buf := make([]float32, frames*p.channels)
		for {
			select {
			case <-quit:
				out <- got
				return
			case <-time.After(2 * time.Millisecond):
			}
			p.onData(f32bytes(buf), nil, uint32(frames))
			for f := 0; f < frames; f++ {
				got = append(got, buf[f*p.channels])
			}
		}
	}()
	return func() []float32 { close(quit); return <-out }
}

func constant(n int, v float32) audio.PCM {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return audio.PCM{Rate: 16000, Samples: s}
}

func wait(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("a queued sound never reported")
		return nil
	}
}

// TestEnqueueBackToBack: queued sounds play in order with no silence between them, and each
// reports once it has been heard.
func TestEnqueueBackToBack(t *testing.T) {
	p := fakePlayer(16000, 1)
	stop := callbacks(p, 160)
	ctx := context.Background()
	a := p.Enqueue(ctx, constant(3200, 0.25))
	b := p.Enqueue(ctx, constant(1600, 0.5))
	c := p.Enqueue(ctx, audio.PCM{Rate: 16000}) // empty: reports at once
	if err := wait(t, c); err != nil {
		t.Fatalf("empty sound: %v", err)
	}
	if err := wait(t, a); err != nil {
		t.Fatalf("first sound: %v", err)
	}
	select {
	case err := <-b:
		t.Fatalf("second sound reported (%v) before the first was heard through", err)
	default:
	}
	if err := wait(t, b); err != nil {
		t.Fatalf("second sound: %v", err)
	}
	out := stop()
	first := -1
	for i, v := range out {
		if v != 0 {
			first = i
			break
		}
	}
	if first < 0 || len(out) < first+4800 {
		t.Fatalf("output too short or silent (%d samples, sound from %d)", len(out), first)
	}
	for i, v := range out[first : first+4800] {
		want := float32(0.25)
		if i >= 3200 {
			want = 0.5
		}
		if v != want {
			t.Fatalf("sample %d of the queued sounds is %v, want %v: a gap or reordering", i, v, want)
		}
	}
}

// TestEnqueueCancel: cancelling a queued sound fades out and drops the queue; the sounds
// behind it report ErrInterrupted, and later sounds play again.
func TestEnqueueCancel(t *testing.T) {
	p := fakePlayer(16000, 1)
	stop := callbacks(p, 160)
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	a := p.Enqueue(ctx, constant(16000, 0.25))
	b := p.Enqueue(context.Background(), constant(16000, 0.5))
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := wait(t, a); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled sound reported %v, want context.Canceled", err)
	}
	if err := wait(t, b); !errors.Is(err, ErrInterrupted) {
		t.Errorf("sound behind it reported %v, want ErrInterrupted", err)
	}
	if err := wait(t, p.Enqueue(ctx, constant(160, 0.25))); !errors.Is(err, context.Canceled) {
		t.Errorf("sound with a done context reported %v, want context.Canceled", err)
	}
	if err := wait(t, p.Enqueue(context.Background(), constant(800, 0.25))); err != nil {
		t.Errorf("sound after the cancellation: %v", err)
	}
	if err := p.Play(context.Background(), constant(800, 0.25)); err != nil {
		t.Errorf("Play after the queue: %v", err)
	}
}
