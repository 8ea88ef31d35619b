package ui

import (
	"image/color"
	"math"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"hark/app"
)

// holdThreshold separates a tap (toggle: tap to start, tap again to end) from a hold (talk while
// holding, release to end).
const holdThreshold = 400 * time.Millisecond

// micButton is the big round talk button. Its colour and icon show the assistant's state, and a
// ring around it grows with the microphone's level while it listens.
type micButton struct {
	widget.BaseWidget
	state   app.State
	level   float64 // 0..1
	enabled bool

	onPress   func()              // mouse/key down, or a touch tap
	onRelease func(time.Duration) // mouse up after onPress, with how long it was held
	onTap     func()              // a tap without mouse events (touch screens)
	downAt    time.Time
	lastMouse time.Time
}

func newMicButton() *micButton {
	m := &micButton{enabled: true}
	m.ExtendBaseWidget(m)
	return m
}

// setState changes what the button shows (UI goroutine).
func (m *micButton) setState(s app.State, enabled bool) {
	if s == m.state && enabled == m.enabled {
		return
	}
	m.state, m.enabled = s, enabled
	m.Refresh()
}

// setLevel shows the microphone's RMS level in dBFS (UI goroutine).
func (m *micButton) setLevel(db float64) {
	// -60 dBFS (room) .. -10 dBFS (close speech) maps to 0..1.
	l := math.Max(0, math.Min(1, (db+60)/50))
	if math.Abs(l-m.level) < 0.02 {
		return
	}
	m.level = l
	m.Refresh()
}

func (m *micButton) MouseIn(*desktop.MouseEvent)    {}
func (m *micButton) MouseOut()                      {}
func (m *micButton) MouseMoved(*desktop.MouseEvent) {}

func (m *micButton) MouseDown(e *desktop.MouseEvent) {
	m.lastMouse = time.Now()
	if !m.enabled || e.Button != desktop.MouseButtonPrimary {
		return
	}
	m.downAt = m.lastMouse
	if m.onPress != nil {
		m.onPress()
	}
}

func (m *micButton) MouseUp(*desktop.MouseEvent) {
	m.lastMouse = time.Now()
	if m.downAt.IsZero() {
		return
	}
	held := m.lastMouse.Sub(m.downAt)
	m.downAt = time.Time{}
	if m.onRelease != nil {
		m.onRelease(held)
	}
}

// Tapped handles touch screens, which send taps without mouse events; after a mouse click the
// press and release have already been handled.
func (m *micButton) Tapped(*fyne.PointEvent) {
	if !m.enabled || time.Since(m.lastMouse) < time.Second {
		return
	}
	if m.onTap != nil {
		m.onTap()
	}
}

func (m *micButton) MinSize() fyne.Size {
	d := themeSize(sizeMic)
	return fyne.NewSize(d*1.4, d*1.4)
}

func (m *micButton) CreateRenderer() fyne.WidgetRenderer {
	r := &micRenderer{m: m, ring: canvas.NewCircle(color.Transparent), disc: canvas.NewCircle(brand)}
	r.icon = canvas.NewImageFromResource(nil)
	r.icon.FillMode = canvas.ImageFillContain
	r.refresh()
	return r
}

type micRenderer struct {
	m    *micButton
	ring *canvas.Circle
	disc *canvas.Circle
	icon *canvas.Image
}

func (r *micRenderer) Layout(size fyne.Size) {
	d := themeSize(sizeMic)
	c := fyne.NewPos(size.Width/2, size.Height/2)
	r.disc.Position1 = fyne.NewPos(c.X-d/2, c.Y-d/2)
	r.disc.Position2 = fyne.NewPos(c.X+d/2, c.Y+d/2)
	// The ring sits just outside the disc and swells with the level.
	rr := d/2 + 3 + float32(r.m.level)*d*0.18
	r.ring.Position1 = fyne.NewPos(c.X-rr, c.Y-rr)
	r.ring.Position2 = fyne.NewPos(c.X+rr, c.Y+rr)
	r.ring.StrokeWidth = 2 + float32(r.m.level)*d*0.06
	is := d * 0.46
	r.icon.Resize(fyne.NewSize(is, is))
	r.icon.Move(fyne.NewPos(c.X-is/2, c.Y-is/2))
}

func (r *micRenderer) MinSize() fyne.Size { return r.m.MinSize() }

func (r *micRenderer) refresh() {
	m := r.m
	var fill color.Color
	var res fyne.Resource = micIcon
	listening := false
	switch {
	case !m.enabled:
		fill = themeColor(theme.ColorNameDisabledButton)
	case m.state == app.StateListening || m.state == app.StateHearing:
		fill, listening = themeColor(colorListening), true
	case m.state == app.StateTranscribing || m.state == app.StateThinking:
		fill, res = themeColor(colorThinking), thinkingIcon
	case m.state == app.StateSpeaking:
		fill, res = themeColor(colorSpeaking), theme.VolumeUpIcon()
	default:
		fill = themeColor(theme.ColorNamePrimary)
	}
	r.disc.FillColor = fill
	if listening {
		c := color.NRGBAModel.Convert(fill).(color.NRGBA)
		c.A = 0x90
		r.ring.StrokeColor = c
	} else {
		r.ring.StrokeColor = color.Transparent
	}
	r.icon.Resource = theme.NewColoredResource(res, theme.ColorNameForegroundOnPrimary)
	r.Layout(m.Size())
}

func (r *micRenderer) Refresh() {
	r.refresh()
	r.ring.Refresh()
	r.disc.Refresh()
	r.icon.Refresh()
}

func (r *micRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.ring, r.disc, r.icon}
}

func (r *micRenderer) Destroy() {}
