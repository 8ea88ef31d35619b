package audio

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"hark/audio/internal/audiotest"
)

// prototype rebuilds the resampler's full filter at l times the input rate from its phases.
func prototype(r *Resampler) []float64 {
	taps := 2 * r.half
	l := r.phases
	h := make([]float64, l*taps+1)
	for p := 0; p < l; p++ {
		for k := 0; k < taps; k++ {
			// tau*l = p - (k-(half-1))*l; shift so the earliest tap lands at index 0.
			i := p - (k-(r.half-1))*l + r.half*l
			h[i] = float64(r.table[p*taps+k]) / float64(l)
		}
	}
	return h
}

// TestResamplerFilterResponse measures the designed filters: passband ripple and stopband
// attenuation, the figures documented in resample.go.
func TestResamplerFilterResponse(t *testing.T) {
	for _, tc := range []struct{ in, out int }{{48000, 16000}, {44100, 16000}, {22050, 16000}, {16000, 48000}} {
		t.Run(fmt.Sprintf("%d-%d", tc.in, tc.out), func(t *testing.T) {
			r, err := NewResampler(tc.in, tc.out)
			if err != nil {
				t.Fatal(err)
			}
			if !r.exact {
				t.Fatalf("%d->%d should use exact phases", tc.in, tc.out)
			}
			h := prototype(r)
			n := audiotest.NextPow2(8 * len(h))
			x := make([]complex128, n)
			for i, v := range h {
				x[i] = complex(v, 0)
			}
			audiotest.FFT(x, false)
			l := float64(r.phases)
			nyq := 0.5 * math.Min(1, float64(tc.out)/float64(tc.in)) // cycles per input sample
			passMax, passMin, stopMax := math.Inf(-1), math.Inf(1), math.Inf(-1)
			for b := 0; b <= n/2; b++ {
				f := float64(b) * l / float64(n)
				db := 20 * math.Log10(cmplx.Abs(x[b])+1e-300)
				switch {
				case f <= resamplePassEdge*nyq:
					passMax, passMin = math.Max(passMax, db), math.Min(passMin, db)
				case f >= resampleStopEdge*nyq:
					stopMax = math.Max(stopMax, db)
				}
			}
			t.Logf("%d->%d Hz: %d taps per output; passband ripple %+.5f/%+.5f dB; stopband attenuation %.1f dB",
				tc.in, tc.out, 2*r.half, passMin, passMax, -stopMax)
			if passMax > 0.001 || passMin < -0.001 {
				t.Errorf("passband ripple %+.5f/%+.5f dB, want within ±0.001 dB", passMin, passMax)
			}
			if stopMax > -88 {
				t.Errorf("stopband attenuation %.1f dB, want >= 88 dB", -stopMax)
			}
		})
	}
}

// snr compares got with the ideal sine at the output rate, away from the edges (where the
// one-shot resampler sees the silence before and after the input).
func snr(got []float32, rate int, freq, amp float64) float64 {
	skip := rate / 20
	var sig, noise float64
	for i := skip; i < len(got)-skip; i++ {
		want := amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
		sig += want * want
		d := float64(got[i]) - want
		noise += d * d
	}
	return 10 * math.Log10(sig/noise)
}

func TestResampleSineSNR(t *testing.T) {
	for _, tc := range []struct{ in, out int }{
		{48000, 16000}, {44100, 16000}, {22050, 16000}, {16000, 48000}, {8000, 16000}, {16000, 16000 + 1},
		{44101, 16000}, // a ratio too fine for exact phases: interpolated phases
	} {
		for _, freq := range []float64{100, 440, 1000, 3000, 6500} {
			if freq > 0.9*0.5*float64(min(tc.in, tc.out)) {
				continue
			}
			name := fmt.Sprintf("%d-%d/%gHz", tc.in, tc.out, freq)
			t.Run(name, func(t *testing.T) {
				in := PCM{Rate: tc.in, Samples: audiotest.Sine(tc.in, freq, 0.5, tc.in)}
				out := Resample(in, tc.out)
				if want := int(math.Ceil(float64(len(in.Samples)) * float64(tc.out) / float64(tc.in))); len(out.Samples) != want || out.Rate != tc.out {
					t.Fatalf("Resample: %d samples at %d Hz, want %d at %d Hz", len(out.Samples), out.Rate, want, tc.out)
				}
				s := snr(out.Samples, tc.out, freq, 0.5)
				if s < 85 {
					t.Errorf("SNR %.1f dB, want >= 85 dB", s)
				}
				if freq == 1000 {
					t.Logf("%s: SNR %.1f dB", name, s)
				}
			})
		}
	}
}

// TestResampleAliasing plays tones above the new Nyquist frequency: they must vanish, not fold
// back into the speech band.
func TestResampleAliasing(t *testing.T) {
	for _, tc := range []struct {
		in, out int
		freq    float64
	}{
		{48000, 16000, 8000}, {48000, 16000, 8500}, {48000, 16000, 10000}, {48000, 16000, 15000}, {48000, 16000, 23000},
		{44100, 16000, 8200}, {44100, 16000, 12000}, {44100, 16000, 21000},
		{22050, 16000, 9000}, {22050, 16000, 11000},
	} {
		t.Run(fmt.Sprintf("%d-%d/%gHz", tc.in, tc.out, tc.freq), func(t *testing.T) {
			in := PCM{Rate: tc.in, Samples: audiotest.Sine(tc.in, tc.freq, 0.5, tc.in)}
			out := Resample(in, tc.out).Samples
			skip := tc.out / 20
			ratio := audiotest.DB(audiotest.RMS(out[skip:len(out)-skip]) / audiotest.RMS(in.Samples))
			if ratio > -85 {
				t.Errorf("a %g Hz tone comes out at %.1f dB, want <= -85 dB", tc.freq, ratio)
			}
		})
	}
}

// TestResamplerStreaming feeds the resampler in random chunks: the output must equal the
// one-shot output sample for sample.
func TestResamplerStreaming(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ in, out int }{{48000, 16000}, {44100, 16000}, {16000, 48000}, {44101, 16000}, {16000, 16000}} {
		t.Run(fmt.Sprintf("%d-%d", tc.in, tc.out), func(t *testing.T) {
			src := audiotest.WhiteNoise(tc.in*3/2, -20, 7)
			want := Resample(PCM{Rate: tc.in, Samples: src}, tc.out).Samples
			if tc.in == tc.out {
				return
			}
			r, err := NewResampler(tc.in, tc.out)
			if err != nil {
				t.Fatal(err)
			}
			for round := 0; round < 2; round++ { // the second round checks Flush's reset
				var got []float32
				for i := 0; i < len(src); {
					n := min(len(src)-i, rng.IntN(3000))
					got = r.Process(got, src[i:i+n])
					i += n
				}
				got = r.Flush(got)
				if len(got) != len(want) {
					t.Fatalf("round %d: streamed %d samples, one-shot %d", round, len(got), len(want))
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("round %d: sample %d streamed %v, one-shot %v", round, i, got[i], want[i])
					}
				}
			}
		})
	}
}

func TestResampleEdges(t *testing.T) {
	if got := Resample(PCM{Rate: 48000}, 16000); got.Rate != 16000 || len(got.Samples) != 0 {
		t.Errorf("empty input: %+v", got)
	}
	one := Resample(PCM{Rate: 48000, Samples: []float32{1}}, 16000)
	if len(one.Samples) != 1 {
		t.Errorf("one sample at 48 kHz gives %d samples at 16 kHz, want 1", len(one.Samples))
	}
	dc := make([]float32, 48000)
	for i := range dc {
		dc[i] = 0.25
	}
	out := Resample(PCM{Rate: 48000, Samples: dc}, 16000).Samples
	for i := 1000; i < len(out)-1000; i++ {
		if math.Abs(float64(out[i])-0.25) > 1e-5 {
			t.Fatalf("DC 0.25 comes out as %v at %d", out[i], i)
		}
	}
	for _, bad := range [][2]int{{0, 16000}, {16000, -1}, {999, 16000}, {16000, MaxRate + 1}} {
		if _, err := NewResampler(bad[0], bad[1]); err == nil {
			t.Errorf("NewResampler(%d, %d) succeeded", bad[0], bad[1])
		}
	}
}

// TestResamplerNoAllocs: the capture path resamples every period; once warmed up it must not
// allocate.
func TestResamplerNoAllocs(t *testing.T) {
	r, err := NewResampler(48000, 16000)
	if err != nil {
		t.Fatal(err)
	}
	src := audiotest.Sine(48000, 440, 0.5, 4800)
	dst := make([]float32, 0, 4096)
	for i := 0; i < 10; i++ {
		dst = r.Process(dst[:0], src)
	}
	if a := testing.AllocsPerRun(100, func() { dst = r.Process(dst[:0], src) }); a != 0 {
		t.Errorf("Process allocates %v times per 100 ms chunk, want 0", a)
	}
}

func BenchmarkResample(b *testing.B) {
	for _, tc := range []struct{ in, out int }{{48000, 16000}, {44100, 16000}, {22050, 48000}} {
		b.Run(fmt.Sprintf("%d-%d", tc.in, tc.out), func(b *testing.B) {
			r, err := NewResampler(tc.in, tc.out)
			if err != nil {
				b.Fatal(err)
			}
			src := audiotest.Sine(tc.in, 440, 0.5, tc.in/10)
			dst := make([]float32, 0, 8192)
			b.ReportAllocs()
			for b.Loop() {
				dst = r.Process(dst[:0], src)
			}
			// One iteration is 100 ms of audio.
			b.ReportMetric(b.Elapsed().Seconds()/(float64(b.N)*0.1), "cpu-s/audio-s")
		})
	}
}
