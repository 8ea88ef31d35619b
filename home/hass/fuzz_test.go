package hass

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
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

// wsPlayer is an HTTP transport that upgrades every request to a WebSocket held in memory
// (net.Pipe, no socket) and plays Home Assistant's side of it: it writes its frames, raw, one
// after another whatever the client says (what the client writes is read and dropped), then
// hangs up.
type wsPlayer struct {
	frames [][]byte
	wg     *sync.WaitGroup
}

func (p wsPlayer) RoundTrip(r *http.Request) (*http.Response, error) {
	client, server := net.Pipe()
	p.wg.Add(2)
	go func() { defer p.wg.Done(); io.Copy(io.Discard, server) }()
	go func() {
		defer p.wg.Done()
		defer server.Close()
		for _, f := range p.frames {
			if _, err := server.Write(f); err != nil {
				return
			}
		}
	}()
	sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	h := http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"},
		"Sec-Websocket-Accept": {base64.StdEncoding.EncodeToString(sum[:])}}
	return &http.Response{StatusCode: http.StatusSwitchingProtocols, Header: h, Body: client, Request: r}, nil
}

// wsFrame is one unmasked frame from the server (RFC 6455 section 5.2) with the opcode op
// (1 text, 2 binary) that says it holds size bytes (the payload's length unless it lies).
func wsFrame(op byte, payload []byte, size uint64) []byte {
	f := []byte{0x80 | op}
	switch {
	case size < 126:
		f = append(f, byte(size))
	case size <= 0xffff:
		f = append(f, 126)
		f = binary.BigEndian.AppendUint16(f, uint16(size))
	default:
		f = append(f, 127)
		f = binary.BigEndian.AppendUint64(f, size)
	}
	return append(f, payload...)
}

// Frame shapes for FuzzRegistry: bits 0-4 send that message unframed (raw bytes on the
// connection), shapeBinary sends every framed message as a binary frame, shapeHuge makes the
// first framed message claim 2^62 bytes.
const (
	shapeBinary = 1 << 5
	shapeHuge   = 1 << 6
)

// registryFrames frames Home Assistant's five messages (auth_required, the answer to auth,
// the area, entity and device lists) as shape says.
func registryFrames(msgs [5][]byte, shape uint8) [][]byte {
	var out [][]byte
	lied := false
	for i, m := range msgs {
		switch {
		case shape&(1<<i) != 0:
			out = append(out, m)
		case shape&shapeHuge != 0 && !lied:
			lied = true
			out = append(out, wsFrame(1, m, 1<<62))
		case shape&shapeBinary != 0:
			out = append(out, wsFrame(2, m, uint64(len(m))))
		default:
			out = append(out, wsFrame(1, m, uint64(len(m))))
		}
	}
	return out
}

// readRegistry reads the registries from a Home Assistant that answers with frames, and
// returns when the fake's goroutines have ended.
func readRegistry(t *testing.T, frames [][]byte) (map[string]area, error) {
	var wg sync.WaitGroup
	c, err := New(Options{URL: "http://ha.invalid:8123", Token: token, Entities: exposed,
		HTTP: &http.Client{Transport: wsPlayer{frames, &wg}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	areas, err := c.registryAreas(ctx)
	if ctx.Err() != nil {
		t.Fatalf("reading the registries hung: %v", err)
	}
	wg.Wait()
	return areas, err
}

var registrySeed = [5]string{
	`{"type":"auth_required","ha_version":"2025.1.0"}`,
	`{"type":"auth_ok","ha_version":"2025.1.0"}`,
	`{"id":1,"type":"result","success":true,"result":[{"area_id":"kitchen","name":"Kitchen","aliases":["厨房"]},{"area_id":"porch","name":"Porch"}]}`,
	`{"id":2,"type":"result","success":true,"result":[{"entity_id":"light.kitchen","area_id":"kitchen"},{"entity_id":"light.porch","device_id":"d1","area_id":null}]}`,
	`{"id":3,"type":"result","success":true,"result":[{"id":"d1","area_id":"porch"}]}`,
}

// FuzzRegistry: whatever Home Assistant's WebSocket answers (malformed frames, messages of
// the wrong type or shape, entries of the wrong types, lists of any length), reading the
// registries never panics or hangs, fails only with ErrNoRegistry or ErrUnauthorized, and
// what it reads is entities with a named area.
func FuzzRegistry(f *testing.F) {
	seed := func(shape uint8, change func(m *[5]string)) {
		m := registrySeed
		if change != nil {
			change(&m)
		}
		f.Add([]byte(m[0]), []byte(m[1]), []byte(m[2]), []byte(m[3]), []byte(m[4]), shape)
	}
	seed(0, nil)
	seed(shapeBinary, nil)
	seed(shapeHuge, nil)
	seed(1<<2, nil) // the area list unframed
	seed(0, func(m *[5]string) { m[1] = `{"type":"auth_invalid","message":"Invalid access token or password"}` })
	seed(0, func(m *[5]string) {
		m[2] = `{"id":1,"type":"result","success":false,"error":{"code":"unknown_command","message":"Unknown command."}}`
	})
	seed(0, func(m *[5]string) { m[2] = `{"id":1,"type":"result","success":true,"result":{"area_id":"kitchen"}}` })
	seed(0, func(m *[5]string) {
		m[2] = `{"id":1,"type":"result","success":true,"result":[{"area_id":7,"name":"Kitchen"},null,"porch",{"area_id":"porch","name":["Porch"]},{"area_id":"hall","name":"Hall"}]}`
	})
	seed(0, func(m *[5]string) { m[3] = `{"id":2,"type":"result","success":"yes","result":[]}` })
	seed(0, func(m *[5]string) {
		m[4] = `{"id":3,"type":"result","success":true,"result":[{"id":"d1","area_id":"porch"}`
	})
	seed(0, func(m *[5]string) { m[3] = `{"id":7,"type":"event","success":true,"result":[]}` })
	f.Fuzz(func(t *testing.T, authRequired, authReply, areas, ents, devs []byte, shape uint8) {
		got, err := readRegistry(t, registryFrames([5][]byte{authRequired, authReply, areas, ents, devs}, shape))
		if err != nil {
			if got != nil || !errors.Is(err, ErrNoRegistry) && !errors.Is(err, ErrUnauthorized) {
				t.Errorf("areas %v with the error %v", got, err)
			}
			return
		}
		if len(got) > maxRegistryEntries {
			t.Errorf("%d entities placed, more than the %d entries a list may have", len(got), maxRegistryEntries)
		}
		for id, a := range got {
			if id == "" || a.Name == "" {
				t.Errorf("entity %q placed in the area %+v", id, a)
			}
		}
	})
}
