package hasstest

import (
	"context"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// haVersion is the version the fake says it is.
const haVersion = "2026.11.0"

// Area is one entry of the area registry (the fields Hark reads, as Home Assistant names them).
type Area struct {
	AreaID  string   `json:"area_id"`
	Name    string   `json:"name"`
	Aliases []string `json:"aliases"`
	FloorID *string  `json:"floor_id"`
}

// Entity is one entry of the entity registry; a nil AreaID means the entity takes its
// device's area.
type Entity struct {
	EntityID string  `json:"entity_id"`
	AreaID   *string `json:"area_id"`
	DeviceID *string `json:"device_id"`
	Name     *string `json:"name"`
	Platform string  `json:"platform"`
}

// Device is one entry of the device registry.
type Device struct {
	ID     string  `json:"id"`
	AreaID *string `json:"area_id"`
	Name   string  `json:"name"`
}

// Registry is what the WebSocket API's registry commands list.
type Registry struct {
	Areas    []Area
	Entities []Entity
	Devices  []Device
}

// MuteWebSocket makes /api/websocket accept connections and then say nothing (true), as a
// proxy that takes the upgrade but does not pass the WebSocket on; REST answers as before.
func (s *Server) MuteWebSocket(on bool) {
	s.mu.Lock()
	s.wsMute = on
	s.mu.Unlock()
}

// SetRegistry sets the registries the WebSocket API lists.
func (s *Server) SetRegistry(r Registry) {
	s.mu.Lock()
	s.reg = r
	s.mu.Unlock()
}

// wsMsg is a WebSocket API message, in either direction.
type wsMsg struct {
	ID          int            `json:"id,omitempty"`
	Type        string         `json:"type"`
	AccessToken string         `json:"access_token,omitempty"`
	HAVersion   string         `json:"ha_version,omitempty"`
	Message     string         `json:"message,omitempty"`
	Success     *bool          `json:"success,omitempty"`
	Result      any            `json:"result,omitempty"`
	Error       map[string]any `json:"error,omitempty"`
}

// serveWebSocket is /api/websocket: the authentication phase, then the command phase.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	s.mu.Lock()
	mute := s.wsMute
	s.mu.Unlock()
	if mute {
		_, _, _ = conn.Read(ctx) // until the client gives up
		return
	}
	if wsjson.Write(ctx, conn, wsMsg{Type: "auth_required", HAVersion: haVersion}) != nil {
		return
	}
	var m wsMsg
	if wsjson.Read(ctx, conn, &m) != nil {
		return
	}
	ok := m.Type == "auth" && m.AccessToken == s.Token
	s.record(Call{Method: "WS", Path: m.Type, Auth: ok})
	if !ok {
		_ = wsjson.Write(ctx, conn, wsMsg{Type: "auth_invalid", Message: "Invalid access token or password"})
		conn.Close(websocket.StatusPolicyViolation, "")
		return
	}
	if wsjson.Write(ctx, conn, wsMsg{Type: "auth_ok", HAVersion: haVersion}) != nil {
		return
	}
	last := 0
	for {
		var q wsMsg
		if wsjson.Read(ctx, conn, &q) != nil {
			return
		}
		s.record(Call{Method: "WS", Path: q.Type, Auth: true})
		yes, no := true, false
		res := wsMsg{ID: q.ID, Type: "result", Success: &yes}
		s.mu.Lock()
		reg := s.reg
		s.mu.Unlock()
		switch {
		case q.ID <= last:
			res.Success, res.Error = &no, map[string]any{"code": "id_reuse", "message": "Identifier values have to increase."}
		case q.Type == "config/area_registry/list":
			res.Result = nonNil(reg.Areas)
		case q.Type == "config/entity_registry/list":
			res.Result = nonNil(reg.Entities)
		case q.Type == "config/device_registry/list":
			res.Result = nonNil(reg.Devices)
		default:
			res.Success, res.Error = &no, map[string]any{"code": "unknown_command", "message": "Unknown command."}
		}
		if q.ID > last {
			last = q.ID
		}
		if wsjson.Write(ctx, conn, res) != nil {
			return
		}
	}
}

// nonNil makes an empty registry a JSON list, as Home Assistant sends it.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}
