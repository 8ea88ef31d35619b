package app

import (
	"context"
	"testing"
	"time"
)

// BenchmarkTypedTurn measures what the pipeline itself costs per turn: a typed question and a
// 32-token reply from an engine that takes no time, through the loop, the workers and the
// events (to a sink that counts them), until the turn is done.
func BenchmarkTypedTurn(b *testing.B) {
	brain := &fakeBrain{pieces: make([]string, 32)}
	for i := range brain.pieces {
		brain.pieces[i] = " word"
	}
	done := make(chan struct{}, 1)
	events := 0
	a := New(Options{
		Config: DefaultConfig(),
		Loaders: Loaders{
			Brain: func(context.Context, func(float64)) (Brain, error) { return brain, nil },
		},
		Sink: SinkFunc(func(e Event) {
			events++
			if e.Kind == EventTurnDone {
				done <- struct{}{}
			}
			if e.Kind == EventReadiness && e.Readiness.Type {
				done <- struct{}{}
			}
		}),
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = a.Run(ctx) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.Fatal("not ready")
	}
	b.ResetTimer()
	for range b.N {
		a.Ask("how far is the moon")
		<-done
	}
	b.StopTimer()
	b.ReportMetric(float64(events)/float64(b.N), "events/turn")
}
