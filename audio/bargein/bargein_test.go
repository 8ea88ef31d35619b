package bargein

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

const rate = 16000

// levelVAD is a worst-case voice activity detector: anything louder than -50 dBFS is speech,
// echo included.
type levelVAD struct{ resets int }

func (levelVAD) FrameSize() int { return 512 }
func (levelVAD) Speech(frame []float32) (float32, error) {
	if levelDB(frame) > -50 {
		return 0.9, nil
	}
	return 0.1, nil
}
func (v *levelVAD) Reset() { v.resets++ }

// talk returns n samples of speech-like sound: noise whose loudness swings 12 dB at 4 Hz
// (syllables), at about rms dBFS.
func talk(n int, rms float64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 11))
	s := make([]float32, n)
	a := math.Pow(10, rms/20) * math.Sqrt2
	for i := range s {
		env := 0.25 + 0.75*math.Max(0, math.Sin(2*math.Pi*4*float64(i)/rate+float64(seed)))
		s[i] = float32(rng.NormFloat64() * a * env)
	}
	return s
}

// white returns n samples of steady noise at rms dBFS.
func white(n int, rms float64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 13))
	s := make([]float32, n)
	a := math.Pow(10, rms/20)
	for i := range s {
		s[i] = float32(rng.NormFloat64() * a)
	}
	return s
}

func scale(s []float32, db float64) []float32 {
	g := float32(math.Pow(10, db/20))
	out := make([]float32, len(s))
	for i, x := range s {
		out[i] = x * g
	}
	return out
}

func add(a, b []float32) []float32 {
	out := make([]float32, len(a))
	for i := range a {
		out[i] = a[i]
		if i < len(b) {
			out[i] += b[i]
		}
	}
	return out
}

func delay(s []float32, d time.Duration) []float32 {
	k := int(d.Seconds() * rate)
	out := make([]float32, len(s))
	copy(out[k:], s)
	return out
}

// run pushes the signals in 40 ms chunks and returns the time of the first barge-in (-1: none).
func run(t *testing.T, d *Detector, mic, raw, far []float32, settled func(at int) bool) time.Duration {
	t.Helper()
	const chunk = 640
	for i := 0; i+chunk <= len(mic); i += chunk {
		in := Input{Mic: mic[i : i+chunk], Settled: settled(i)}
		if raw != nil {
			in.Raw = raw[i : i+chunk]
		}
		if far != nil {
			in.Far = far[i : i+chunk]
		}
		b, err := d.Push(in)
		if err != nil {
			t.Fatal(err)
		}
		if b {
			return time.Duration(i+chunk) * time.Second / rate
		}
	}
	return -1
}

func always(int) bool { return true }

func TestBargeIn(t *testing.T) {
	const n = 12 * rate
	personAt := 8 * rate
	reply := talk(n, -20, 1)                              // the assistant, -20 dBFS RMS
	echo := scale(delay(reply, 150*time.Millisecond), -6) // what the microphone hears of it
	person := func(db float64) []float32 {
		p := make([]float32, n)
		copy(p[personAt:], talk(n-personAt, db, 2))
		return p
	}
	noise := talk(n, -70, 3)
	// A reply with pauses (300 ms a second) in a room with noise at -55 dBFS: in the pauses
	// the microphone hears only the noise, which the canceller cannot take out; that must not
	// count as the canceller failing.
	paused := append([]float32(nil), reply...)
	for i := range paused {
		if i%rate >= rate*7/10 {
			paused[i] = 0
		}
	}
	pausedEcho := scale(delay(paused, 150*time.Millisecond), -6)
	room := white(n, -55, 4)
	tests := []struct {
		name    string
		mic     []float32 // after cancellation
		raw     []float32 // nil: no canceller
		far     []float32
		settled func(at int) bool
		want    bool
	}{
		{name: "person, nothing playing", mic: add(noise, person(-30)), want: true},
		{name: "silence, nothing playing", mic: noise, want: false},
		{name: "echo alone, no canceller", mic: add(noise, echo), far: reply, settled: always, want: false},
		{name: "echo arriving 600 ms after the playback", mic: add(noise, scale(delay(reply, 600*time.Millisecond), -6)), far: reply, settled: always, want: false},
		{name: "person louder than the echo, no canceller", mic: add(add(noise, echo), person(-10)), far: reply, settled: always, want: true},
		{name: "person as loud as the echo, no canceller", mic: add(add(noise, echo), person(-26)), far: reply, settled: always, want: false},
		{name: "echo alone, canceller converged", mic: add(noise, scale(echo, -30)), raw: add(noise, echo), far: reply, settled: always, want: false},
		{name: "person as loud as the echo, canceller converged",
			mic: add(add(noise, scale(echo, -30)), person(-26)), raw: add(add(noise, echo), person(-26)), far: reply, settled: always, want: true},
		{name: "person quieter than the echo, canceller converged",
			mic: add(add(noise, scale(echo, -30)), person(-32)), raw: add(add(noise, echo), person(-32)), far: reply, settled: always, want: true},
		{name: "canceller loses its alignment at 8 s, unsettled",
			mic: add(noise, concat(scale(echo[:personAt], -30), scale(echo[personAt:], -4))), raw: add(noise, echo), far: reply,
			settled: func(at int) bool { return at < personAt || at >= personAt+2*rate }, want: false},
		// A new placement of the reference verified from 6 to 6.6 s (the echo passes
		// uncancelled, unsettled): that must not count as the canceller failing, and a person as
		// loud as the echo at 8 s is heard over the cancelled signal.
		{name: "person as loud as the echo after a verified placement",
			mic: add(add(noise, concat(concat(scale(echo[:6*rate], -30), echo[6*rate:6*rate+rate*6/10]), scale(echo[6*rate+rate*6/10:], -30))), person(-26)),
			raw: add(add(noise, echo), person(-26)), far: reply,
			settled: func(at int) bool { return at < 6*rate || at >= 6*rate+rate*6/10 }, want: true},
		{name: "echo alone with pauses, room noise, canceller converged",
			mic: add(room, scale(pausedEcho, -30)), raw: add(room, pausedEcho), far: paused, settled: always, want: false},
		{name: "person as loud as the echo with pauses, room noise, canceller converged",
			mic: add(add(room, scale(pausedEcho, -30)), person(-26)), raw: add(add(room, pausedEcho), person(-26)), far: paused, settled: always, want: true},
		// The reference slips by 20 ms at 8 s and the stream has not noticed (still settled):
		// the canceller adds its estimate of the echo to the microphone, 3 dB louder than it.
		{name: "canceller adds the echo, settled",
			mic: add(noise, concat(scale(echo[:personAt], -30), add(echo, delay(echo, 20*time.Millisecond))[personAt:])), raw: add(noise, echo), far: reply,
			settled: always, want: false},
		{name: "canceller not converged yet", mic: add(noise, scale(echo, -3)), raw: add(noise, echo), far: reply, settled: always, want: false},
	}
	for _, tt := range tests {
		for _, kind := range []string{"", "interleaved/"} {
			t.Run(kind+tt.name, func(t *testing.T) {
				d := makeDetector(t, kind != "", func() SpeechDetector { return &levelVAD{} }, Config{})
				settled := tt.settled
				if settled == nil {
					settled = always
				}
				at := run(t, d, tt.mic, tt.raw, tt.far, settled)
				last := d.Last()
				switch {
				case tt.want && at < 0:
					t.Errorf("no barge-in; last frame %+v", last)
				case !tt.want && at >= 0:
					t.Errorf("barge-in at %v with nobody talking over the assistant; last frame %+v", at, last)
				case tt.want && at < time.Duration(personAt)*time.Second/rate:
					t.Errorf("barge-in at %v, before the person spoke at 8 s", at)
				case tt.want:
					t.Logf("barge-in %v after the person started; learnt coupling %.1f dB, attenuation %.1f dB",
						at-time.Duration(personAt)*time.Second/rate, last.Coupling, last.ERLE)
				}
			})
		}
	}
}

// makeDetector returns a Detector with one VAD from vad, or two interleaved.
func makeDetector(t *testing.T, interleaved bool, vad func() SpeechDetector, cfg Config) *Detector {
	t.Helper()
	if !interleaved {
		return New(vad(), cfg)
	}
	d, err := NewInterleaved(vad(), vad(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func concat(a, b []float32) []float32 { return append(append([]float32(nil), a...), b...) }

// fixedVAD calls every frame louder than -50 dBFS speech with probability p.
type fixedVAD struct{ p float32 }

func (fixedVAD) FrameSize() int { return 512 }
func (v fixedVAD) Speech(frame []float32) (float32, error) {
	if levelDB(frame) > -50 {
		return v.p, nil
	}
	return 0.1, nil
}
func (fixedVAD) Reset() {}

// TestBargeInLatency: with nothing playing, the barge-in comes after MinSpeech of speech, or
// after one frame when the detector is sure, within one frame and one chunk. Interleaved, the
// frames come every 16 ms.
func TestBargeInLatency(t *testing.T) {
	for _, tc := range []struct {
		p   float32
		one bool
	}{{0.6, false}, {0.85, false}, {0.95, true}} {
		for _, minSpeech := range []time.Duration{64 * time.Millisecond, 128 * time.Millisecond, 200 * time.Millisecond} {
			for _, interleaved := range []bool{false, true} {
				d := makeDetector(t, interleaved, func() SpeechDetector { return fixedVAD{tc.p} }, Config{MinSpeech: minSpeech})
				// Speech starts 8 ms into a chunk, and 8 ms into a half frame: a frame that
				// overlaps it by a little is already speech.
				const onset = rate + 128
				mic := make([]float32, 2*rate)
				for i := onset; i < len(mic); i++ {
					mic[i] = 0.1 * float32(math.Sin(float64(i)))
				}
				hop := 32 * time.Millisecond
				if interleaved {
					hop /= 2
				}
				// The frame that decides: the first that reaches into the speech, then enough
				// frames to cover MinSpeech; the decision comes with the chunk that ends it.
				frames := 1
				if !tc.one {
					frames = int(math.Ceil(float64(minSpeech) / float64(hop)))
				}
				h := int(hop.Seconds() * rate)
				first := max((onset/h+1)*h, 512) // frames end every hop from the first whole frame
				end := first + (frames-1)*h
				want := time.Duration((end+639)/640*640-onset) * time.Second / rate
				got := run(t, d, mic, nil, nil, always) - time.Duration(onset)*time.Second/rate
				if got != want {
					t.Errorf("p=%.2f, MinSpeech %v, interleaved %v: barge-in %v after speech began, want %v", tc.p, minSpeech, interleaved, got, want)
				}
			}
		}
	}
}

func TestNewInterleaved(t *testing.T) {
	if _, err := NewInterleaved(fixedVAD{0.5}, oddVAD{}, Config{}); err == nil {
		t.Error("interleaving detectors with frames of 512 and 480 samples: no error")
	}
}

type oddVAD struct{ fixedVAD }

func (oddVAD) FrameSize() int { return 480 }

func TestBargeInReset(t *testing.T) {
	vad := &levelVAD{}
	d := New(vad, Config{})
	reply := talk(5*rate, -20, 1)
	echo := scale(reply, -12)
	run(t, d, scale(echo, -30), echo, reply, always)
	learnt := d.Last()
	d.Reset()
	if vad.resets != 2 { // New and Reset
		t.Errorf("VAD reset %d times, want 2", vad.resets)
	}
	if _, err := d.Push(Input{Mic: make([]float32, 512), Far: make([]float32, 512), Settled: true}); err != nil {
		t.Fatal(err)
	}
	if got := d.Last(); got.Coupling != learnt.Coupling || got.ERLE != learnt.ERLE {
		t.Errorf("Reset forgot the echo: coupling %.1f→%.1f, attenuation %.1f→%.1f", learnt.Coupling, got.Coupling, learnt.ERLE, got.ERLE)
	}
	if math.Abs(learnt.Coupling-(-12)) > 6 || learnt.ERLE < 20 {
		t.Errorf("learnt coupling %.1f dB (echo at -12 dB), attenuation %.1f dB (30 dB)", learnt.Coupling, learnt.ERLE)
	}
	if _, err := d.Push(Input{Mic: make([]float32, 10), Raw: make([]float32, 9)}); err == nil {
		t.Error("Push with signals of different lengths: no error")
	}
}
