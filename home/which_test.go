package home_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"hark/action"
	"hark/home"
	"hark/home/hass"
	"hark/internal/hasstest"
)

// bilingualHouse is a stand-in Home Assistant whose lights have Chinese aliases.
func bilingualHouse(t *testing.T) (*hasstest.Server, *hass.Client) {
	t.Helper()
	light := func(id, name string) hasstest.State {
		return hasstest.State{EntityID: id, State: "off", Attributes: map[string]any{"friendly_name": name}}
	}
	srv := hasstest.Start(t, token, light("light.kitchen", "Kitchen Light"), light("light.kitchen_lamp", "Kitchen Lamp"),
		light("light.hall", "Hall Light"), light("light.porch", "Porch Light"),
		hasstest.State{EntityID: "lock.front_door", State: "locked", Attributes: map[string]any{"friendly_name": "Front Door"}},
		hasstest.State{EntityID: "lock.back_door", State: "locked", Attributes: map[string]any{"friendly_name": "Back Door"}},
		hasstest.State{EntityID: "sensor.hall_temperature", State: "19.5", LastUpdated: time.Now(),
			Attributes: map[string]any{"friendly_name": "Hall Temperature", "unit_of_measurement": "°C"}},
		hasstest.State{EntityID: "sensor.porch_temperature", State: "unknown",
			Attributes: map[string]any{"friendly_name": "Porch Temperature", "unit_of_measurement": "°C"}},
	)
	c, err := hass.New(hass.Options{URL: srv.URL, Token: token, Timeout: 3 * time.Second, Entities: []hass.Exposed{
		{ID: "light.kitchen", Area: "kitchen", Aliases: []string{"厨房灯"}},
		{ID: "light.kitchen_lamp", Area: "kitchen", Aliases: []string{"厨房台灯"}},
		{ID: "light.hall", Area: "hall", Aliases: []string{"走廊灯"}},
		{ID: "light.porch", Area: "porch"},
		{ID: "lock.front_door", Confirm: true, Aliases: []string{"前门"}},
		{ID: "lock.back_door", Confirm: true, Aliases: []string{"后门"}},
		{ID: "sensor.hall_temperature", Name: "temperature", Area: "hall"},
		{ID: "sensor.porch_temperature", Name: "temperature", Area: "porch", Aliases: []string{"门廊温度"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// clock is a test clock the hub reads.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestWhichOne: after "Which one?", just a name completes the command (or question) that was
// asked about, in English and Chinese; a name that fits several asks again among them; the
// lock still asks for a yes; the question lapses, and Forget (another sentence) cancels it.
func TestWhichOne(t *testing.T) {
	type turn struct {
		say  string // what is said
		tool string // the tool it matches ("" nothing)
		risk action.Risk
		want string // the answer, in full
		call string // the entity the service call was for ("" none)
	}
	cases := []struct {
		name  string
		turns []turn
		wait  time.Duration // before the last turn
	}{
		{"the hall one", []turn{
			{"turn on the light", home.ToolTurnOn, action.Safe, "Which one: the Kitchen Light, the Kitchen Lamp, the Hall Light or the Porch Light?", ""},
			{"the hall one", home.ToolChoose, action.Safe, "Turned on the Hall Light.", "light.hall"},
		}, 0},
		{"a name that fits two asks again", []turn{
			{"turn on the light", home.ToolTurnOn, action.Safe, "Which one: the Kitchen Light, the Kitchen Lamp, the Hall Light or the Porch Light?", ""},
			{"kitchen", home.ToolChoose, action.Safe, "Which one: the Kitchen Light or the Kitchen Lamp?", ""},
			{"the lamp", home.ToolChoose, action.Safe, "Turned on the Kitchen Lamp.", "light.kitchen_lamp"},
		}, 0},
		{"by place", []turn{
			{"turn off the light", home.ToolTurnOff, action.Safe, "Which one: the Kitchen Light, the Kitchen Lamp, the Hall Light or the Porch Light?", ""},
			{"the second one", home.ToolChoose, action.Safe, "Turned off the Kitchen Lamp.", "light.kitchen_lamp"},
		}, 0},
		{"a question", []turn{
			{"what's the temperature", home.ToolState, action.Safe, "Which one: the temperature in the hall or the temperature in the porch?", ""},
			{"the hall", home.ToolChoose, action.Safe, "The temperature is 19.5 degrees.", ""},
		}, 0},
		{"no reading yet is a fact", []turn{
			{"what's the temperature", home.ToolState, action.Safe, "Which one: the temperature in the hall or the temperature in the porch?", ""},
			{"porch", home.ToolChoose, action.Safe, "The temperature has no reading yet.", ""},
		}, 0},
		{"no reading yet, in Chinese", []turn{
			{"门廊温度现在多少度", home.ToolState, action.Safe, "门廊温度还没有读数。", ""},
		}, 0},
		{"a lock still asks for a yes", []turn{
			{"unlock the door", home.ToolTurnOn, action.Safe, "Which one: the Front Door or the Back Door?", ""},
			{"the back one", home.ToolChoose, action.Confirm, "Unlocked the Back Door.", "lock.back_door"},
		}, 0},
		{"in Chinese", []turn{
			{"打开灯", home.ToolTurnOn, action.Safe, "哪一个：厨房灯还是厨房台灯还是走廊灯还是Porch Light？", ""},
			{"走廊的", home.ToolChoose, action.Safe, "已打开走廊灯。", "light.hall"},
		}, 0},
		{"in Chinese, by its alias", []turn{
			{"关掉灯", home.ToolTurnOff, action.Safe, "哪一个：厨房灯还是厨房台灯还是走廊灯还是Porch Light？", ""},
			{"厨房台灯那个", home.ToolChoose, action.Safe, "已关闭厨房台灯。", "light.kitchen_lamp"},
		}, 0},
		{"a name among none of the choices", []turn{
			{"turn on the light", home.ToolTurnOn, action.Safe, "Which one: the Kitchen Light, the Kitchen Lamp, the Hall Light or the Porch Light?", ""},
			{"the garage", "", action.Safe, "", ""},
		}, 0},
		{"it lapses", []turn{
			{"turn on the light", home.ToolTurnOn, action.Safe, "Which one: the Kitchen Light, the Kitchen Lamp, the Hall Light or the Porch Light?", ""},
			{"the hall one", "", action.Safe, "", ""},
		}, 21 * time.Second},
		{"nothing asked", []turn{{"the hall one", "", action.Safe, "", ""}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := bilingualHouse(t)
			clk := &clock{t: time.Now()}
			h := home.NewHub([]home.Backend{c}, home.HubOptions{Now: clk.now, Refresh: time.Hour})
			if err := h.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			a := actor(t, h)
			for i, tn := range tc.turns {
				if i == len(tc.turns)-1 {
					clk.add(tc.wait)
				}
				m := a.Match("", tn.say)
				if tn.tool == "" {
					if m.Kind == action.Matched {
						t.Fatalf("%q matched %s %s, want nothing", tn.say, m.Tool, m.Args)
					}
					continue
				}
				if m.Kind != action.Matched || m.Tool != tn.tool {
					t.Fatalf("%q: %+v, want %s", tn.say, m, tn.tool)
				}
				ctx := action.WithLanguage(context.Background(), m.Language)
				risk, _, err := a.Check(ctx, m.Tool, m.Args)
				if err != nil || risk != tn.risk {
					t.Fatalf("%q: Check = %v, %v; want %v", tn.say, risk, err, tn.risk)
				}
				before := len(srv.ServiceCalls())
				res, err := a.Run(ctx, m.Tool, m.Args)
				if err != nil || res.Say != tn.want {
					t.Errorf("%q: Run = %q, %v; want %q", tn.say, res.Say, err, tn.want)
				}
				calls := srv.ServiceCalls()[before:]
				switch {
				case tn.call == "" && len(calls) != 0:
					t.Errorf("%q called %+v, want nothing", tn.say, calls)
				case tn.call != "" && (len(calls) != 1 || calls[0].Body["entity_id"] != tn.call):
					t.Errorf("%q called %+v, want one call for %s", tn.say, calls, tn.call)
				}
			}
			if h.Asking() && strings.HasPrefix(tc.name, "the hall one") {
				t.Error("the question is still pending after its answer")
			}
		})
	}
}

// TestWhichOneForgotten: any other sentence (the action layer calls Forget) cancels the
// question, so a later name alone does nothing.
func TestWhichOneForgotten(t *testing.T) {
	srv, c := bilingualHouse(t)
	h := newHub(t, c)
	a := actor(t, h)
	if o := h.Do(context.Background(), "light", "", home.Command{Op: home.TurnOn}); o.Status != home.Ambiguous || !h.Asking() {
		t.Fatalf("turn on the light: %v, asking %v", o.Status, h.Asking())
	}
	h.Forget()
	if m := a.Match("", "the hall one"); m.Kind == action.Matched {
		t.Errorf("after Forget, %q matched %s", "the hall one", m.Tool)
	}
	if o := h.Choose(context.Background(), "hall"); o.Status != home.NotFound {
		t.Errorf("Choose after Forget: %v", o.Status)
	}
	if n := len(srv.ServiceCalls()); n != 0 {
		t.Errorf("%d service calls, want none", n)
	}
}

// TestSpokenNames: a Chinese reply uses a Chinese name or alias, an English reply one in
// letters; the name itself when there is none such.
func TestSpokenNames(t *testing.T) {
	for _, tc := range []struct {
		e      home.Entity
		en, zh string
	}{
		{home.Entity{Name: "Kitchen Light", Aliases: []string{"ceiling", "厨房灯"}}, "Kitchen Light", "厨房灯"},
		{home.Entity{Name: "温室加热器", Aliases: []string{"greenhouse heater"}}, "greenhouse heater", "温室加热器"},
		{home.Entity{Name: "pump 3"}, "pump 3", "pump 3"},
		{home.Entity{Name: "三号水泵"}, "三号水泵", "三号水泵"},
	} {
		if got := home.Spoken(tc.e, false); got != tc.en {
			t.Errorf("Spoken(%v, en) = %q, want %q", tc.e, got, tc.en)
		}
		if got := home.Spoken(tc.e, true); got != tc.zh {
			t.Errorf("Spoken(%v, zh) = %q, want %q", tc.e, got, tc.zh)
		}
	}
}

// TestOutcomesSaid: a refused level, no reading yet and an unavailable device are said as
// plain facts, in English and Chinese.
func TestOutcomesSaid(t *testing.T) {
	heater := home.Entity{Name: "greenhouse heater", Aliases: []string{"温室加热器"}, Kind: "climate"}
	light := home.Entity{Name: "workshop light", Aliases: []string{"车间灯"}, Kind: "light"}
	sensor := home.Entity{Name: "soil moisture", Aliases: []string{"土壤湿度"}, Kind: "sensor", Source: home.SourceMQTT}
	now := time.Now()
	for _, tc := range []struct {
		o      home.Outcome
		en, zh string
	}{
		{home.Outcome{Status: home.OutOfRange, Command: home.Command{Op: home.SetTemperature, Temperature: 60}, Entities: []home.Entity{heater},
			Range: &home.RangeError{Op: home.SetTemperature, Min: 5, Max: 30, Unit: "°C"}},
			"The greenhouse heater can only be set from 5 to 30 degrees.", "温室加热器只能设在5到30度之间。"},
		{home.Outcome{Status: home.OutOfRange, Command: home.Command{Op: home.SetBrightness, Level: 130}, Entities: []home.Entity{light},
			Range: &home.RangeError{Op: home.SetBrightness, Min: 0, Max: 100, Unit: "%"}},
			"The workshop light can only be set from 0 to 100 percent.", "车间灯只能设在百分之0到百分之100之间。"},
		{home.Outcome{Status: home.Done, Entities: []home.Entity{sensor}, States: []home.State{{}}},
			"The soil moisture has no reading yet.", "土壤湿度还没有读数。"},
		{home.Outcome{Status: home.Done, Entities: []home.Entity{sensor}, States: []home.State{{Value: "unavailable"}}},
			"The soil moisture is unavailable right now.", "土壤湿度现在不在线。"},
		{home.Outcome{Status: home.Done, Command: home.Command{Op: home.SetTemperature, Temperature: 18}, Entities: []home.Entity{heater}},
			"Set the greenhouse heater to 18 degrees.", "已把温室加热器设为18度。"},
	} {
		if got := tc.o.Say("en", now); got != tc.en {
			t.Errorf("Say(en) = %q, want %q", got, tc.en)
		}
		if got := tc.o.Say("zh", now); got != tc.zh {
			t.Errorf("Say(zh) = %q, want %q", got, tc.zh)
		}
	}
}

// TestAreasFromHomeAssistantsRegistry: areas Home Assistant's registries give (none in the
// entity list) let "turn off the lights in the kitchen" reach every light there, and only those.
func TestAreasFromHomeAssistantsRegistry(t *testing.T) {
	light := func(id, name string) hasstest.State {
		return hasstest.State{EntityID: id, State: "on", Attributes: map[string]any{"friendly_name": name}}
	}
	srv := hasstest.Start(t, token, light("light.ceiling", "Ceiling"), light("light.counter", "Counter Strip"), light("light.reading", "Reading Lamp"))
	kitchen, living := "kitchen", "living_room"
	bridge := "d-bridge"
	srv.SetRegistry(hasstest.Registry{
		Areas:   []hasstest.Area{{AreaID: kitchen, Name: "Kitchen", Aliases: []string{"厨房"}}, {AreaID: living, Name: "Living Room"}},
		Devices: []hasstest.Device{{ID: bridge, AreaID: &kitchen}},
		Entities: []hasstest.Entity{{EntityID: "light.ceiling", AreaID: &kitchen}, {EntityID: "light.counter", DeviceID: &bridge},
			{EntityID: "light.reading", AreaID: &living, DeviceID: &bridge}},
	})
	c, err := hass.New(hass.Options{URL: srv.URL, Token: token, Timeout: 3 * time.Second,
		Entities: []hass.Exposed{{ID: "light.ceiling"}, {ID: "light.counter"}, {ID: "light.reading"}}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHub(t, c)
	a := actor(t, h)
	m := a.Match("", "turn off the lights in the kitchen")
	if m.Kind != action.Matched || m.Tool != home.ToolTurnOff {
		t.Fatalf("match %+v", m)
	}
	res, err := a.Run(context.Background(), m.Tool, m.Args)
	if err != nil || res.Say != "Turned off the Ceiling and the Counter Strip." {
		t.Errorf("Run = %q, %v", res.Say, err)
	}
	var got []string
	for _, cl := range srv.ServiceCalls() {
		got = append(got, cl.Path+" "+cl.Body["entity_id"].(string))
	}
	if want := "/api/services/light/turn_off light.ceiling,/api/services/light/turn_off light.counter"; strings.Join(got, ",") != want {
		t.Errorf("service calls %q, want %s", got, want)
	}
	// The area's Chinese alias, from the registry: 厨房 is the same two lights (厨房的灯, with no
	// plural in Chinese, asks which).
	m = a.Match("", "打开厨房")
	if m.Kind != action.Matched || m.Tool != home.ToolTurnOn {
		t.Fatalf("match %+v", m)
	}
	res, err = a.Run(action.WithLanguage(context.Background(), m.Language), m.Tool, m.Args)
	if err != nil || res.Say != "已打开Ceiling和Counter Strip。" {
		t.Errorf("Run = %q, %v", res.Say, err)
	}
	if n := len(srv.ServiceCalls()); n != 4 {
		t.Errorf("%d service calls, want 4", n)
	}
}

// TestSilentWebSocketDoesNotStopCommands: a WebSocket that is accepted but never answers (a
// proxy that does not pass it on) leaves the areas to the entity list, and commands still
// work within the hub's time for them.
func TestSilentWebSocketDoesNotStopCommands(t *testing.T) {
	srv := hasstest.Start(t, token, hasstest.State{EntityID: "light.ceiling", State: "off", Attributes: map[string]any{"friendly_name": "Ceiling"}})
	kitchen := "kitchen"
	srv.SetRegistry(hasstest.Registry{Areas: []hasstest.Area{{AreaID: kitchen, Name: "Kitchen"}},
		Entities: []hasstest.Entity{{EntityID: "light.ceiling", AreaID: &kitchen}}})
	srv.MuteWebSocket(true)
	c, err := hass.New(hass.Options{URL: srv.URL, Token: token, Timeout: 3 * time.Second, Entities: []hass.Exposed{{ID: "light.ceiling"}}})
	if err != nil {
		t.Fatal(err)
	}
	h := home.NewHub([]home.Backend{c}, home.HubOptions{})
	if o := h.Do(context.Background(), "ceiling", "", home.Command{Op: home.TurnOn}); o.Status != home.Done {
		t.Fatalf("turn on the ceiling light: %v (%v)", o.Status, o.Err)
	}
	if r := h.Resolve("kitchen", home.Want{Op: home.TurnOff}); r.Found != home.FoundNone {
		t.Errorf("the kitchen is known without the registries: %+v", r.Entities)
	}
	if n := len(srv.ServiceCalls()); n != 1 {
		t.Errorf("%d service calls, want 1", n)
	}
}
