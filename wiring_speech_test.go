package main

import (
	"errors"
	"testing"

	"hark/app"
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
