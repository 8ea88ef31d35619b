package mqtt

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/action"
	"hark/home"
	"hark/internal/testserver"
)

func TestLevelPayload(t *testing.T) {
	bright := Setter{Payload: `{"brightness": {{ value }}}`, Max: 255}
	vent := Setter{Min: 100, Max: 0} // a cover whose 0 is open
	heater := Setter{Payload: `{"target":{{value}}}`, Min: 5, Max: 30}
	whole := Setter{Min: 5, Max: 30, Step: 1}
	for _, tc := range []struct {
		name    string
		s       Setter
		cmd     home.Command
		want    string
		wantErr *home.RangeError
	}{
		{"brightness scaled", bright, home.Command{Op: home.SetBrightness, Level: 30}, `{"brightness": 77}`, nil},
		{"brightness full", bright, home.Command{Op: home.SetBrightness, Level: 100}, `{"brightness": 255}`, nil},
		{"brightness default range", Setter{}, home.Command{Op: home.SetBrightness, Level: 30}, "30", nil},
		{"brightness over 100 refused", bright, home.Command{Op: home.SetBrightness, Level: 130}, "", &home.RangeError{Op: home.SetBrightness, Max: 100, Unit: "%"}},
		{"position inverted", vent, home.Command{Op: home.SetPosition, Level: 50}, "50", nil},
		{"position open inverted", vent, home.Command{Op: home.SetPosition, Level: 100}, "0", nil},
		{"position below 0 refused", vent, home.Command{Op: home.SetPosition, Level: -5}, "", &home.RangeError{Op: home.SetPosition, Max: 100, Unit: "%"}},
		{"setpoint", heater, home.Command{Op: home.SetTemperature, Temperature: 18}, `{"target":18.0}`, nil},
		{"setpoint rounded to the step", heater, home.Command{Op: home.SetTemperature, Temperature: 18.3}, `{"target":18.5}`, nil},
		{"setpoint whole degrees", whole, home.Command{Op: home.SetTemperature, Temperature: 18.4}, "18", nil},
		{"setpoint at the edge", heater, home.Command{Op: home.SetTemperature, Temperature: 30}, `{"target":30.0}`, nil},
		{"setpoint too hot refused", heater, home.Command{Op: home.SetTemperature, Temperature: 60}, "", &home.RangeError{Op: home.SetTemperature, Min: 5, Max: 30, Unit: "°C"}},
		{"setpoint too cold refused", heater, home.Command{Op: home.SetTemperature, Temperature: 4.9}, "", &home.RangeError{Op: home.SetTemperature, Min: 5, Max: 30, Unit: "°C"}},
		{"setpoint default range", Setter{}, home.Command{Op: home.SetTemperature, Temperature: 36}, "", &home.RangeError{Op: home.SetTemperature, Min: 7, Max: 35, Unit: "°C"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := levelPayload(tc.s.WithDefaults(tc.cmd.Op), tc.cmd, "")
			if tc.wantErr != nil {
				var re *home.RangeError
				if !errors.As(err, &re) || *re != *tc.wantErr || got != "" {
					t.Fatalf("levelPayload = %q, %v; want the range error %+v", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("levelPayload = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestValidateLevels(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    Device
		want string // "" = valid
	}{
		{"brightness on its own topic", Device{Name: "l", Brightness: &Setter{Topic: "l/b"}}, ""},
		{"brightness on the command topic", Device{Name: "l", CommandTopic: "l/set", Brightness: &Setter{Payload: "B{{value}}"}}, ""},
		{"no topic for it", Device{Name: "l", StateTopic: "l", Brightness: &Setter{Payload: "{{value}}"}}, "no command_topic to send it to"},
		{"template without the value", Device{Name: "h", Setpoint: &Setter{Topic: "h/t", Payload: `{"t": 20}`}}, "must hold {{value}} once"},
		{"template with it twice", Device{Name: "h", Setpoint: &Setter{Topic: "h/t", Payload: "{{value}} {{value}}"}}, "must hold {{value}} once"},
		{"wildcard topic", Device{Name: "v", Position: &Setter{Topic: "v/#"}}, "wildcards"},
		{"min above max", Device{Name: "h", Setpoint: &Setter{Topic: "h/t", Min: 30, Max: 5}}, "min 30 is above max 5"},
		{"step too big", Device{Name: "h", Setpoint: &Setter{Topic: "h/t", Min: 5, Max: 6, Step: 2}}, "step 2 does not fit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Config{Broker: "mqtt://h", Devices: []Device{tc.d}}.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v; want %q", err, tc.want)
			}
		})
	}
}

// workshop declares level commands: a 0..255 light with a JSON brightness template, a vent with
// only a position topic, and a heater with a setpoint range that must be confirmed.
func workshop(broker string) Config {
	return Config{
		Broker: broker, ClientID: "hark-levels",
		Devices: []Device{
			{Name: "workshop light", Aliases: []string{"车间灯"}, Area: "workshop", Kind: "light",
				CommandTopic: "workshop/light/set", Brightness: &Setter{Topic: "workshop/light/brightness/set", Payload: `{"brightness": {{value}}}`, Max: 255}},
			{Name: "vent", Aliases: []string{"通风口"}, Area: "greenhouse", Kind: "cover", Position: &Setter{Topic: "greenhouse/vent/position/set"}},
			{Name: "greenhouse heater", Aliases: []string{"温室加热器"}, Area: "greenhouse", Kind: "climate",
				Setpoint: &Setter{Topic: "greenhouse/heater/setpoint/set", Payload: `{"target": {{value}}}`, Min: 5, Max: 30}, Confirm: true},
			{Name: "gate", Aliases: []string{"大门"}, Area: "yard", Kind: "lock", CommandTopic: "yard/gate/set", Confirm: true},
		},
	}
}

// TestLevelCommandsThroughTheBroker: sentences in English and Chinese, through the hub's
// templates and tools, publish each level command once, at QoS 1, to its declared topic only;
// the heater asks for a yes; a setpoint out of range is refused with the range said, and
// nothing is published for it.
func TestLevelCommandsThroughTheBroker(t *testing.T) {
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{})
	w := newPeer(t, b.URL(), "", "")
	c := open(t, workshop(b.URL()), Options{})
	ctx := context.Background()
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	h := home.NewHub([]home.Backend{c}, home.HubOptions{})
	h.Seed()
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

	type sent struct{ topic, payload string }
	var want []sent
	for _, tc := range []struct {
		sentence string
		tool     string
		risk     action.Risk
		say      string
		sent     *sent
	}{
		{"dim the workshop light to 30 percent", home.ToolSetBrightness, action.Safe, "Set the workshop light to 30 percent.",
			&sent{"workshop/light/brightness/set", `{"brightness": 77}`}},
		{"把车间灯调到百分之三十", home.ToolSetBrightness, action.Safe, "已把车间灯调到30%。",
			&sent{"workshop/light/brightness/set", `{"brightness": 77}`}},
		{"open the vent halfway", home.ToolSetPosition, action.Safe, "Set the vent to 50 percent open.",
			&sent{"greenhouse/vent/position/set", "50"}},
		{"close the vent", home.ToolTurnOff, action.Safe, "Closed the vent.", &sent{"greenhouse/vent/position/set", "0"}},
		{"set the greenhouse heater to 18 degrees", home.ToolSetTemperature, action.Confirm, "Set the greenhouse heater to 18 degrees.",
			&sent{"greenhouse/heater/setpoint/set", `{"target": 18.0}`}},
		{"温室加热器设为十八度", home.ToolSetTemperature, action.Confirm, "已把温室加热器设为18度。",
			&sent{"greenhouse/heater/setpoint/set", `{"target": 18.0}`}},
		{"set the greenhouse heater to 60 degrees", home.ToolSetTemperature, action.Confirm, "The greenhouse heater can only be set from 5 to 30 degrees.", nil},
		{"温室加热器设为六十度", home.ToolSetTemperature, action.Confirm, "温室加热器只能设在5到30度之间。", nil},
		{"dim the vent to 30 percent", "", action.Safe, "", nil}, // a vent has no brightness
		// A lock opens by unlocking, and asks first: "open" and 打开 never lock it.
		{"unlock the gate", home.ToolTurnOn, action.Confirm, "Unlocked the gate.", &sent{"yard/gate/set", "UNLOCK"}},
		{"lock the gate", home.ToolTurnOff, action.Confirm, "Locked the gate.", &sent{"yard/gate/set", "LOCK"}},
		{"open the gate", home.ToolTurnOn, action.Confirm, "Unlocked the gate.", &sent{"yard/gate/set", "UNLOCK"}},
		{"close the gate", home.ToolTurnOff, action.Confirm, "Locked the gate.", &sent{"yard/gate/set", "LOCK"}},
		{"打开大门", home.ToolTurnOn, action.Confirm, "已解锁大门。", &sent{"yard/gate/set", "UNLOCK"}},
		{"关上大门", home.ToolTurnOff, action.Confirm, "已锁上大门。", &sent{"yard/gate/set", "LOCK"}},
		{"toggle the gate", home.ToolToggle, action.Confirm, "The gate can't do that.", nil},
	} {
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
		lctx := action.WithLanguage(ctx, m.Language)
		risk, q, err := a.Check(lctx, m.Tool, m.Args)
		if err != nil || risk != tc.risk {
			t.Errorf("%q: Check = %v %q %v; want %v", tc.sentence, risk, q, err, tc.risk)
		}
		res, err := a.Run(lctx, m.Tool, m.Args)
		if err != nil || res.Say != tc.say || res.Done != (tc.sent != nil) {
			t.Errorf("%q: Run = %+v, %v; want %q", tc.sentence, res, err, tc.say)
		}
		if tc.sent != nil {
			want = append(want, *tc.sent)
		}
	}
	if got := h.Read(ctx, "gate", "", "locked").Say("en", time.Now()); got != "Yes, the gate is locked." {
		t.Errorf("is the gate locked? %q", got)
	}
	// A marker after the last command: messages from one client arrive in order, so once it
	// is in, everything Hark sent is too.
	w.publish(t, "test/marker", "end", false)
	eventually(t, "the marker arrives", func() bool { return len(w.on("test/marker")) == 1 })
	var got []sent
	w.mu.Lock()
	for _, m := range w.ms {
		if m.topic != "test/marker" {
			got = append(got, sent{m.topic, m.payload})
		}
	}
	w.mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("published %q; want exactly %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: %q; want %q", i, got[i], want[i])
		}
	}
	if n := strings.Count(b.Log(), "Received PUBLISH from hark-levels (d0, q1"); n != len(want) {
		t.Errorf("the broker received %d QoS 1 publications from Hark; want %d:\n%s", n, len(want), b.Log())
	}
}
