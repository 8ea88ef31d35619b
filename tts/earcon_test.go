package tts

import (
	"math"
	"testing"
	"time"

	"hark/audio"
)

// goertzel returns the power of freq in s.
func goertzel(s []float32, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range s {
		s0 := float64(x) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

func TestEarcons(t *testing.T) {
	tests := []struct {
		e           Earcon
		first, last float64 // the strongest frequency of the first and last 40 ms
	}{
		{EarconListening, 880, 1318.5},
		{EarconGotIt, 1318.5, 987.8},
		{EarconError, 440, 349.2},
	}
	candidates := []float64{349.2, 440, 880, 987.8, 1318.5}
	for _, tt := range tests {
		t.Run(tt.e.String(), func(t *testing.T) {
			pcm := tt.e.PCM()
			if pcm.Rate != audio.SampleRate {
				t.Fatalf("rate %d, want %d", pcm.Rate, audio.SampleRate)
			}
			if d := pcm.Duration(); d < 100*time.Millisecond || d > 400*time.Millisecond {
				t.Errorf("lasts %v, want 100-400 ms", d)
			}
			peak := 0.0
			for _, s := range pcm.Samples {
				peak = math.Max(peak, math.Abs(float64(s)))
			}
			if db := 20 * math.Log10(peak); db < -13 || db > -11 {
				t.Errorf("peak %.1f dBFS, want -12", db)
			}
			n := len(pcm.Samples)
			if a, b := math.Abs(float64(pcm.Samples[0])), math.Abs(float64(pcm.Samples[n-1])); a > 1e-3 || b > 1e-3 {
				t.Errorf("starts at %g and ends at %g: would click", a, b)
			}
			win := 40 * audio.SampleRate / 1000
			strongest := func(s []float32) float64 {
				best, bestP := 0.0, -1.0
				for _, f := range candidates {
					if p := goertzel(s, pcm.Rate, f); p > bestP {
						best, bestP = f, p
					}
				}
				return best
			}
			if got := strongest(pcm.Samples[:win]); got != tt.first {
				t.Errorf("starts on %v Hz, want %v Hz", got, tt.first)
			}
			if got := strongest(pcm.Samples[n-win:]); got != tt.last {
				t.Errorf("ends on %v Hz, want %v Hz", got, tt.last)
			}
		})
	}
}
