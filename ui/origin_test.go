package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"hark/app"
)

// edgeSession is a conversation with an edge server: answered there, then (the server gone)
// on this device, then by the device's own intents.
func edgeSession() []app.Event {
	return []app.Event{
		{Kind: app.EventTranscript, Turn: 1, Text: "What's the capital of France?", Input: app.InputTyped},
		{Kind: app.EventReply, Turn: 1, Text: "Paris.", Origin: app.Origin{On: app.ComputedServer, Server: "edge-1"}},
		{Kind: app.EventTurnDone, Turn: 1, Input: app.InputTyped},
		{Kind: app.EventTranscript, Turn: 2, Text: "And of Italy?", Input: app.InputVoice},
		{Kind: app.EventReply, Turn: 2, Text: "Rome.", Origin: app.Origin{On: app.ComputedFallback, Server: "edge-1", Why: "unexpected EOF"}},
		{Kind: app.EventTurnDone, Turn: 2, Input: app.InputVoice},
		{Kind: app.EventTranscript, Turn: 3, Text: "Set a timer for 5 minutes", Input: app.InputTyped},
		{Kind: app.EventReply, Turn: 3, Text: "Timer set for 5 minutes.", Origin: app.Origin{On: app.ComputedDevice}},
		{Kind: app.EventTurnDone, Turn: 3, Input: app.InputTyped},
	}
}

// Each reply says where it was computed, in every mode.
func TestReplyShowsWhereItWasComputed(t *testing.T) {
	for _, tc := range []struct {
		mode Mode
		size fyne.Size
		want []string // the notes under the replies still shown
	}{
		{ModeDesktop, fyne.NewSize(480, 720), []string{"on edge-1", "fell back to this device", "on this device"}},
		{ModeKiosk, fyne.NewSize(1280, 800), []string{"on edge-1", "fell back to this device", "on this device"}},
		{ModeCar, fyne.NewSize(800, 480), []string{"on this device"}}, // car mode shows the last exchange
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			u, _ := newTestUI(t, tc.mode)
			u.settings.Theme = "light"
			u.applyMode()
			u.win.Content().Resize(tc.size)
			u.send(ready(false)...)
			u.hideAttract()
			evs := edgeSession()
			if tc.mode == ModeCar {
				first := evs[:5] // stop at the fallback: the exchange a driver would see
				u.send(first...)
				render(t, u, tc.size, string(tc.mode)+"-origin.png")
				u.send(evs[5:]...)
			} else {
				u.send(evs...)
				render(t, u, tc.size, string(tc.mode)+"-origin.png")
			}
			var got []string
			for _, b := range u.chat.bubbles {
				if b.kind == bubbleAssistant {
					_, note, _ := strings.Cut(b.meta, " · ")
					got = append(got, note)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("notes under the replies = %q, want %q", got, tc.want)
			}
		})
	}
}
