package aec

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"
	"time"
)

const rate = 16000

// speech returns text spoken by espeak-ng at 16 kHz (sox resamples it).
func speech(t testing.TB, text, voice string) []float32 {
	t.Helper()
	cmd := exec.Command("sh", "-c", `espeak-ng -v "$1" --stdout "$2" | sox -t wav - -t raw -r 16000 -e signed -b 16 -c 1 -`, "sh", voice, text)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("espeak-ng | sox: %v (both are test dependencies: scripts/setup.sh test)", err)
	}
	s := make([]float32, len(out)/2)
	for i := range s {
		s[i] = float32(int16(binary.LittleEndian.Uint16(out[2*i:]))) / 32768
	}
	return s
}

// room returns the echo of far as a microphone hears it: delayed, through a decaying room
// impulse response, attenuated by gainDB.
func room(far []float32, delay time.Duration, gainDB float64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	d := int(delay.Seconds() * rate)
	rir := make([]float64, 60*rate/1000) // 60 ms of reverberation
	rir[0] = 1
	for i := 1; i < len(rir); i++ {
		rir[i] = rng.NormFloat64() * 0.25 * math.Exp(-float64(i)/float64(12*rate/1000))
	}
	var norm float64
	for _, h := range rir {
		norm += h * h
	}
	g := math.Pow(10, gainDB/20) / math.Sqrt(norm)
	out := make([]float32, len(far))
	for n := range out {
		var acc float64
		for k, h := range rir {
			if j := n - d - k; j >= 0 {
				acc += h * float64(far[j])
			}
		}
		out[n] = float32(acc * g)
	}
	return out
}

func db(x float64) float64 { return 10 * math.Log10(x) }

// ncc is the normalised cross-correlation of a and b at lag 0.
func ncc(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func mix(dst []float32, src []float32, at int) {
	for i, x := range src {
		if at+i < len(dst) {
			dst[at+i] += x
		}
	}
}

func noise(n int, dbfs float64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	s := make([]float32, n)
	a := math.Pow(10, dbfs/20)
	for i := range s {
		s[i] = float32(rng.NormFloat64() * a)
	}
	return s
}

// scenario builds 12 s of far-end speech (the assistant), its echo, and near-end speech (a
// person) from 8 s on, over a -65 dBFS noise floor.
type scenario struct {
	far, echo, near, mic []float32
	nearAt               int
}

func newScenario(t testing.TB, delay time.Duration) scenario {
	t.Helper()
	reply := speech(t, "The capital of France is Paris. It sits on the river Seine, in the north of the country. "+
		"Paris is known for its museums, its cafes, and the Eiffel Tower, built for the world's fair of eighteen eighty nine.", "en-us")
	person := speech(t, "Stop. What is the weather like tomorrow?", "en-gb+f3")
	n := 12 * rate
	far := make([]float32, n)
	mix(far, reply, 0)
	mix(far, reply, len(reply))
	echo := room(far, delay, -6, 1)
	sc := scenario{far: far, echo: echo, near: make([]float32, n), nearAt: 8 * rate}
	mix(sc.near, person, sc.nearAt)
	sc.mic = noise(n, -65, 2)
	mix(sc.mic, echo, 0)
	mix(sc.mic, sc.near, 0)
	return sc
}

// TestCancellerERLE feeds the canceller a far-end signal (speech) and a microphone signal
// holding its delayed, reverberated echo, then near-end speech on top of the echo (double
// talk). It checks the echo return loss enhancement once the filter has converged, and that
// the person's voice survives the cancellation.
func TestCancellerERLE(t *testing.T) {
	for _, tc := range []struct {
		delay   time.Duration
		linear  bool
		minERLE float64 // dB, over far-end-only speech from 5 s to 8 s
		minNCC  float64 // near-end speech vs the output while both talk
	}{
		{40 * time.Millisecond, false, 25, 0.95},
		{150 * time.Millisecond, false, 25, 0.95},
		{300 * time.Millisecond, false, 22, 0.95},
		{40 * time.Millisecond, true, 18, 0.95},
		{150 * time.Millisecond, true, 15, 0.95},
		{300 * time.Millisecond, true, 13, 0.95},
	} {
		name := tc.delay.String()
		if tc.linear {
			name += "/linear"
		}
		t.Run(name, func(t *testing.T) {
			sc := newScenario(t, tc.delay)
			c, err := New(Config{Linear: tc.linear})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			n := c.FrameSize()
			out := make([]float32, len(sc.mic)/n*n)
			for i := 0; i+n <= len(sc.mic); i += n {
				if err := c.Process(sc.mic[i:i+n], sc.far[i:i+n], out[i:i+n]); err != nil {
					t.Fatal(err)
				}
			}
			lag := 0
			if !tc.linear {
				lag = n // the preprocessor delays its output by one frame
			}
			erle := func(from, to time.Duration) float64 {
				a, b := int(from.Seconds()*rate), int(to.Seconds()*rate)
				return db(energy(sc.mic[a:b]) / energy(out[a+lag:b+lag]))
			}
			early, late := erle(0, 2*time.Second), erle(5*time.Second, 8*time.Second)
			a := sc.nearAt
			b := a + len(trimSilence(sc.near[a:]))
			got := ncc(out[a+lag:b+lag], sc.near[a:b])
			before := ncc(sc.mic[a:b], sc.near[a:b])
			t.Logf("echo delay %v: ERLE %.1f dB in the first 2 s, %.1f dB from 5 to 8 s; near-end speech NCC %.3f after cancellation (%.3f before)",
				tc.delay, early, late, got, before)
			if late < tc.minERLE {
				t.Errorf("ERLE %.1f dB, want >= %.0f dB", late, tc.minERLE)
			}
			if got < tc.minNCC {
				t.Errorf("near-end speech NCC %.3f, want >= %.2f: the person's voice did not survive", got, tc.minNCC)
			}
		})
	}
}

// TestCancellerTransparent: with nothing played, the microphone signal passes unchanged.
func TestCancellerTransparent(t *testing.T) {
	person := speech(t, "What is the weather like tomorrow?", "en-gb+f3")
	for _, linear := range []bool{false, true} {
		c, err := New(Config{Linear: linear})
		if err != nil {
			t.Fatal(err)
		}
		n := c.FrameSize()
		mic := append(noise(n*(len(person)/n+1), -65, 5), make([]float32, n)...)
		mix(mic, person, 0)
		out := make([]float32, len(mic))
		zero := make([]float32, n)
		for i := 0; i+n <= len(mic); i += n {
			if err := c.Process(mic[i:i+n], zero, out[i:i+n]); err != nil {
				t.Fatal(err)
			}
		}
		lag := 0
		if !linear {
			lag = n
		}
		m := len(person)
		// SpeexDSP high-passes the microphone (a DC notch), so the output is not bit-exact.
		if got := ncc(out[lag:lag+m], mic[:m]); got < 0.95 {
			t.Errorf("linear=%v: output NCC %.4f with the input, want >= 0.95", linear, got)
		}
		if g := db(energy(out[lag:lag+m]) / energy(mic[:m])); math.Abs(g) > 1 {
			t.Errorf("linear=%v: output level changed by %.1f dB, want within 1 dB", linear, g)
		}
		c.Close()
	}
}

func trimSilence(s []float32) []float32 {
	end := len(s)
	for end > 0 && math.Abs(float64(s[end-1])) < 1e-4 {
		end--
	}
	return s[:end]
}

func TestCancellerErrors(t *testing.T) {
	if _, err := New(Config{FrameSize: 4000}); err == nil {
		t.Error("New with a 250 ms frame: no error")
	}
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := make([]float32, c.FrameSize())
	if err := c.Process(f[:10], f, f); err == nil {
		t.Error("Process with a short frame: no error")
	}
	c.Close()
	if err := c.Process(f, f, f); err == nil {
		t.Error("Process after Close: no error")
	}
	c.Close() // twice is harmless
}
