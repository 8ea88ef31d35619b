// Package device reaches the sound hardware through miniaudio (malgo): it lists capture and
// playback devices, captures the microphone as 16 kHz mono and plays sound at any rate.
//
// # Conversion
//
// Capture opens the device at its own rate and channel count (float32 samples), averages the
// channels in the audio callback and resamples to 16 kHz in Go, in the reading goroutine, with
// audio.Resampler (windowed sinc, 90 dB stopband). The alternative, asking miniaudio for 16 kHz
// mono, hands the conversion to whichever layer is below: PulseAudio converts with its own
// configured method, and where nothing converts (raw ALSA hardware) miniaudio's default linear
// resampler does, which lets sound above 8 kHz fold back into the speech band. Measured
// (TestConversionChoice, 48 kHz -> 16 kHz): a 10 kHz tone comes out at -10.3 dB through
// miniaudio's linear resampler (4th-order low-pass), at -104 dB through audio.Resampler; a
// 12 kHz tone at -19.1 dB against -119 dB. Converting in Go also keeps the audio thread's work
// to a copy and a down-mix (BenchmarkCaptureCallback: 50-70 µs per 50 ms period at 48 kHz
// stereo on the test machine, 0 allocations); the resampler (0.2-0.3% of a core at 48 kHz,
// BenchmarkResample) runs in the reader. Playback does the same in reverse: PCM is resampled in
// Go to the device's own rate and copied to every channel.
//
// # Concurrency
//
// A Capture is read by one goroutine at a time; Level, Overruns and Close may be called from
// any goroutine. Player.Play calls are serialized. Close must not be called from the audio
// callback (nothing in this package does), since miniaudio waits there for the audio thread.
package device

/*
#include <stdlib.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// Kind says whether a device records or plays.
type Kind int

const (
	KindCapture Kind = iota
	KindPlayback
)

func (k Kind) String() string {
	if k == KindCapture {
		return "capture"
	}
	return "playback"
}

func (k Kind) malgo() malgo.DeviceType {
	if k == KindCapture {
		return malgo.Capture
	}
	return malgo.Playback
}

// what a person calls a device of this kind, in messages.
func (k Kind) noun() string {
	if k == KindCapture {
		return "microphone"
	}
	return "speaker"
}

// Info describes one device.
type Info struct {
	Kind      Kind
	Name      string // a description for people, e.g. "Built-in Audio Analog Stereo"
	ID        string // the backend's identifier, e.g. a PulseAudio source name
	IsDefault bool
}

var (
	// ErrDeviceLost is wrapped by the error a Capture or Player returns once its device has
	// disappeared (unplugged, sound server gone). Open a new one, on another device if need be.
	ErrDeviceLost = errors.New("audio device lost")
	// ErrNoDevice is wrapped by the error OpenCapture and OpenPlayer return when the device
	// asked for does not exist.
	ErrNoDevice = errors.New("no such audio device")
	// ErrClosed is returned by a Capture or Player after Close.
	ErrClosed = errors.New("audio device closed")
)

// newContext starts a miniaudio context on the default backends (PulseAudio, then ALSA, ...).
//
// Its audio threads ask for real-time scheduling (SCHED_FIFO), which miniaudio quietly drops
// when the system does not allow it. With it, a busy machine no longer delays the callback past
// the end of the device's buffer: on the shared two-core test machine (load average 10),
// playback through a 100 ms buffer had audible gaps in most runs without it.
func newContext() (*malgo.AllocatedContext, error) {
	quietALSA()
	actx, err := malgo.InitContext(nil, malgo.ContextConfig{ThreadPriority: malgo.ThreadPriorityRealtime}, nil)
	if err != nil {
		return nil, fmt.Errorf("audio: no sound system available (PulseAudio or ALSA): %w", err)
	}
	return actx, nil
}

func freeContext(actx *malgo.AllocatedContext) {
	_ = actx.Uninit()
	actx.Free()
}

// List returns the capture and playback devices of the default audio backend.
func List() ([]Info, error) {
	actx, err := newContext()
	if err != nil {
		return nil, err
	}
	defer freeContext(actx)
	var out []Info
	for _, k := range []Kind{KindCapture, KindPlayback} {
		infos, err := actx.Devices(k.malgo())
		if err != nil {
			return nil, fmt.Errorf("audio: listing %s devices: %w", k, err)
		}
		for _, in := range infos {
			out = append(out, info(k, in))
		}
	}
	return out, nil
}

func info(k Kind, in malgo.DeviceInfo) Info {
	return Info{Kind: k, Name: in.Name(), ID: idString(in.ID), IsDefault: in.IsDefault != 0}
}

// idString shows a device ID as text when it is text (PulseAudio and ALSA IDs are device
// names), else as hex.
func idString(id malgo.DeviceID) string {
	end := 0
	for end < len(id) && id[end] != 0 {
		end++
	}
	if end == 0 {
		return id.String()
	}
	for _, c := range id[:end] {
		if c < 0x20 || c > 0x7e {
			return id.String()
		}
	}
	return string(id[:end])
}

// find resolves what a person typed (an ID, a name, or a unique part of either, any case) to
// a device. An empty query is the default device.
func find(actx *malgo.AllocatedContext, k Kind, query string) (malgo.DeviceInfo, Info, error) {
	infos, err := actx.Devices(k.malgo())
	if err != nil {
		return malgo.DeviceInfo{}, Info{}, fmt.Errorf("audio: listing %s devices: %w", k, err)
	}
	if query == "" {
		for _, in := range infos {
			if in.IsDefault != 0 {
				return in, info(k, in), nil
			}
		}
		return malgo.DeviceInfo{}, Info{Kind: k, Name: "default " + k.noun()}, nil
	}
	q := strings.ToLower(query)
	var exact, partial []malgo.DeviceInfo
	for _, in := range infos {
		id, hexID, name := strings.ToLower(idString(in.ID)), in.ID.String(), strings.ToLower(in.Name())
		switch {
		case q == id || q == hexID || q == name:
			exact = append(exact, in)
		case strings.Contains(id, q) || strings.Contains(name, q):
			partial = append(partial, in)
		}
	}
	if len(exact) == 0 {
		exact = partial
	}
	switch len(exact) {
	case 1:
		return exact[0], info(k, exact[0]), nil
	case 0:
		return malgo.DeviceInfo{}, Info{}, fmt.Errorf("audio: %w: %s %q not found; `hark devices` lists them", ErrNoDevice, k.noun(), query)
	}
	var names []string
	for _, in := range exact {
		names = append(names, fmt.Sprintf("%q (%s)", in.Name(), idString(in.ID)))
	}
	return malgo.DeviceInfo{}, Info{}, fmt.Errorf("audio: %w: %q matches %d %ss: %s; give more of the name", ErrNoDevice, query, len(exact), k.noun(), strings.Join(names, ", "))
}

// present reports whether the device with this ID is still listed.
func present(actx *malgo.AllocatedContext, k Kind, id malgo.DeviceID) (bool, error) {
	infos, err := actx.Devices(k.malgo())
	if err != nil {
		return false, err
	}
	for _, in := range infos {
		if in.ID == id {
			return true, nil
		}
	}
	return false, nil
}

// cDeviceID copies a device ID to C memory for a device config (miniaudio reads it while the
// device is initialised); free it with C.free. A nil result means the default device.
func cDeviceID(in malgo.DeviceInfo, explicit bool) unsafe.Pointer {
	if !explicit {
		return nil
	}
	return in.ID.Pointer() // C.CBytes
}

func freeCDeviceID(p unsafe.Pointer) {
	if p != nil {
		C.free(p)
	}
}
