package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
)

// fakeDictator hands out the pieces the test sends, and records what the window asked.
type fakeDictator struct {
	pieces chan string
	fail   error // what ends the recording instead of Stop
	mu     sync.Mutex
	paused []bool
	note   string // the transcript the last note was asked for
}

func (f *fakeDictator) Dictate(ctx context.Context, paused func() bool, show func(string)) error {
	for {
		select {
		case <-ctx.Done():
			show("last words")
			return nil
		case p, ok := <-f.pieces:
			if !ok {
				return f.fail
			}
			f.mu.Lock()
			f.paused = append(f.paused, paused())
			f.mu.Unlock()
			show(p)
		}
	}
}

func (f *fakeDictator) Templates() []string { return []string{"soap", "minutes", "handover"} }

func (f *fakeDictator) Note(ctx context.Context, template, transcript string) (string, string, error) {
	f.note = transcript
	return "# Clinic visit (" + template + ")\n\n## Plan\n\n- [ ] rest\n", "unused", nil
}

// waitUI drains the UI queue until cond holds.
func waitUI(t *testing.T, drain func(), cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		drain()
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}

// TestDictationWindow: Start, the running transcript, Pause and Resume (the indicator says
// which), Stop (the last words still come), the note written from the transcript as edited,
// copied to the clipboard and exported as Markdown and as text, readable by the owner only.
func TestDictationWindow(t *testing.T) {
	a := test.NewTempApp(t)
	f := &fakeDictator{pieces: make(chan string)}
	u := New(a, &fakeCtl{}, Options{Settings: DefaultSettings(ModeDesktop), Now: fixedNow, Dictator: f})
	drain := testGoroutine(u)
	t.Cleanup(func() { u.win.Close() })
	u.showDictation()
	v := u.dictation
	if v == nil {
		t.Fatal("no dictation window")
	}
	clock := fixedNow()
	v.now = func() time.Time { return clock }
	if v.indicator.Text != "Not recording" || v.pause.Disabled() == false || v.start.Disabled() {
		t.Fatalf("idle: %q", v.indicator.Text)
	}
	test.Tap(v.start)
	clock = clock.Add(12 * time.Second)
	v.update()
	if v.indicator.Text != "Recording 00:00:12" || !v.start.Disabled() || v.stop.Disabled() {
		t.Fatalf("recording: %q", v.indicator.Text)
	}
	f.pieces <- "The patient has had a cough for three days."
	f.pieces <- "No fever."
	waitUI(t, drain, func() bool { return strings.Count(v.transcript.Text, "\n") == 1 })
	test.Tap(v.pause)
	clock = clock.Add(time.Minute)
	v.update()
	if v.indicator.Text != "Paused 00:00:12" || v.pause.Text != "Resume" {
		t.Errorf("paused: %q, %q", v.indicator.Text, v.pause.Text)
	}
	f.pieces <- "said while paused is dropped by the dictator"
	waitUI(t, drain, func() bool { return strings.Count(v.transcript.Text, "\n") == 2 })
	test.Tap(v.pause)
	clock = clock.Add(3 * time.Second)
	v.update()
	if v.indicator.Text != "Recording 00:00:15" {
		t.Errorf("resumed: %q", v.indicator.Text)
	}
	test.Tap(v.stop)
	waitUI(t, drain, func() bool { return v.state == dictIdle })
	if !strings.HasSuffix(v.transcript.Text, "\nlast words") || v.indicator.Text != "Not recording" {
		t.Errorf("after Stop: %q, %q", v.transcript.Text, v.indicator.Text)
	}
	if f.paused[0] || !f.paused[2] {
		t.Errorf("paused() as the dictator saw it: %v", f.paused)
	}
	// The person corrects the transcript; the note is written from what they see.
	v.transcript.SetText(strings.Replace(v.transcript.Text, "three", "four", 1))
	v.template.SetSelected("minutes")
	test.Tap(v.write)
	waitUI(t, drain, func() bool { return v.note.Text != "" })
	if !strings.Contains(f.note, "cough for four days") || !strings.HasPrefix(v.note.Text, "# Clinic visit (minutes)") {
		t.Errorf("note from %q: %q", f.note, v.note.Text)
	}
	v.note.SetText(v.note.Text + "- [ ] follow up\n")
	v.copyNote()
	if got := a.Clipboard().Content(); got != v.note.Text {
		t.Errorf("clipboard %q", got)
	}
	dir := t.TempDir()
	md, txt := filepath.Join(dir, "n.md"), filepath.Join(dir, "n.txt")
	v.exportTo(md, ".md")
	v.exportTo(txt, ".txt")
	for p, want := range map[string]string{md: "# Clinic visit (minutes)\n\n## Plan\n\n- [ ] rest\n- [ ] follow up\n",
		txt: "Clinic visit (minutes)\n======================\n\nPlan\n----\n\n* rest\n* follow up\n"} {
		b, err := os.ReadFile(p)
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, want %q (%v)", filepath.Base(p), b, want, err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", p, fi.Mode().Perm())
		}
	}
}

// TestDictationDeviceLost: a microphone that fails ends the recording, and a machine too busy
// to take all the sound drops some of it; either way the transcript so far stays and the
// person is told.
func TestDictationDeviceLost(t *testing.T) {
	for _, c := range []struct {
		name string
		fail error
		want []string // in the status
	}{
		{"device lost", errors.New("capture device lost"), []string{"capture device lost", "kept"}},
		{"sound dropped", SoundDropped{Seconds: 12.34}, []string{"12.3 s of sound was lost", "too busy"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			f := &fakeDictator{pieces: make(chan string, 1), fail: c.fail}
			u := New(a, &fakeCtl{}, Options{Settings: DefaultSettings(ModeDesktop), Now: fixedNow, Dictator: f})
			drain := testGoroutine(u)
			t.Cleanup(func() { u.win.Close() })
			u.showDictation()
			v := u.dictation
			test.Tap(v.start)
			f.pieces <- "Said before the loss."
			close(f.pieces)
			waitUI(t, drain, func() bool { return v.state == dictIdle })
			if v.transcript.Text != "Said before the loss." {
				t.Errorf("transcript %q", v.transcript.Text)
			}
			for _, w := range c.want {
				if !strings.Contains(v.status.Text, w) {
					t.Errorf("status %q, want %q in it", v.status.Text, w)
				}
			}
			if v.write.Disabled() {
				t.Errorf("Write note should be offered after the loss")
			}
		})
	}
}

// TestDictationOnlyWhenWired: without a Dictator there is no Dictate button and no window.
func TestDictationOnlyWhenWired(t *testing.T) {
	u, _ := newTestUI(t, ModeDesktop)
	u.showDictation()
	if u.dictation != nil {
		t.Error("a dictation window without a dictator")
	}
}
