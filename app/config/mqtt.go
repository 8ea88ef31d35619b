package config

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2/unstable"
)

// MQTT is the [mqtt] section and its [[mqtt.devices]]: a broker and the sensors and switches
// Hark may read and command through it. Nothing that is not declared is read or commanded.
type MQTT struct {
	Broker       string // broker: mqtt://host:1883 or mqtts://host:8883 ("" = no MQTT)
	ClientID     string // client_id: the id Hark connects with ("" = hark-<host name>)
	Username     string // username: "" = connect without one
	PasswordFile string // password_file: file whose first line is the password ("" = none)
	CAFile       string // ca_file: PEM certificates trusted for mqtts://
	CertFile     string // cert_file: client certificate (PEM), for brokers that require one
	KeyFile      string // key_file: the client certificate's key (PEM)
	Devices      []MQTTDevice
}

// MQTTDevice is one [[mqtt.devices]] table.
type MQTTDevice struct {
	Name          string        // name: what people call it; unique
	Aliases       []string      // aliases: other names
	Area          string        // area: where it is ("greenhouse")
	Kind          string        // kind: sensor, binary_sensor, switch, light, fan, valve, pump, cover, climate, lock
	Unit          string        // unit: the reading's unit ("°C")
	StateTopic    string        // state_topic: where it publishes its reading or state
	JSONPath      string        // json_path: the value's place in a JSON payload ("" = the whole payload)
	CommandTopic  string        // command_topic: where commands go ("" = read only)
	PayloadOn     string        // payload_on: "" = "ON"
	PayloadOff    string        // payload_off: "" = "OFF"
	PayloadLock   string        // payload_lock: a lock's; "" = "LOCK"
	PayloadUnlock string        // payload_unlock: a lock's; "" = "UNLOCK"
	Confirm       bool          // confirm: ask for a yes before commanding it
	StaleAfter    time.Duration // stale_after: a reading older than this is stale (0 = never)
	Brightness    MQTTLevel     // brightness_*: a light's brightness command
	Position      MQTTLevel     // position_*: a cover's or valve's position command
	Setpoint      MQTTLevel     // setpoint_*: a thermostat's target temperature command
	Where         string        // the file and line of its [[mqtt.devices]] header
}

// MQTTLevel is one level command of a device (brightness_*, position_*, setpoint_*). It is
// declared when its topic or payload is set.
type MQTTLevel struct {
	Topic    string  // <level>_topic: "" = the device's command_topic
	Payload  string  // <level>_payload: template with {{value}} ("" = the value alone)
	Min, Max float64 // brightness_min/max, position_closed/open, setpoint_min/max (0, 0 = defaults)
	Step     float64 // setpoint_step
}

// Declared reports whether the device takes this level command.
func (l MQTTLevel) Declared() bool { return l.Topic != "" || l.Payload != "" }

// MQTTDeviceKinds are the kinds a device may declare.
var MQTTDeviceKinds = []string{"sensor", "binary_sensor", "switch", "light", "fan", "valve", "pump", "cover", "climate", "lock"}

// mqttSchema are the [mqtt] section's keys.
func mqttSchema() []spec {
	return []spec{
		{key: "mqtt.broker", kind: kindString, def: "", field: func(c *Config) any { return &c.MQTT.Broker },
			doc: "MQTT broker for the sensors and switches declared in [[mqtt.devices]]: mqtt://host:1883, or mqtts://host:8883 for TLS. Empty: no MQTT."},
		{key: "mqtt.client_id", kind: kindString, def: "", field: func(c *Config) any { return &c.MQTT.ClientID },
			doc: "Client id Hark connects with; two clients with one id push each other off the broker. Empty: hark-<host name>."},
		{key: "mqtt.username", kind: kindString, def: "", field: func(c *Config) any { return &c.MQTT.Username },
			doc: "User name on the broker. Empty: connect without one."},
		{key: "mqtt.password_file", kind: kindString, def: "", field: func(c *Config) any { return &c.MQTT.PasswordFile },
			doc: "File whose first line is the broker password. It must not be readable by others (chmod 600). The password is never written to the configuration, logs or `hark config show`."},
		{key: "mqtt.ca_file", kind: kindString, def: "", field: func(c *Config) any { return &c.MQTT.CAFile },
			doc: "PEM file of the certificate authority that signed an mqtts:// broker's certificate. Empty: the system's."},
		{key: "mqtt.cert_file", kind: kindString, def: "", field: func(c *Config) any { return &c.MQTT.CertFile },
			doc: "Client certificate (PEM) for a broker that requires one; key_file holds its key."},
		{key: "mqtt.key_file", kind: kindString, def: "", field: func(c *Config) any { return &c.MQTT.KeyFile },
			doc: "Private key (PEM) of cert_file. It must not be readable by others."},
	}
}

// mqttDeviceKey is one key of a [[mqtt.devices]] table.
type mqttDeviceKey struct {
	spec
	list bool // a list of strings
	set  func(d *MQTTDevice, v any)
}

// mqttDeviceKeys are the keys of a [[mqtt.devices]] table, in documentation order.
func mqttDeviceKeys() []mqttDeviceKey {
	str := func(name, doc string, f func(d *MQTTDevice) *string) mqttDeviceKey {
		return mqttDeviceKey{spec: spec{key: "mqtt.devices." + name, kind: kindString, def: "", doc: doc},
			set: func(d *MQTTDevice, v any) { *f(d) = v.(string) }}
	}
	num := func(name, doc string, lo, hi float64, f func(d *MQTTDevice) *float64) mqttDeviceKey {
		return mqttDeviceKey{spec: spec{key: "mqtt.devices." + name, kind: kindFloat, min: lo, max: hi, doc: doc},
			set: func(d *MQTTDevice, v any) { *f(d) = v.(float64) }}
	}
	return []mqttDeviceKey{
		str("name", "What people call it, unique among devices: \"pump 3\", \"greenhouse temperature\". Required.", func(d *MQTTDevice) *string { return &d.Name }),
		{spec: spec{key: "mqtt.devices.aliases", kind: kindString, doc: "Other names people say: [\"pump three\", \"water pump\"]."}, list: true,
			set: func(d *MQTTDevice, v any) { d.Aliases = v.([]string) }},
		str("area", "Where it is: \"greenhouse\", \"workshop\".", func(d *MQTTDevice) *string { return &d.Area }),
		{spec: spec{key: "mqtt.devices.kind", kind: kindChoice, choices: MQTTDeviceKinds,
			doc: "What it is. Empty: climate with a setpoint (setpoint_topic or setpoint_payload), cover with a position, light with a brightness, switch with a command_topic, otherwise sensor."},
			set: func(d *MQTTDevice, v any) { d.Kind = v.(string) }},
		str("unit", "Unit of its readings, spoken with them: \"°C\", \"%\", \"lx\".", func(d *MQTTDevice) *string { return &d.Unit }),
		str("state_topic", "Topic it publishes its reading or state on (no wildcards). Hark subscribes to it, so a retained reading is known at once.", func(d *MQTTDevice) *string { return &d.StateTopic }),
		str("json_path", "Where the value is in a JSON payload, as a dotted path: \"temperature\", \"sensors.soil.moisture\", \"values.0\". Empty: the whole payload is the value.", func(d *MQTTDevice) *string { return &d.JSONPath }),
		str("command_topic", "Topic its commands are published to, at QoS 1 (no wildcards). Empty: Hark only reads it. Hark publishes to no other topic.", func(d *MQTTDevice) *string { return &d.CommandTopic }),
		str("payload_on", "Payload that turns it on; a state payload equal to it reads as on. Default \"ON\".", func(d *MQTTDevice) *string { return &d.PayloadOn }),
		str("payload_off", "Payload that turns it off; a state payload equal to it reads as off. Default \"OFF\".", func(d *MQTTDevice) *string { return &d.PayloadOff }),
		str("payload_lock", "A lock's payload that locks it (\"lock the gate\", \"close the gate\", \"锁上大门\"); a state payload equal to it, or LOCKED, reads as locked. Default \"LOCK\". A lock needs confirm = true.", func(d *MQTTDevice) *string { return &d.PayloadLock }),
		str("payload_unlock", "A lock's payload that unlocks it (\"unlock the gate\", \"open the gate\", \"打开大门\"); a state payload equal to it, or UNLOCKED, reads as unlocked. Default \"UNLOCK\".", func(d *MQTTDevice) *string { return &d.PayloadUnlock }),
		{spec: spec{key: "mqtt.devices.confirm", kind: kindBool, doc: "Ask for a yes before commanding it (pumps, heaters, valves)."},
			set: func(d *MQTTDevice, v any) { d.Confirm = v.(bool) }},
		{spec: spec{key: "mqtt.devices.stale_after", kind: kindDuration, min: 1, max: 30 * 24 * 3600,
			doc: "A reading older than this is said to be stale (\"10m\", \"2h\"). Not set: never stale."},
			set: func(d *MQTTDevice, v any) { d.StaleAfter = v.(time.Duration) }},
		str("brightness_topic", "Topic a light's brightness goes to (\"dim the workshop light to 30 percent\"). Empty: command_topic. Setting it or brightness_payload lets Hark set the brightness.", func(d *MQTTDevice) *string { return &d.Brightness.Topic }),
		str("brightness_payload", "Payload template of a brightness command: {{value}} is replaced by the brightness, e.g. '{\"brightness\": {{value}}}'. Default: the value alone.", func(d *MQTTDevice) *string { return &d.Brightness.Payload }),
		num("brightness_min", "Value sent for 0 percent. Default 0.", 0, 65535, func(d *MQTTDevice) *float64 { return &d.Brightness.Min }),
		num("brightness_max", "Value sent for 100 percent (255 for many lights). Default 100. The percent said is scaled between the two and sent as a whole number.", 0, 65535, func(d *MQTTDevice) *float64 { return &d.Brightness.Max }),
		str("position_topic", "Topic a cover's or valve's position goes to (\"open the vent halfway\"). Empty: command_topic. Setting it or position_payload lets Hark set the position; with no command_topic, open and close send fully open and closed.", func(d *MQTTDevice) *string { return &d.Position.Topic }),
		str("position_payload", "Payload template of a position command, with {{value}}. Default: the value alone.", func(d *MQTTDevice) *string { return &d.Position.Payload }),
		num("position_closed", "Value sent for closed (0 percent open). Default 0.", 0, 65535, func(d *MQTTDevice) *float64 { return &d.Position.Min }),
		num("position_open", "Value sent for fully open (100 percent). Default 100.", 0, 65535, func(d *MQTTDevice) *float64 { return &d.Position.Max }),
		str("setpoint_topic", "Topic a thermostat's target temperature goes to (\"set the greenhouse heater to 18 degrees\"). Empty: command_topic. Setting it or setpoint_payload lets Hark set the temperature.", func(d *MQTTDevice) *string { return &d.Setpoint.Topic }),
		str("setpoint_payload", "Payload template of a setpoint command, with {{value}}. Default: the value alone.", func(d *MQTTDevice) *string { return &d.Setpoint.Payload }),
		num("setpoint_min", "Lowest temperature Hark sets, in the device's unit. Default 7. A temperature outside setpoint_min..setpoint_max is refused (and the range said), never clamped.", -100, 1000, func(d *MQTTDevice) *float64 { return &d.Setpoint.Min }),
		num("setpoint_max", "Highest temperature Hark sets. Default 35.", -100, 1000, func(d *MQTTDevice) *float64 { return &d.Setpoint.Max }),
		num("setpoint_step", "The setpoint is rounded to this step and sent with its decimals (0.5: 18.3 is sent as 18.5; 1: as 18). Default 0.5.", 0.01, 100, func(d *MQTTDevice) *float64 { return &d.Setpoint.Step }),
	}
}

// docDevice is one [[mqtt.devices]] table as found in the file.
type docDevice struct {
	line int
	keys []docDeviceKey
}

type docDeviceKey struct {
	name  string
	line  int
	value any // string, bool, int64, float64 or []string
	err   error
}

// mqttDevicesTable is the one array of tables the configuration has.
const mqttDevicesTable = "mqtt.devices"

// addDeviceKey records a key of the current [[mqtt.devices]] table.
func (d *doc) addDeviceKey(p *unstable.Parser, n *unstable.Node) {
	name, first := keyOf(n.Key())
	k := docDeviceKey{name: name, line: p.Shape(first.Raw).Start.Line}
	v := n.Value()
	if v.Kind == unstable.Array {
		var list []string
		it := v.Children()
		for it.Next() {
			if it.Node().Kind != unstable.String {
				k.err = errors.New("must be a list of names in quotes")
				break
			}
			list = append(list, string(it.Node().Data))
		}
		k.value = list
	} else {
		k.value, k.err = decodeValue(v)
	}
	dev := &d.devices[len(d.devices)-1]
	dev.keys = append(dev.keys, k)
}

// mqttDevices turns the file's [[mqtt.devices]] tables into devices, with a problem for
// each key that is unknown or wrong.
func mqttDevices(path string, devs []docDevice) ([]MQTTDevice, []Problem) {
	keys := mqttDeviceKeys()
	var names []string
	for _, k := range keys {
		names = append(names, k.name()[len("devices."):])
	}
	var out []MQTTDevice
	var probs []Problem
	for _, dd := range devs {
		dev := MQTTDevice{Where: fmt.Sprintf("%s:%d", path, dd.line)}
		seen := map[string]bool{}
		for _, dk := range dd.keys {
			where := fmt.Sprintf("%s:%d", path, dk.line)
			full := mqttDevicesTable + "." + dk.name
			i := slices.IndexFunc(keys, func(k mqttDeviceKey) bool { return k.key == full })
			if i < 0 {
				msg := fmt.Sprintf("[[mqtt.devices]] has no key %q (keys: %s)", dk.name, strings.Join(names, ", "))
				if c := closest(dk.name, names); c != "" {
					msg = fmt.Sprintf("[[mqtt.devices]] has no key %q; did you mean %q?", dk.name, c)
				}
				probs = append(probs, Problem{Where: where, Key: full, Msg: msg})
				continue
			}
			if seen[dk.name] {
				probs = append(probs, Problem{Where: where, Key: full, Msg: dk.name + " is set twice in this device"})
				continue
			}
			seen[dk.name] = true
			k := keys[i]
			v, err := dk.value, dk.err
			if err == nil && k.list {
				if _, ok := v.([]string); !ok {
					err = errors.New(`must be a list of names in quotes, like ["pump three"]`)
				}
			} else if err == nil {
				if _, isList := v.([]string); isList {
					err = errors.New("takes one value, not a list")
				} else if v, err = k.fromTOML(v); err == nil {
					err = k.check(v)
				}
			}
			if err != nil {
				probs = append(probs, Problem{Where: where, Key: full, Msg: fmt.Sprintf("%s: %v", dk.name, err)})
				continue
			}
			k.set(&dev, v)
		}
		out = append(out, dev)
	}
	return out, probs
}

// checkMQTT checks the [mqtt] section as a whole: the broker address, and each device's
// topics and payloads.
func (c *Config) checkMQTT() []Problem {
	m := c.MQTT
	var probs []Problem
	where := func(key string) string { return c.origins[key].Where }
	if m.Broker != "" {
		if msg := checkBroker(m.Broker); msg != "" {
			probs = append(probs, Problem{Where: where("mqtt.broker"), Key: "mqtt.broker", Msg: "mqtt.broker = " + quote(m.Broker) + ": " + msg})
		}
	} else if len(m.Devices) > 0 {
		probs = append(probs, Problem{Where: m.Devices[0].Where, Key: "mqtt.broker", Msg: "[[mqtt.devices]] are declared but mqtt.broker is not set"})
	}
	if (m.CertFile == "") != (m.KeyFile == "") {
		probs = append(probs, Problem{Where: where("mqtt.cert_file") + where("mqtt.key_file"), Key: "mqtt.cert_file", Msg: "mqtt.cert_file and mqtt.key_file go together: set both or neither"})
	}
	seen := map[string]string{}
	for _, d := range m.Devices {
		bad := func(msg string) {
			probs = append(probs, Problem{Where: d.Where, Key: "mqtt.devices", Msg: fmt.Sprintf("[[mqtt.devices]] %s: %s", quote(d.Name), msg)})
		}
		if strings.TrimSpace(d.Name) == "" {
			probs = append(probs, Problem{Where: d.Where, Key: "mqtt.devices", Msg: "[[mqtt.devices]] needs a name"})
		}
		levels := []struct {
			key string
			l   MQTTLevel
		}{{"brightness", d.Brightness}, {"position", d.Position}, {"setpoint", d.Setpoint}}
		declared := false
		for _, lv := range levels {
			if !lv.l.Declared() {
				continue
			}
			declared = true
			if lv.l.Topic == "" && d.CommandTopic == "" {
				bad(lv.key + "_payload needs a " + lv.key + "_topic or a command_topic to be sent to")
			}
			if lv.l.Payload != "" && len(valueTemplate.FindAllString(lv.l.Payload, -1)) != 1 {
				bad(lv.key + "_payload " + quote(lv.l.Payload) + " must hold {{value}} once, where the value goes")
			}
		}
		if d.StateTopic == "" && d.CommandTopic == "" && !declared {
			bad("needs a state_topic (to read it), a command_topic (to command it), or both")
		}
		for _, t := range []struct{ key, topic string }{{"state_topic", d.StateTopic}, {"command_topic", d.CommandTopic},
			{"brightness_topic", d.Brightness.Topic}, {"position_topic", d.Position.Topic}, {"setpoint_topic", d.Setpoint.Topic}} {
			if strings.ContainsAny(t.topic, "+#") {
				bad(t.key + " " + quote(t.topic) + " has a wildcard (+ or #): name one device's topic")
			} else if strings.HasPrefix(t.topic, "$") {
				bad(t.key + " " + quote(t.topic) + " starts with $: such topics belong to the broker")
			}
		}
		lock, unlock := d.PayloadLock, d.PayloadUnlock
		switch {
		case d.Kind != "lock" && (lock != "" || unlock != ""):
			bad("payload_lock and payload_unlock are a lock's: set kind = \"lock\", or use payload_on and payload_off")
		case d.Kind == "lock" && (d.PayloadOn != "" || d.PayloadOff != ""):
			bad("a lock takes payload_lock and payload_unlock, not payload_on and payload_off")
		case d.Kind == "lock" && d.CommandTopic != "" && !d.Confirm:
			bad("a lock is commanded only after a yes: set confirm = true")
		case d.Kind == "lock" && d.CommandTopic != "" && strings.EqualFold(cmp.Or(lock, "LOCK"), cmp.Or(unlock, "UNLOCK")):
			bad("payload_lock and payload_unlock are both " + quote(cmp.Or(lock, "LOCK")) + ": Hark could not tell locking from unlocking")
		case d.Kind == "lock" && d.CommandTopic == "" && (lock != "" || unlock != ""):
			bad("payload_lock and payload_unlock need a command_topic to be sent to")
		}
		on, off := d.PayloadOn, d.PayloadOff
		if d.CommandTopic == "" && (on != "" || off != "") {
			bad("payload_on and payload_off need a command_topic to be sent to")
		}
		if on == "" {
			on = "ON"
		}
		if off == "" {
			off = "OFF"
		}
		if d.CommandTopic != "" && d.Kind != "lock" && strings.EqualFold(on, off) {
			bad("payload_on and payload_off are both " + quote(on) + ": Hark could not tell on from off")
		}
		if d.JSONPath != "" && d.StateTopic == "" {
			bad("json_path needs a state_topic to read")
		}
		if strings.ContainsAny(d.JSONPath, " \t") {
			bad("json_path " + quote(d.JSONPath) + " has spaces: write a dotted path like sensors.soil.moisture")
		}
		if d.StaleAfter > 0 && d.StateTopic == "" {
			bad("stale_after needs a state_topic: only readings grow stale")
		}
		if d.Kind == "sensor" && d.CommandTopic != "" {
			bad("a sensor has no command_topic: make it a switch (or another kind) to command it")
		}
		for _, n := range append([]string{d.Name}, d.Aliases...) {
			k := strings.ToLower(strings.TrimSpace(n))
			if k == "" {
				continue
			}
			if other, ok := seen[k]; ok {
				bad(fmt.Sprintf("the name %s is also used by the device at %s", quote(n), other))
			}
			seen[k] = d.Where
		}
	}
	return probs
}

// valueTemplate is where a level command's value goes in its payload template.
var valueTemplate = regexp.MustCompile(`\{\{\s*value\s*\}\}`)

// checkBroker returns what is wrong with a broker address, or "".
func checkBroker(b string) string {
	u, err := url.Parse(b)
	switch {
	case err != nil:
		return "must be an address like mqtt://192.168.1.20:1883"
	case u.User != nil:
		return "must not hold a user name or password: use mqtt.username and mqtt.password_file"
	case !slices.Contains([]string{"mqtt", "mqtts", "tcp", "ssl", "tls"}, strings.ToLower(u.Scheme)):
		return "must start with mqtt:// or mqtts:// (like mqtt://192.168.1.20:1883)"
	case u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "":
		return "must be scheme://host:port and nothing more"
	}
	return ""
}

// Clone's deep copy of the devices.
func (m MQTT) clone() MQTT {
	m.Devices = slices.Clone(m.Devices)
	for i := range m.Devices {
		m.Devices[i].Aliases = slices.Clone(m.Devices[i].Aliases)
	}
	return m
}

// mqttReference is the commented [[mqtt.devices]] example of the reference file.
func mqttReference() string {
	var b strings.Builder
	b.WriteString("\n# [[mqtt.devices]]: one table per sensor or switch on the broker (repeat it for each).\n#\n")
	for _, k := range mqttDeviceKeys() {
		for _, line := range wrap(k.doc, 90) {
			b.WriteString("##  " + line + "\n")
		}
	}
	b.WriteString(`#
# [[mqtt.devices]]
#   name = "greenhouse temperature"
#   area = "greenhouse"
#   kind = "sensor"
#   unit = "°C"
#   state_topic = "greenhouse/climate"
#   json_path = "temperature"
#   stale_after = "10m"
#
# [[mqtt.devices]]
#   name = "pump 3"
#   aliases = ["pump three"]
#   area = "greenhouse"
#   kind = "pump"
#   state_topic = "greenhouse/pump3/state"
#   command_topic = "greenhouse/pump3/set"
#   confirm = true
#
# [[mqtt.devices]]
#   name = "workshop light"
#   aliases = ["车间灯"]
#   area = "workshop"
#   kind = "light"
#   command_topic = "workshop/light/set"
#   brightness_topic = "workshop/light/brightness/set"
#   brightness_max = 255
#
# [[mqtt.devices]]
#   name = "greenhouse heater"
#   aliases = ["温室加热器"]
#   area = "greenhouse"
#   kind = "climate"
#   setpoint_topic = "greenhouse/heater/setpoint/set"
#   setpoint_payload = '{"target": {{value}}}'
#   setpoint_min = 5
#   setpoint_max = 30
#   confirm = true
`)
	return b.String()
}

// mqttMarkdown documents [[mqtt.devices]] for docs/config.md.
func mqttMarkdown() string {
	var b strings.Builder
	b.WriteString("\n## [[mqtt.devices]]\n\nOne table per sensor or switch on the broker; Hark reads and commands nothing else. " +
		"Set only in the file (no environment variables). A device needs a `name` and a `state_topic`, a `command_topic` or both.\n\n" +
		"| key | values | |\n|---|---|---|\n")
	for _, k := range mqttDeviceKeys() {
		values := map[valueKind]string{kindString: "text", kindBool: "true, false", kindDuration: "duration", kindFloat: "number"}[k.kind]
		if k.kind == kindChoice {
			values = strings.Join(k.choices, ", ")
		}
		if k.list {
			values = "list of text"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", k.name()[len("devices."):], values, k.doc)
	}
	return b.String()
}

// showDevices writes the devices as [[mqtt.devices]] tables for `hark config show`, each
// with the file and line it came from.
func (m MQTT) showDevices() string {
	var b strings.Builder
	for _, d := range m.Devices {
		fmt.Fprintf(&b, "\n[[mqtt.devices]]%-24s # file %s\n", "", d.Where)
		kv := func(k, lit string) { fmt.Fprintf(&b, "%s = %s\n", k, lit) }
		str := func(k, v string) {
			if v != "" {
				kv(k, quote(v))
			}
		}
		str("name", d.Name)
		if len(d.Aliases) > 0 {
			var q []string
			for _, a := range d.Aliases {
				q = append(q, quote(a))
			}
			kv("aliases", "["+strings.Join(q, ", ")+"]")
		}
		str("area", d.Area)
		str("kind", d.Kind)
		str("unit", d.Unit)
		str("state_topic", d.StateTopic)
		str("json_path", d.JSONPath)
		str("command_topic", d.CommandTopic)
		str("payload_on", d.PayloadOn)
		str("payload_off", d.PayloadOff)
		str("payload_lock", d.PayloadLock)
		str("payload_unlock", d.PayloadUnlock)
		if d.Confirm {
			kv("confirm", "true")
		}
		if d.StaleAfter > 0 {
			kv("stale_after", quote(formatDuration(d.StaleAfter)))
		}
		for _, lv := range []struct {
			key, lo, hi string
			l           MQTTLevel
		}{{"brightness", "min", "max", d.Brightness}, {"position", "closed", "open", d.Position}, {"setpoint", "min", "max", d.Setpoint}} {
			str(lv.key+"_topic", lv.l.Topic)
			str(lv.key+"_payload", lv.l.Payload)
			for _, n := range []struct {
				k string
				v float64
			}{{lv.lo, lv.l.Min}, {lv.hi, lv.l.Max}, {"step", lv.l.Step}} {
				if n.v != 0 {
					kv(lv.key+"_"+n.k, strconv.FormatFloat(n.v, 'f', -1, 64))
				}
			}
		}
	}
	return b.String()
}
