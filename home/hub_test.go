package home_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"hark/action"
	"hark/home"
	"hark/home/hass"
	"hark/internal/hasstest"
)

const token = "test-token-0123456789"

// house is a stand-in Home Assistant with a few rooms, and the allow-list Hark is given.
func house(t *testing.T) (*hasstest.Server, *hass.Client) {
	t.Helper()
	srv := hasstest.Start(t, token,
		hasstest.State{EntityID: "light.kitchen", State: "off", Attributes: map[string]any{"friendly_name": "Kitchen Light"}},
		hasstest.State{EntityID: "light.kitchen_lamp", State: "off", Attributes: map[string]any{"friendly_name": "Kitchen Lamp"}},
		hasstest.State{EntityID: "light.living_room", State: "on", Attributes: map[string]any{"friendly_name": "Living Room Light"}},
		hasstest.State{EntityID: "light.hall", State: "on", Attributes: map[string]any{"friendly_name": "Hall Light"}},
		hasstest.State{EntityID: "switch.pump_3", State: "off", Attributes: map[string]any{"friendly_name": "Pump 3"}},
		hasstest.State{EntityID: "cover.garage_door", State: "open", Attributes: map[string]any{"friendly_name": "Garage Door"}},
		hasstest.State{EntityID: "lock.front_door", State: "locked", Attributes: map[string]any{"friendly_name": "Front Door"}},
		hasstest.State{EntityID: "climate.hall", State: "heat", Attributes: map[string]any{"friendly_name": "Hall Thermostat", "temperature": 20.0}},
		hasstest.State{EntityID: "sensor.greenhouse_temperature", State: "21.5", LastUpdated: time.Now().Add(-3 * time.Minute),
			Attributes: map[string]any{"friendly_name": "Greenhouse Temperature", "unit_of_measurement": "°C"}},
		hasstest.State{EntityID: "light.secret", State: "off"},
	)
	c, err := hass.New(hass.Options{URL: srv.URL, Token: token, Timeout: 3 * time.Second, Entities: []hass.Exposed{
		{ID: "light.kitchen", Area: "kitchen", Aliases: []string{"ceiling light"}},
		{ID: "light.kitchen_lamp", Area: "kitchen"},
		{ID: "light.living_room", Area: "living room", Aliases: []string{"客厅灯"}},
		{ID: "light.hall", Area: "hall"},
		{ID: "switch.pump_3", Area: "greenhouse"},
		{ID: "cover.garage_door", Area: "garage"},
		{ID: "lock.front_door", Confirm: true, Name: "front door", Aliases: []string{"前门"}},
		{ID: "climate.hall", Area: "hall"},
		{ID: "sensor.greenhouse_temperature", Area: "greenhouse"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func newHub(t *testing.T, bs ...home.Backend) *home.Hub {
	h := home.NewHub(bs, home.HubOptions{})
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

func ids(es []home.Entity) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestResolve(t *testing.T) {
	_, c := house(t)
	h := newHub(t, c)
	cases := []struct {
		name  string
		want  home.Want
		found home.Found
		ids   []string
	}{
		{"the kitchen light", home.Want{Op: home.TurnOn}, home.FoundOne, []string{"light.kitchen"}},
		{"Kitchen Light", home.Want{Op: home.TurnOn}, home.FoundOne, []string{"light.kitchen"}},
		{"kitchen ligth", home.Want{Op: home.TurnOn}, home.FoundOne, []string{"light.kitchen"}},     // a misspelling
		{"the ceiling light", home.Want{Op: home.TurnOn}, home.FoundOne, []string{"light.kitchen"}}, // an alias
		{"light in the hall", home.Want{Op: home.TurnOn}, home.FoundOne, []string{"light.hall"}},
		{"the living room", home.Want{Op: home.SetBrightness}, home.FoundOne, []string{"light.living_room"}}, // an area
		{"the kitchen lights", home.Want{Op: home.TurnOff}, home.FoundOne, []string{"light.kitchen", "light.kitchen_lamp"}},
		{"the kitchen", home.Want{Op: home.TurnOff}, home.FoundOne, []string{"light.kitchen", "light.kitchen_lamp"}},
		{"the hall", home.Want{Op: home.SetTemperature}, home.FoundOne, []string{"climate.hall"}},
		{"the light", home.Want{Op: home.TurnOn}, home.FoundAmbiguous, []string{"light.kitchen", "light.kitchen_lamp", "light.living_room", "light.hall"}},
		{"pump 3", home.Want{Op: home.TurnOn}, home.FoundOne, []string{"switch.pump_3"}},
		{"pump three", home.Want{Op: home.TurnOn}, home.FoundNone, nil}, // the templates read number words as digits first
		{"greenhouse", home.Want{Quantity: "temperature"}, home.FoundOne, []string{"sensor.greenhouse_temperature"}},
		{"the garage door", home.Want{Op: home.TurnOn, Kind: "lock"}, home.FoundOne, []string{"cover.garage_door"}}, // exists, not a lock: the backend refuses
		{"the radio", home.Want{Op: home.TurnOn}, home.FoundNone, nil},
		{"fan", home.Want{Op: home.TurnOn}, home.FoundNone, nil},
		{"厨房灯", home.Want{Op: home.TurnOn}, home.FoundNone, nil}, // no Chinese area names given
		{"前门", home.Want{Op: home.TurnOn}, home.FoundOne, []string{"lock.front_door"}},
		{"the secret light", home.Want{Op: home.TurnOn}, home.FoundNone, nil}, // not exposed
	}
	for _, tc := range cases {
		r := h.Resolve(tc.name, tc.want)
		if r.Found != tc.found || !reflect.DeepEqual(ids(r.Entities), tc.ids) {
			t.Errorf("Resolve(%q, %+v) = %v %v, want %v %v", tc.name, tc.want, r.Found, ids(r.Entities), tc.found, tc.ids)
		}
	}
}

// actor builds the action layer with the hub's tools and templates, as Hark does.
func actor(t *testing.T, h *home.Hub) *action.Actor {
	t.Helper()
	st, err := action.OpenStore(filepath.Join(t.TempDir(), "actions.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tpl, err := home.Templates()
	if err != nil {
		t.Fatal(err)
	}
	a, err := action.New(action.Options{Store: st, Tools: h.Tools(), Templates: tpl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	h.Attach(a.Templates())
	return a
}

// Sentences reach the right service call for the right entity, in English and Chinese;
// a lock needs a yes; readings come with their unit and age.
func TestSentences(t *testing.T) {
	srv, c := house(t)
	h := newHub(t, c)
	a := actor(t, h)
	ctx := context.Background()
	cases := []struct {
		sentence string
		tool     string
		path     string            // the service called ("" none)
		body     map[string]any    // its data
		risk     action.Risk       // what Check says
		say      string            // a piece of the answer
		state    map[string]string // entity → state afterwards
	}{
		{"turn on the kitchen light", home.ToolTurnOn, "/api/services/light/turn_on", map[string]any{"entity_id": "light.kitchen"}, action.Safe, "Turned on the Kitchen Light.", map[string]string{"light.kitchen": "on"}},
		{"Dim the living room to 30 percent", home.ToolSetBrightness, "/api/services/light/turn_on", map[string]any{"entity_id": "light.living_room", "brightness_pct": 30.0}, action.Safe, "30 percent", nil},
		{"dim the living room to thirty percent", home.ToolSetBrightness, "/api/services/light/turn_on", map[string]any{"entity_id": "light.living_room", "brightness_pct": 30.0}, action.Safe, "30 percent", nil},
		{"turn off the kitchen lights", home.ToolTurnOff, "/api/services/light/turn_off", map[string]any{"entity_id": "light.kitchen_lamp"}, action.Safe, "Kitchen Light and the Kitchen Lamp", nil},
		{"make the hall light red", home.ToolSetColor, "/api/services/light/turn_on", map[string]any{"entity_id": "light.hall", "color_name": "red"}, action.Safe, "red", nil},
		{"close the garage door", home.ToolTurnOff, "/api/services/cover/close_cover", map[string]any{"entity_id": "cover.garage_door"}, action.Safe, "Closed the Garage Door.", map[string]string{"cover.garage_door": "closed"}},
		{"open the garage door to 40 percent", home.ToolSetPosition, "/api/services/cover/set_cover_position", map[string]any{"entity_id": "cover.garage_door", "position": 40.0}, action.Safe, "40 percent open", nil},
		{"set the hall thermostat to 21.5 degrees", home.ToolSetTemperature, "/api/services/climate/set_temperature", map[string]any{"entity_id": "climate.hall", "temperature": 21.5}, action.Safe, "21.5 degrees", nil},
		{"turn on pump 3", home.ToolTurnOn, "/api/services/switch/turn_on", map[string]any{"entity_id": "switch.pump_3"}, action.Safe, "Pump 3", nil},
		{"open the garage door", home.ToolTurnOn, "/api/services/cover/open_cover", map[string]any{"entity_id": "cover.garage_door"}, action.Safe, "Opened the Garage Door.", map[string]string{"cover.garage_door": "open"}},
		{"lock the garage door", home.ToolTurnOff, "", nil, action.Safe, "The Garage Door can't do that.", nil}, // never close_cover
		// A lock opens by unlocking and closes by locking, in both languages, whatever the
		// verb; each asks first.
		{"unlock the front door", home.ToolTurnOn, "/api/services/lock/unlock", map[string]any{"entity_id": "lock.front_door"}, action.Confirm, "Unlocked the front door.", map[string]string{"lock.front_door": "unlocked"}},
		{"lock the front door", home.ToolTurnOff, "/api/services/lock/lock", map[string]any{"entity_id": "lock.front_door"}, action.Confirm, "Locked the front door.", map[string]string{"lock.front_door": "locked"}},
		{"open the front door", home.ToolTurnOn, "/api/services/lock/unlock", map[string]any{"entity_id": "lock.front_door"}, action.Confirm, "Unlocked the front door.", map[string]string{"lock.front_door": "unlocked"}},
		{"close the front door", home.ToolTurnOff, "/api/services/lock/lock", map[string]any{"entity_id": "lock.front_door"}, action.Confirm, "Locked the front door.", map[string]string{"lock.front_door": "locked"}},
		{"打开前门", home.ToolTurnOn, "/api/services/lock/unlock", map[string]any{"entity_id": "lock.front_door"}, action.Confirm, "已解锁前门。", map[string]string{"lock.front_door": "unlocked"}},
		{"关上前门", home.ToolTurnOff, "/api/services/lock/lock", map[string]any{"entity_id": "lock.front_door"}, action.Confirm, "已锁上前门。", map[string]string{"lock.front_door": "locked"}},
		{"请打开前门的锁", home.ToolTurnOn, "/api/services/lock/unlock", map[string]any{"entity_id": "lock.front_door"}, action.Confirm, "已解锁前门。", map[string]string{"lock.front_door": "unlocked"}},
		{"把前门锁上", home.ToolTurnOff, "/api/services/lock/lock", map[string]any{"entity_id": "lock.front_door"}, action.Confirm, "已锁上前门。", map[string]string{"lock.front_door": "locked"}},
		{"解锁前门", home.ToolTurnOn, "/api/services/lock/unlock", map[string]any{"entity_id": "lock.front_door"}, action.Confirm, "已解锁前门。", map[string]string{"lock.front_door": "unlocked"}},
		{"关闭前门", home.ToolTurnOff, "/api/services/lock/lock", map[string]any{"entity_id": "lock.front_door"}, action.Confirm, "已锁上前门。", map[string]string{"lock.front_door": "locked"}},
		{"is the garage door open?", home.ToolState, "", nil, action.Safe, "Yes, the Garage Door is open.", nil},
		{"what's the temperature in the greenhouse", home.ToolState, "", nil, action.Safe, "The Greenhouse Temperature was 21.5 degrees, 3 minutes ago.", nil},
		{"is the garage door closed", home.ToolState, "", nil, action.Safe, "No, the Garage Door is open.", nil},
		{"turn on the light", home.ToolTurnOn, "", nil, action.Safe, "Which one: the Kitchen Light, the Kitchen Lamp, the Living Room Light or the Hall Light?", nil},
		{"把客厅灯调到百分之五十", home.ToolSetBrightness, "/api/services/light/turn_on", map[string]any{"entity_id": "light.living_room", "brightness_pct": 50.0}, action.Safe, "已把客厅灯调到50%。", nil},
		{"客厅的灯开着吗", home.ToolState, "", nil, action.Safe, "是的，客厅灯开着。", nil},
		{"把厨房的灯调到百分之五十", "", "", nil, action.Safe, "", nil}, // no Chinese name for the kitchen: nothing matches
	}
	for _, tc := range cases {
		m := a.Match("", tc.sentence)
		if tc.tool == "" {
			if m.Kind == action.Matched {
				t.Errorf("%q matched %s %s, want nothing", tc.sentence, m.Tool, m.Args)
			}
			continue
		}
		if m.Kind != action.Matched || m.Tool != tc.tool {
			t.Errorf("%q: %+v, want %s", tc.sentence, m, tc.tool)
			continue
		}
		risk, q, err := a.Check(context.Background(), m.Tool, m.Args)
		if err != nil || risk != tc.risk {
			t.Errorf("%q: Check = %v %q %v, want %v", tc.sentence, risk, q, err, tc.risk)
		}
		before := len(srv.ServiceCalls())
		res, err := a.Run(ctx, m.Tool, m.Args)
		if err != nil || !strings.Contains(res.Say, tc.say) {
			t.Errorf("%q: Run = %q, %v; want it to say %q", tc.sentence, res.Say, err, tc.say)
		}
		calls := srv.ServiceCalls()[before:]
		if tc.path == "" {
			if len(calls) != 0 {
				t.Errorf("%q called %+v, want no service", tc.sentence, calls)
			}
			continue
		}
		if len(calls) == 0 || calls[len(calls)-1].Path != tc.path || !reflect.DeepEqual(calls[len(calls)-1].Body, tc.body) {
			t.Errorf("%q called %+v, want %s %v", tc.sentence, calls, tc.path, tc.body)
		}
		for id, want := range tc.state {
			if st, _ := srv.Get(id); st.State != want {
				t.Errorf("%q: %s is %q, want %q", tc.sentence, id, st.State, want)
			}
		}
	}
	for tool, want := range map[string]string{home.ToolTurnOn: "Unlock the front door?", home.ToolTurnOff: "Lock the front door?"} {
		if _, q, _ := a.Check(context.Background(), tool, json.RawMessage(`{"name":"front door"}`)); q != want {
			t.Errorf("the lock's question for %s: %q, want %q", tool, q, want)
		}
	}
}

// A Home Assistant that does not answer gives "I can't reach Home Assistant" within 3 s.
func TestUnreachableSaidInTime(t *testing.T) {
	srv, c := house(t)
	h := newHub(t, c)
	a := actor(t, h)
	srv.Hang(true)
	time.Sleep(2100 * time.Millisecond) // past the state cache
	m := a.Match("", "turn on the kitchen light")
	start := time.Now()
	res, err := a.Run(context.Background(), m.Tool, m.Args)
	took := time.Since(start)
	if err != nil || res.Done || res.Say != "I can't reach Home Assistant." {
		t.Errorf("Run = %+v, %v; want the spoken error", res, err)
	}
	if took > 3*time.Second {
		t.Errorf("the error came after %v, want within 3 s", took)
	}
	zh := h.Do(context.Background(), "kitchen light", "", home.Command{Op: home.TurnOn}).Say("zh", time.Now())
	if zh != "我连不上Home Assistant。" {
		t.Errorf("in Chinese: %q", zh)
	}
}

// fakeSensors is a backend of sensors with given ages (as an MQTT broker's retained
// readings are).
type fakeSensors struct{ states map[string]home.State }

func (f fakeSensors) Source() home.Source { return home.SourceMQTT }
func (f fakeSensors) Entities(context.Context) ([]home.Entity, error) {
	return []home.Entity{
		{ID: "gh2-temp", Name: "temperature", Area: "greenhouse two", Kind: "sensor", Source: home.SourceMQTT, Unit: "°C", ReadOnly: true},
		{ID: "gh2-soil", Name: "soil moisture", Area: "greenhouse two", Kind: "sensor", Source: home.SourceMQTT, Unit: "%", ReadOnly: true},
	}, nil
}
func (f fakeSensors) State(_ context.Context, id string) (home.State, error) {
	return f.states[id], nil
}
func (f fakeSensors) Do(context.Context, string, home.Command) error { return home.ErrUnsupported }
func (f fakeSensors) Check(context.Context) error                    { return nil }

func TestReadingsSaid(t *testing.T) {
	now := time.Now()
	f := fakeSensors{states: map[string]home.State{
		"gh2-temp": {Value: "21.5", Unit: "°C", Updated: now.Add(-3 * time.Minute)},
		"gh2-soil": {Value: "38", Unit: "%", Updated: now.Add(-2 * time.Hour), Stale: true},
	}}
	h := newHub(t, f)
	cases := []struct{ name, quantity, lang, want string }{
		{"greenhouse two", "temperature", "en", "The temperature was 21.5 degrees, 3 minutes ago."},
		{"greenhouse two", "温度", "zh", "temperature是21.5度，3分钟前。"},
		{"soil moisture in greenhouse two", "", "en", "The last reading of the soil moisture is stale: 38 percent, 2 hours ago."},
		{"greenhouse two soil moisture", "", "zh", "soil moisture的读数已过时：百分之38，2小时前。"},
		{"greenhouse two", "", "en", "Which one: the temperature or the soil moisture?"},
	}
	for _, tc := range cases {
		got := h.Read(context.Background(), tc.name, tc.quantity, "").Say(tc.lang, now)
		if got != tc.want {
			t.Errorf("Read(%q, %q) says %q, want %q", tc.name, tc.quantity, got, tc.want)
		}
	}
	if o := h.Do(context.Background(), "greenhouse two soil moisture", "", home.Command{Op: home.TurnOn}); o.Status != home.Unsupported {
		t.Errorf("turning on a sensor: %v, want unsupported", o.Status)
	}
}
