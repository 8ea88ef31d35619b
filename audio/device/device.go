// Package device reaches the sound hardware through miniaudio (malgo): it lists capture and
// playback devices, captures the microphone and plays sound.
package device

import (
	"fmt"

	"github.com/gen2brain/malgo"
)

// Kind says whether a device records or plays.
type Kind int

const (
	Capture Kind = iota
	Playback
)

func (k Kind) String() string {
	if k == Capture {
		return "capture"
	}
	return "playback"
}

// Info describes one device.
type Info struct {
	Kind      Kind
	Name      string
	ID        string
	IsDefault bool
}

// List returns the capture and playback devices of the default audio backend.
func List() ([]Info, error) {
	actx, err := malgo.InitContext(nil, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("audio: no sound system available: %w", err)
	}
	defer func() {
		_ = actx.Uninit()
		actx.Free()
	}()
	var out []Info
	for _, k := range []Kind{Capture, Playback} {
		dt := malgo.Capture
		if k == Playback {
			dt = malgo.Playback
		}
		infos, err := actx.Devices(dt)
		if err != nil {
			return nil, fmt.Errorf("audio: listing %s devices: %w", k, err)
		}
		for _, in := range infos {
			out = append(out, Info{Kind: k, Name: in.Name(), ID: in.ID.String(), IsDefault: in.IsDefault != 0})
		}
	}
	return out, nil
}
