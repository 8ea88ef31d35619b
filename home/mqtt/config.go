package mqtt

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"hark/home"
)

// Config is one broker and the devices Hark may read and command through it.
type Config struct {
	Broker   string // mqtt://host:1883 or mqtts://host:8883 (tcp://, ssl:// and tls:// too)
	ClientID string // "" = hark-<host name>
	Username string // "" = connect without a user name
	Password string // the password itself (read from password_file by ReadPassword)
	CAFile   string // PEM certificates trusted for mqtts:// ("" = the system's)
	CertFile string // a client certificate (PEM), for brokers that require one
	KeyFile  string // its private key (PEM)
	Devices  []Device
}

// Device is one sensor or actuator on the broker, as the configuration declares it. Hark
// reads nothing and commands nothing that is not declared.
type Device struct {
	Name         string    // the name people say; also the entity's id
	Aliases      []string  // other names people say
	Area         string    // "greenhouse", "workshop"
	Kind         home.Kind // sensor, binary_sensor, switch, light, fan, valve, pump, lock...
	Unit         string    // the reading's unit ("°C", "%")
	StateTopic   string    // where the device publishes its reading or state ("" = none)
	JSONPath     string    // where the value is in a JSON payload ("" = the whole payload)
	CommandTopic string    // where commands go ("" = a read-only sensor)
	// PayloadOn and PayloadOff turn it on and off ("" = "ON", "OFF"). A lock's on is open,
	// as [home.TurnOn] says: PayloadOn unlocks it and PayloadOff locks it ("" = "UNLOCK",
	// "LOCK", Home Assistant's MQTT lock payloads).
	PayloadOn  string
	PayloadOff string
	Confirm    bool // a command needs a yes first (the shared layer asks)
	StaleAfter time.Duration
	// Brightness, Position and Setpoint are the device's level commands, each published to
	// its own declared topic; nil: the device does not take it.
	Brightness *Setter // a light's brightness, said in percent
	Position   *Setter // a cover's or valve's position, said in percent open
	Setpoint   *Setter // a thermostat's target temperature, said in the device's unit
}

// Setter is one level command: where it goes, its payload, and the range it takes.
type Setter struct {
	Topic string // where it is published ("" = the device's command_topic)
	// Payload is the template of the payload: {{value}} is replaced by the value ("" =
	// "{{value}}", the value alone). For example {"brightness": {{value}}}.
	Payload string
	// Min and Max are the range sent to the device. For brightness and position the percent
	// said is scaled onto it (0 percent = Min, 100 percent = Max: a 0..255 light, a cover
	// whose closed is 100); for a setpoint it is the range of degrees accepted, and a value
	// outside it is refused, never clamped.
	Min, Max float64
	// Step rounds a setpoint (0.5: 18.3 becomes 18.5), and gives the payload its decimals.
	// Brightness and position are whole numbers.
	Step float64
}

// Defaults of the level commands, as Home Assistant's MQTT light, cover and climate use them.
const (
	DefaultSetpointMin  = 7.0
	DefaultSetpointMax  = 35.0
	DefaultSetpointStep = 0.5
	valuePlaceholder    = "{{value}}"
)

// placeholder matches {{value}}, with or without spaces inside the braces.
var placeholder = regexp.MustCompile(`\{\{\s*value\s*\}\}`)

// WithDefaults is the setter with its empty fields filled for op: brightness and position
// 0..100, a setpoint 7..35 °C in steps of 0.5.
func (s Setter) WithDefaults(op home.Op) Setter {
	if s.Payload == "" {
		s.Payload = valuePlaceholder
	}
	if s.Min == 0 && s.Max == 0 {
		s.Min, s.Max = 0, 100
		if op == home.SetTemperature {
			s.Min, s.Max = DefaultSetpointMin, DefaultSetpointMax
		}
	}
	if op == home.SetTemperature && s.Step == 0 {
		s.Step = DefaultSetpointStep
	}
	return s
}

// setters are the device's level commands with their operations and config key prefixes.
func (d Device) setters() []struct {
	op  home.Op
	key string
	s   *Setter
} {
	type one = struct {
		op  home.Op
		key string
		s   *Setter
	}
	return []one{{home.SetBrightness, "brightness", d.Brightness}, {home.SetPosition, "position", d.Position}, {home.SetTemperature, "setpoint", d.Setpoint}}
}

// setter is the device's level command for op, with its defaults (nil: none).
func (d Device) setter(op home.Op) *Setter {
	for _, x := range d.setters() {
		if x.op == op && x.s != nil {
			s := x.s.WithDefaults(op)
			if s.Topic == "" {
				s.Topic = d.CommandTopic
			}
			return &s
		}
	}
	return nil
}

// Defaults for a switch's payloads, as Home Assistant's MQTT integration and Tasmota use them,
// and for a lock's, with the states a lock reports (Home Assistant's MQTT lock).
const (
	DefaultPayloadOn     = "ON"
	DefaultPayloadOff    = "OFF"
	DefaultPayloadUnlock = "UNLOCK"
	DefaultPayloadLock   = "LOCK"
	StateUnlocked        = "UNLOCKED"
	StateLocked          = "LOCKED"
)

// Validate checks the configuration and returns every problem, each worded for the person
// who wrote the file.
func (c Config) Validate() error {
	var errs []error
	if _, err := brokerAddress(c.Broker); err != nil {
		errs = append(errs, err)
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, errors.New("mqtt: cert_file and key_file go together: set both or neither"))
	}
	seen := map[string]bool{}
	for i, d := range c.Devices {
		for _, err := range d.problems() {
			errs = append(errs, fmt.Errorf("mqtt.devices #%d (%q): %w", i+1, d.Name, err))
		}
		for _, n := range append([]string{d.Name}, d.Aliases...) {
			k := strings.ToLower(strings.TrimSpace(n))
			if k == "" {
				continue
			}
			if seen[k] {
				errs = append(errs, fmt.Errorf("mqtt.devices #%d: the name %q is used by another device", i+1, n))
			}
			seen[k] = true
		}
	}
	return errors.Join(errs...)
}

func (d Device) problems() []error {
	var errs []error
	if strings.TrimSpace(d.Name) == "" {
		errs = append(errs, errors.New("a device needs a name"))
	}
	if d.StateTopic == "" && d.CommandTopic == "" && d.Brightness == nil && d.Position == nil && d.Setpoint == nil {
		errs = append(errs, errors.New("a device needs a state_topic (to read it), a command_topic (to command it), or both"))
	}
	for _, x := range d.setters() {
		if x.s == nil {
			continue
		}
		for _, err := range x.s.problems(x.op) {
			errs = append(errs, fmt.Errorf("%s: %w", x.key, err))
		}
		if x.s.Topic == "" && d.CommandTopic == "" {
			errs = append(errs, fmt.Errorf("%s_topic is not set and there is no command_topic to send it to", x.key))
		}
		if err := checkTopic(x.s.Topic); err != nil {
			errs = append(errs, fmt.Errorf("%s_topic %q: %w", x.key, x.s.Topic, err))
		}
	}
	for _, t := range []struct{ key, topic string }{{"state_topic", d.StateTopic}, {"command_topic", d.CommandTopic}} {
		if err := checkTopic(t.topic); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", t.key, t.topic, err))
		}
	}
	if d.CommandTopic == "" && (d.PayloadOn != "" || d.PayloadOff != "") {
		errs = append(errs, errors.New("payload_on and payload_off need a command_topic to be sent to"))
	}
	if d.Kind == "lock" && d.CommandTopic != "" && !d.Confirm {
		errs = append(errs, errors.New("a lock is commanded only after a yes: set confirm"))
	}
	on, off := d.payloads()
	if d.CommandTopic != "" && on == off {
		errs = append(errs, fmt.Errorf("payload_on and payload_off are both %q: Hark could not tell on from off", on))
	}
	if d.JSONPath != "" && d.StateTopic == "" {
		errs = append(errs, errors.New("json_path needs a state_topic to read"))
	}
	if strings.ContainsAny(d.JSONPath, " \t\n") {
		errs = append(errs, fmt.Errorf("json_path %q has spaces: write a path like sensors.soil.moisture", d.JSONPath))
	}
	if d.StaleAfter < 0 {
		errs = append(errs, errors.New("stale_after cannot be negative"))
	}
	if d.StaleAfter > 0 && d.StateTopic == "" {
		errs = append(errs, errors.New("stale_after needs a state_topic: only readings grow stale"))
	}
	return errs
}

// problems are what is wrong with a level command's payload and range.
func (s Setter) problems(op home.Op) []error {
	var errs []error
	if s.Payload != "" && len(placeholder.FindAllStringIndex(s.Payload, -1)) != 1 {
		errs = append(errs, fmt.Errorf("the payload template %q must hold {{value}} once", s.Payload))
	}
	w := s.WithDefaults(op)
	if w.Min == w.Max {
		errs = append(errs, fmt.Errorf("min and max are both %v", w.Min))
	}
	if op == home.SetTemperature && w.Min > w.Max {
		errs = append(errs, fmt.Errorf("min %v is above max %v", w.Min, w.Max))
	}
	if w.Step < 0 || (w.Step > 0 && w.Step > math.Abs(w.Max-w.Min)) {
		errs = append(errs, fmt.Errorf("step %v does not fit between min and max", w.Step))
	}
	return errs
}

// payloads are the device's on and off payloads with their defaults.
func (d Device) payloads() (on, off string) {
	on, off = d.PayloadOn, d.PayloadOff
	if d.Kind == "lock" {
		return cmp.Or(on, DefaultPayloadUnlock), cmp.Or(off, DefaultPayloadLock)
	}
	return cmp.Or(on, DefaultPayloadOn), cmp.Or(off, DefaultPayloadOff)
}

// checkTopic accepts "" and plain topics: no wildcards (Hark reads and commands single
// devices, and a command must never fan out), no NUL, at most MQTT's 65535 bytes.
func checkTopic(t string) error {
	switch {
	case t == "":
		return nil
	case strings.ContainsAny(t, "+#"):
		return errors.New("wildcards (+ and #) are not allowed: name one device's topic")
	case strings.ContainsRune(t, 0):
		return errors.New("a topic cannot contain a NUL character")
	case strings.HasPrefix(t, "$"):
		return errors.New("topics starting with $ belong to the broker")
	case len(t) > 65535:
		return errors.New("longer than MQTT allows")
	}
	return nil
}

// brokerAddress checks the broker URL and returns it in the form the client library dials,
// with the scheme's default port filled in.
func brokerAddress(broker string) (string, error) {
	if broker == "" {
		return "", errors.New("mqtt: broker is not set (e.g. mqtt://192.168.1.20:1883)")
	}
	u, err := url.Parse(broker)
	if err != nil {
		return "", fmt.Errorf("mqtt: broker %q is not a URL (e.g. mqtt://192.168.1.20:1883)", broker)
	}
	if u.User != nil {
		return "", errors.New("mqtt: broker must not hold a user name or password: use mqtt.username and mqtt.password_file")
	}
	var scheme, port string
	switch strings.ToLower(u.Scheme) {
	case "mqtt", "tcp":
		scheme, port = "tcp", "1883"
	case "mqtts", "ssl", "tls":
		scheme, port = "ssl", "8883"
	default:
		return "", fmt.Errorf("mqtt: broker %q: the scheme must be mqtt:// or mqtts:// (tcp://, ssl://, tls://)", broker)
	}
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", fmt.Errorf("mqtt: broker %q must be scheme://host:port and nothing more", broker)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	return scheme + "://" + net.JoinHostPort(u.Hostname(), port), nil
}

// ReadPassword reads the broker password from the first line of path. Like every secret Hark
// reads, the file must not be readable by everyone.
func ReadPassword(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("MQTT password file: %w", err)
	}
	if st.Mode().Perm()&0o004 != 0 {
		return "", fmt.Errorf("MQTT password file %s is readable by everyone (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("MQTT password file: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimRight(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("MQTT password file %s is empty", path)
	}
	return pw, nil
}
