package main

import (
	"encoding/json"
	"testing"

	"hark/app"
	"hark/audio"
)

// TestVolumeControl: "set the volume to 40" (an action event with the volume control) scales
// what the speaker plays from then on.
func TestVolumeControl(t *testing.T) {
	s := &setup{echo: &echoLink{vol: newVolume()}}
	var passed int
	sink := s.withVolume(app.SinkFunc(func(app.Event) { passed++ }))
	pcm := audio.PCM{Rate: audio.SampleRate, Samples: []float32{0.5, -0.5}}
	if got := s.echo.vol.apply(pcm).Samples; got[0] != 0.5 {
		t.Fatalf("at full volume: %v", got)
	}
	sink.Publish(app.Event{Kind: app.EventAction, Action: &app.Action{Tool: "hark_volume", Done: true,
		Control: app.ControlVolume.String(), Data: json.RawMessage(`{"level":40}`)}})
	if got := s.echo.vol.apply(pcm).Samples; got[0] != 0.2 || got[1] != -0.2 || pcm.Samples[0] != 0.5 {
		t.Errorf("at volume 40: %v (input now %v)", got, pcm.Samples)
	}
	if passed != 1 {
		t.Errorf("%d events passed on, want 1", passed)
	}
}
