package config

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

const mqttExample = `[assistant]
mode = "kiosk"

[mqtt]
broker = "mqtts://broker.lan:8883"
username = "hark"
password_file = "~/.config/hark/mqtt-password"
ca_file = "/etc/hark/broker-ca.pem"

# the greenhouse sensors
[[mqtt.devices]]
name = "greenhouse temperature"
area = "greenhouse"
kind = "sensor"
unit = "°C"
state_topic = "greenhouse/climate"
json_path = "temperature"
stale_after = "10m"

[[mqtt.devices]]
name = "pump 3"
aliases = ["pump three", "water pump"]
area = "greenhouse"
kind = "pump"
state_topic = "greenhouse/pump3/state"
command_topic = "greenhouse/pump3/set"
payload_on = "1"
payload_off = "0"
confirm = true

[[mqtt.devices]]
name = "greenhouse heater"
aliases = ["温室加热器"]
kind = "climate"
setpoint_topic = "greenhouse/heater/set"
setpoint_payload = '{"target": {{value}}}'
setpoint_min = 5
setpoint_max = 30.5
setpoint_step = 1

[[mqtt.devices]]
name = "vent"
position_topic = "greenhouse/vent/set"
position_closed = 100
position_open = 0

[[mqtt.devices]]
name = "gate"
kind = "lock"
command_topic = "zigbee2mqtt/gate/set"
payload_lock = '{"state": "LOCK"}'
payload_unlock = '{"state": "UNLOCK"}'
confirm = true

[ui]
theme = "dark"
`

func TestMQTTDevicesLoad(t *testing.T) {
	path := writeConfig(t, mqttExample)
	c, err := Load(Options{Path: path, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	want := MQTT{
		Broker: "mqtts://broker.lan:8883", Username: "hark", PasswordFile: "~/.config/hark/mqtt-password",
		CAFile: "/etc/hark/broker-ca.pem",
		Devices: []MQTTDevice{
			{Name: "greenhouse temperature", Area: "greenhouse", Kind: "sensor", Unit: "°C", StateTopic: "greenhouse/climate",
				JSONPath: "temperature", StaleAfter: 10 * time.Minute, Where: path + ":11"},
			{Name: "pump 3", Aliases: []string{"pump three", "water pump"}, Area: "greenhouse", Kind: "pump",
				StateTopic: "greenhouse/pump3/state", CommandTopic: "greenhouse/pump3/set", PayloadOn: "1", PayloadOff: "0",
				Confirm: true, Where: path + ":20"},
			{Name: "greenhouse heater", Aliases: []string{"温室加热器"}, Kind: "climate",
				Setpoint: MQTTLevel{Topic: "greenhouse/heater/set", Payload: `{"target": {{value}}}`, Min: 5, Max: 30.5, Step: 1}, Where: path + ":31"},
			{Name: "vent", Position: MQTTLevel{Topic: "greenhouse/vent/set", Min: 100}, Where: path + ":41"},
			{Name: "gate", Kind: "lock", CommandTopic: "zigbee2mqtt/gate/set", PayloadLock: `{"state": "LOCK"}`, PayloadUnlock: `{"state": "UNLOCK"}`,
				Confirm: true, Where: path + ":47"},
		},
	}
	if !reflect.DeepEqual(c.MQTT, want) {
		t.Errorf("MQTT =\n%+v\nwant\n%+v", c.MQTT, want)
	}
	if c.UI.Theme != "dark" || c.Assistant.Mode != "kiosk" {
		t.Errorf("the sections around the devices: theme %q, mode %q", c.UI.Theme, c.Assistant.Mode)
	}
	// A clone's devices are its own.
	d := c.Clone()
	d.MQTT.Devices[1].Aliases[0] = "x"
	if c.MQTT.Devices[1].Aliases[0] != "pump three" {
		t.Error("Clone shares the devices")
	}
	// The password file's name is shown, never a password.
	if !strings.Contains(c.Show(), `password_file = "~/.config/hark/mqtt-password"`) {
		t.Errorf("show lacks mqtt.password_file:\n%s", c.Show())
	}
	// config show lists the devices, as a file that loads to the same devices.
	shown := c.Show()
	back, err := Load(Options{Path: writeConfig(t, shown), Env: []string{}})
	if err != nil {
		t.Fatalf("show's output does not load: %v\n%s", err, shown)
	}
	for i := range back.MQTT.Devices {
		back.MQTT.Devices[i].Where = c.MQTT.Devices[i].Where
	}
	if !reflect.DeepEqual(back.MQTT, c.MQTT) || !strings.Contains(shown, "# file "+path+":20") {
		t.Errorf("config show's devices:\n%s", shown)
	}
}

func TestMQTTProblems(t *testing.T) {
	const head = "[mqtt]\nbroker = \"mqtt://127.0.0.1:1883\"\n"
	dev := func(lines ...string) string { return head + "[[mqtt.devices]]\n" + strings.Join(lines, "\n") + "\n" }
	tests := []struct {
		name, file string
		want       []string
	}{
		{"no topic", dev(`name = "pump"`), []string{`:3: [[mqtt.devices]] "pump": needs a state_topic (to read it), a command_topic (to command it), or both`}},
		{"no name", dev(`state_topic = "a/b"`), []string{`:3: [[mqtt.devices]] needs a name`}},
		{"wildcard", dev(`name = "all"`, `state_topic = "sensors/#"`), []string{`state_topic "sensors/#" has a wildcard`}},
		{"wildcard command", dev(`name = "all"`, `command_topic = "pumps/+/set"`), []string{`command_topic "pumps/+/set" has a wildcard`}},
		{"same payloads", dev(`name = "pump"`, `command_topic = "p/set"`, `payload_on = "1"`, `payload_off = "1"`),
			[]string{`payload_on and payload_off are both "1": Hark could not tell on from off`}},
		{"payload without command topic", dev(`name = "t"`, `state_topic = "t"`, `payload_on = "1"`),
			[]string{`payload_on and payload_off need a command_topic`}},
		{"payload not text", dev(`name = "pump"`, `command_topic = "p/set"`, `payload_on = 1`), []string{`:6: payload_on: must be text in quotes`}},
		{"sensor with a command topic", dev(`name = "t"`, `kind = "sensor"`, `command_topic = "t/set"`), []string{`a sensor has no command_topic`}},
		{"bad kind", dev(`name = "t"`, `kind = "swich"`, `command_topic = "t/set"`), []string{`:5: kind: must be one of sensor, binary_sensor, switch, light, fan, valve, pump, cover, climate, lock; did you mean "switch"?`}},
		{"lock without confirm", dev(`name = "gate"`, `kind = "lock"`, `command_topic = "g/set"`), []string{`a lock is commanded only after a yes: set confirm = true`}},
		{"lock with on and off", dev(`name = "gate"`, `kind = "lock"`, `command_topic = "g/set"`, `confirm = true`, `payload_on = "LOCK"`),
			[]string{`a lock takes payload_lock and payload_unlock, not payload_on and payload_off`}},
		{"lock payloads on a switch", dev(`name = "pump"`, `command_topic = "p/set"`, `payload_lock = "L"`), []string{`payload_lock and payload_unlock are a lock's`}},
		{"lock payloads the same", dev(`name = "gate"`, `kind = "lock"`, `command_topic = "g/set"`, `confirm = true`, `payload_unlock = "lock"`),
			[]string{`payload_lock and payload_unlock are both "LOCK"`}},
		{"level template without the value", dev(`name = "h"`, `setpoint_topic = "h/set"`, `setpoint_payload = "20"`),
			[]string{`setpoint_payload "20" must hold {{value}} once`}},
		{"level with nowhere to go", dev(`name = "l"`, `state_topic = "l"`, `brightness_payload = "{{value}}"`),
			[]string{`brightness_payload needs a brightness_topic or a command_topic`}},
		{"level topic with a wildcard", dev(`name = "v"`, `position_topic = "v/+"`), []string{`position_topic "v/+" has a wildcard`}},
		{"level out of range", dev(`name = "l"`, `brightness_topic = "l/b"`, `brightness_max = -1`), []string{`brightness_max: must be between`}},
		{"unknown key", dev(`name = "t"`, `state_topic = "t"`, `topic = "x"`), []string{`:6: [[mqtt.devices]] has no key "topic"`}},
		{"misspelt key", dev(`name = "t"`, `state_topik = "t"`), []string{`:5: [[mqtt.devices]] has no key "state_topik"; did you mean "state_topic"?`,
			`needs a state_topic`}},
		{"aliases not a list", dev(`name = "t"`, `state_topic = "t"`, `aliases = "x"`), []string{`aliases: must be a list of names in quotes`}},
		{"name as a list", dev(`name = ["t"]`, `state_topic = "t"`), []string{`name: takes one value, not a list`, `needs a name`}},
		{"bad stale_after", dev(`name = "t"`, `state_topic = "t"`, `stale_after = 600`), []string{`stale_after: must be a duration in quotes`}},
		{"json_path without state", dev(`name = "t"`, `command_topic = "t/set"`, `json_path = "a"`), []string{`json_path needs a state_topic`}},
		{"duplicate names", dev(`name = "pump"`, `command_topic = "a"`) + "[[mqtt.devices]]\nname = \"x\"\naliases = [\"Pump\"]\ncommand_topic = \"b\"\n",
			[]string{`:6: [[mqtt.devices]] "x": the name "Pump" is also used by the device at`}},
		{"devices without broker", "[[mqtt.devices]]\nname = \"t\"\nstate_topic = \"t\"\n", []string{`:1: [[mqtt.devices]] are declared but mqtt.broker is not set`}},
		{"bad scheme", "[mqtt]\nbroker = \"http://x:1883\"\n", []string{`:2: mqtt.broker = "http://x:1883": must start with mqtt:// or mqtts://`}},
		{"password in the url", "[mqtt]\nbroker = \"mqtt://hark:pw@x:1883\"\n", []string{`must not hold a user name or password`}},
		{"cert without key", "[mqtt]\nbroker = \"mqtts://x\"\ncert_file = \"c.pem\"\n", []string{`mqtt.cert_file and mqtt.key_file go together`}},
		{"other array of tables", "[[mqtt.sensors]]\nname = \"t\"\n", []string{`:1: arrays of tables ([[...]]) are not used in Hark's configuration, except [[mqtt.devices]]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(Options{Path: writeConfig(t, tt.file), Env: []string{}})
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load = %v, want *config.Error", err)
			}
			if len(ce.Problems) != len(tt.want) {
				t.Fatalf("%d problems, want %d:\n%v", len(ce.Problems), len(tt.want), err)
			}
			for i, w := range tt.want {
				if got := ce.Problems[i].String(); !strings.Contains(got, w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got, w)
				}
			}
		})
	}
}

// Set and Unset on a file with devices keep the devices byte for byte, and a new [mqtt] key
// lands in [mqtt], not in a device.
func TestMQTTEditKeepsDevices(t *testing.T) {
	path := writeConfig(t, mqttExample)
	if err := Set(path, "mqtt.client_id", "hark-kiosk-1"); err != nil {
		t.Fatal(err)
	}
	if err := Set(path, "speech.rate", "150"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(mqttExample, "ca_file = \"/etc/hark/broker-ca.pem\"\n", "ca_file = \"/etc/hark/broker-ca.pem\"\nclient_id = \"hark-kiosk-1\"\n", 1) +
		"\n[speech]\nrate = 150\n"
	if string(b) != want {
		t.Errorf("file after Set:\n%s\nwant:\n%s", b, want)
	}
	c, err := Load(Options{Path: path, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if c.MQTT.ClientID != "hark-kiosk-1" || len(c.MQTT.Devices) != 5 || c.Speech.Rate != 150 {
		t.Errorf("after Set: client_id %q, %d devices, rate %d", c.MQTT.ClientID, len(c.MQTT.Devices), c.Speech.Rate)
	}
	if err := Unset(path, "mqtt.client_id", "speech.rate"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), mqttExample[strings.Index(mqttExample, "# the greenhouse"):]) {
		t.Errorf("Unset changed the devices:\n%s", b)
	}
	// A file with devices but no [mqtt] table: setting the broker adds the section after
	// them, and the file then loads.
	p2 := writeConfig(t, "[[mqtt.devices]]\nname = \"t\"\nstate_topic = \"t\"\n")
	if _, err := Load(Options{Path: p2, Env: []string{}}); err == nil {
		t.Error("devices without a broker load without a problem")
	}
	if err := Set(p2, "mqtt.broker", "mqtt://127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	c, err = Load(Options{Path: p2, Env: []string{}})
	if err != nil || c.MQTT.Broker != "mqtt://127.0.0.1" || len(c.MQTT.Devices) != 1 {
		b, _ := os.ReadFile(p2)
		t.Errorf("after setting the broker: %v, %+v\n%s", err, c.MQTT, b)
	}
}
