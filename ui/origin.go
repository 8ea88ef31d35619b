package ui

import (
	"fyne.io/fyne/v2/lang"

	"hark/app"
)

// originNote says where a reply was computed, for the line under it: whether a conversation
// left the device is something a person should be able to see on every answer.
func originNote(o app.Origin) string {
	switch o.On {
	case app.ComputedDevice:
		return lang.L("on this device")
	case app.ComputedServer:
		return lang.L("on {{.Server}}", map[string]any{"Server": o.Server})
	case app.ComputedFallback:
		return lang.L("fell back to this device")
	}
	return ""
}
