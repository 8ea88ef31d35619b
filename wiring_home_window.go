//go:build !nowindow

package main

import (
	"context"

	"hark/app"
	"hark/home"
	"hark/ui"
)

// homeConnectors shows the hub in the settings window.
type homeConnectors struct{ h *home.Hub }

// homeView is the settings window's view of the connectors; nil when none is configured.
func homeView(acts *actions) ui.HomeConnectors {
	if acts == nil || acts.hub == nil {
		return nil
	}
	return homeConnectors{acts.hub}
}

func (x homeConnectors) Status() []ui.ConnectorStatus { return x.view(x.h.Status()) }

func (x homeConnectors) Test(ctx context.Context) []ui.ConnectorStatus { return x.view(x.h.Check(ctx)) }

func (x homeConnectors) view(st []home.BackendStatus) []ui.ConnectorStatus {
	ents := x.h.Entities()
	var out []ui.ConnectorStatus
	for _, s := range st {
		c := ui.ConnectorStatus{Name: home.SystemName(s.Source, "en"), OK: s.Err == nil}
		if s.Err != nil {
			c.Detail = s.Err.Error()
			if h := app.Hint(s.Err); h != "" {
				c.Detail += " " + h
			}
		}
		for _, e := range ents {
			if e.Source == s.Source {
				c.Entities = append(c.Entities, ui.ConnectorEntity{Name: e.Name, ID: e.ID, Area: e.Area, Kind: string(e.Kind), Confirm: e.Confirm, ReadOnly: e.ReadOnly})
			}
		}
		out = append(out, c)
	}
	return out
}
