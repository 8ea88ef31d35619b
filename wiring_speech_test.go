package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hark/app"
	"hark/audio/bargein"
	"hark/internal/testmodels"
	"hark/tts"
)

func TestEarcons(t *testing.T) {
	state := func(s app.State) app.Event { return app.Event{Kind: app.EventState, State: s} }
	tests := []struct {
		name      string
		handsFree bool
		events    []app.Event
		want      []tts.Earcon
	}{
		{"push-to-talk press", false, []app.Event{state(app.StateIdle), state(app.StateHearing), state(app.StateHearing), state(app.StateTranscribing)},
			[]tts.Earcon{tts.EarconListening}},
		{"hands-free speech start is silent", true, []app.Event{state(app.StateListening), state(app.StateHearing)}, nil},
		{"wake phrase", true, []app.Event{{Kind: app.EventWake}}, []tts.Earcon{tts.EarconListening}},
		{"spoken question understood", true, []app.Event{{Kind: app.EventTranscript, Input: app.InputVoice}}, []tts.Earcon{tts.EarconGotIt}},
		{"typed question", false, []app.Event{{Kind: app.EventTranscript, Input: app.InputTyped}}, nil},
		{"error", false, []app.Event{{Kind: app.EventError, Err: errors.New("x")}}, []tts.Earcon{tts.EarconError}},
		{"tokens", false, []app.Event{{Kind: app.EventToken, Text: "hi"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hearing := false
			var got []tts.Earcon
			for _, e := range tt.events {
				if ec, ok := earconFor(e, tt.handsFree, &hearing); ok {
					got = append(got, ec)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("earcons %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("earcons %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestBargeInDetector: hands-free Hark decides barge-in with two Silero instances interleaved
// (a frame every 16 ms), and with the energy detector when the model is missing or broken.
func TestBargeInDetector(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken.bin")
	if err := os.WriteFile(broken, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want int           // Silero instances
		step time.Duration // from one frame's end to the next (0: not checked)
	}{
		{"Silero", testmodels.Shared(t, "ggml-silero-v6.2.0.bin"), 2, 16 * time.Millisecond},
		{"no model", "", 0, 0},
		{"broken model", broken, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, vads := bargeInDetector(tt.path)
			for _, v := range vads {
				defer v.Close()
			}
			if len(vads) != tt.want {
				t.Fatalf("%d Silero instances, want %d", len(vads), tt.want)
			}
			var ends []time.Duration
			d.Trace(func(f bargein.Frame) { ends = append(ends, f.End) })
			if _, err := d.Push(bargein.Input{Mic: make([]float32, 1600)}); err != nil {
				t.Fatal(err)
			}
			if len(ends) < 2 {
				t.Fatalf("%d frames decided in 100 ms", len(ends))
			}
			if step := ends[1] - ends[0]; tt.step > 0 && step != tt.step {
				t.Errorf("frames %v apart, want %v", step, tt.step)
			}
		})
	}
}
