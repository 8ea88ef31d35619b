package device

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// stallTimeout is how long a device may go without calling back before it is checked for.
// PulseAudio does not tell a client whose device vanished: the stream just stops. A device that
// is merely idle (a PulseAudio null sink with nothing playing into it delivers in 2 s bursts)
// is still listed, and the wait goes on.
const stallTimeout = time.Second

// defaultEvery is how often a stream that follows the default device (CaptureOptions.
// FollowDefault) looks for a new default. miniaudio tells of a rerouted device through a
// notification that malgo does not pass on, so the default is polled instead: one listing of
// the devices, a round trip to the sound server, a second. A change is seen within a second,
// and the reopen that follows takes a few hundred milliseconds more.
const defaultEvery = time.Second

// ErrDefaultChanged is wrapped by the error (a *DefaultChanged) a Capture that follows the
// default device returns once the system's default changed.
var ErrDefaultChanged = errors.New("the default audio device changed")

// DefaultChanged says that the system's default device changed (a headset plugged in and
// chosen in the desktop's sound settings) while a stream that follows it was open. A sound
// server may already have moved the stream, but it then converts to the old device's format;
// open a new one, which takes the new default's own format, and tell the person.
type DefaultChanged struct {
	Kind     Kind
	From, To Info
}

func (e *DefaultChanged) Error() string {
	return fmt.Sprintf("audio: the default %s changed from %q to %q", e.Kind.noun(), e.From.Name, e.To.Name)
}

func (e *DefaultChanged) Unwrap() error { return ErrDefaultChanged }

// conn is what a Capture and a Player share: the miniaudio context and device, and the
// watch for a lost device.
type conn struct {
	info     Info
	kind     Kind
	actx     *malgo.AllocatedContext
	dev      *malgo.Device
	cID      unsafe.Pointer
	id       malgo.DeviceID
	explicit bool // a chosen device, not "the default"
	follow   bool // watch for a new default device (checkDefault)
	rate     int
	start    time.Time

	nativeRate, nativeChannels int // the device's own format, 0 when unknown

	lastCB  atomic.Int64 // nanoseconds from start to the latest callback
	stopped atomic.Bool  // miniaudio stopped the device on its own
	closing atomic.Bool

	done      chan struct{} // closed by close
	closeOnce sync.Once
	ctxMu     sync.Mutex // held while actx is used after open: present vs. release

	// Checked by the goroutine that reads or plays.
	lost      error
	nextCheck time.Time
	changed   error     // a *DefaultChanged, once seen
	nextDef   time.Time // when checkDefault looks again
}

// open starts the context and finds the device.
func (c *conn) open(k Kind, query string) error {
	actx, err := newContext()
	if err != nil {
		return err
	}
	in, inf, err := find(actx, k, query)
	if err != nil {
		freeContext(actx)
		return err
	}
	c.info, c.kind, c.actx, c.id, c.explicit = inf, k, actx, in.ID, query != ""
	c.cID = cDeviceID(in, c.explicit)
	// Ask for the device's own format explicitly. Left at 0, miniaudio finds it for a device
	// named by ID, but for "the default" it can settle on 48 kHz and convert with its linear
	// resampler (seen with PulseAudio: a 16 kHz default sink opened at 48 kHz).
	if inf.ID != "" {
		if di, err := actx.DeviceInfo(k.malgo(), in.ID, malgo.Shared); err == nil && len(di.Formats) > 0 {
			c.nativeRate, c.nativeChannels = int(di.Formats[0].SampleRate), int(di.Formats[0].Channels)
		}
	}
	c.start = time.Now()
	c.nextDef = c.start.Add(defaultEvery)
	c.done = make(chan struct{})
	return nil
}

// alive records a callback; called on the audio thread.
func (c *conn) alive() { c.lastCB.Store(int64(time.Since(c.start))) }

// stoppedByBackend records miniaudio's stop notification (on the audio thread or the thread
// that stops the device) and reports whether it came from the backend rather than Close.
func (c *conn) stoppedByBackend() bool {
	if c.closing.Load() {
		return false
	}
	c.stopped.Store(true)
	return true
}

// checkLost decides whether the device is gone: miniaudio stopped it on its own, or it has not
// called back for stallTimeout and is no longer listed (or the sound system no longer
// answers).
func (c *conn) checkLost() error {
	if c.lost != nil {
		return c.lost
	}
	what := fmt.Sprintf("%s %q", c.kind.noun(), c.info.Name)
	if c.stopped.Load() {
		c.lost = fmt.Errorf("audio: %s stopped (unplugged?): %w", what, ErrDeviceLost)
		return c.lost
	}
	stalled := time.Since(c.start)-time.Duration(c.lastCB.Load()) > stallTimeout
	if !stalled || time.Now().Before(c.nextCheck) {
		return nil
	}
	c.nextCheck = time.Now().Add(stallTimeout)
	c.ctxMu.Lock()
	if c.actx == nil { // closed meanwhile
		c.ctxMu.Unlock()
		return ErrClosed
	}
	ok, err := present(c.actx, c.kind, c.id)
	c.ctxMu.Unlock()
	switch {
	case err != nil:
		c.lost = fmt.Errorf("audio: %s: the sound system stopped answering (%v): %w", what, err, ErrDeviceLost)
	case c.explicit && !ok:
		c.lost = fmt.Errorf("audio: %s is gone (unplugged or removed): %w", what, ErrDeviceLost)
	}
	return c.lost
}

// checkDefault, for a stream that follows the default device, looks (at most every
// defaultEvery) whether the system's default is still the device the stream was opened on,
// and returns a *DefaultChanged once it is not, and from then on. A listing that fails is
// ignored here: a sound system that stopped answering is checkLost's business.
func (c *conn) checkDefault() error {
	if !c.follow || c.explicit || c.info.ID == "" {
		return nil // a chosen device stays; an unknown default cannot be compared
	}
	if c.changed != nil {
		return c.changed
	}
	now := time.Now()
	if now.Before(c.nextDef) {
		return nil
	}
	c.nextDef = now.Add(defaultEvery)
	c.ctxMu.Lock()
	if c.actx == nil { // closed meanwhile
		c.ctxMu.Unlock()
		return nil
	}
	infos, err := c.actx.Devices(c.kind.malgo())
	c.ctxMu.Unlock()
	if err != nil {
		return nil
	}
	for _, in := range infos {
		if in.IsDefault != 0 && in.ID != c.id {
			c.changed = &DefaultChanged{Kind: c.kind, From: c.info, To: info(c.kind, in)}
			return c.changed
		}
	}
	return nil
}

// close stops and frees everything, once.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		c.closing.Store(true)
		close(c.done)
		c.release()
	})
}

func (c *conn) release() {
	c.ctxMu.Lock()
	defer c.ctxMu.Unlock()
	if c.dev != nil {
		// Stop before Uninit: ma_device_uninit does not wake the PulseAudio backend's event
		// loop, and when the device is gone nothing else does, so Uninit alone would wait for
		// the audio thread forever. Stop wakes it.
		_ = c.dev.Stop()
		c.dev.Uninit()
		c.dev = nil
	}
	if c.actx != nil {
		freeContext(c.actx)
		c.actx = nil
	}
	freeCDeviceID(c.cID)
	c.cID = nil
}
