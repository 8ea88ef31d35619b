package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// TestSettingsSaveFailureIsShown: when the configuration cannot be written (a read-only
// folder), the window says so instead of failing silently.
func TestSettingsSaveFailureIsShown(t *testing.T) {
	a := test.NewTempApp(t)
	saved := make(chan struct{})
	ro := errors.New("the configuration file /etc/hark/config.toml cannot be written (read-only file system)")
	u := New(a, &fakeCtl{}, Options{Settings: DefaultSettings(ModeDesktop), Now: fixedNow,
		Save: func(old, n Settings) error { defer close(saved); return ro }})
	drain := testGoroutine(u)
	t.Cleanup(func() { u.win.Close() })
	s := u.settings
	s.WakePhrase = "hey jarvis"
	u.saveSettings(s)
	select {
	case <-saved:
	case <-time.After(10 * time.Second):
		t.Fatal("Save was not called")
	}
	deadline := time.Now().Add(10 * time.Second)
	var shown []string
	for time.Now().Before(deadline) {
		drain()
		shown = nil
		for _, o := range u.win.Canvas().Overlays().List() {
			shown = append(shown, textsIn(o)...)
		}
		if all := strings.Join(shown, "\n"); strings.Contains(all, "could not be saved") && strings.Contains(all, "/etc/hark/config.toml") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no dialog says the settings cannot be saved; overlays show %q", shown)
}

// textsIn lists every text drawn under o, looking inside widgets through their renderers (a
// dialog's message is a label inside its renderer).
func textsIn(o fyne.CanvasObject) []string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *canvas.Text:
			out = append(out, w.Text)
		case *widget.Label:
			out = append(out, w.Text)
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(w).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}
