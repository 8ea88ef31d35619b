package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// HomeConnectors is what the settings window shows of the home connectors (Home Assistant,
// MQTT); main adapts the connector layer to it.
type HomeConnectors interface {
	// Status is each connector as last seen; it must not wait on the network.
	Status() []ConnectorStatus
	// Test contacts each connector now (the settings window's test button); it runs on a
	// goroutine of its own.
	Test(ctx context.Context) []ConnectorStatus
}

// ConnectorStatus is one connector's state and the entities it exposes to Hark.
type ConnectorStatus struct {
	Name     string // "Home Assistant"
	OK       bool   // reachable, credentials accepted
	Detail   string // why not, when not OK
	Entities []ConnectorEntity
}

// ConnectorEntity is one exposed device or sensor.
type ConnectorEntity struct {
	Name, ID, Area, Kind string
	Confirm, ReadOnly    bool
}

// homeSection is the settings dialog's part about the home connectors: a status line per
// connector, a test button and the exposed entities.
func (u *UI) homeSection() fyne.CanvasObject {
	if u.opt.Home == nil {
		return nil
	}
	title := widget.NewLabelWithStyle(lang.L("Home connectors"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	body := container.NewVBox()
	fill := func(st []ConnectorStatus) {
		body.RemoveAll()
		for _, c := range st {
			body.Add(connectorView(c))
		}
		if len(st) == 0 {
			body.Add(widget.NewLabel(lang.L("No connectors are set up.")))
		}
	}
	fill(u.opt.Home.Status())
	var test *widget.Button
	test = widget.NewButtonWithIcon(lang.L("Test connection"), theme.ViewRefreshIcon(), func() {
		test.Disable()
		test.SetText(lang.L("Testing…"))
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			st := u.opt.Home.Test(ctx)
			u.onUI(func() {
				fill(st)
				test.SetText(lang.L("Test connection"))
				test.Enable()
			})
		}()
	})
	return container.NewVBox(widget.NewSeparator(), container.NewBorder(nil, nil, title, test), body)
}

// connectorView shows one connector: its state, and each entity as "name · area · kind".
func connectorView(c ConnectorStatus) fyne.CanvasObject {
	icon := widget.NewIcon(theme.ConfirmIcon())
	state := fmt.Sprintf(lang.L("%s: connected, %d entities"), c.Name, len(c.Entities))
	if !c.OK {
		icon = widget.NewIcon(theme.ErrorIcon())
		state = fmt.Sprintf(lang.L("%s: not connected"), c.Name)
	}
	head := widget.NewLabel(state)
	head.Wrapping = fyne.TextWrapWord
	rows := container.NewVBox(container.NewBorder(nil, nil, icon, nil, head))
	if !c.OK && c.Detail != "" {
		d := widget.NewLabel(c.Detail)
		d.Wrapping = fyne.TextWrapWord
		d.Importance = widget.DangerImportance
		rows.Add(d)
	}
	for _, e := range c.Entities {
		parts := []string{e.Name}
		if e.Area != "" {
			parts = append(parts, e.Area)
		}
		parts = append(parts, e.Kind)
		if e.ReadOnly {
			parts = append(parts, lang.L("read only"))
		}
		if e.Confirm {
			parts = append(parts, lang.L("asks first"))
		}
		l := widget.NewLabel("• " + strings.Join(parts, " · ") + "   (" + e.ID + ")")
		l.Truncation = fyne.TextTruncateEllipsis
		rows.Add(l)
	}
	return rows
}
