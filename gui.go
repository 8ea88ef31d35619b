package main

import (
	"context"
	"io"

	fyneapp "fyne.io/fyne/v2/app"

	"hark/assets"
	"hark/ui"

	"fyne.io/fyne/v2"
)

// appID is Hark's Fyne application ID (FyneApp.toml): preferences and storage live under it.
const appID = "org.hark.assistant"

func runGUI(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("", "[WINDOW OPTIONS]", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a := fyneapp.NewWithID(appID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	w := ui.NewWindow(a)
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) })
	defer stop()
	w.ShowAndRun()
	return nil
}
