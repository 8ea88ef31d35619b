package mqtt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	sensor := &Device{Name: "t", Kind: "sensor", StateTopic: "t"}
	jsonSensor := &Device{Name: "t", Kind: "sensor", StateTopic: "t", JSONPath: "sensors.soil.moisture"}
	listSensor := &Device{Name: "t", Kind: "sensor", StateTopic: "t", JSONPath: "values.1"}
	pump := &Device{Name: "p", Kind: "pump", StateTopic: "p", CommandTopic: "p/set"}
	fan := &Device{Name: "f", Kind: "fan", StateTopic: "f", CommandTopic: "f/set", PayloadOn: "1", PayloadOff: "0"}
	gate := &Device{Name: "g", Kind: "lock", StateTopic: "g", CommandTopic: "g/set", Confirm: true}
	zgate := &Device{Name: "g", Kind: "lock", StateTopic: "g", JSONPath: "state", CommandTopic: "g/set", PayloadOn: `{"state": "UNLOCK"}`, PayloadOff: `{"state": "LOCK"}`, Confirm: true}
	for _, tc := range []struct {
		name    string
		d       *Device
		payload string
		want    string
		wantErr string
	}{
		{"plain number", sensor, "21.5", "21.5", ""},
		{"plain with spaces", sensor, " 38 \r\n", "38", ""},
		{"a sensor's ON stays ON", sensor, "ON", "ON", ""},
		{"nested JSON", jsonSensor, `{"sensors": {"soil": {"moisture": 41.2}}}`, "41.2", ""},
		{"JSON string", jsonSensor, `{"sensors": {"soil": {"moisture": "dry"}}}`, "dry", ""},
		{"JSON list element", listSensor, `{"values": [1, 2, 3]}`, "2", ""},
		{"JSON path missing", jsonSensor, `{"sensors": {}}`, "", `nothing at "sensors.soil.moisture"`},
		{"not JSON", jsonSensor, `moisture=41`, "", "not JSON"},
		{"an object, not a value", jsonSensor, `{"sensors": {"soil": {"moisture": {"a": 1}}}}`, "", "not one value"},
		{"binary", sensor, "\xff\xfe", "", "not text"},
		{"too big", sensor, strings.Repeat("1", maxPayload+1), "", "more than a reading can be"},
		{"switch on", pump, "ON", "on", ""},
		{"switch off, lower case", pump, "off", "off", ""},
		{"switch other", pump, "FAULT", "FAULT", ""},
		{"numeric payloads", fan, "1", "on", ""},
		{"numeric payloads off", fan, "0", "off", ""},
		{"a lock's state", gate, "LOCKED", "locked", ""},
		{"a lock's state, unlocked", gate, "unlocked", "unlocked", ""},
		{"a lock's payload read back", gate, "UNLOCK", "unlocked", ""},
		{"a lock's other state", gate, "JAMMED", "JAMMED", ""},
		{"a JSON lock", zgate, `{"state": "LOCKED"}`, "locked", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decode(tc.d, []byte(tc.payload))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("decode = %q, %v; want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("decode = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := Device{Name: "pump", CommandTopic: "p/set"}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" = valid
	}{
		{"valid", Config{Broker: "mqtt://10.0.0.2", Devices: []Device{ok}}, ""},
		{"no broker", Config{Devices: []Device{ok}}, "broker is not set"},
		{"bad scheme", Config{Broker: "http://10.0.0.2"}, "scheme must be mqtt:// or mqtts://"},
		{"password in URL", Config{Broker: "mqtt://u:p@10.0.0.2"}, "must not hold a user name or password"},
		{"path", Config{Broker: "mqtt://10.0.0.2/x"}, "scheme://host:port and nothing more"},
		{"cert without key", Config{Broker: "mqtts://h", CertFile: "c"}, "cert_file and key_file go together"},
		{"no topics", Config{Broker: "mqtt://h", Devices: []Device{{Name: "x"}}}, "needs a state_topic"},
		{"no name", Config{Broker: "mqtt://h", Devices: []Device{{StateTopic: "x"}}}, "needs a name"},
		{"wildcard", Config{Broker: "mqtt://h", Devices: []Device{{Name: "x", CommandTopic: "a/#"}}}, "wildcards"},
		{"broker topic", Config{Broker: "mqtt://h", Devices: []Device{{Name: "x", StateTopic: "$SYS/x"}}}, "belong to the broker"},
		{"same payloads", Config{Broker: "mqtt://h", Devices: []Device{{Name: "x", CommandTopic: "a", PayloadOn: "OFF"}}}, "could not tell on from off"},
		{"payload without command", Config{Broker: "mqtt://h", Devices: []Device{{Name: "x", StateTopic: "a", PayloadOn: "1"}}}, "need a command_topic"},
		{"stale without state", Config{Broker: "mqtt://h", Devices: []Device{{Name: "x", CommandTopic: "a", StaleAfter: time.Minute}}}, "only readings grow stale"},
		{"lock without confirm", Config{Broker: "mqtt://h", Devices: []Device{{Name: "gate", Kind: "lock", CommandTopic: "g/set"}}}, "only after a yes"},
		{"lock", Config{Broker: "mqtt://h", Devices: []Device{{Name: "gate", Kind: "lock", CommandTopic: "g/set", Confirm: true}}}, ""},
		{"duplicate alias", Config{Broker: "mqtt://h", Devices: []Device{ok, {Name: "p2", Aliases: []string{"Pump"}, CommandTopic: "b"}}}, `"Pump" is used by another device`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
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
	for in, want := range map[string]string{
		"mqtt://10.0.0.2":       "tcp://10.0.0.2:1883",
		"mqtts://broker.lan":    "ssl://broker.lan:8883",
		"tcp://h:1884":          "tcp://h:1884",
		"tls://[fe80::1]:8884/": "ssl://[fe80::1]:8884",
		"MQTT://h":              "tcp://h:1883",
	} {
		if got, err := brokerAddress(in); err != nil || got != want {
			t.Errorf("brokerAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestReadPassword(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if pw, err := ReadPassword(write("ok", "s3cret with spaces \r\nsecond line\n", 0o600)); err != nil || pw != "s3cret with spaces " {
		t.Errorf("ReadPassword = %q, %v", pw, err)
	}
	for _, tc := range []struct {
		name, text string
		mode       os.FileMode
		want       string
	}{
		{"world-readable", "s3cret\n", 0o644, "readable by everyone"},
		{"empty", "\n", 0o600, "is empty"},
	} {
		_, err := ReadPassword(write(tc.name, tc.text, tc.mode))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: ReadPassword error = %v; want %q, without the password", tc.name, err, tc.want)
		}
	}
	if _, err := ReadPassword(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file: no error")
	}
}
