//go:build !nowindow

package main

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hark/audio"
	"hark/dictation"
)

// pausingMic is mic, with paused set while it hands out the samples in [from, to).
type pausingMic struct {
	mic
	read     int
	from, to int
	paused   *atomic.Bool
}

func (m *pausingMic) Read(ctx context.Context, p []float32) (int, error) {
	m.paused.Store(m.read >= m.from && m.read < m.to)
	n, err := m.mic.Read(ctx, p)
	m.read += n
	return n, err
}

// TestDictatePausable: the window's dictation hears every sentence said while recording,
// none said while paused, and keeps what was heard when the microphone is lost.
func TestDictatePausable(t *testing.T) {
	pcm := speechLike(6, 2*time.Second) // a sentence every 2.4 s
	sentence := int(2.4 * audio.SampleRate)
	tests := []struct {
		name     string
		from, to int // paused over these samples
		fail     error
		want     int // sentences heard
	}{
		{"no pause, then Stop", 0, 0, nil, 6},
		{"two sentences paused", 2 * sentence, 4 * sentence, nil, 4},
		{"microphone lost", 0, 0, errors.New("device: capture device lost"), 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var paused atomic.Bool
			m := &pausingMic{mic: mic{pcm: pcm, fail: tt.fail}, from: tt.from, to: tt.to, paused: &paused}
			d := dictation.New(&counter{}, audio.NewEnergyDetector(audio.EnergyConfig{}), dictation.Options{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var heard []string
			done := make(chan error, 1)
			go func() { done <- dictatePausable(ctx, m, d, paused.Load, func(s string) { heard = append(heard, s) }) }()
			var err error
			if tt.fail == nil {
				time.Sleep(500 * time.Millisecond) // the fake microphone is read at once
				cancel()
			}
			err = <-done
			if !errors.Is(err, tt.fail) || (tt.fail == nil && err != nil) {
				t.Fatalf("err %v", err)
			}
			if len(heard) != tt.want {
				t.Errorf("heard %d sentences: %s", len(heard), strings.Join(heard, ", "))
			}
		})
	}
}
