package device

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"unsafe"

	"hark/audio"
	"hark/audio/device/internal/maconv"
	"hark/audio/internal/audiotest"
)

func TestRingSPSC(t *testing.T) {
	q := newRing(1000)
	if len(q.buf) != 1024 {
		t.Fatalf("ring of %d, want 1024", len(q.buf))
	}
	const total = 200000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // producer
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 1))
		next := 0
		buf := make([]float32, 300)
		for next < total {
			n := min(rng.IntN(len(buf))+1, total-next)
			for i := 0; i < n; i++ {
				buf[i] = float32(next + i)
			}
			next += q.write(buf[:n])
		}
	}()
	rng := rand.New(rand.NewPCG(2, 2))
	buf := make([]float32, 500)
	for want := 0; want < total; {
		n := q.read(buf[:rng.IntN(len(buf))+1])
		for i := 0; i < n; i++ {
			if buf[i] != float32(want) {
				t.Fatalf("read %v, want %d", buf[i], want)
			}
			want++
		}
	}
	wg.Wait()
}

func TestRingWriteMixed(t *testing.T) {
	q := newRing(4)
	if n := q.writeMixed([]float32{1, 3, -1, -1, 0.5, 0.5, 2, 0, 9, 9}, 2); n != 4 {
		t.Fatalf("wrote %d frames, want 4 (ring full)", n)
	}
	got := make([]float32, 8)
	got = got[:q.read(got)]
	want := []float32{2, -1, 0.5, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("down-mix %v, want %v", got, want)
		}
	}
}

// fakeCapture is a Capture with no device, fed through its callback.
func fakeCapture(rate, channels int) *Capture {
	c := &Capture{wake: make(chan struct{}, 1)}
	c.done = make(chan struct{})
	c.setup(rate, channels)
	return c
}

func f32bytes(x []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x))
}

func TestCaptureCallback(t *testing.T) {
	c := fakeCapture(48000, 2)
	// 100 ms of a stereo 1 kHz sine, identical channels, at -6 dBFS peak.
	mono := audiotest.Sine(48000, 1000, 0.5, 4800)
	stereo := make([]float32, 2*len(mono))
	for i, v := range mono {
		stereo[2*i], stereo[2*i+1] = v, v
	}
	for i := 0; i < 10; i++ {
		c.onData(nil, f32bytes(stereo), 4800)
	}
	if l := c.Level(); math.Abs(l.Peak-audio.AmplitudeDB(0.5)) > 0.1 || math.Abs(l.RMS-audio.AmplitudeDB(0.5/math.Sqrt2)) > 0.1 {
		t.Errorf("level %+v, want peak -6.0, RMS -9.0 dBFS", l)
	}
	// Nobody reads: what the ring cannot hold is counted, at 16 kHz.
	for i := 0; i < 60; i++ {
		c.onData(nil, f32bytes(stereo), 4800)
	}
	if o, want := c.Overruns(), uint64(70*4800-len(c.ring.buf))/3; o != want {
		t.Errorf("Overruns %d, want %d", o, want)
	}
	select {
	case <-c.wake:
	default:
		t.Error("the callback did not wake the reader")
	}
}

// TestCaptureCallbackNoAllocs: the audio thread must never allocate.
func TestCaptureCallbackNoAllocs(t *testing.T) {
	c := fakeCapture(48000, 2)
	in := f32bytes(audiotest.Sine(48000, 440, 0.5, 2*2400))
	if a := testing.AllocsPerRun(1000, func() {
		c.onData(nil, in, 2400)
		c.ring.discard()
	}); a != 0 {
		t.Errorf("the capture callback allocates %v times per call, want 0", a)
	}
	p := fakePlayer(48000, 2)
	out := make([]byte, 4*2*960)
	if a := testing.AllocsPerRun(1000, func() { p.onData(out, nil, 960) }); a != 0 {
		t.Errorf("the playback callback allocates %v times per call, want 0", a)
	}
}

// BenchmarkCaptureCallback measures the capture callback (48 kHz stereo, 50 ms periods) and its
// allocations per callback (goal: 0).
func BenchmarkCaptureCallback(b *testing.B) {
	c := fakeCapture(48000, 2)
	in := f32bytes(audiotest.Sine(48000, 440, 0.5, 2*2400))
	b.ReportAllocs()
	for b.Loop() {
		c.onData(nil, in, 2400)
		c.ring.discard()
	}
}

func fakePlayer(rate, channels int) *Player {
	p := &Player{wake: make(chan struct{}, 1), fadeDone: make(chan struct{}, 1)}
	p.done = make(chan struct{})
	p.setup(rate, channels, 20)
	return p
}

// TestPlayerFade: a cancelled sound fades out over 8 ms instead of stopping dead, and what was
// queued is dropped.
func TestPlayerFade(t *testing.T) {
	p := fakePlayer(48000, 2)
	p.ring.write(audiotest.Sine(48000, 440, 0.5, 48000))
	out := make([]float32, 2*960)
	p.onData(f32bytes(out), nil, 960)
	if out[2*100] != out[2*100+1] || out[2*100] == 0 {
		t.Fatalf("channels differ or silent: %v %v", out[200], out[201])
	}
	p.fadeReq.Store(true)
	var played []float32
	for i := 0; i < 3; i++ {
		p.onData(f32bytes(out), nil, 960)
		for f := 0; f < 960; f++ {
			played = append(played, out[2*f])
		}
	}
	select {
	case <-p.fadeDone:
	default:
		t.Fatal("fade did not complete")
	}
	fade := int(fadeTime.Seconds() * 48000)
	for i := 1; i < len(played); i++ {
		if d := math.Abs(float64(played[i] - played[i-1])); d > 0.03 {
			t.Fatalf("a step of %.3f at sample %d: a click", d, i)
		}
	}
	for i := fade; i < len(played); i++ {
		if played[i] != 0 {
			t.Fatalf("sound at sample %d after the %d-sample fade", i, fade)
		}
	}
	if p.ring.len() != 0 {
		t.Errorf("%d samples still queued after the fade", p.ring.len())
	}
	if got, want := p.played.Load(), uint64(48000); got != want {
		t.Errorf("played %d, want %d (dropped samples count as taken)", got, want)
	}
}

// TestConversionChoice measures why capture converts in Go: miniaudio's own linear resampler
// (what a miniaudio device does when asked for 16 kHz on a device that runs at 48 kHz and does
// not resample itself, as raw ALSA hardware) against audio.Resampler, on tones above and below
// the new Nyquist frequency.
func TestConversionChoice(t *testing.T) {
	for _, tc := range []struct {
		rate int
		freq float64
	}{{48000, 1000}, {48000, 10000}, {48000, 12000}, {44100, 10000}} {
		in := audiotest.Sine(tc.rate, tc.freq, 0.5, tc.rate)
		ma, err := maconv.Linear(in, tc.rate, 16000)
		if err != nil {
			t.Fatal(err)
		}
		ours := audio.Resample(audio.PCM{Rate: tc.rate, Samples: in}, 16000).Samples
		level := func(x []float32) float64 {
			return audiotest.DB(audiotest.RMS(x[1600:len(x)-1600]) / audiotest.RMS(in))
		}
		t.Logf("%d Hz -> 16 kHz, %g Hz tone: miniaudio linear (LPF order %d) %.1f dB, audio.Resampler %.1f dB",
			tc.rate, tc.freq, maconv.DefaultLPFOrder(), level(ma), level(ours))
		if tc.freq > 8000 && level(ours) > -85 {
			t.Errorf("audio.Resampler lets a %g Hz tone through at %.1f dB", tc.freq, level(ours))
		}
	}
}
