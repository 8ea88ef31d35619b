package device

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gen2brain/malgo"

	"hark/audio"
)

// CaptureOptions choose the microphone.
type CaptureOptions struct {
	Device   string // name or ID (or a unique part of either); "" = the default microphone
	PeriodMs int    // the audio callback's period (default 50 ms: safe on a loaded machine)
	// FollowDefault, with Device "", makes Read return a *DefaultChanged (ErrDefaultChanged)
	// within about a second of the system's default microphone changing, so that the caller
	// opens the new default and can say so. Without it the stream stays where it is, or where
	// the sound server moves it (a recording or a dictation is not cut by a change).
	FollowDefault bool
}

// ringSeconds is how much audio a Capture holds for a reader that falls behind before it
// counts overruns.
const ringSeconds = 4

// Capture records from a microphone and delivers 16 kHz mono.
type Capture struct {
	conn
	channels int

	// Shared with the audio callback: lock-free.
	ring    *ring
	wake    chan struct{} // capacity 1: "there is news"
	dropped atomic.Uint64 // frames the ring had no room for
	level   atomic.Uint64 // two float32 dB values: RMS (low half), peak (high half)

	// Reader side (Read).
	mu     sync.Mutex
	rs     *audio.Resampler
	raw    []float32
	out    []float32
	outPos int
}

// OpenCapture opens a microphone and starts capturing.
func OpenCapture(opts CaptureOptions) (*Capture, error) {
	if opts.PeriodMs <= 0 {
		opts.PeriodMs = 50
	}
	c := &Capture{wake: make(chan struct{}, 1)}
	if err := c.open(KindCapture, opts.Device); err != nil {
		return nil, err
	}
	c.follow = opts.FollowDefault
	cfg := malgo.DefaultDeviceConfig(malgo.Capture)
	cfg.Capture.DeviceID = c.cID
	cfg.Capture.Format = malgo.FormatF32
	cfg.Capture.Channels = uint32(c.nativeChannels) // the device's own (0: miniaudio finds it)
	cfg.SampleRate = uint32(c.nativeRate)
	cfg.PeriodSizeInMilliseconds = uint32(opts.PeriodMs)
	// The sound server keeps Periods periods for a recorder that is late and drops what does
	// not fit, unseen by the ring's overrun count. Sound still arrives a period at a time, so
	// a deep buffer costs no latency: a second of it rides out a busy machine.
	cfg.Periods = uint32(max(1000/opts.PeriodMs, 3))
	cfg.Pulse.StreamNameCapture = "Hark microphone"
	dev, err := malgo.InitDevice(c.actx.Context, cfg, malgo.DeviceCallbacks{Data: c.onData, Stop: c.onStop})
	if err != nil {
		c.release()
		return nil, fmt.Errorf("audio: cannot open microphone %q: %w", c.info.Name, err)
	}
	c.dev = dev
	c.rate, c.channels = int(dev.SampleRate()), int(dev.CaptureChannels())
	if dev.CaptureFormat() != malgo.FormatF32 || c.channels < 1 || c.rate < audio.MinRate || c.rate > audio.MaxRate {
		c.release()
		return nil, fmt.Errorf("audio: microphone %q opened as format %d, %d channels, %d Hz, which Hark cannot use", c.info.Name, dev.CaptureFormat(), c.channels, c.rate)
	}
	c.setup(c.rate, c.channels)
	if err := dev.Start(); err != nil {
		c.release()
		return nil, fmt.Errorf("audio: cannot start microphone %q: %w", c.info.Name, err)
	}
	return c, nil
}

// setup allocates everything the callback and reader use, for a device of this format.
func (c *Capture) setup(rate, channels int) {
	c.rate, c.channels = rate, channels
	c.ring = newRing(ringSeconds * rate)
	c.raw = make([]float32, rate/10)
	if rate != audio.SampleRate {
		c.rs, _ = audio.NewResampler(rate, audio.SampleRate) // rate was checked
	}
	c.storeLevel(audio.Level{RMS: audio.SilenceDB, Peak: audio.SilenceDB})
}

// Device describes the microphone in use.
func (c *Capture) Device() Info { return c.info }

// Format is the device's own rate and channel count (before conversion to 16 kHz mono).
func (c *Capture) Format() (rate, channels int) { return c.rate, c.channels }

// onData is the audio callback: it runs on miniaudio's real-time thread. It copies and
// down-mixes into the ring, measures the level, and wakes the reader, and nothing more: no
// allocation, no lock, no blocking (BenchmarkCaptureCallback checks for allocations).
func (c *Capture) onData(_, in []byte, frames uint32) {
	n := int(frames) * c.channels
	if len(in) < n*4 || n == 0 {
		return
	}
	// FormatF32 bytes seen as float32, without a copy: valid only during this call.
	samples := unsafe.Slice((*float32)(unsafe.Pointer(&in[0])), n)
	written := c.ring.writeMixed(samples, c.channels)
	if lost := int(frames) - written; lost > 0 {
		c.dropped.Add(uint64(lost))
	}
	var sum, peak float64
	for _, s := range samples {
		v := float64(s)
		sum += v * v
		peak = math.Max(peak, math.Abs(v))
	}
	c.storeLevel(audio.Level{RMS: audio.PowerDB(sum / float64(n)), Peak: audio.AmplitudeDB(peak)})
	c.alive()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *Capture) onStop() {
	if c.stoppedByBackend() {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

func (c *Capture) storeLevel(l audio.Level) {
	c.level.Store(uint64(math.Float32bits(float32(l.RMS))) | uint64(math.Float32bits(float32(l.Peak)))<<32)
}

// Level is the level of the latest audio period, for a level meter.
func (c *Capture) Level() audio.Level {
	v := c.level.Load()
	return audio.Level{RMS: float64(math.Float32frombits(uint32(v))), Peak: float64(math.Float32frombits(uint32(v >> 32)))}
}

// Overruns is how many samples (counted at 16 kHz) were dropped because nobody read them in
// time.
func (c *Capture) Overruns() uint64 {
	return c.dropped.Load() * audio.SampleRate / uint64(c.rate)
}

// Read blocks until audio is available (or ctx is done, or the device is lost) and copies up
// to len(p) samples of 16 kHz mono into p. A lost device returns an error wrapping
// ErrDeviceLost, a new default (FollowDefault) a *DefaultChanged; after Close, Read returns
// ErrClosed.
func (c *Capture) Read(ctx context.Context, p []float32) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err // also while audio keeps coming: a reader loop must be able to stop
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := c.checkDefault(); err != nil {
		return 0, err
	}
	for {
		if c.outPos < len(c.out) {
			n := copy(p, c.out[c.outPos:])
			c.outPos += n
			return n, nil
		}
		if n := c.ring.read(c.raw); n > 0 {
			c.out, c.outPos = c.out[:0], 0
			if c.rs == nil {
				c.out = append(c.out, c.raw[:n]...)
			} else {
				c.out = c.rs.Process(c.out, c.raw[:n])
			}
			continue
		}
		if c.closing.Load() {
			return 0, ErrClosed
		}
		if err := c.checkLost(); err != nil {
			return 0, err
		}
		if err := c.checkDefault(); err != nil {
			return 0, err
		}
		if err := c.wait(ctx); err != nil {
			return 0, err
		}
	}
}

// wait sleeps until the callback has news, ctx is done, Close is called, or it is time to look
// for a stalled device.
func (c *Capture) wait(ctx context.Context) error {
	t := time.NewTimer(stallTimeout / 4)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
	case <-c.wake:
	case <-t.C:
	}
	return nil
}

// Close stops capturing and frees the device. It is safe to call more than once and from any
// goroutine but the audio callback; a Read in progress returns ErrClosed.
func (c *Capture) Close() error {
	c.close()
	return nil
}
