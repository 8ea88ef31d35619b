package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// fmtRow formats one turn's timings for the debug panel.
func fmtRow(t turnTiming) string {
	d := func(x time.Duration) string {
		switch {
		case x <= 0:
			return "-"
		case x < 10*time.Millisecond:
			return fmt.Sprintf("%.1fms", float64(x)/1e6)
		case x < 10*time.Second:
			return fmt.Sprintf("%dms", x.Milliseconds())
		}
		return fmt.Sprintf("%.1fs", x.Seconds())
	}
	return fmt.Sprintf("%-3d %-6s %-7s %-6s %-6s %-6s %-6s %-6s %-6s %-6s %d",
		t.turn, t.input, d(t.t.Speech), d(t.t.Transcribe), d(t.t.FirstToken), d(t.t.Generate),
		d(t.t.ASRCompute), d(t.t.LLMCompute), d(t.t.Overhead), d(t.t.Retrieve), t.t.Tokens)
}

// attractLayer covers the kiosk's screen while nobody uses it: a big prompt to tap or speak.
// A tap anywhere dismisses it; so does speech.
type attractLayer struct {
	widget.BaseWidget
	onTap func()
}

func newAttractLayer(onTap func()) *attractLayer {
	a := &attractLayer{onTap: onTap}
	a.ExtendBaseWidget(a)
	return a
}

func (a *attractLayer) Tapped(*fyne.PointEvent) {
	if a.onTap != nil {
		a.onTap()
	}
}

func (a *attractLayer) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(themeColor(theme.ColorNameBackground))
	disc := canvas.NewCircle(themeColor(colorListening))
	icon := canvas.NewImageFromResource(theme.NewColoredResource(micIcon, theme.ColorNameForegroundOnPrimary))
	icon.FillMode = canvas.ImageFillContain
	title := canvas.NewText(lang.L("Tap or speak"), themeColor(theme.ColorNameForeground))
	title.TextSize = themeSize(theme.SizeNameText) * 3
	title.TextStyle = fyne.TextStyle{Bold: true}
	title.Alignment = fyne.TextAlignCenter
	sub := canvas.NewText(lang.L("Ask a question — I answer right here, and nothing you say leaves this device."),
		themeColor(theme.ColorNamePlaceHolder))
	sub.TextSize = themeSize(theme.SizeNameText) * 1.1
	sub.Alignment = fyne.TextAlignCenter
	return &attractRenderer{bg: bg, disc: disc, icon: icon, title: title, sub: sub}
}

type attractRenderer struct {
	bg         *canvas.Rectangle
	disc       *canvas.Circle
	icon       *canvas.Image
	title, sub *canvas.Text
}

func (r *attractRenderer) Layout(s fyne.Size) {
	r.bg.Resize(s)
	d := min(s.Width, s.Height) * 0.3
	cx, cy := s.Width/2, s.Height*0.4
	r.disc.Position1 = fyne.NewPos(cx-d/2, cy-d/2)
	r.disc.Position2 = fyne.NewPos(cx+d/2, cy+d/2)
	is := d * 0.5
	r.icon.Resize(fyne.NewSize(is, is))
	r.icon.Move(fyne.NewPos(cx-is/2, cy-is/2))
	th := r.title.MinSize().Height
	r.title.Resize(fyne.NewSize(s.Width, th))
	r.title.Move(fyne.NewPos(0, cy+d/2+th*0.4))
	r.sub.Resize(fyne.NewSize(s.Width, r.sub.MinSize().Height))
	r.sub.Move(fyne.NewPos(0, cy+d/2+th*1.6))
}

func (r *attractRenderer) MinSize() fyne.Size { return fyne.NewSize(0, 0) }

func (r *attractRenderer) Refresh() {
	r.bg.FillColor = themeColor(theme.ColorNameBackground)
	r.disc.FillColor = themeColor(colorListening)
	for _, o := range r.Objects() {
		o.Refresh()
	}
}

func (r *attractRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.bg, r.disc, r.icon, r.title, r.sub}
}

func (r *attractRenderer) Destroy() {}

// control is a button the window enables and disables: a widget.Button, or a bigButton.
type control interface {
	fyne.CanvasObject
	fyne.Tappable
	fyne.Disableable
}

// bigButton is a large touch target: a rounded square with a big icon and a label under it,
// for the car and the kiosk (Fyne's buttons draw icons at text size).
type bigButton struct {
	widget.DisableableWidget
	icon   fyne.Resource
	label  string
	colour fyne.ThemeColorName
	onTap  func()
	side   float32 // width and height; 0: the theme's target size
}

func newBigButton(icon fyne.Resource, label string, colour fyne.ThemeColorName, onTap func()) *bigButton {
	b := &bigButton{icon: icon, label: label, colour: colour, onTap: onTap}
	b.ExtendBaseWidget(b)
	return b
}

func (b *bigButton) Tapped(*fyne.PointEvent) {
	if !b.Disabled() && b.onTap != nil {
		b.onTap()
	}
}

func (b *bigButton) MinSize() fyne.Size {
	s := b.side
	if s == 0 {
		s = themeSize(sizeTarget)
	}
	return fyne.NewSize(s*1.25, s)
}

func (b *bigButton) CreateRenderer() fyne.WidgetRenderer {
	r := &bigRenderer{b: b, bg: canvas.NewRectangle(themeColor(b.colour)), icon: canvas.NewImageFromResource(nil),
		text: canvas.NewText(b.label, themeColor(theme.ColorNameForeground))}
	r.bg.CornerRadius = 16
	r.icon.FillMode = canvas.ImageFillContain
	r.text.Alignment = fyne.TextAlignCenter
	r.Refresh()
	return r
}

type bigRenderer struct {
	b    *bigButton
	bg   *canvas.Rectangle
	icon *canvas.Image
	text *canvas.Text
}

func (r *bigRenderer) Layout(s fyne.Size) {
	r.bg.Resize(s)
	is := min(s.Width, s.Height) * 0.42
	ts := r.text.MinSize()
	if r.b.label == "" {
		ts.Height = 0
	}
	top := (s.Height - is - ts.Height) / 2
	r.icon.Resize(fyne.NewSize(is, is))
	r.icon.Move(fyne.NewPos((s.Width-is)/2, top))
	r.text.Resize(fyne.NewSize(s.Width, ts.Height))
	r.text.Move(fyne.NewPos(0, top+is))
}

func (r *bigRenderer) MinSize() fyne.Size { return r.b.MinSize() }

func (r *bigRenderer) Refresh() {
	fg := theme.ColorNameForeground
	bg := themeColor(r.b.colour)
	if r.b.colour == theme.ColorNameError || r.b.colour == theme.ColorNamePrimary {
		fg = theme.ColorNameForegroundOnPrimary
	}
	if r.b.Disabled() {
		bg, fg = themeColor(theme.ColorNameDisabledButton), theme.ColorNameDisabled
	}
	r.bg.FillColor = bg
	r.icon.Resource = theme.NewColoredResource(r.b.icon, fg)
	r.text.Text = r.b.label
	r.text.Color = themeColor(fg)
	r.text.TextSize = themeSize(theme.SizeNameText) * 0.9
	r.Layout(r.b.Size())
	for _, o := range r.Objects() {
		o.Refresh()
	}
}

func (r *bigRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.bg, r.icon, r.text}
}

func (r *bigRenderer) Destroy() {}
