package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"hark/app"
)

// fakeCtl records what the window asked of the assistant.
type fakeCtl struct{ calls []string }

func (c *fakeCtl) StartTalking()     { c.calls = append(c.calls, "start") }
func (c *fakeCtl) StopTalking()      { c.calls = append(c.calls, "stop-talking") }
func (c *fakeCtl) ToggleTalking()    { c.calls = append(c.calls, "toggle") }
func (c *fakeCtl) Stop()             { c.calls = append(c.calls, "stop") }
func (c *fakeCtl) Ask(text string)   { c.calls = append(c.calls, "ask:"+text) }
func (c *fakeCtl) NewConversation()  { c.calls = append(c.calls, "new") }
func (c *fakeCtl) Touch()            {}
func (c *fakeCtl) take() []string    { out := c.calls; c.calls = nil; return out }
func (c *fakeCtl) has(s string) bool { return slices.Contains(c.calls, s) }

// fixedNow is the clock of every test: timestamps in images stay the same.
func fixedNow() time.Time { return time.Date(2025, 6, 1, 9, 41, 0, 0, time.UTC) }

func newTestUI(t *testing.T, mode Mode) (*UI, *fakeCtl) {
	t.Helper()
	a := test.NewTempApp(t)
	ctl := &fakeCtl{}
	s := DefaultSettings(mode)
	u := New(a, ctl, Options{Settings: s, Now: fixedNow})
	testGoroutine(u)
	t.Cleanup(func() { u.win.Close() })
	return u, ctl
}

// testGoroutine makes the test's goroutine the UI goroutine: repaints happen when the test
// flushes, and work other goroutines hand to the UI waits in a queue the test drains (the test
// driver would run it at once, on the calling goroutine).
func testGoroutine(u *UI) (drain func()) {
	u.schedule = func() {}
	q := make(chan func(), 1024)
	u.onUI = func(f func()) { q <- f }
	return func() {
		for {
			select {
			case f := <-q:
				f()
			default:
				return
			}
		}
	}
}

// send publishes events and repaints.
func (u *UI) send(evs ...app.Event) {
	for _, e := range evs {
		u.Publish(e)
	}
	u.flush()
}

func ready(handsFree bool) []app.Event {
	evs := []app.Event{}
	for _, c := range []app.Component{app.ComponentASR, app.ComponentLLM, app.ComponentVAD, app.ComponentMicrophone} {
		evs = append(evs, app.Event{Kind: app.EventComponent, Component: c, Phase: app.PhaseReady})
	}
	st := app.StateIdle
	if handsFree {
		st = app.StateListening
	}
	return append(evs, app.Event{Kind: app.EventReadiness, Readiness: app.Readiness{Type: true, Voice: true}},
		app.Event{Kind: app.EventState, State: st})
}

func status(u *UI) string { s, _ := u.status.Get(); return s }

func TestLoadingDisablesInputWithAReason(t *testing.T) {
	u, _ := newTestUI(t, ModeDesktop)
	u.send(app.Event{Kind: app.EventComponent, Component: app.ComponentLLM, Phase: app.PhaseLoading, Progress: 0.4},
		app.Event{Kind: app.EventReadiness, Readiness: app.Readiness{TypeReason: "Language model is loading…", VoiceReason: "Language model is loading…"}},
		app.Event{Kind: app.EventState, State: app.StateLoading, Text: "Language model is loading…"})
	if !u.entry.Disabled() || u.entry.PlaceHolder != "Language model is loading…" {
		t.Errorf("entry disabled=%v placeholder %q", u.entry.Disabled(), u.entry.PlaceHolder)
	}
	if u.mic.enabled {
		t.Errorf("mic enabled while loading")
	}
	if got := labelsIn(u.banner); !slices.Contains(got, "Loading language model…") {
		t.Errorf("banner = %q", got)
	}
	u.send(ready(false)...)
	if u.entry.Disabled() || !u.mic.enabled {
		t.Errorf("after ready: entry disabled=%v mic enabled=%v", u.entry.Disabled(), u.mic.enabled)
	}
	if len(u.banner.Objects) != 0 {
		t.Errorf("banner still shows %q", labelsIn(u.banner))
	}
	if got := status(u); got != "Hold the microphone or Space while you speak" {
		t.Errorf("status = %q", got)
	}
}

func TestFailedModelShowsWhatToDo(t *testing.T) {
	u, _ := newTestUI(t, ModeDesktop)
	err := app.Explain(errors.New("bad magic"), "The language model file is not a GGUF model", "Choose a .gguf file in Settings.")
	u.send(app.Event{Kind: app.EventComponent, Component: app.ComponentLLM, Phase: app.PhaseFailed, Err: err,
		Text: app.Message(err), Hint: app.Hint(err)})
	got := strings.Join(labelsIn(u.banner), "|")
	for _, want := range []string{"Language model: The language model file is not a GGUF model — Choose a .gguf file in Settings.", "Settings"} {
		if !strings.Contains(got, want) {
			t.Errorf("banner lacks %q: %q", want, got)
		}
	}
}

func TestStreamingReply(t *testing.T) {
	u, _ := newTestUI(t, ModeDesktop)
	u.send(ready(false)...)
	u.send(app.Event{Kind: app.EventState, State: app.StateHearing}, app.Event{Kind: app.EventSpeech},
		app.Event{Kind: app.EventPartial, Text: "what is"})
	if got := u.chat.texts(); !slices.Equal(got, []string{"user: what is"}) || !u.partial.partial {
		t.Fatalf("chat while speaking = %q", got)
	}
	u.send(app.Event{Kind: app.EventState, State: app.StateTranscribing},
		app.Event{Kind: app.EventTranscript, Turn: 1, Text: "What is the capital of France?", Input: app.InputVoice},
		app.Event{Kind: app.EventState, State: app.StateThinking},
		app.Event{Kind: app.EventToken, Turn: 1, Text: "Paris"})
	want := []string{"user: What is the capital of France?", "assistant: Paris"}
	if got := u.chat.texts(); !slices.Equal(got, want) {
		t.Errorf("chat = %q, want %q", got, want)
	}
	if u.chat.bubbles[0].partial {
		t.Errorf("the transcript is still shown as partial")
	}
	u.send(app.Event{Kind: app.EventToken, Turn: 1, Text: " is"}, app.Event{Kind: app.EventToken, Turn: 1, Text: " the capital."})
	u.send(app.Event{Kind: app.EventReply, Turn: 1, Text: "Paris is the capital."},
		app.Event{Kind: app.EventTurnDone, Turn: 1, Timings: &app.Timings{Total: time.Second}},
		app.Event{Kind: app.EventState, State: app.StateIdle})
	want[1] = "assistant: Paris is the capital."
	if got := u.chat.texts(); !slices.Equal(got, want) {
		t.Errorf("chat = %q, want %q", got, want)
	}
	if m := u.chat.bubbles[1].meta; m != "09:41" {
		t.Errorf("reply timestamp = %q", m)
	}
	// Tokens of a turn the window no longer shows are dropped.
	u.send(app.Event{Kind: app.EventToken, Turn: 1, Text: " late"})
	if got := u.chat.texts(); !slices.Equal(got, want) {
		t.Errorf("a stale token changed the chat: %q", got)
	}
}

func TestInterruptedReplyIsMarked(t *testing.T) {
	u, _ := newTestUI(t, ModeDesktop)
	u.send(ready(false)...)
	u.send(app.Event{Kind: app.EventTranscript, Turn: 1, Text: "tell me a story", Input: app.InputTyped},
		app.Event{Kind: app.EventToken, Turn: 1, Text: "Once"},
		app.Event{Kind: app.EventReply, Turn: 1, Text: "Once", Interrupted: true})
	if b := u.chat.bubbles[1]; b.text != "Once" || !strings.Contains(b.meta, "interrupted") {
		t.Errorf("reply bubble = %q (%q)", b.text, b.meta)
	}
}

func TestThrottledRepaint(t *testing.T) {
	u, _ := newTestUI(t, ModeDesktop)
	u.send(ready(false)...)
	u.send(app.Event{Kind: app.EventTranscript, Turn: 1, Text: "count", Input: app.InputTyped})
	scheduled := 0
	u.schedule = func() { scheduled++ }
	var want strings.Builder
	words := strings.Fields("once upon a time there was a girl who liked to count the stars")
	for i := range 1000 {
		p := " " + words[i%len(words)]
		want.WriteString(p)
		u.Publish(app.Event{Kind: app.EventToken, Turn: 1, Text: p})
		u.Publish(app.Event{Kind: app.EventLevel, Level: app.Level{RMS: float64(-i % 60)}})
	}
	if scheduled != 1 {
		t.Errorf("1000 tokens scheduled %d repaints before the first ran, want 1", scheduled)
	}
	// Tokens and levels alternate: a level collapses only onto a level right before it, so
	// every one of the 2000 events waits for the repaint.
	if n := len(u.pending); n != 2000 {
		t.Errorf("%d events pending, want 2000 (1000 tokens and 1000 levels, alternating)", n)
	}
	u.flush()
	if got := u.chat.bubbles[1].text; got != want.String() {
		t.Errorf("reply has %d characters, want %d", len(got), want.Len())
	}
	// Back-to-back levels collapse into the latest: one token and 500 levels leave 2 events,
	// and the meter shows the last level.
	u.Publish(app.Event{Kind: app.EventToken, Turn: 1, Text: " end"})
	for i := range 500 {
		u.Publish(app.Event{Kind: app.EventLevel, Level: app.Level{RMS: -float64(i) / 10}})
	}
	if n := len(u.pending); n != 2 {
		t.Errorf("a token and 500 back-to-back levels left %d events pending, want 2", n)
	}
	u.flush()
	if v, _ := u.level.Get(); v != -49.9 {
		t.Errorf("level after the repaint = %v, want the last one, -49.9", v)
	}
	if got := u.chat.bubbles[1].text; got != want.String()+" end" {
		t.Errorf("reply ends %q, want the token before the levels", got[max(0, len(got)-10):])
	}
}

func TestTypedQuestion(t *testing.T) {
	u, ctl := newTestUI(t, ModeDesktop)
	u.send(ready(false)...)
	test.Type(u.entry, "what time is it")
	u.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if got := ctl.take(); !slices.Equal(got, []string{"ask:what time is it"}) {
		t.Errorf("calls = %q", got)
	}
	if u.entry.Text != "" {
		t.Errorf("entry not cleared: %q", u.entry.Text)
	}
	test.Type(u.entry, "   ")
	test.Tap(u.sendBtn)
	if got := ctl.take(); len(got) != 0 {
		t.Errorf("blank question sent: %q", got)
	}
}

func TestMicButton(t *testing.T) {
	u, ctl := newTestUI(t, ModeDesktop)
	u.send(ready(false)...)
	primary := &desktop.MouseEvent{Button: desktop.MouseButtonPrimary}

	// A quick click starts an utterance that stays open; the next click ends it.
	u.mic.MouseDown(primary)
	u.mic.MouseUp(primary)
	u.send(app.Event{Kind: app.EventState, State: app.StateHearing})
	if got := ctl.take(); !slices.Equal(got, []string{"start"}) {
		t.Errorf("click: calls %q", got)
	}
	if s := status(u); !strings.Contains(s, "tap again") {
		t.Errorf("status while talking = %q", s)
	}
	u.mic.MouseDown(primary)
	u.mic.MouseUp(primary)
	if got := ctl.take(); !slices.Equal(got, []string{"stop-talking"}) {
		t.Errorf("second click: calls %q", got)
	}
	u.send(app.Event{Kind: app.EventState, State: app.StateTranscribing})

	// Holding talks while held.
	u.micPressed()
	u.send(app.Event{Kind: app.EventState, State: app.StateHearing})
	u.micReleased(time.Second)
	if got := ctl.take(); !slices.Equal(got, []string{"start", "stop-talking"}) {
		t.Errorf("hold: calls %q", got)
	}

	// A touch screen sends only taps.
	u.mic.lastMouse = time.Time{}
	test.Tap(u.mic)
	if got := ctl.take(); !slices.Equal(got, []string{"toggle"}) {
		t.Errorf("touch tap: calls %q", got)
	}

	// Disabled while voice is not ready.
	u.send(app.Event{Kind: app.EventReadiness, Readiness: app.Readiness{Type: true, VoiceReason: "Microphone: unplugged"}},
		app.Event{Kind: app.EventState, State: app.StateIdle})
	u.mic.MouseDown(primary)
	u.mic.MouseUp(primary)
	if got := ctl.take(); len(got) != 0 {
		t.Errorf("disabled mic: calls %q", got)
	}
	if s := status(u); s != "Microphone: unplugged" {
		t.Errorf("status = %q", s)
	}
}

func TestStopAndShortcuts(t *testing.T) {
	u, ctl := newTestUI(t, ModeDesktop)
	u.send(ready(false)...)
	if !u.stopBtn.Disabled() {
		t.Errorf("stop enabled while idle")
	}
	u.send(app.Event{Kind: app.EventState, State: app.StateThinking})
	if u.stopBtn.Disabled() {
		t.Errorf("stop disabled while thinking")
	}
	test.Tap(u.stopBtn)
	u.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	u.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape}) // Esc with the focus in the entry
	u.entry.TypedShortcut(chordNew)                        // Ctrl+N with the focus in the entry
	u.shortcut(chordNew)
	if got := ctl.take(); !slices.Equal(got, []string{"stop", "stop", "stop", "new", "new"}) {
		t.Errorf("calls = %q", got)
	}
}

func TestErrorsAndNotes(t *testing.T) {
	u, _ := newTestUI(t, ModeDesktop)
	u.send(ready(false)...)
	err := app.Explain(errors.New("boom"), "Could not transcribe what you said", "")
	u.send(app.Event{Kind: app.EventError, Turn: 3, Err: err})
	if got := u.chat.texts(); !slices.Equal(got, []string{"error: Could not transcribe what you said"}) {
		t.Errorf("chat = %q", got)
	}
	u.send(app.Event{Kind: app.EventIgnored, Ignored: app.IgnoredNoWake, Reason: "no wake phrase"})
	if s := status(u); s == "I didn't catch that." {
		t.Errorf("speech without the wake phrase: status = %q", s)
	}
	u.send(app.Event{Kind: app.EventIgnored, Ignored: app.IgnoredNothing, Reason: "nothing was heard"})
	if s := status(u); s != "I didn't catch that." {
		t.Errorf("status = %q", s)
	}
	u.send(app.Event{Kind: app.EventCleared, Reason: "new"})
	if got := u.chat.texts(); !slices.Equal(got, []string{"note: New conversation"}) {
		t.Errorf("after a new conversation: %q", got)
	}
}

func TestKioskAttractScreen(t *testing.T) {
	u, _ := newTestUI(t, ModeKiosk)
	u.send(ready(true)...)
	if !u.attract.Visible() {
		t.Fatal("no attract screen at start")
	}
	if u.win.FullScreen() != true {
		t.Errorf("kiosk is not fullscreen")
	}
	test.Tap(u.attract)
	if u.attract.Visible() {
		t.Errorf("a tap did not dismiss the attract screen")
	}
	u.send(app.Event{Kind: app.EventTranscript, Turn: 1, Text: "hi", Input: app.InputTyped},
		app.Event{Kind: app.EventReply, Turn: 1, Text: "Hello!"},
		app.Event{Kind: app.EventCleared, Reason: "idle"})
	if !u.attract.Visible() || len(u.chat.bubbles) != 0 {
		t.Errorf("after the idle wipe: attract %v, chat %q", u.attract.Visible(), u.chat.texts())
	}
	u.send(app.Event{Kind: app.EventSpeech})
	if u.attract.Visible() {
		t.Errorf("speech did not dismiss the attract screen")
	}
	// The settings chord is the operator's only: plain Ctrl+, does nothing in a kiosk.
	u.shortcut(chordSettings)
	if u.settingsOpen {
		t.Errorf("Ctrl+, opened the settings in a kiosk")
	}
	quit := false
	u.opt.Quit = func() { quit = true }
	chord, _ := ParseChord("ctrl+alt+shift+a")
	u.shortcut(chord)
	if !quit {
		t.Errorf("the admin chord did not quit")
	}
}

func TestCarShowsOnlyTheLastExchange(t *testing.T) {
	u, _ := newTestUI(t, ModeCar)
	u.send(ready(true)...)
	u.send(app.Event{Kind: app.EventTranscript, Turn: 1, Text: "first", Input: app.InputVoice},
		app.Event{Kind: app.EventReply, Turn: 1, Text: "one"},
		app.Event{Kind: app.EventTranscript, Turn: 2, Text: "second", Input: app.InputVoice},
		app.Event{Kind: app.EventToken, Turn: 2, Text: "two"})
	if got := u.chat.texts(); !slices.Equal(got, []string{"user: second", "assistant: two"}) {
		t.Errorf("car chat = %q", got)
	}
	if !u.chat.bubbles[1].large {
		t.Errorf("the car's reply is not in large type")
	}
	if u.entry != nil {
		t.Errorf("the car has a text entry")
	}
	if s := u.win.Canvas().Size(); s.Width != 800 || s.Height != 480 {
		t.Errorf("car window %v, want 800×480", s)
	}
}

func TestSettingsForm(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.gguf")
	if err := os.WriteFile(model, []byte("GGUF"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := DefaultSettings(ModeDesktop)
	f := newSettingsForm(s, []string{"USB mic"}, nil)
	f.llm.SetText(model)
	f.mic.SetSelected("USB mic")
	f.handsFree.SetChecked(true)
	f.wake.SetText("hey hark")
	f.silence.SetText("0.8")
	got, err := f.read()
	if err != nil {
		t.Fatal(err)
	}
	want := s
	want.LLMModel, want.Microphone, want.HandsFree, want.WakePhrase, want.TrailingSilence = model, "USB mic", true, "hey hark", 800*time.Millisecond
	if got != want {
		t.Errorf("read = %+v\nwant  %+v", got, want)
	}
	bad := []struct {
		name string
		edit func()
		want string
	}{
		{"missing model", func() { f.asr.SetText(filepath.Join(dir, "nope.bin")) }, "Speech model: there is no file"},
		{"model is a folder", func() { f.asr.SetText(dir) }, "is a folder"},
		{"silence not a number", func() { f.asr.SetText(""); f.silence.SetText("soon") }, "not a number"},
		{"silence out of range", func() { f.silence.SetText("9") }, "out of range"},
		{"idle not a number", func() { f.silence.SetText("0.6"); f.idle.SetText("1.5") }, "whole number"},
	}
	for _, b := range bad {
		b.edit()
		if _, err := f.read(); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: error %v, want %q", b.name, err, b.want)
		}
	}
}

func TestParseMode(t *testing.T) {
	for _, s := range []string{"desktop", "Kiosk", " car "} {
		if _, err := ParseMode(s); err != nil {
			t.Errorf("ParseMode(%q): %v", s, err)
		}
	}
	if _, err := ParseMode("boat"); err == nil || !strings.Contains(err.Error(), "desktop, kiosk or car") {
		t.Errorf("ParseMode(boat) = %v", err)
	}
}

// labelsIn lists the texts of the labels and buttons under o.
func labelsIn(o fyne.CanvasObject) []string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Label:
			out = append(out, w.Text)
		case *widget.Button:
			out = append(out, w.Text)
		case *widget.RichText:
			out = append(out, w.String())
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

func TestParseChord(t *testing.T) {
	tests := []struct {
		in      string
		key     fyne.KeyName
		mod     fyne.KeyModifier
		wantErr string
	}{
		{"ctrl+alt+shift+a", fyne.KeyA, fyne.KeyModifierControl | fyne.KeyModifierAlt | fyne.KeyModifierShift, ""},
		{"Ctrl + F12", "F12", fyne.KeyModifierControl, ""},
		{"super+escape", fyne.KeyEscape, fyne.KeyModifierSuper, ""},
		{"a", "", 0, "at least one modifier"},
		{"hyper+a", "", 0, "not ctrl, alt, shift or super"},
		{"ctrl+space", "", 0, "is not a letter"},
	}
	for _, tt := range tests {
		c, err := ParseChord(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseChord(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || c.KeyName != tt.key || c.Modifier != tt.mod {
			t.Errorf("ParseChord(%q) = %+v, %v; want %s %d", tt.in, c, err, tt.key, tt.mod)
		}
	}
}

// fakeSetup is a ModelSetup whose download a test controls.
type fakeSetup struct {
	missing []MissingModel
	result  chan error
}

func (f *fakeSetup) Missing() []MissingModel { return f.missing }

func (f *fakeSetup) Download(ctx context.Context, progress func(DownloadProgress)) error {
	progress(DownloadProgress{Name: "whisper-base.en", Done: 50 << 20, Total: 142 << 20, BytesPerSec: 5 << 20, ETA: 18 * time.Second})
	select {
	case err := <-f.result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestFirstRunDownloadsTheMissingModels(t *testing.T) {
	a := test.NewTempApp(t)
	setup := &fakeSetup{missing: []MissingModel{
		{What: "Speech recognition", Name: "whisper-base.en", Size: 142 << 20, Problem: "not downloaded yet", CanDownload: true},
		{What: "Language model", Name: "qwen2.5-0.5b-instruct", Size: 398 << 20, Problem: "not downloaded yet", CanDownload: true},
	}, result: make(chan error, 1)}
	u := New(a, &fakeCtl{}, Options{Settings: DefaultSettings(ModeDesktop), Now: fixedNow, Setup: setup})
	drain := testGoroutine(u)
	t.Cleanup(func() { u.win.Close() })
	if u.first == nil || !u.first.box.Visible() {
		t.Fatal("no first-run screen while models are missing")
	}
	if got := u.first.list.Text; !strings.Contains(got, "whisper-base.en (142 MB)") || !strings.Contains(got, "Language model: qwen2.5-0.5b-instruct") {
		t.Errorf("first-run list = %q", got)
	}
	if u.first.get.Text != "Download (540 MB)" {
		t.Errorf("download button = %q", u.first.get.Text)
	}
	// Cancel, then download for real.
	test.Tap(u.first.get)
	waitFor(t, drain, "progress", func() bool { return strings.Contains(u.first.status.Text, "50 MB of 142 MB") })
	test.Tap(u.first.cancel)
	waitFor(t, drain, "cancelled", func() bool { return strings.Contains(u.first.status.Text, "cancelled") })
	if !u.first.box.Visible() || u.first.get.Hidden {
		t.Errorf("after cancel the screen must stay with its buttons")
	}
	// A failed download says why and offers the buttons again.
	test.Tap(u.first.get)
	setup.result <- errors.New("cannot reach huggingface.co")
	waitFor(t, drain, "failure", func() bool { return strings.Contains(u.first.status.Text, "failed: cannot reach huggingface.co") })
	if u.first.get.Hidden || !u.first.box.Visible() {
		t.Errorf("after a failure the screen must stay with its buttons")
	}
	test.Tap(u.first.get)
	setup.result <- nil
	waitFor(t, drain, "first-run hidden", func() bool { return !u.first.box.Visible() })
}

func TestNoFirstRunWhenNothingIsMissing(t *testing.T) {
	a := test.NewTempApp(t)
	u := New(a, &fakeCtl{}, Options{Settings: DefaultSettings(ModeDesktop), Setup: &fakeSetup{}})
	t.Cleanup(func() { u.win.Close() })
	if u.first != nil {
		t.Errorf("a first-run screen with nothing missing")
	}
}

// waitFor runs the UI's queued work until cond holds.
func waitFor(t *testing.T, drain func(), what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		drain()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestLongPasteRefused: 10 MB pasted into the entry is refused with a message and never reaches
// the entry or the assistant; a question typed past the limit is refused when sent and stays
// in the entry to be shortened.
func TestLongPasteRefused(t *testing.T) {
	u, ctl := newTestUI(t, ModeDesktop)
	u.send(ready(false)...)
	cb := test.NewClipboard()
	cb.SetContent(strings.Repeat("x", 10<<20))
	u.entry.TypedShortcut(&fyne.ShortcutPaste{Clipboard: cb})
	if len(u.entry.Text) != 0 {
		t.Errorf("the entry took %d bytes", len(u.entry.Text))
	}
	texts := u.chat.texts()
	if len(texts) == 0 || !strings.HasPrefix(texts[len(texts)-1], "error: This text is too long to ask (10485760 characters)") {
		t.Errorf("chat %q", texts)
	}
	cb.SetContent("a short question")
	u.entry.TypedShortcut(&fyne.ShortcutPaste{Clipboard: cb})
	if u.entry.Text != "a short question" {
		t.Errorf("a short paste gave %q", u.entry.Text)
	}
	ctl.take()
	long := strings.Repeat("y", app.MaxQuestionRunes+1)
	u.entry.SetText(long)
	u.submit(u.entry.Text)
	if u.entry.Text != long || len(ctl.take()) != 0 {
		t.Errorf("a question over the limit was sent or lost")
	}
	if n := len(u.chat.texts()); n != len(texts)+1 {
		t.Errorf("%d chat lines, want %d", n, len(texts)+1)
	}
}
