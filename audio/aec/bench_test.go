package aec

import (
	"testing"
	"time"
)

// BenchmarkStream measures the cost of echo cancellation per second of microphone audio
// while the assistant speaks (rtf: processing time over audio time; lower is better).
func BenchmarkStream(b *testing.B) {
	sc := newScenario(b, 150*time.Millisecond)
	for _, linear := range []bool{false, true} {
		name := "suppress"
		if linear {
			name = "linear"
		}
		b.Run(name, func(b *testing.B) {
			s, err := NewStream(Config{Linear: linear})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			const chunk = 512
			var audioDur time.Duration
			start := time.Now()
			pos := 0
			for b.Loop() {
				if pos+chunk > len(sc.mic) {
					pos = 0
				}
				if pos == 0 {
					s.Played(sc.far)
				}
				if _, err := s.Process(sc.mic[pos : pos+chunk]); err != nil {
					b.Fatal(err)
				}
				pos += chunk
				audioDur += chunk * time.Second / rate
			}
			b.ReportMetric(float64(time.Since(start))/float64(audioDur), "rtf")
		})
	}
}
