package ui

import (
	"errors"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"hark/app"
)

// The rendered images of each mode at its target size live in testdata/ and are compared
// pixel by pixel (with Fyne's small tolerance). After a deliberate change to the look, the new
// image is in testdata/failed/: look at it, then move it over the old one.

// conversation is a short exchange that shows every kind of message.
func conversation() []app.Event {
	return []app.Event{
		{Kind: app.EventTranscript, Turn: 1, Text: "What's the weather like on Mars?", Input: app.InputTyped},
		{Kind: app.EventToken, Turn: 1, Text: "Cold and dusty: about minus sixty degrees on average,"},
		{Kind: app.EventToken, Turn: 1, Text: " with a thin carbon dioxide air and storms that can cover the whole planet."},
		{Kind: app.EventReply, Turn: 1, Text: "Cold and dusty: about minus sixty degrees on average, with a thin carbon dioxide air and storms that can cover the whole planet."},
		{Kind: app.EventTurnDone, Turn: 1, Input: app.InputTyped, Timings: &app.Timings{FirstToken: 41 * time.Millisecond,
			Generate: 820 * time.Millisecond, Total: 822 * time.Millisecond, LLMCompute: 815 * time.Millisecond, Overhead: 7 * time.Millisecond, Tokens: 31}},
		{Kind: app.EventTranscript, Turn: 2, Text: "And how far away is it?", Input: app.InputVoice},
		{Kind: app.EventState, State: app.StateThinking},
		{Kind: app.EventToken, Turn: 2, Text: "About 225 million kilometres on average"},
	}
}

func render(t *testing.T, u *UI, size fyne.Size, name string) {
	t.Helper()
	content := u.win.Content()
	content.Resize(size)
	u.flush()
	test.AssertObjectRendersToImage(t, name, content)
}

func TestRenderDesktop(t *testing.T) {
	u, _ := newTestUI(t, ModeDesktop)
	u.settings.Theme = "light"
	u.applyMode()
	u.win.Content().Resize(fyne.NewSize(480, 720))
	u.send(ready(false)...)
	u.send(conversation()...)
	u.send(app.Event{Kind: app.EventLevel, Level: app.Level{RMS: -30}})
	render(t, u, fyne.NewSize(480, 720), "desktop.png")
}

func TestRenderDesktopDebugAndError(t *testing.T) {
	u, _ := newTestUI(t, ModeDesktop)
	u.win.Content().Resize(fyne.NewSize(480, 720))
	err := app.Explain(errors.New("/models/tiny.bin: no such file or directory"), "The speech model file is missing",
		"Choose a whisper model in Settings, or run `hark models pull tiny.en`.")
	u.send(ready(false)...)
	u.send(app.Event{Kind: app.EventComponent, Component: app.ComponentASR, Phase: app.PhaseFailed, Err: err, Text: app.Message(err), Hint: app.Hint(err)},
		app.Event{Kind: app.EventReadiness, Readiness: app.Readiness{Type: true, VoiceReason: "Speech recognition: The speech model file is missing"}})
	u.send(conversation()[:5]...)
	u.toggleDebug()
	render(t, u, fyne.NewSize(480, 720), "desktop-debug-error.png")
}

func TestRenderKiosk(t *testing.T) {
	u, _ := newTestUI(t, ModeKiosk)
	u.settings.Theme = "light"
	u.applyMode()
	size := fyne.NewSize(1280, 800)
	u.win.Content().Resize(size)
	u.send(ready(true)...)
	render(t, u, size, "kiosk-attract.png")
	u.hideAttract()
	u.send(conversation()...)
	u.send(app.Event{Kind: app.EventState, State: app.StateSpeaking})
	render(t, u, size, "kiosk.png")
}

func TestRenderCar(t *testing.T) {
	u, _ := newTestUI(t, ModeCar)
	size := fyne.NewSize(800, 480)
	u.win.Content().Resize(size)
	u.send(ready(true)...)
	u.send(conversation()...)
	u.send(app.Event{Kind: app.EventState, State: app.StateSpeaking})
	render(t, u, size, "car.png")
	u.send(app.Event{Kind: app.EventReply, Turn: 2, Text: "About 225 million kilometres on average"},
		app.Event{Kind: app.EventState, State: app.StateListening},
		app.Event{Kind: app.EventLevel, Level: app.Level{RMS: -22}})
	render(t, u, size, "car-listening.png")
}
