package hass

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
)

// replyWith is an HTTP transport that answers every request with status 200 and body: Home
// Assistant's reply, as hostile as the fuzzer makes it, without a socket.
type replyWith []byte

func (b replyWith) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(b)), Request: r}, nil
}

// FuzzStates: whatever /api/states answers, reading the states neither panics nor lets in an
// entity that was not exposed, and every state read turns into an entity with a name and a
// State (the shared layer's values).
func FuzzStates(f *testing.F) {
	f.Add([]byte(`[{"entity_id":"light.kitchen","state":"on","attributes":{"friendly_name":"Kitchen Light","brightness":255},"last_changed":"2026-12-05T10:00:00+00:00"}]`))
	f.Add([]byte(`[{"entity_id":"sensor.greenhouse_temperature","state":"21.5","attributes":{"unit_of_measurement":"°C","friendly_name":7}},{"entity_id":"switch.not_exposed","state":"off"}]`))
	f.Add([]byte(`[{"entity_id":"lock.front_door","state":"unavailable","attributes":null,"last_updated":"not a time"}]`))
	f.Add([]byte(`{"message":"not a list"}`))
	f.Add([]byte(`[{"entity_id":"light.kitchen","attributes":{"friendly_name":"\u0000\ud800"}}, null, 3]`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := New(Options{URL: "http://ha.invalid:8123", Token: token, Entities: exposed, HTTP: &http.Client{Transport: replyWith(body)}})
		if err != nil {
			t.Fatal(err)
		}
		states, err := c.load(context.Background())
		if err != nil {
			if states != nil {
				t.Errorf("states %v with the error %v", states, err)
			}
			return
		}
		for id, st := range states {
			if _, ok := c.exposed[id]; !ok {
				t.Errorf("%q was not exposed, yet it was read", id)
			}
			e := c.entity(id, st)
			if e.ID != id || e.Name == "" {
				t.Errorf("entity %+v for %q", e, id)
			}
			s := toState(st)
			if s.Value != st.State || (s.Stale != (st.State == "unavailable" || st.State == "unknown")) {
				t.Errorf("state %+v from %+v", s, st)
			}
		}
	})
}
