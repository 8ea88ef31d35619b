package aec

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestStream drives a Stream the way the app does, on a simulated clock: the player hands it
// two replies with a pause between them; the microphone hears their echo 120 ms later and is
// read in chunks of random size with a few milliseconds of scheduling jitter. A continuous
// player reports the silence between the replies too; the other only the replies.
func TestStream(t *testing.T) {
	const latency = 120 * time.Millisecond // output + input latency: play call to echo read
	reply := speech(t, "The capital of France is Paris. It sits on the river Seine, in the north of the country. "+
		"Paris is known for its museums and its cafes.", "en-us")
	second := speech(t, "Is there anything else you would like to know? I can tell you more.", "en-us")
	startA := 0
	startB := startA + len(reply) + 3*rate/2
	n := startB + len(second) + rate
	far := make([]float32, n) // what the speaker plays, by time
	mix(far, reply, startA)
	mix(far, second, startB)
	mic := noise(n, -65, 9)
	mix(mic, room(far, latency, -6, 4), 0)

	for _, continuous := range []bool{true, false} {
		name := "per-reply"
		if continuous {
			name = "continuous"
		}
		t.Run(name, func(t *testing.T) {
			s, err := NewStream(Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			at := func(sample int) time.Time { return t0.Add(time.Duration(sample) * time.Second / rate) }
			var now time.Time
			s.now = func() time.Time { return now }

			type play struct {
				start int
				pcm   []float32
			}
			var plays []play
			if continuous { // 10 ms blocks from the start, silence included
				for i := 0; i < n; i += rate / 100 {
					plays = append(plays, play{i, far[i:min(i+rate/100, n)]})
				}
			} else {
				plays = []play{{startA, reply}, {startB, second}}
			}
			rng := rand.New(rand.NewPCG(5, 6))
			var clean, ref []float32
			var settledEcho, settledClean float64 // over the settled second reply's first 0.5 s
			firstSettled := -1
			for pos := 0; pos < n; {
				end := pos + min(160+rng.IntN(1440), n-pos)
				// The player hands over its audio before the microphone chunk covering that
				// moment is read.
				for len(plays) > 0 && plays[0].start < end {
					now = at(plays[0].start).Add(time.Duration(rng.IntN(2000)) * time.Microsecond)
					s.Played(plays[0].pcm)
					plays = plays[1:]
				}
				now = at(end).Add(time.Duration(rng.IntN(5000)) * time.Microsecond)
				r, err := s.Process(mic[pos:end])
				if err != nil {
					t.Fatal(err)
				}
				o := len(clean)
				clean = append(clean, r.Clean...)
				ref = append(ref, r.Far...)
				// Settled promises that Clean is free of the echo: from the moment it says so
				// in the second reply (after its placement is verified), the echo must be
				// attenuated at once, not once the filter's reference history has refilled.
				if fs := s.c.FrameSize(); r.Settled && o-fs >= startB && o-fs < startB+len(second) {
					if firstSettled < 0 {
						firstSettled = o
					}
					if o < firstSettled+rate/2 {
						settledEcho += energy(mic[o-fs : len(clean)-fs])
						settledClean += energy(clean[o:])
					}
				}
				if len(r.Raw) != len(r.Clean) || len(r.Far) != len(r.Clean) {
					t.Fatalf("Process: %d clean, %d raw, %d far samples", len(r.Clean), len(r.Raw), len(r.Far))
				}
				// Unsettled while a new placement is verified (lag + window + search range),
				// once the filter has converged, and until it works again: at the start of
				// the second reply; never with a continuous player.
				sec, endSec, b := float64(pos)/rate, float64(end)/rate, float64(startB)/rate
				wantSettled := continuous && sec >= 3 || !continuous && (endSec < b && sec >= 3 || sec >= b+1.0)
				wantUnsettled := !continuous && sec >= b+0.1 && sec < b+0.45
				if (wantSettled && !r.Settled) || (wantUnsettled && r.Settled) {
					t.Fatalf("at %.2f s Settled = %v", sec, r.Settled)
				}
				pos = end
			}
			if len(clean) != len(ref) || len(clean) < n-s.c.FrameSize() {
				t.Fatalf("got %d clean and %d reference samples for %d in", len(clean), len(ref), n)
			}
			// The reference Process returns leads the echo by about the latency (the first
			// placement's error is a few milliseconds), and by exactly the same amount in the
			// second reply (once verified): the filter stays valid.
			lagA := bestLag(ref[startA:startA+rate], mic[startA:startA+rate+rate/2])
			if d := time.Duration(lagA) * time.Second / rate; d < latency-10*time.Millisecond || d > latency+10*time.Millisecond {
				t.Errorf("reference leads the echo by %v, want %v ± 10 ms", d, latency)
			}
			b0 := startB + rate*8/10
			lagB := bestLag(ref[b0:b0+rate], mic[b0:b0+rate+rate/2])
			if lagB < lagA-1 || lagB > lagA+1 {
				t.Errorf("second reply: reference leads the echo by %d samples, the first by %d", lagB, lagA)
			}
			fs := s.c.FrameSize() // the suppressor delays by a frame
			erle := func(a, b int) float64 { return db(energy(mic[a:b]) / energy(clean[a+fs:b+fs])) }
			late := erle(startA+len(reply)-3*rate, startA+len(reply))
			// The second reply, once its placement is verified (per-reply) or from its start.
			skip := 0
			if !continuous {
				skip = rate * 8 / 10 // window + lag + search range, and a frame or two
			}
			next := erle(startB+skip, startB+len(second))
			t.Logf("ERLE %.1f dB over the last 3 s of the first reply, %.1f dB over the second reply (from %.1f s in); lag %v",
				late, next, float64(skip)/rate, s.Lag())
			if e := db(settledEcho / settledClean); e < 15 {
				t.Errorf("ERLE %.1f dB over the first 0.5 s of the second reply counted as settled, want >= 15", e)
			}
			if late < 20 {
				t.Errorf("ERLE %.1f dB at the end of the first reply, want >= 20", late)
			}
			if next < 20 {
				t.Errorf("ERLE %.1f dB over the second reply, want >= 20: the alignment changed across the pause", next)
			}
			if d := s.Lag() - time.Duration(lagA)*time.Second/rate; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("the filter's echo delay %v, the reference's lead %v", s.Lag(), time.Duration(lagA)*time.Second/rate)
			}
		})
	}
}

// bestLag returns the lag (in samples, 0 up to len(b)-len(a)) at which a best matches b.
func bestLag(a, b []float32) int {
	best, bestV := 0, -2.0
	for lag := 0; lag+len(a) <= len(b); lag++ {
		if v := ncc(a, b[lag:lag+len(a)]); v > bestV {
			best, bestV = lag, v
		}
	}
	return best
}

func TestStreamStop(t *testing.T) {
	s, err := NewStream(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Played(make([]float32, rate))
	s.Stop()
	r, err := s.Process(noise(rate/2, -20, 1))
	if err != nil {
		t.Fatal(err)
	}
	if e := energy(r.Far); e != 0 {
		t.Errorf("reference after Stop has energy %g, want silence", e)
	}
}

// TestStreamFollowsDelayJump: mid-reply the echo starts coming 25 ms later (the sound server
// ran dry for a moment and played silence). The Stream notices and shifts its reference, so
// the filter is valid again within a second or so.
func TestStreamFollowsDelayJump(t *testing.T) {
	reply := speech(t, "The capital of France is Paris. It sits on the river Seine, in the north of the country. "+
		"Paris is known for its museums, its cafes, and the Eiffel Tower.", "en-us")
	far := append(append([]float32(nil), reply...), reply...)
	jump := 6 * rate
	// The echo path: 120 ms, then from 6 s a gap of 25 ms and 145 ms.
	played := append(append(append([]float32(nil), far[:jump]...), make([]float32, 400)...), far[jump:]...)
	mic := noise(len(played), -65, 9)
	mix(mic, room(played, 120*time.Millisecond, -6, 4), 0)
	mic = mic[:len(far)]

	s, err := NewStream(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var now time.Time
	s.now = func() time.Time { return now }
	now = t0
	s.Played(far)
	var clean []float32
	for pos := 0; pos+640 <= len(mic); pos += 640 {
		now = t0.Add(time.Duration(pos+640) * time.Second / rate)
		r, err := s.Process(mic[pos : pos+640])
		if err != nil {
			t.Fatal(err)
		}
		clean = append(clean, r.Clean...)
	}
	fs := s.c.FrameSize()
	erle := func(from, to float64) float64 {
		a, b := int(from*rate), int(to*rate)
		return db(energy(mic[a:b]) / energy(clean[a+fs:b+fs]))
	}
	before, after := erle(4, 6), erle(7.5, 10)
	t.Logf("ERLE %.1f dB before the jump, %.1f dB from 1.5 s after it; lag now %v", before, after, s.Lag())
	if after < 20 {
		t.Errorf("ERLE %.1f dB after the echo delay jumped, want >= 20", after)
	}

}
