package mqtt

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
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
	Kind         home.Kind // sensor, binary_sensor, switch, light, fan, valve, pump...
	Unit         string    // the reading's unit ("°C", "%")
	StateTopic   string    // where the device publishes its reading or state ("" = none)
	JSONPath     string    // where the value is in a JSON payload ("" = the whole payload)
	CommandTopic string    // where commands go ("" = a read-only sensor)
	PayloadOn    string    // the payload that turns it on ("" = "ON")
	PayloadOff   string    // the payload that turns it off ("" = "OFF")
	Confirm      bool      // a command needs a yes first (the shared layer asks)
	StaleAfter   time.Duration
}

// Defaults for a switch's payloads, as Home Assistant's MQTT integration and Tasmota use them.
const (
	DefaultPayloadOn  = "ON"
	DefaultPayloadOff = "OFF"
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
	if d.StateTopic == "" && d.CommandTopic == "" {
		errs = append(errs, errors.New("a device needs a state_topic (to read it), a command_topic (to command it), or both"))
	}
	for _, t := range []struct{ key, topic string }{{"state_topic", d.StateTopic}, {"command_topic", d.CommandTopic}} {
		if err := checkTopic(t.topic); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", t.key, t.topic, err))
		}
	}
	if d.CommandTopic == "" && (d.PayloadOn != "" || d.PayloadOff != "") {
		errs = append(errs, errors.New("payload_on and payload_off need a command_topic to be sent to"))
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

// payloads are the device's on and off payloads with their defaults.
func (d Device) payloads() (on, off string) {
	on, off = d.PayloadOn, d.PayloadOff
	if on == "" {
		on = DefaultPayloadOn
	}
	if off == "" {
		off = DefaultPayloadOff
	}
	return on, off
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
