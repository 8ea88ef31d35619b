// Package ui is Hark's Fyne front end: the window a person talks to. It shows what the
// assistant (package app) publishes and sends it what the person does; it never drives the
// engines itself.
package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// NewWindow builds Hark's main window in a.
func NewWindow(a fyne.App) fyne.Window {
	w := a.NewWindow("Hark")
	title := widget.NewLabelWithStyle("Hark", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	status := widget.NewLabel("Offline voice assistant. Speech models are not set up yet.")
	status.Alignment = fyne.TextAlignCenter
	mic := widget.NewButtonWithIcon("Talk", theme.MediaRecordIcon(), nil)
	mic.Importance = widget.HighImportance
	mic.Disable()
	entry := widget.NewEntry()
	entry.SetPlaceHolder("Type a question")
	w.SetContent(container.NewBorder(container.NewVBox(title, status), container.NewBorder(nil, nil, nil, mic, entry), nil, nil))
	w.Resize(fyne.NewSize(480, 640))
	return w
}
