// Package hasstest is a stand-in Home Assistant for tests: an HTTP server on a loopback port
// that follows Home Assistant's documented REST API (developers.home-assistant.io, "REST API")
// for the parts Hark uses, and records every call.
//
//   - Every endpoint, /api/ included, needs the header "Authorization: Bearer TOKEN"; without
//     it the answer is 401 "401: Unauthorized".
//   - GET /api/ answers {"message": "API running."}.
//   - GET /api/states lists state objects (entity_id, state, attributes, last_changed,
//     last_updated); GET /api/states/<entity_id> answers one, or 404 {"message": "Entity not
//     found."}.
//   - POST /api/services/<domain>/<service> with a JSON body ({"entity_id": ...}) carries the
//     service out on the fake devices and answers the list of states that changed; a body that
//     is not JSON is 400, an unknown service 400.
//
// It also serves the documented WebSocket API (developers.home-assistant.io, "WebSocket API")
// at /api/websocket, for the registries the REST API does not give (websocket.go):
//
//   - on connecting the server sends {"type": "auth_required", "ha_version": ...}; the client
//     sends {"type": "auth", "access_token": TOKEN}; the server answers {"type": "auth_ok",
//     "ha_version": ...}, or {"type": "auth_invalid", "message": "Invalid access token or
//     password"} and closes;
//   - then each command {"id": N, "type": ...} is answered {"id": N, "type": "result",
//     "success": true, "result": ...}: config/area_registry/list, config/entity_registry/list
//     and config/device_registry/list list what SetRegistry gave; an unknown command is
//     answered success false with error code "unknown_command", and an id that does not
//     increase with "id_reuse".
//
// Hang makes it stop answering (a Home Assistant that is down behind a live address);
// MuteWebSocket silences the WebSocket alone.
//
// # Concurrency properties
//
// A [*Server] may be used from any goroutine; its handler runs on net/http's.
package hasstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// State is one fake entity.
type State struct {
	EntityID    string         `json:"entity_id"`
	State       string         `json:"state"`
	Attributes  map[string]any `json:"attributes"`
	LastChanged time.Time      `json:"last_changed"`
	LastUpdated time.Time      `json:"last_updated"`
	Context     map[string]any `json:"context"`
}

// Call is one request the server received.
type Call struct {
	Method, Path string
	Auth         bool           // it carried the right token
	Body         map[string]any // a service call's data
}

// Server is the fake Home Assistant.
type Server struct {
	URL   string
	Token string

	srv    *httptest.Server
	mu     sync.Mutex
	states map[string]*State
	order  []string
	calls  []Call
	hang   chan struct{} // closed: answer again
	hung   bool
	reg    Registry // the registries the WebSocket API lists
	wsMute bool     // the WebSocket says nothing (MuteWebSocket)
}

// Start serves states on a loopback port until the test ends.
func Start(t testing.TB, token string, states ...State) *Server {
	s := &Server{Token: token, states: map[string]*State{}}
	for _, st := range states {
		st := st
		if st.Attributes == nil {
			st.Attributes = map[string]any{}
		}
		if st.LastUpdated.IsZero() {
			st.LastUpdated = time.Now().UTC()
		}
		if st.LastChanged.IsZero() {
			st.LastChanged = st.LastUpdated
		}
		s.states[st.EntityID] = &st
		s.order = append(s.order, st.EntityID)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(func() {
		s.Hang(false)
		s.srv.Close()
	})
	return s
}

// Close stops the server: connections are refused from now on.
func (s *Server) Close() {
	s.Hang(false)
	s.srv.Close()
}

// Hang makes the server accept requests and never answer them (true), or answer again.
func (s *Server) Hang(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on && !s.hung {
		s.hang, s.hung = make(chan struct{}), true
	}
	if !on && s.hung {
		close(s.hang)
		s.hung = false
	}
}

// Calls returns the calls so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ServiceCalls returns the service calls so far, as "domain.service entity_id".
func (s *Server) ServiceCalls() []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Method == http.MethodPost && strings.HasPrefix(c.Path, "/api/services/") {
			out = append(out, c)
		}
	}
	return out
}

// Get returns an entity's current fake state.
func (s *Server) Get(id string) (State, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.states[id]
	if !ok {
		return State{}, false
	}
	return *st, true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	auth := r.Header.Get("Authorization") == "Bearer "+s.Token
	c := Call{Method: r.Method, Path: r.URL.Path, Auth: auth}
	s.mu.Lock()
	hang := s.hang
	hung := s.hung
	s.mu.Unlock()
	if hung {
		select {
		case <-hang:
		case <-r.Context().Done():
			return
		}
	}
	if r.URL.Path == "/api/websocket" {
		s.serveWebSocket(w, r) // authenticated inside, by its auth message
		return
	}
	if r.Method == http.MethodPost && len(body) > 0 {
		_ = json.Unmarshal(body, &c.Body)
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	if !auth {
		// Home Assistant answers a missing or wrong token with a plain-text 401.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "401: Unauthorized")
		return
	}
	path := r.URL.Path
	switch {
	case path == "/api/" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]string{"message": "API running."})
	case path == "/api/states" && r.Method == http.MethodGet:
		s.mu.Lock()
		var all []State
		for _, id := range s.order {
			all = append(all, *s.states[id])
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, all)
	case strings.HasPrefix(path, "/api/states/") && r.Method == http.MethodGet:
		st, ok := s.Get(strings.TrimPrefix(path, "/api/states/"))
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Entity not found."})
			return
		}
		writeJSON(w, http.StatusOK, st)
	case strings.HasPrefix(path, "/api/services/") && r.Method == http.MethodPost:
		dom, service, ok := strings.Cut(strings.TrimPrefix(path, "/api/services/"), "/")
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not found"})
			return
		}
		var data map[string]any
		if len(body) > 0 && json.Unmarshal(body, &data) != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Data should be valid JSON."})
			return
		}
		changed, err := s.apply(dom, service, data)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, changed)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not found"})
	}
}

// services are the services the fake knows, and the state each leaves.
var services = map[string]map[string]string{
	"light":               {"turn_on": "on", "turn_off": "off", "toggle": "~"},
	"switch":              {"turn_on": "on", "turn_off": "off", "toggle": "~"},
	"fan":                 {"turn_on": "on", "turn_off": "off", "toggle": "~"},
	"input_boolean":       {"turn_on": "on", "turn_off": "off", "toggle": "~"},
	"media_player":        {"turn_on": "on", "turn_off": "off", "toggle": "~"},
	"cover":               {"open_cover": "open", "close_cover": "closed", "toggle": "~", "set_cover_position": "="},
	"lock":                {"lock": "locked", "unlock": "unlocked"},
	"alarm_control_panel": {"alarm_arm_away": "armed_away", "alarm_disarm": "disarmed"},
	"climate":             {"set_temperature": "=", "turn_on": "heat", "turn_off": "off"},
	"scene":               {"turn_on": "="},
	"script":              {"turn_on": "="},
}

var opposite = map[string]string{"on": "off", "off": "on", "open": "closed", "closed": "open"}

func (s *Server) apply(dom, service string, data map[string]any) ([]State, error) {
	next, ok := services[dom][service]
	if !ok {
		return nil, fmt.Errorf("Service %s.%s not found.", dom, service)
	}
	var ids []string
	switch v := data["entity_id"].(type) {
	case string:
		ids = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				ids = append(ids, s)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var changed []State
	now := time.Now().UTC()
	for _, id := range ids {
		st, ok := s.states[id]
		if !ok || !strings.HasPrefix(id, dom+".") {
			continue // Home Assistant ignores entities it does not have
		}
		before := st.State
		switch next {
		case "~":
			if o, ok := opposite[st.State]; ok {
				st.State = o
			}
		case "=":
		default:
			st.State = next
		}
		if v, ok := data["brightness_pct"].(float64); ok {
			st.Attributes["brightness"] = int(v*255/100 + 0.5)
			if v == 0 {
				st.State = "off"
			}
		}
		for _, k := range []string{"rgb_color", "color_name"} {
			if v, ok := data[k]; ok {
				st.Attributes[k] = v
			}
		}
		if v, ok := data["position"].(float64); ok {
			st.Attributes["current_position"] = int(v)
			st.State = map[bool]string{true: "closed", false: "open"}[v == 0]
		}
		if v, ok := data["temperature"].(float64); ok {
			st.Attributes["temperature"] = v
		}
		st.LastUpdated = now
		if st.State != before {
			st.LastChanged = now
		}
		changed = append(changed, *st)
	}
	return changed, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
