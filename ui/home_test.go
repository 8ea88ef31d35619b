package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

type fakeHome struct{ tested chan struct{} }

func (f *fakeHome) Status() []ConnectorStatus {
	return []ConnectorStatus{{Name: "Home Assistant", Detail: "home assistant at 10.0.0.2:8123: connection refused"}}
}

func (f *fakeHome) Test(context.Context) []ConnectorStatus {
	defer close(f.tested)
	return []ConnectorStatus{{Name: "Home Assistant", OK: true, Entities: []ConnectorEntity{
		{Name: "Kitchen Light", ID: "light.kitchen", Area: "kitchen", Kind: "light"},
		{Name: "front door", ID: "lock.front_door", Kind: "lock", Confirm: true},
	}}}
}

// texts collects the text of every label and button under o.
func texts(o fyne.CanvasObject) []string {
	var out []string
	switch w := o.(type) {
	case *widget.Label:
		out = append(out, w.Text)
	case *widget.Button:
		out = append(out, w.Text)
	case *fyne.Container:
		for _, c := range w.Objects {
			out = append(out, texts(c)...)
		}
	}
	return out
}

func findButton(o fyne.CanvasObject) *widget.Button {
	switch w := o.(type) {
	case *widget.Button:
		return w
	case *fyne.Container:
		for _, c := range w.Objects {
			if b := findButton(c); b != nil {
				return b
			}
		}
	}
	return nil
}

// The settings' connector section shows the last known status, and the test button replaces
// it with what the connectors answer now: state, entities, which ones ask first.
func TestHomeSection(t *testing.T) {
	a := test.NewTempApp(t)
	f := &fakeHome{tested: make(chan struct{})}
	u := New(a, &fakeCtl{}, Options{Settings: DefaultSettings(ModeDesktop), Now: fixedNow, Home: f})
	drain := testGoroutine(u)
	t.Cleanup(func() { u.win.Close() })
	sec := u.homeSection()
	got := strings.Join(texts(sec), "\n")
	for _, want := range []string{"Home connectors", "Home Assistant: not connected", "connection refused", "Test connection"} {
		if !strings.Contains(got, want) {
			t.Errorf("before the test, the section lacks %q:\n%s", want, got)
		}
	}
	b := findButton(sec)
	if b == nil {
		t.Fatal("no test button")
	}
	test.Tap(b)
	select {
	case <-f.tested:
	case <-time.After(5 * time.Second):
		t.Fatal("the test button did not test the connectors")
	}
	// The button's goroutine hands the answer to the UI queue just after Test returns.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && b.Disabled(); time.Sleep(20 * time.Millisecond) {
		drain()
	}
	got = strings.Join(texts(sec), "\n")
	for _, want := range []string{"Home Assistant: connected, 2 entities", "Kitchen Light · kitchen · light", "front door · lock · asks first", "(lock.front_door)"} {
		if !strings.Contains(got, want) {
			t.Errorf("after the test, the section lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "not connected") || b.Disabled() {
		t.Errorf("after the test: %q, button disabled %v", got, b.Disabled())
	}
	u2 := New(a, &fakeCtl{}, Options{Settings: DefaultSettings(ModeDesktop), Now: fixedNow})
	if u2.homeSection() != nil {
		t.Error("a section without connectors")
	}
}
