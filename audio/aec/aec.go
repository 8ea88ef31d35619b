// Package aec removes the assistant's own voice from the microphone signal (acoustic echo
// cancellation), so that barge-in listens to the person and not to the speakers.
//
// It wraps SpeexDSP's echo canceller (a multi-delay block frequency-domain adaptive filter,
// from Debian's libspeexdsp-dev, linked statically) and optionally its preprocessor for
// residual echo suppression. [Canceller] works on whole frames of aligned microphone and
// speaker signals; [Stream] does the real-time book-keeping on top: the player side reports
// what it is about to play ([Stream.Played]), the capture side passes each chunk it reads
// ([Stream.Process]) and gets the echo-cancelled chunk back together with the speaker signal
// that lines up with it.
//
// # Concurrency properties
//
// A Canceller is used by one goroutine. A Stream's Played, Stop and Process may be called from
// different goroutines (typically the player's and the capture loop's).
package aec

/*
#cgo LDFLAGS: -l:libspeexdsp.a -lm
#include <stdlib.h>
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>

static int hark_pp_set_int(SpeexPreprocessState *pp, int req, int v) {
	return speex_preprocess_ctl(pp, req, &v);
}
static int hark_echo_set_rate(SpeexEchoState *st, int rate) {
	return speex_echo_ctl(st, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
}
static int hark_echo_ir_size(SpeexEchoState *st) {
	spx_int32_t n = 0;
	speex_echo_ctl(st, SPEEX_ECHO_GET_IMPULSE_RESPONSE_SIZE, &n);
	return n;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"hark/audio"
)

// Config sets up a Canceller. The zero value gives the defaults.
type Config struct {
	// Rate is the sample rate of both signals (default audio.SampleRate).
	Rate int
	// FrameSize is the number of samples processed at once (default 256: 16 ms at 16 kHz).
	FrameSize int
	// Tail is the longest echo the filter models: the delay from handing audio to the player
	// until its echo is read from the microphone, plus the room's reverberation. Default
	// 400 ms; longer costs CPU and converges more slowly.
	Tail time.Duration
	// Linear turns off the residual echo suppression that follows the adaptive filter
	// (SpeexDSP's preprocessor, with its denoiser at a mild -6 dB). Suppression adds about
	// 10 dB of echo attenuation once the filter has converged, keeps the person's voice while
	// both talk (see the tests), and delays the output by one frame.
	Linear bool
	// SuppressDB is the most the residual echo is attenuated, in dB (negative; default -40).
	SuppressDB int
}

func (c Config) withDefaults() Config {
	if c.Rate <= 0 {
		c.Rate = audio.SampleRate
	}
	if c.FrameSize <= 0 {
		c.FrameSize = 256
	}
	if c.Tail <= 0 {
		c.Tail = 400 * time.Millisecond
	}
	if c.SuppressDB >= 0 {
		c.SuppressDB = -40
	}
	return c
}

// Canceller cancels the echo of a speaker signal (far end) from a microphone signal (near
// end), frame by frame.
type Canceller struct {
	cfg           Config
	echo          *C.SpeexEchoState
	pp            *C.SpeexPreprocessState
	near, far, cl []C.spx_int16_t // C-side frame buffers (allocated with C.malloc)
	bufs          unsafe.Pointer
}

// New returns a Canceller. Close it when done.
func New(cfg Config) (*Canceller, error) {
	cfg = cfg.withDefaults()
	tail := int(cfg.Tail.Seconds() * float64(cfg.Rate))
	if cfg.FrameSize > cfg.Rate/10 || tail < cfg.FrameSize {
		return nil, fmt.Errorf("aec: frame size %d and tail %v do not fit %d Hz audio", cfg.FrameSize, cfg.Tail, cfg.Rate)
	}
	c := &Canceller{cfg: cfg}
	c.echo = C.speex_echo_state_init(C.int(cfg.FrameSize), C.int(tail))
	if c.echo == nil {
		return nil, errors.New("aec: SpeexDSP could not create an echo canceller")
	}
	C.hark_echo_set_rate(c.echo, C.int(cfg.Rate))
	if !cfg.Linear {
		c.pp = C.speex_preprocess_state_init(C.int(cfg.FrameSize), C.int(cfg.Rate))
		if c.pp == nil {
			C.speex_echo_state_destroy(c.echo)
			return nil, errors.New("aec: SpeexDSP could not create a preprocessor")
		}
		C.speex_preprocess_ctl(c.pp, C.SPEEX_PREPROCESS_SET_ECHO_STATE, unsafe.Pointer(c.echo))
		// SpeexDSP applies the echo suppression gains only with its denoiser on; keep the
		// noise suppression mild so that quiet speech stays.
		C.hark_pp_set_int(c.pp, C.SPEEX_PREPROCESS_SET_DENOISE, 1)
		C.hark_pp_set_int(c.pp, C.SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, -6)
		C.hark_pp_set_int(c.pp, C.SPEEX_PREPROCESS_SET_AGC, 0)
		C.hark_pp_set_int(c.pp, C.SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, C.int(cfg.SuppressDB))
		C.hark_pp_set_int(c.pp, C.SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, C.int(cfg.SuppressDB/2))
	}
	// One C allocation for the three frame buffers: C keeps no pointer to Go memory.
	n := cfg.FrameSize
	c.bufs = C.malloc(C.size_t(3 * n * int(unsafe.Sizeof(C.spx_int16_t(0)))))
	all := unsafe.Slice((*C.spx_int16_t)(c.bufs), 3*n)
	c.near, c.far, c.cl = all[:n:n], all[n:2*n:2*n], all[2*n:]
	return c, nil
}

// FrameSize is the number of samples Process takes and gives.
func (c *Canceller) FrameSize() int { return c.cfg.FrameSize }

// Process removes the echo of far from near (one frame each, samples in [-1, 1]) and writes
// the result to out, which may be near itself.
func (c *Canceller) Process(near, far, out []float32) error {
	n := c.cfg.FrameSize
	if c.echo == nil {
		return errors.New("aec: canceller is closed")
	}
	if len(near) != n || len(far) != n || len(out) != n {
		return fmt.Errorf("aec: frames of %d/%d/%d samples, want %d", len(near), len(far), len(out), n)
	}
	for i := 0; i < n; i++ {
		c.near[i] = toInt16(near[i])
		c.far[i] = toInt16(far[i])
	}
	C.speex_echo_cancellation(c.echo, &c.near[0], &c.far[0], &c.cl[0])
	if c.pp != nil {
		C.speex_preprocess_run(c.pp, &c.cl[0])
	}
	for i := 0; i < n; i++ {
		out[i] = float32(c.cl[i]) / 32768
	}
	return nil
}

// ImpulseResponse returns the echo path the filter has learnt: Tail's worth of taps, from the
// far-end sample to the microphone (arbitrary scale).
func (c *Canceller) ImpulseResponse() []float32 {
	if c.echo == nil {
		return nil
	}
	n := int(C.hark_echo_ir_size(c.echo))
	if n <= 0 {
		return nil
	}
	buf := (*C.spx_int32_t)(C.malloc(C.size_t(n * 4)))
	defer C.free(unsafe.Pointer(buf))
	C.speex_echo_ctl(c.echo, C.SPEEX_ECHO_GET_IMPULSE_RESPONSE, unsafe.Pointer(buf))
	out := make([]float32, n)
	for i, v := range unsafe.Slice(buf, n) {
		out[i] = float32(v)
	}
	return out
}

// Reset forgets the learnt echo path (after the speaker or microphone changed).
func (c *Canceller) Reset() {
	if c.echo != nil {
		C.speex_echo_state_reset(c.echo)
	}
}

// Close frees the canceller; closing twice is harmless.
func (c *Canceller) Close() error {
	if c.pp != nil {
		C.speex_preprocess_state_destroy(c.pp)
		c.pp = nil
	}
	if c.echo != nil {
		C.speex_echo_state_destroy(c.echo)
		c.echo = nil
	}
	if c.bufs != nil {
		C.free(c.bufs)
		c.bufs, c.near, c.far, c.cl = nil, nil, nil, nil
	}
	return nil
}

func toInt16(x float32) C.spx_int16_t {
	v := math.Round(float64(x) * 32768)
	return C.spx_int16_t(min(max(v, -32768), 32767))
}
