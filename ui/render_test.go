package ui

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/software"

	"hark/app"
)

// The rendered images of each mode at its target size live in testdata/ and are compared with a
// tolerance (matchImage). After a deliberate change to the look, the new image is in
// testdata/failed/: look at it, then move it over the old one.

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
	c := software.NewCanvas()
	c.SetPadded(false)
	c.SetContent(content)
	c.Resize(size)
	matchImage(t, name, c.Capture())
}

// matchImage compares img with testdata/name: a pixel differs when a channel is off by more than
// 8 (font smoothing), and the images match when fewer than 0.5% of the pixels differ. On a
// mismatch it writes the image and a map of the differing pixels to testdata/failed/.
func matchImage(t *testing.T, name string, img image.Image) {
	t.Helper()
	failed := func(why string) {
		t.Helper()
		p := filepath.Join("testdata", "failed", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writePNG(t, p, img)
		t.Errorf("%s: %s; the new rendering is %s", name, why, p)
	}
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		failed("no reference image")
		return
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if want.Bounds() != img.Bounds() {
		failed(fmt.Sprintf("size %v, want %v", img.Bounds().Size(), want.Bounds().Size()))
		return
	}
	b := img.Bounds()
	diff := image.NewGray(b)
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, a1 := img.At(x, y).RGBA()
			r2, g2, b2, a2 := want.At(x, y).RGBA()
			if far(r1, r2) || far(g1, g2) || far(b1, b2) || far(a1, a2) {
				n++
				diff.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	if total := b.Dx() * b.Dy(); n*200 >= total {
		writePNG(t, filepath.Join("testdata", "failed", strings.TrimSuffix(name, ".png")+"-diff.png"), diff)
		failed(fmt.Sprintf("%d of %d pixels differ (%.2f%%)", n, total, 100*float64(n)/float64(total)))
	}
}

// far reports whether two 16-bit channel values differ by more than 8 in 8-bit terms.
func far(a, b uint32) bool {
	d := int(a>>8) - int(b>>8)
	return d > 8 || d < -8
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
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
		"Choose a whisper model in Settings, or run “hark models pull tiny.en”.")
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
