// Package audiotest holds helpers for Hark's audio tests: signal generators, an FFT,
// cross-correlation alignment, speech from espeak-ng and virtual PulseAudio devices made with
// pactl. It works on plain []float32 so that every audio package's tests can use it.
package audiotest

import (
	"encoding/binary"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"os"
)

// Sine returns n samples of amp*sin(2*pi*freq*i/rate).
func Sine(rate int, freq, amp float64, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// WhiteNoise returns n samples of uniform white noise with the given RMS level in dBFS,
// from a fixed seed.
func WhiteNoise(n int, rmsDB float64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// A uniform variable on [-a, a] has RMS a/sqrt(3).
	a := math.Pow(10, rmsDB/20) * math.Sqrt(3)
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(a * (2*rng.Float64() - 1))
	}
	return out
}

// FFT is an in-place radix-2 fast Fourier transform; len(x) must be a power of two.
func FFT(x []complex128, inverse bool) {
	n := len(x)
	if n&(n-1) != 0 {
		panic("audiotest: FFT length must be a power of two")
	}
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	sign := -1.0
	if inverse {
		sign = 1
	}
	for size := 2; size <= n; size <<= 1 {
		w := cmplx.Exp(complex(0, sign*2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			wk := complex(1, 0)
			for k := 0; k < size/2; k++ {
				a, b := x[start+k], x[start+k+size/2]*wk
				x[start+k], x[start+k+size/2] = a+b, a-b
				wk *= w
			}
		}
	}
	if inverse {
		for i := range x {
			x[i] /= complex(float64(n), 0)
		}
	}
}

// NextPow2 returns the smallest power of two >= n.
func NextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// Align finds where ref occurs in got: the lag (got[i+lag] ~ ref[i]) in [0, maxLag] that
// maximises their cross-correlation, to a fraction of a sample, and the normalised
// cross-correlation there over the stretch where both overlap. It also returns ref delayed by
// the fractional part of the lag, which lines up sample for sample with got[lag:]. (Two
// recordings of one sound rarely line up on whole samples: a 48 kHz device decimated to 16 kHz
// starts at any third of a sample.)
func Align(ref, got []float32, maxLag int) (lag int, ncc float64, shifted []float32) {
	n := NextPow2(len(ref) + len(got))
	a := make([]complex128, n)
	b := make([]complex128, n)
	for i, v := range got {
		a[i] = complex(float64(v), 0)
	}
	for i, v := range ref {
		b[i] = complex(float64(v), 0)
	}
	FFT(a, false)
	FFT(b, false)
	for i := range a {
		a[i] *= cmplx.Conj(b[i])
	}
	FFT(a, true)
	best := math.Inf(-1)
	for l := 0; l <= maxLag && l < n; l++ {
		if v := real(a[l]); v > best {
			best, lag = v, l
		}
	}
	lag = min(lag, len(got))
	ncc, shifted = -2, ref
	for d := -0.5; d <= 0.5; d += 0.05 {
		r := FracDelay(ref, d)
		if v := NCC(r, got[lag:]); v > ncc {
			ncc, shifted = v, r
		}
	}
	return lag, ncc, shifted
}

// FracDelay returns x delayed by d samples (|d| <= 1) with a 64-tap Hann-windowed sinc.
func FracDelay(x []float32, d float64) []float32 {
	if d == 0 {
		return x
	}
	const half = 32
	var h [2 * half]float64
	for k := range h {
		t := float64(k-half+1) - d // tap k weighs x[i-(k-half+1)]; the taps centre on x(i-d)
		w := 0.5 + 0.5*math.Cos(math.Pi*t/half)
		if t == 0 {
			h[k] = 1
		} else {
			h[k] = w * math.Sin(math.Pi*t) / (math.Pi * t)
		}
	}
	out := make([]float32, len(x))
	for i := range out {
		var s float64
		for k := range h {
			j := i - (k - half + 1)
			if j >= 0 && j < len(x) {
				s += float64(x[j]) * h[k]
			}
		}
		out[i] = float32(s)
	}
	return out
}

// NCC is the normalised cross-correlation of a and b at lag 0 over their common length:
// 1 for identical shapes whatever the gain.
func NCC(a, b []float32) float64 {
	n := min(len(a), len(b))
	var ab, aa, bb float64
	for i := 0; i < n; i++ {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// RMS is the root mean square of x.
func RMS(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	if len(x) == 0 {
		return 0
	}
	return math.Sqrt(s / float64(len(x)))
}

// DB converts an amplitude ratio to decibels.
func DB(ratio float64) float64 { return 20 * math.Log10(ratio) }

// WriteWAV writes 16-bit PCM WAV with one slice of samples per channel (all as long as the
// first), for tests that need a multi-channel file; Hark's own writer is mono.
func WriteWAV(path string, rate int, channels ...[]float32) error {
	n, ch := len(channels[0]), len(channels)
	b := make([]byte, 44, 44+2*n*ch)
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(36+2*n*ch))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)
	le.PutUint16(b[20:], 1)
	le.PutUint16(b[22:], uint16(ch))
	le.PutUint32(b[24:], uint32(rate))
	le.PutUint32(b[28:], uint32(rate*2*ch))
	le.PutUint16(b[32:], uint16(2*ch))
	le.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(2*n*ch))
	for i := 0; i < n; i++ {
		for _, c := range channels {
			v := math.Round(float64(c[i]) * 32767)
			b = le.AppendUint16(b, uint16(int16(max(-32768, min(32767, v)))))
		}
	}
	return os.WriteFile(path, b, 0o644)
}
