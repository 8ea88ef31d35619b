package mqtt

import (
	"strings"
	"testing"
	"unicode/utf8"

	"hark/home"
)

// FuzzDecode: whatever a device publishes (the broker passes any bytes on), decoding it
// neither panics nor takes more than a payload may hold, nor yields anything but text; an
// actuator's on and off payloads come out as "on" and "off".
func FuzzDecode(f *testing.F) {
	f.Add("sensor", "", "", "", []byte("21.5"))
	f.Add("sensor", "temperature", "", "", []byte(`{"temperature": 21.5, "humidity": 40}`))
	f.Add("switch", "", "", "", []byte(" on \n"))
	f.Add("light", "state", "1", "0", []byte(`{"state":"1"}`))
	f.Add("valve", "a.b.#", "", "", []byte(`{"a":{"b":[1,2,3]}}`))
	f.Add("sensor", "x", "", "", []byte("\xff\xfe not text"))
	f.Add("sensor", "..", "", "", []byte(`{"":{"":""}}`))
	f.Fuzz(func(t *testing.T, kind, jsonPath, on, off string, payload []byte) {
		if !utf8.ValidString(jsonPath) {
			return // a configuration file is UTF-8 (TOML)
		}
		d := &Device{Name: "fuzzed", Kind: home.Kind(kind), JSONPath: jsonPath, PayloadOn: on, PayloadOff: off}
		v, err := decode(d, payload)
		if err != nil {
			if v != "" {
				t.Errorf("value %q with the error %v", v, err)
			}
			return
		}
		if len(payload) > maxPayload {
			t.Errorf("a %d-byte payload was taken", len(payload))
		}
		if !utf8.ValidString(v) {
			t.Errorf("value %q is not text", v)
		}
		if d.Kind != "sensor" && jsonPath == "" {
			p, pon, poff := strings.TrimSpace(string(payload)), on, off
			if pon == "" {
				pon = DefaultPayloadOn
			}
			if poff == "" {
				poff = DefaultPayloadOff
			}
			if strings.EqualFold(p, pon) && v != "on" {
				t.Errorf("payload %q (on is %q) read as %q", payload, pon, v)
			}
			if !strings.EqualFold(p, pon) && strings.EqualFold(p, poff) && v != "off" {
				t.Errorf("payload %q (off is %q) read as %q", payload, poff, v)
			}
		}
	})
}
