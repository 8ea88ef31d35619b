package hass

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"hark/home"
	"hark/internal/hasstest"
)

const token = "eyJ0ZXN0IjoiaGFyayJ9.secret-token-do-not-print"

func fakeHome(t *testing.T) *hasstest.Server {
	return hasstest.Start(t, token,
		hasstest.State{EntityID: "light.kitchen", State: "off", Attributes: map[string]any{"friendly_name": "Kitchen Light"}},
		hasstest.State{EntityID: "light.living_room", State: "on", Attributes: map[string]any{"friendly_name": "Living Room Lamp", "brightness": 255}},
		hasstest.State{EntityID: "cover.garage_door", State: "closed", Attributes: map[string]any{"friendly_name": "Garage Door"}},
		hasstest.State{EntityID: "lock.front_door", State: "locked", Attributes: map[string]any{"friendly_name": "Front Door"}},
		hasstest.State{EntityID: "climate.hall", State: "heat", Attributes: map[string]any{"friendly_name": "Hall Thermostat", "temperature": 20.0}},
		hasstest.State{EntityID: "sensor.greenhouse_temperature", State: "21.5", Attributes: map[string]any{"friendly_name": "Greenhouse Temperature", "unit_of_measurement": "°C"}},
		hasstest.State{EntityID: "switch.not_exposed", State: "off"},
	)
}

var exposed = []Exposed{
	{ID: "light.kitchen", Area: "kitchen"},
	{ID: "light.living_room", Name: "living room light", Aliases: []string{"big lamp"}, Area: "living room"},
	{ID: "cover.garage_door", Area: "garage"},
	{ID: "lock.front_door", Confirm: true},
	{ID: "climate.hall", Area: "hall"},
	{ID: "sensor.greenhouse_temperature", Area: "greenhouse"},
}

func newClient(t *testing.T, srv *hasstest.Server, tok string) *Client {
	t.Helper()
	c, err := New(Options{URL: srv.URL, Token: tok, Entities: exposed, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Each command calls the documented service, with the documented data, for that entity only.
func TestDoCallsServices(t *testing.T) {
	srv := fakeHome(t)
	c := newClient(t, srv, token)
	ctx := context.Background()
	cases := []struct {
		id   string
		cmd  home.Command
		path string
		body map[string]any
	}{
		{"light.kitchen", home.Command{Op: home.TurnOn}, "/api/services/light/turn_on", map[string]any{"entity_id": "light.kitchen"}},
		{"light.kitchen", home.Command{Op: home.TurnOff}, "/api/services/light/turn_off", map[string]any{"entity_id": "light.kitchen"}},
		{"light.living_room", home.Command{Op: home.Toggle}, "/api/services/light/toggle", map[string]any{"entity_id": "light.living_room"}},
		{"light.living_room", home.Command{Op: home.SetBrightness, Level: 30}, "/api/services/light/turn_on", map[string]any{"entity_id": "light.living_room", "brightness_pct": 30.0}},
		{"light.kitchen", home.Command{Op: home.SetColor, Color: "Warm White"}, "/api/services/light/turn_on", map[string]any{"entity_id": "light.kitchen", "color_name": "warmwhite"}},
		{"light.kitchen", home.Command{Op: home.SetColor, Color: "#ff8000"}, "/api/services/light/turn_on", map[string]any{"entity_id": "light.kitchen", "rgb_color": []any{255.0, 128.0, 0.0}}},
		{"cover.garage_door", home.Command{Op: home.TurnOn}, "/api/services/cover/open_cover", map[string]any{"entity_id": "cover.garage_door"}},
		{"cover.garage_door", home.Command{Op: home.SetPosition, Level: 40}, "/api/services/cover/set_cover_position", map[string]any{"entity_id": "cover.garage_door", "position": 40.0}},
		{"lock.front_door", home.Command{Op: home.TurnOn}, "/api/services/lock/unlock", map[string]any{"entity_id": "lock.front_door"}}, // open is unlock
		{"lock.front_door", home.Command{Op: home.TurnOff}, "/api/services/lock/lock", map[string]any{"entity_id": "lock.front_door"}},
		{"climate.hall", home.Command{Op: home.SetTemperature, Temperature: 21.5}, "/api/services/climate/set_temperature", map[string]any{"entity_id": "climate.hall", "temperature": 21.5}},
	}
	for _, tc := range cases {
		before := len(srv.ServiceCalls())
		if err := c.Do(ctx, tc.id, tc.cmd); err != nil {
			t.Errorf("Do(%s, %+v): %v", tc.id, tc.cmd, err)
			continue
		}
		calls := srv.ServiceCalls()[before:]
		if len(calls) != 1 || calls[0].Path != tc.path || !reflect.DeepEqual(calls[0].Body, tc.body) || !calls[0].Auth {
			t.Errorf("Do(%s, %+v) made %+v, want one authorised POST %s %v", tc.id, tc.cmd, calls, tc.path, tc.body)
		}
	}
	if st, _ := srv.Get("light.living_room"); st.Attributes["brightness"] != 77 {
		t.Errorf("brightness after 30%%: %v, want 77 of 255", st.Attributes["brightness"])
	}
	for _, tc := range []struct {
		id  string
		cmd home.Command
		err error
	}{
		{"switch.not_exposed", home.Command{Op: home.TurnOn}, home.ErrUnknownEntity},
		{"sensor.greenhouse_temperature", home.Command{Op: home.TurnOn}, home.ErrUnsupported},
		{"lock.front_door", home.Command{Op: home.SetBrightness, Level: 3}, home.ErrUnsupported},
	} {
		before := len(srv.ServiceCalls())
		if err := c.Do(ctx, tc.id, tc.cmd); !errors.Is(err, tc.err) {
			t.Errorf("Do(%s, %+v) = %v, want %v", tc.id, tc.cmd, err, tc.err)
		}
		if n := len(srv.ServiceCalls()) - before; n != 0 {
			t.Errorf("Do(%s, %+v) sent %d service calls, want none", tc.id, tc.cmd, n)
		}
	}
}

// Entities are the allow-list only, named from the list or from friendly_name; states are
// read once for a burst of questions.
func TestEntitiesAndStates(t *testing.T) {
	srv := fakeHome(t)
	c := newClient(t, srv, token)
	ctx := context.Background()
	ents, err := c.Entities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name+"/"+string(e.Kind)+"/"+e.Area)
	}
	want := []string{"Kitchen Light/light/kitchen", "living room light/light/living room", "Garage Door/cover/garage",
		"Front Door/lock/", "Hall Thermostat/climate/hall", "Greenhouse Temperature/sensor/greenhouse"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("entities %q, want %q", names, want)
	}
	if !ents[3].Confirm || !ents[5].ReadOnly || ents[5].Unit != "°C" {
		t.Errorf("lock confirm %v, sensor read-only %v unit %q", ents[3].Confirm, ents[5].ReadOnly, ents[5].Unit)
	}
	st, err := c.State(ctx, "sensor.greenhouse_temperature")
	if err != nil || st.Value != "21.5" || st.Unit != "°C" || st.Updated.IsZero() {
		t.Errorf("State = %+v, %v", st, err)
	}
	if _, err := c.State(ctx, "switch.not_exposed"); !errors.Is(err, home.ErrUnknownEntity) {
		t.Errorf("a state outside the allow-list: %v, want ErrUnknownEntity", err)
	}
	n := 0
	for _, call := range srv.Calls() {
		if call.Path == "/api/states" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d reads of /api/states for one entity list and two states, want 1 (the cache)", n)
	}
	// After a command the cache is dropped: the next read sees the change.
	if err := c.Do(ctx, "light.kitchen", home.Command{Op: home.TurnOn}); err != nil {
		t.Fatal(err)
	}
	if st, err := c.State(ctx, "light.kitchen"); err != nil || st.Value != "on" {
		t.Errorf("after turn_on: %+v, %v", st, err)
	}
}

// A refused token, a server that is gone and one that never answers each give their error,
// quickly, and no error carries the token.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	srv := fakeHome(t)
	bad := newClient(t, srv, "wrong-token")
	err := bad.Check(ctx)
	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong token: %v, want ErrUnauthorized", err)
	}

	hung := fakeHome(t)
	hung.Hang(true)
	c := newClient(t, hung, token)
	start := time.Now()
	ents, err := c.Entities(ctx)
	if !errors.Is(err, home.ErrUnreachable) {
		t.Errorf("a server that never answers: %v, want ErrUnreachable", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("gave up after %v with a 500 ms timeout", took)
	}
	if len(ents) != len(exposed) || ents[0].Name != "kitchen" {
		t.Errorf("entities while unreachable: %+v, want the configured ones named from their ids", ents)
	}
	errs := []error{err}

	gone := fakeHome(t)
	c = newClient(t, gone, token)
	gone.Close()
	err = c.Do(ctx, "light.kitchen", home.Command{Op: home.TurnOn})
	if !errors.Is(err, home.ErrUnreachable) {
		t.Errorf("a closed server: %v, want ErrUnreachable", err)
	}
	errs = append(errs, err)
	_, err = ReadToken(filepath.Join(t.TempDir(), "none"))
	errs = append(errs, err, bad.Do(ctx, "light.kitchen", home.Command{Op: home.TurnOn}))
	for _, e := range errs {
		if e == nil || strings.Contains(e.Error(), token) || strings.Contains(e.Error(), "wrong-token") {
			t.Errorf("error %v is nil or shows the token", e)
		}
	}
}

func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o600, true}, {0o400, true}, {0o640, false}, {0o644, false}, {0o604, false}} {
		p := filepath.Join(dir, "token")
		os.Remove(p)
		if err := os.WriteFile(p, []byte(token+"\n"), tc.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, tc.mode) // past the umask
		got, err := ReadToken(p)
		if tc.ok && (err != nil || got != token) {
			t.Errorf("mode %04o: %q, %v; want the token", tc.mode, got, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), token)) {
			t.Errorf("mode %04o: %v; want a refusal naming chmod 600, without the token", tc.mode, err)
		}
	}
}

func TestNewChecksTheAllowList(t *testing.T) {
	for _, tc := range []struct {
		ents []Exposed
		ok   bool
	}{
		{[]Exposed{{ID: "lock.front_door"}}, false},
		{[]Exposed{{ID: "alarm_control_panel.home"}}, false},
		{[]Exposed{{ID: "alarm_control_panel.home", Confirm: true}}, true},
		{[]Exposed{{ID: "kitchen"}}, false},
		{[]Exposed{{ID: "light.a"}, {ID: "light.a"}}, false},
	} {
		_, err := New(Options{URL: "http://127.0.0.1:8123", Token: token, Entities: tc.ents})
		if (err == nil) != tc.ok {
			t.Errorf("New(%+v): %v, want ok %v", tc.ents, err, tc.ok)
		}
	}
	if _, err := New(Options{URL: "127.0.0.1:8123", Token: token}); err == nil {
		t.Error("a URL without a scheme was taken")
	}
	if _, err := New(Options{URL: "http://127.0.0.1:8123"}); err == nil {
		t.Error("no token was taken")
	}
}
