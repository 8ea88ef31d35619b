package ui

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"hark/app"
)

// actCtl is the fake controller with the action cards' commands.
type actCtl struct {
	fakeCtl
	confirms []bool
	taps     []string
}

func (c *actCtl) Confirm(yes bool) { c.confirms = append(c.confirms, yes) }
func (c *actCtl) Tap(call app.ToolCall, _ string) {
	c.taps = append(c.taps, call.Name+" "+string(call.Arguments))
}

func newActionUI(t *testing.T, mode Mode) (*UI, *actCtl) {
	t.Helper()
	a := test.NewTempApp(t)
	ctl := &actCtl{}
	s := DefaultSettings(mode)
	s.Theme = "light"
	u := New(a, ctl, Options{Settings: s, Now: fixedNow})
	testGoroutine(u)
	t.Cleanup(func() { u.win.Close() })
	return u, ctl
}

func actionConversation() []app.Event {
	timer, _ := json.Marshal(map[string]any{"id": 7, "name": "pasta timer", "due": fixedNow().Add(9*time.Minute + 41*time.Second), "state": "running"})
	return []app.Event{
		{Kind: app.EventTranscript, Turn: 1, Text: "Set a pasta timer for 10 minutes", Input: app.InputVoice},
		{Kind: app.EventAction, Turn: 1, Action: &app.Action{Tool: "timer_start", Source: app.SourceIntent, Done: true,
			Say: "Timer set for 10 minutes.", Data: timer}},
		{Kind: app.EventReply, Turn: 1, Text: "Timer set for 10 minutes."},
		{Kind: app.EventTurnDone, Turn: 1},
		{Kind: app.EventTranscript, Turn: 2, Text: "Clear my notes", Input: app.InputVoice},
		{Kind: app.EventConfirm, Turn: 2, Text: "Delete all 4 notes?", Action: &app.Action{Tool: "note_clear", Source: app.SourceIntent,
			Question: "Delete all 4 notes?", Confirmed: app.ConfirmPending}},
		{Kind: app.EventReply, Turn: 2, Text: "Delete all 4 notes?"},
		{Kind: app.EventTurnDone, Turn: 2},
		{Kind: app.EventState, State: app.StateConfirming, Text: "Delete all 4 notes?"},
	}
}

func TestActionCards(t *testing.T) {
	u, ctl := newActionUI(t, ModeDesktop)
	u.win.Content().Resize(fyne.NewSize(480, 720))
	u.send(ready(false)...)
	u.send(actionConversation()...)
	u.flush()
	texts := u.chat.texts()
	for _, want := range []string{"card: ✓ Timer set for 10 minutes.", "card: ⚠ Delete all 4 notes?"} {
		if !slices.Contains(texts, want) {
			t.Errorf("chat %q lacks %q", texts, want)
		}
	}
	if slices.Contains(texts, "assistant: Timer set for 10 minutes.") {
		t.Errorf("the reply is shown twice: %q", texts)
	}
	tc := u.timers[7]
	if tc == nil || tc.label.Text != "pasta timer  9:41" {
		t.Fatalf("timer card = %+v", tc)
	}
	test.Tap(u.confirm.yes)
	test.Tap(tc.cancel)
	if !slices.Equal(ctl.confirms, []bool{true}) || !slices.Equal(ctl.taps, []string{`timer_cancel {"name":"pasta timer"}`}) {
		t.Errorf("confirms %v, taps %v", ctl.confirms, ctl.taps)
	}
	u.send(app.Event{Kind: app.EventConfirm, Action: &app.Action{Tool: "note_clear", Question: "Delete all 4 notes?", Confirmed: app.ConfirmYes}})
	u.send(app.Event{Kind: app.EventAlert, Text: "Your pasta timer is done.", Alert: &app.Alert{Name: "pasta timer",
		Data: json.RawMessage(`{"id":7,"name":"pasta timer","state":"rang"}`)}})
	u.flush()
	if !slices.Contains(u.chat.texts(), "card: ⚠ Delete all 4 notes?  → yes") {
		t.Errorf("the answer is not shown: %q", u.chat.texts())
	}
	if tc.label.Text != "pasta timer — rang" || !tc.cancel.Disabled() {
		t.Errorf("after the ring: %q, cancel disabled %v", tc.label.Text, tc.cancel.Disabled())
	}
	if !slices.Contains(u.chat.texts(), "note: ⏰ Your pasta timer is done.") {
		t.Errorf("no alert in %q", u.chat.texts())
	}
}

func TestRenderActions(t *testing.T) {
	u, _ := newActionUI(t, ModeDesktop)
	u.win.Content().Resize(fyne.NewSize(480, 720))
	u.send(ready(false)...)
	u.send(actionConversation()...)
	render(t, u, fyne.NewSize(480, 720), "desktop-actions.png")

	c, _ := newActionUI(t, ModeCar)
	c.win.Content().Resize(fyne.NewSize(800, 480))
	c.send(ready(true)...)
	c.send(actionConversation()[4:]...)
	render(t, c, fyne.NewSize(800, 480), "car-confirm.png")
}
