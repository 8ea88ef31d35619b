package device

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gen2brain/malgo"

	"hark/audio"
)

// PlayerOptions choose the speaker.
type PlayerOptions struct {
	Device   string // name or ID (or a unique part of either); "" = the default speaker
	PeriodMs int    // the audio callback's period (default 200 ms; see defaultPlayerPeriodMs)
	// CutOnCancel silences a cancelled sound at once, dropping what the sound server holds
	// (see Player.restart): for barge-in, where the person talking over Hark must be heard
	// now and masks the unfaded cut. Without it a cancelled sound fades out (no click) after
	// what is buffered, up to a period, has played.
	CutOnCancel bool
	// FreshStart opens the stream again, with the sound's start in it, for a sound that
	// follows silence (see Player.freshStart), instead of playing it on the running stream
	// behind the period of silence the sound server holds (up to PeriodMs before its first
	// sample is heard). Off by default: with it the assistant's replies were not heard in
	// BenchmarkLatencyAtDevices (cause not found yet), though `hark say` and this package's
	// tests play well.
	FreshStart bool
}

// defaultPlayerPeriodMs is the default period of a Player. With PulseAudio, miniaudio's
// buffer holds one period, so this is how late the audio thread (or the sound server) may be
// before the sound has a gap. (A cancelled sound does not play on for it: see
// Player.restart.) Hark plays speech while the language model still computes on every core,
// so a busy machine is the normal case: on the shared two-core test machine (load average 8-10),
// 20-100 ms periods gave gaps in most runs of TestPlayback, 200 ms in none.
const defaultPlayerPeriodMs = 200

const (
	playerPeriods = 3                      // miniaudio's largest buffer, in periods
	fadeTime      = 8 * time.Millisecond   // fade-out when playback is cancelled: no click
	fadeWait      = 500 * time.Millisecond // longest a cancelled Play waits for its fade
	tailMargin    = 50 * time.Millisecond  // the sound server's own latency, after the stream's buffer
	playerRingSec = 2
)

// Player plays PCM on a speaker. The device runs from OpenPlayer to Close, playing silence
// between sounds, so a sound starts without the delay of starting a stream.
type Player struct {
	conn
	channels int
	latency  uint64 // frames of silence after the last sample by which it has been heard

	// Shared with the audio callback: lock-free.
	ring     *ring
	wake     chan struct{} // capacity 1: the callback took samples
	fadeReq  atomic.Bool   // Play asks for a fade-out and a flush
	fadeDone chan struct{} // capacity 1
	played   atomic.Uint64 // samples taken out of the ring, ever (a flush counts as taken)
	silence  atomic.Uint64 // frames of silence output since the ring last ran dry

	// Callback-only state.
	scratch  []float32
	fadeLen  int
	fadeLeft int
	fading   bool

	mu    sync.Mutex // one Play (or queue feeder) at a time
	queue soundQueue // sounds added by Enqueue

	cut        bool               // PlayerOptions.CutOnCancel
	fresh      bool               // PlayerOptions.FreshStart
	cfg        malgo.DeviceConfig // to reopen the stream (see restart)
	restarting atomic.Bool        // restart stops the device: not a lost device
}

// OpenPlayer opens a speaker and starts its stream (silent until Play).
func OpenPlayer(opts PlayerOptions) (*Player, error) {
	if opts.PeriodMs <= 0 {
		opts.PeriodMs = defaultPlayerPeriodMs
	}
	p := &Player{wake: make(chan struct{}, 1), fadeDone: make(chan struct{}, 1), cut: opts.CutOnCancel, fresh: opts.FreshStart}
	if err := p.open(KindPlayback, opts.Device); err != nil {
		return nil, err
	}
	cfg := malgo.DefaultDeviceConfig(malgo.Playback)
	cfg.Playback.DeviceID = p.cID
	cfg.Playback.Format = malgo.FormatF32
	cfg.Playback.Channels = uint32(p.nativeChannels) // the device's own (0: miniaudio finds it)
	cfg.SampleRate = uint32(p.nativeRate)
	cfg.PeriodSizeInMilliseconds = uint32(opts.PeriodMs)
	cfg.Periods = playerPeriods
	// The callback gets exactly what the sound server asks for: with miniaudio's fixed-size
	// callbacks it would run up to a period ahead of the server, and Play could not tell when
	// its last sample has left the buffer.
	cfg.NoFixedSizedCallback = 1
	cfg.Pulse.StreamNamePlayback = "Hark speech"
	p.cfg = cfg
	dev, err := malgo.InitDevice(p.actx.Context, cfg, malgo.DeviceCallbacks{Data: p.onData, Stop: p.onStop})
	if err != nil {
		p.release()
		return nil, fmt.Errorf("audio: cannot open speaker %q: %w", p.info.Name, err)
	}
	p.dev = dev
	p.rate, p.channels = int(dev.SampleRate()), int(dev.PlaybackChannels())
	if dev.PlaybackFormat() != malgo.FormatF32 || p.channels < 1 || p.rate < audio.MinRate || p.rate > audio.MaxRate {
		p.release()
		return nil, fmt.Errorf("audio: speaker %q opened as format %d, %d channels, %d Hz, which Hark cannot use", p.info.Name, dev.PlaybackFormat(), p.channels, p.rate)
	}
	p.setup(p.rate, p.channels, opts.PeriodMs)
	if err := dev.Start(); err != nil {
		p.release()
		return nil, fmt.Errorf("audio: cannot start speaker %q: %w", p.info.Name, err)
	}
	return p, nil
}

// setup allocates what the callback uses, for a device of this format.
func (p *Player) setup(rate, channels, periodMs int) {
	p.rate, p.channels = rate, channels
	p.ring = newRing(playerRingSec * rate)
	p.scratch = make([]float32, 1024)
	p.fadeLen = max(int(fadeTime.Seconds()*float64(rate)), 1)
	// miniaudio gives PulseAudio a one-period target buffer: once a period of silence has
	// followed the last sample into it, that sample has left it (NoFixedSizedCallback: nothing
	// waits in miniaudio between the callback and the server).
	p.latency = uint64(periodMs * rate / 1000)
}

// Device describes the speaker in use.
func (p *Player) Device() Info { return p.info }

// Format is the device's own rate and channel count.
func (p *Player) Format() (rate, channels int) { return p.rate, p.channels }

// onData is the audio callback: it copies queued mono samples to every channel, fading out
// when asked to, and fills the rest with silence. No allocation, no lock, no blocking.
func (p *Player) onData(out, _ []byte, frames uint32) {
	n := int(frames)
	if n == 0 || len(out) < n*p.channels*4 {
		return
	}
	dst := unsafe.Slice((*float32)(unsafe.Pointer(&out[0])), n*p.channels)
	if p.fadeReq.Load() && !p.fading {
		p.fading, p.fadeLeft = true, p.fadeLen
	}
	ch := p.channels
	var took uint64
	for done := 0; done < n; {
		m := min(n-done, len(p.scratch))
		k := p.ring.read(p.scratch[:m])
		clear(p.scratch[k:m])
		for i, v := range p.scratch[:m] {
			if p.fading {
				v *= float32(p.fadeLeft) / float32(p.fadeLen)
				p.fadeLeft = max(p.fadeLeft-1, 0)
			}
			frame := dst[(done+i)*ch : (done+i+1)*ch]
			for j := range frame {
				frame[j] = v
			}
		}
		took += uint64(k)
		if k > 0 {
			p.silence.Store(0)
		}
		p.silence.Add(uint64(m - k))
		done += m
	}
	if p.fading && p.fadeLeft == 0 {
		took += uint64(p.ring.len())
		p.ring.discard()
		p.fading = false
		p.fadeReq.Store(false)
		select {
		case p.fadeDone <- struct{}{}:
		default:
		}
	}
	// After the silence count, so that a Play that sees its last sample taken also sees the
	// silence that followed it.
	p.played.Add(took)
	p.alive()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Player) onStop() {
	if p.restarting.Load() {
		return
	}
	if p.stoppedByBackend() {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// Play plays pcm (any rate: it is resampled to the device's) and returns once its last sample
// has left the device's buffer, i.e. has been heard. When ctx is done first, Play returns
// ctx.Err() within a period, and the sound stops with an 8 ms fade (no click) after what was
// already in the device's buffer (one period) has played; with PlayerOptions.CutOnCancel it
// stops at once instead (see [Player.restart]: what the sound server has buffered is dropped).
func (p *Player) Play(ctx context.Context, pcm audio.PCM) error {
	if len(pcm.Samples) == 0 {
		return nil
	}
	if pcm.Rate < audio.MinRate || pcm.Rate > audio.MaxRate {
		return fmt.Errorf("audio: cannot play sound at %d Hz (%d..%d Hz are supported)", pcm.Rate, audio.MinRate, audio.MaxRate)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing.Load() {
		return ErrClosed
	}
	if err := p.checkLost(); err != nil {
		return err
	}
	data := audio.Resample(pcm, p.rate).Samples
	if err := ctx.Err(); err != nil {
		return err // cancelled already: not a sound
	}
	target := p.played.Load() + uint64(p.ring.len()) + uint64(len(data))
	queued := p.freshStart(data)
	t := time.NewTimer(stallTimeout / 4)
	defer t.Stop()
	for {
		queued += p.ring.write(data[queued:])
		if queued == len(data) && p.played.Load() >= target && p.silence.Load() >= p.latency {
			// The last sample has left the stream's buffer; the server's own (sink) latency
			// is not known here, so give it tailMargin.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(tailMargin):
			}
			return nil
		}
		if p.closing.Load() {
			return ErrClosed
		}
		if err := p.checkLost(); err != nil {
			return err
		}
		t.Reset(stallTimeout / 4)
		select {
		case <-ctx.Done():
			return p.fadeOut(ctx.Err())
		case <-p.done:
		case <-p.wake:
		case <-t.C:
		}
	}
}

// fadeOut stops what is playing and drops what is queued, and returns err. With CutOnCancel,
// while sound is buffered, it restarts the stream (see restart); otherwise it asks the
// callback to fade out and drop the queue, and waits for that.
func (p *Player) fadeOut(err error) error {
	if p.cut && p.restart() {
		return err
	}
	select {
	case <-p.fadeDone: // a stale signal
	default:
	}
	p.fadeReq.Store(true)
	t := time.NewTimer(fadeWait)
	defer t.Stop()
	select {
	case <-p.fadeDone:
	case <-p.done:
	case <-t.C: // the device is not calling back: nothing is playing anyway
		p.fadeReq.Store(false)
		p.ring.r.Store(p.ring.w.Load()) // the callback, the ring's consumer, is not running
	}
	return err
}

// restart stops a stream that has sound buffered and opens it again, and reports whether it
// did. With PulseAudio, stopping a stream only pauses it (miniaudio corks it): the sound server
// keeps up to a period of it buffered, which would play on after a fade written now, or
// resurface at the next start. Closing the stream drops that buffer, so a cancelled sound is
// silent as soon as the server hears of it (a few ms) instead of after the period (200 ms by
// default). The cut is not faded (the buffered sound cannot be changed); speech at a cut is a
// soft click at most, and the person talking over it masks that. Called with p.mu held.
func (p *Player) restart() bool {
	if p.ring.len() == 0 && p.silence.Load() >= p.latency {
		return false // nothing is buffered: all has been heard
	}
	p.ctxMu.Lock()
	defer p.ctxMu.Unlock()
	if !p.stopStream() {
		return false
	}
	// The callback is not running: its state and the ring are this goroutine's now.
	n := p.ring.len()
	p.ring.discard()
	p.silence.Store(p.latency) // the stream's buffer went with it
	p.played.Add(uint64(n))
	p.startStream("after a cancelled sound")
	return true
}

// stopStream stops and frees the stream, so that the callback no longer runs (its state and
// the ring are the caller's until startStream), and reports whether there was one. Called
// with p.mu and p.ctxMu held.
func (p *Player) stopStream() bool {
	if p.dev == nil || p.actx == nil || p.closing.Load() {
		return false
	}
	p.restarting.Store(true)
	_ = p.dev.Stop()
	p.dev.Uninit()
	p.dev = nil
	p.restarting.Store(false)
	p.fading, p.fadeLeft = false, 0
	p.fadeReq.Store(false)
	select {
	case <-p.fadeDone:
	default:
	}
	return true
}

// startStream opens the stream again (stopStream closed it); miniaudio fills the new stream's
// buffer from the ring before it starts. A failure marks the device lost. Called with p.mu
// and p.ctxMu held.
func (p *Player) startStream(why string) {
	dev, err := malgo.InitDevice(p.actx.Context, p.cfg, malgo.DeviceCallbacks{Data: p.onData, Stop: p.onStop})
	if err == nil && (int(dev.SampleRate()) != p.rate || int(dev.PlaybackChannels()) != p.channels || dev.PlaybackFormat() != malgo.FormatF32) {
		dev.Uninit()
		err = fmt.Errorf("it came back as format %d, %d channels, %d Hz", dev.PlaybackFormat(), dev.PlaybackChannels(), dev.SampleRate())
	}
	if err == nil {
		if err = dev.Start(); err != nil {
			dev.Uninit()
		}
	}
	if err != nil {
		p.lost = fmt.Errorf("audio: cannot reopen speaker %q %s (%v): %w", p.info.Name, why, err, ErrDeviceLost)
		return
	}
	p.dev = dev
	p.lastCB.Store(int64(time.Since(p.start)))
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// freshStart begins a sound that follows silence (nothing queued, and what the stream holds
// is silence) on a new stream, and returns how much of data it put in the ring (0: the
// caller writes it all). The running stream holds up to a period of silence at the sound
// server (200 ms by default, the margin against a late callback on a busy machine), and a
// sound written now would be heard only after it; stopping the stream does not drop it
// (PulseAudio corks a stopped stream and keeps its buffer), closing it does. The new stream
// starts with the sound's first period already in its buffer, so the sound is heard as soon
// as the stream is open (a few ms: BenchmarkFirstSound), and the period's margin is there
// from the first sample on. Called with p.mu held.
func (p *Player) freshStart(data []float32) int {
	if !p.fresh || p.ring.len() != 0 || p.silence.Load() < p.latency {
		return 0
	}
	p.ctxMu.Lock()
	defer p.ctxMu.Unlock()
	if !p.stopStream() {
		return 0
	}
	// The stream is stopped: the ring may have been fed just before, or the tail of a fade.
	n := p.ring.write(data)
	p.startStream("for a new sound")
	return n
}

// Close stops the stream and frees the device. It is safe to call more than once; a Play in
// progress returns ErrClosed.
func (p *Player) Close() error {
	p.close()
	return nil
}
