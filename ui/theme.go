package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Hark's own theme names, so that each mode sizes and colours its parts in one place.
const (
	sizeBubbleText fyne.ThemeSizeName = "harkBubbleText" // chat message text
	sizeReplyText  fyne.ThemeSizeName = "harkReplyText"  // car: the last reply, large
	sizeMic        fyne.ThemeSizeName = "harkMic"        // diameter of the microphone button
	sizeTarget     fyne.ThemeSizeName = "harkTarget"     // side of the other round buttons

	colorUserBubble      fyne.ThemeColorName = "harkUserBubble"
	colorUserText        fyne.ThemeColorName = "harkUserText"
	colorAssistantBubble fyne.ThemeColorName = "harkAssistantBubble"
	colorListening       fyne.ThemeColorName = "harkListening"
	colorThinking        fyne.ThemeColorName = "harkThinking"
	colorSpeaking        fyne.ThemeColorName = "harkSpeaking"
)

// brand is Hark's primary colour (a teal that reads on light and dark backgrounds).
var brand = color.NRGBA{R: 0x12, G: 0x8c, B: 0x7e, A: 0xff}

// harkTheme embeds Fyne's default theme and overrides colours and sizes for a mode, a text
// size and a forced light or dark variant.
type harkTheme struct {
	fyne.Theme
	mode    Mode
	scale   float32 // text size setting
	variant fyne.ThemeVariant
	forced  bool // variant overrides the system's
}

func newTheme(mode Mode, textSize, look string) *harkTheme {
	t := &harkTheme{Theme: theme.DefaultTheme(), mode: mode, scale: textScale(textSize)}
	if mode == ModeCar {
		t.scale = max(t.scale, 1) // the car's sizes are already large; never smaller
	}
	switch {
	case mode == ModeCar || look == "dark":
		t.variant, t.forced = theme.VariantDark, true
	case look == "light":
		t.variant, t.forced = theme.VariantLight, true
	}
	return t
}

// textScale maps the text size setting to a factor.
func textScale(s string) float32 {
	switch s {
	case "small":
		return 0.85
	case "large":
		return 1.25
	case "huge":
		return 1.6
	}
	return 1
}

func (t *harkTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.forced {
		v = t.variant
	}
	dark := v != theme.VariantLight // Fyne's default theme treats any other variant as dark
	switch n {
	case theme.ColorNamePrimary, theme.ColorNameFocus, theme.ColorNameHyperlink:
		if n == theme.ColorNameFocus {
			return color.NRGBA{R: brand.R, G: brand.G, B: brand.B, A: 0x7f}
		}
		return brand
	case theme.ColorNameBackground:
		if t.mode == ModeCar {
			return color.NRGBA{R: 0x0b, G: 0x0e, B: 0x11, A: 0xff} // near black: no glare at night
		}
	case colorUserBubble:
		return brand
	case colorUserText:
		return color.White
	case colorAssistantBubble:
		if dark {
			return color.NRGBA{R: 0x26, G: 0x2b, B: 0x31, A: 0xff}
		}
		return color.NRGBA{R: 0xec, G: 0xef, B: 0xf1, A: 0xff}
	case colorListening:
		return color.NRGBA{R: 0x2e, G: 0xa0, B: 0x43, A: 0xff}
	case colorThinking:
		return color.NRGBA{R: 0xe0, G: 0x8e, B: 0x0b, A: 0xff}
	case colorSpeaking:
		return color.NRGBA{R: 0x2f, G: 0x6f, B: 0xde, A: 0xff}
	}
	return t.Theme.Color(n, v)
}

func (t *harkTheme) Size(n fyne.ThemeSizeName) float32 {
	v, ok := modeSize(t.mode, n)
	if !ok {
		v = t.Theme.Size(n)
	}
	switch n {
	case sizeBubbleText, sizeReplyText, theme.SizeNameText, theme.SizeNameCaptionText,
		theme.SizeNameHeadingText, theme.SizeNameSubHeadingText, theme.SizeNameInlineIcon:
		return v * t.scale
	}
	return v
}

// modeSize is the size a mode sets for n, if it sets one: the kiosk is read from a step away,
// the car at arm's length with a glance, so both get larger text and targets.
func modeSize(m Mode, n fyne.ThemeSizeName) (float32, bool) {
	switch m {
	case ModeKiosk:
		switch n {
		case sizeBubbleText, sizeReplyText:
			return 22, true
		case sizeMic:
			return 132, true
		case sizeTarget:
			return 76, true
		case theme.SizeNameText:
			return 18, true
		}
	case ModeCar:
		switch n {
		case sizeBubbleText:
			return 22, true
		case sizeReplyText:
			return 30, true
		case sizeMic:
			return 150, true
		case sizeTarget:
			return 104, true
		case theme.SizeNameText:
			return 20, true
		}
	default:
		switch n {
		case sizeBubbleText, sizeReplyText:
			return 15, true
		case sizeMic:
			return 76, true
		case sizeTarget:
			return 44, true
		}
	}
	return 0, false
}

// themeColor reads a colour from the current theme for the current variant.
func themeColor(n fyne.ThemeColorName) color.Color {
	return fyne.CurrentApp().Settings().Theme().Color(n, fyne.CurrentApp().Settings().ThemeVariant())
}

// themeSize reads a size from the current theme.
func themeSize(n fyne.ThemeSizeName) float32 {
	return fyne.CurrentApp().Settings().Theme().Size(n)
}
