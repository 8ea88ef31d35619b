package hass

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"hark/home"
	"hark/internal/hasstest"
)

func ptr(s string) *string { return &s }

// registryHome is a stand-in Home Assistant whose registries put its lights in areas: one by
// the entity's own area, two by their device's, one whose own area overrides its device's.
func registryHome(t *testing.T) *hasstest.Server {
	light := func(id, name string) hasstest.State {
		return hasstest.State{EntityID: id, State: "on", Attributes: map[string]any{"friendly_name": name}}
	}
	srv := hasstest.Start(t, token, light("light.kitchen", "Ceiling"), light("light.kitchen_lamp", "Lamp"),
		light("light.reading", "Reading Lamp"), light("light.porch", "Porch Light"), light("light.hall", "Hall Light"))
	srv.SetRegistry(hasstest.Registry{
		Areas: []hasstest.Area{{AreaID: "kitchen", Name: "Kitchen", Aliases: []string{"厨房"}}, {AreaID: "living_room", Name: "Living Room"}, {AreaID: "porch", Name: "Porch"}},
		Devices: []hasstest.Device{
			{ID: "d-hue-bridge", AreaID: ptr("kitchen"), Name: "Hue bridge"},
			{ID: "d-nowhere", Name: "Plug"},
		},
		Entities: []hasstest.Entity{
			{EntityID: "light.kitchen", AreaID: ptr("kitchen"), Platform: "hue"},
			{EntityID: "light.kitchen_lamp", DeviceID: ptr("d-hue-bridge"), Platform: "hue"},
			{EntityID: "light.reading", AreaID: ptr("living_room"), DeviceID: ptr("d-hue-bridge"), Platform: "hue"},
			{EntityID: "light.porch", DeviceID: ptr("d-nowhere"), Platform: "tasmota"},
			{EntityID: "light.hall", Platform: "tasmota"},
		},
	})
	return srv
}

var registryExposed = []Exposed{{ID: "light.kitchen"}, {ID: "light.kitchen_lamp"}, {ID: "light.reading"},
	{ID: "light.porch", Area: "front porch"}, {ID: "light.hall"}}

func areasOf(es []home.Entity) map[string]string {
	out := map[string]string{}
	for _, e := range es {
		out[e.ID] = e.Area
	}
	return out
}

// TestAreasFromTheRegistry: an entity the list gives no area gets its own registry area, else
// its device's; an area in the list wins; the registries are read over the documented
// WebSocket messages, once, and again by Check.
func TestAreasFromTheRegistry(t *testing.T) {
	srv := registryHome(t)
	c, err := New(Options{URL: srv.URL, Token: token, Entities: registryExposed, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ents, err := c.Entities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"light.kitchen": "Kitchen", "light.kitchen_lamp": "Kitchen", "light.reading": "Living Room",
		"light.porch": "front porch", "light.hall": ""}
	if got := areasOf(ents); !reflect.DeepEqual(got, want) {
		t.Errorf("areas %v, want %v", got, want)
	}
	for _, e := range ents {
		if want := map[bool]string{true: "厨房"}[e.Area == "Kitchen"]; strings.Join(e.AreaAliases, ",") != want {
			t.Errorf("%s: area aliases %q, want %q", e.ID, e.AreaAliases, want)
		}
	}
	if err := c.RegistryError(); err != nil {
		t.Errorf("RegistryError = %v", err)
	}
	wsCalls := func() []string {
		var out []string
		for _, cl := range srv.Calls() {
			if cl.Method == "WS" {
				out = append(out, cl.Path)
			}
		}
		return out
	}
	if got, want := strings.Join(wsCalls(), ","), "auth,config/area_registry/list,config/entity_registry/list,config/device_registry/list"; got != want {
		t.Errorf("WebSocket messages %s, want %s", got, want)
	}
	if _, err := c.Entities(ctx); err != nil || len(wsCalls()) != 4 {
		t.Errorf("a second refresh read the registries again: %v %v", wsCalls(), err)
	}

	// Moved in Home Assistant: Check (the settings window's test, doctor) reads them again.
	srv.SetRegistry(hasstest.Registry{Areas: []hasstest.Area{{AreaID: "hall", Name: "Hall"}},
		Entities: []hasstest.Entity{{EntityID: "light.hall", AreaID: ptr("hall")}}})
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	ents, _ = c.Entities(ctx)
	if got := areasOf(ents)["light.hall"]; got != "Hall" {
		t.Errorf("after Check, the hall light is in %q", got)
	}
}

// TestRegistryRefused: a token the WebSocket API refuses (auth_invalid) leaves the entities
// without registry areas, says why, and never shows the token.
func TestRegistryRefused(t *testing.T) {
	srv := registryHome(t)
	c, err := New(Options{URL: srv.URL, Token: token, Entities: registryExposed, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv.Token = "another-token" // REST too would refuse it; the WebSocket is tried after REST
	_, err = c.registryAreas(context.Background())
	if !errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), token) {
		t.Errorf("registryAreas with a refused token: %v", err)
	}
	srv.Token = token
	// Registries that place nothing: the areas are missing, and the entities are still listed.
	srv.SetRegistry(hasstest.Registry{})
	ents, err := c.Entities(context.Background())
	if err != nil || len(ents) != 5 || areasOf(ents)["light.kitchen"] != "" {
		t.Errorf("with empty registries: %v, %v", areasOf(ents), err)
	}
}

// TestRegistryReplies: odd registry replies, played over an in-memory WebSocket: entries of
// the wrong shape are skipped and the rest kept; frames and messages that are wrong, and a
// list longer than maxRegistryEntries, fail with ErrNoRegistry (the auth refused with
// ErrUnauthorized).
func TestRegistryReplies(t *testing.T) {
	result := func(id int, list string) string {
		return fmt.Sprintf(`{"id":%d,"type":"result","success":true,"result":%s}`, id, list)
	}
	tooMany := "[" + strings.Repeat(`{"entity_id":"light.x"},`, maxRegistryEntries) + `{"entity_id":"light.x"}]`
	placed := map[string]string{"light.kitchen": "Kitchen", "light.porch": "Porch"}
	cases := []struct {
		name   string
		change func(m *[5]string)
		shape  uint8
		want   map[string]string // nil: an error
		errIs  error
		errHas string
	}{
		{name: "good", want: placed},
		{name: "odd entries skipped", change: func(m *[5]string) {
			m[2] = result(1, `[{"area_id":7,"name":"Kitchen"},null,"porch",{"area_id":"kitchen","name":"Kitchen"},{"area_id":"porch","name":"Porch","aliases":"not a list"},{"area_id":"hall","name":"Hall"}]`)
			m[3] = result(2, `[{"entity_id":"light.kitchen","area_id":"kitchen"},{"entity_id":7,"area_id":"hall"},{"entity_id":"light.porch","area_id":"porch"},{"entity_id":"","area_id":"hall"},{"entity_id":"light.hall","device_id":""}]`)
			m[4] = result(3, `[{"id":"","area_id":"hall"},{"id":5}]`)
		}, want: map[string]string{"light.kitchen": "Kitchen"}},
		{name: "too many entries", change: func(m *[5]string) { m[3] = result(2, tooMany) }, errIs: ErrNoRegistry, errHas: "more than 100000 entries"},
		{name: "not a list", change: func(m *[5]string) { m[2] = result(1, `{"area_id":"kitchen"}`) }, errIs: ErrNoRegistry, errHas: "not a list"},
		{name: "null result", change: func(m *[5]string) { m[4] = result(3, `null`) }, errIs: ErrNoRegistry, errHas: "not a list"},
		{name: "broken JSON", change: func(m *[5]string) { m[4] = result(3, `[{"id":"d1"`) }, errIs: ErrNoRegistry},
		{name: "success of the wrong type", change: func(m *[5]string) { m[3] = `{"id":2,"type":"result","success":"yes","result":[]}` }, errIs: ErrNoRegistry},
		{name: "another id", change: func(m *[5]string) { m[3] = result(7, `[]`) }, errIs: ErrNoRegistry, errHas: "for id 7"},
		{name: "refused", change: func(m *[5]string) { m[1] = `{"type":"auth_invalid","message":"Invalid access token or password"}` }, errIs: ErrUnauthorized},
		{name: "binary frames (read alike)", shape: shapeBinary, want: placed},
		// The claimed length allocates nothing: the payload is read as it comes, up to the limit.
		{name: "a frame claiming 2^62 bytes", shape: shapeHuge, errIs: ErrNoRegistry},
		{name: "a message over the read limit", change: func(m *[5]string) { m[2] = result(1, "["+strings.Repeat(" ", 17<<20)+"]") },
			errIs: ErrNoRegistry, errHas: "read limited at 16777217 bytes"},
		{name: "an unframed message", shape: 1 << 3, errIs: ErrNoRegistry},
		{name: "hung up early", change: func(m *[5]string) { m[4] = "" }, shape: 1 << 4, errIs: ErrNoRegistry},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := registrySeed
			if tc.change != nil {
				tc.change(&m)
			}
			var msgs [5][]byte
			for i := range m {
				msgs[i] = []byte(m[i])
			}
			got, err := readRegistry(t, registryFrames(msgs, tc.shape))
			if tc.want == nil {
				if !errors.Is(err, tc.errIs) || !strings.Contains(fmt.Sprint(err), tc.errHas) || got != nil {
					t.Errorf("got %v, %v; want an error wrapping %v saying %q", got, err, tc.errIs, tc.errHas)
				}
				return
			}
			names := map[string]string{}
			for id, a := range got {
				names[id] = a.Name
			}
			if err != nil || !reflect.DeepEqual(names, tc.want) {
				t.Errorf("got %v, %v; want %v", names, err, tc.want)
			}
		})
	}
}
