package home_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"hark/action"
	"hark/home"
	"hark/home/hass"
	"hark/internal/hasstest"
)

// bigHouse is a stand-in Home Assistant with n lights in n/4 areas, all exposed.
func bigHouse(b *testing.B, n int) (*hasstest.Server, *home.Hub) {
	var states []hasstest.State
	var exp []hass.Exposed
	for i := range n {
		id := fmt.Sprintf("light.l%03d", i)
		states = append(states, hasstest.State{EntityID: id, State: "off", Attributes: map[string]any{"friendly_name": fmt.Sprintf("lamp %d", i)}})
		exp = append(exp, hass.Exposed{ID: id, Area: fmt.Sprintf("room %d", i/4)})
	}
	srv := hasstest.Start(b, "t", states...)
	c, err := hass.New(hass.Options{URL: srv.URL, Token: "t", Entities: exp})
	if err != nil {
		b.Fatal(err)
	}
	h := home.NewHub([]home.Backend{c}, home.HubOptions{})
	if err := h.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	return srv, h
}

// BenchmarkMatchHome: a sentence to a home tool call through the templates, with the device
// name resolved among 200 entities (no network). Run alone:
//
//	go test ./home -run X -bench MatchHome
func BenchmarkMatchHome(b *testing.B) {
	_, h := bigHouse(b, 200)
	st, err := action.OpenStore(filepath.Join(b.TempDir(), "a.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	tpl, _ := home.Templates()
	a, err := action.New(action.Options{Store: st, Tools: h.Tools(), Templates: tpl})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	h.Attach(a.Templates())
	b.ResetTimer()
	for b.Loop() {
		if m := a.Match("en", "turn on lamp 137"); m.Kind != action.Matched {
			b.Fatalf("%+v", m)
		}
	}
}

// BenchmarkDoHome: "turn on lamp 137" carried out: one service call to a stand-in Home
// Assistant on loopback (HTTP, JSON both ways), the state cache dropped after it.
//
//	go test ./home -run X -bench DoHome
func BenchmarkDoHome(b *testing.B) {
	_, h := bigHouse(b, 200)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if o := h.Do(ctx, "lamp 137", "", home.Command{Op: home.TurnOn}); o.Status != home.Done {
			b.Fatalf("%+v", o)
		}
	}
}
