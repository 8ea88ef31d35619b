package hass

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// Home Assistant's REST API does not tell which area an entity is in; its WebSocket API does
// (developers.home-assistant.io, "WebSocket API": /api/websocket, auth_required, auth with the
// access token, auth_ok or auth_invalid, then commands with increasing ids answered by
// "result" messages). The registries are read with config/area_registry/list,
// config/entity_registry/list and config/device_registry/list.

// registryFor is how long the areas read from the registries are used before they are read
// again, in the background (the areas of a home rarely change; Check reads them at once).
const registryFor = 10 * time.Minute

// ErrNoRegistry wraps a failure to read the registries over the WebSocket API: the areas then
// come from the entity list alone, and everything else works.
var ErrNoRegistry = errors.New("home assistant: the areas could not be read over the WebSocket API")

// wsMessage is a message of the WebSocket API, in either direction.
type wsMessage struct {
	ID          int      `json:"id,omitempty"`
	Type        string   `json:"type"`
	AccessToken string   `json:"access_token,omitempty"`
	Success     bool     `json:"success,omitempty"`
	Error       *wsError `json:"error,omitempty"`
	Message     string   `json:"message,omitempty"` // auth_invalid's reason
}

type wsError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// The registry entries, with the fields Hark uses.
type (
	regArea struct {
		AreaID  string   `json:"area_id"`
		Name    string   `json:"name"`
		Aliases []string `json:"aliases"`
	}
	regEntity struct {
		EntityID string  `json:"entity_id"`
		AreaID   *string `json:"area_id"`
		DeviceID *string `json:"device_id"`
	}
	regDevice struct {
		ID     string  `json:"id"`
		AreaID *string `json:"area_id"`
	}
)

// area is an area of the registry: its name and the other names people give it.
type area struct {
	Name    string
	Aliases []string
}

// registryAreas reads the three registries and returns each entity's area: its own area, else
// its device's.
func (c *Client) registryAreas(ctx context.Context) (map[string]area, error) {
	u := *c.base
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	u.Path += "/api/websocket"
	conn, _, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{HTTPClient: c.http})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoRegistry, unreachable(c.base.Host, err))
	}
	defer conn.CloseNow()
	conn.SetReadLimit(16 << 20)
	var m wsMessage
	if err := wsjson.Read(ctx, conn, &m); err != nil || m.Type != "auth_required" {
		return nil, fmt.Errorf("%w: no auth_required (%v)", ErrNoRegistry, err)
	}
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "auth", AccessToken: c.token}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoRegistry, err)
	}
	m = wsMessage{}
	if err := wsjson.Read(ctx, conn, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoRegistry, err)
	}
	switch m.Type {
	case "auth_ok":
	case "auth_invalid":
		return nil, ErrUnauthorized
	default:
		return nil, fmt.Errorf("%w: answered %q to auth", ErrNoRegistry, m.Type)
	}
	// Each list is read and decoded before the next is asked for: one reply in memory at a time.
	areas, err := list[regArea](ctx, conn, 1, "config/area_registry/list")
	if err != nil {
		return nil, err
	}
	ents, err := list[regEntity](ctx, conn, 2, "config/entity_registry/list")
	if err != nil {
		return nil, err
	}
	devs, err := list[regDevice](ctx, conn, 3, "config/device_registry/list")
	if err != nil {
		return nil, err
	}
	conn.Close(websocket.StatusNormalClosure, "")
	byID := map[string]area{}
	for _, a := range areas {
		if a.AreaID != "" {
			byID[a.AreaID] = area{a.Name, a.Aliases}
		}
	}
	devArea := map[string]string{}
	for _, d := range devs {
		if d.ID != "" && d.AreaID != nil {
			devArea[d.ID] = *d.AreaID
		}
	}
	out := map[string]area{}
	for _, e := range ents {
		if e.EntityID == "" {
			continue
		}
		id := ""
		switch {
		case e.AreaID != nil && *e.AreaID != "":
			id = *e.AreaID
		case e.DeviceID != nil && *e.DeviceID != "":
			id = devArea[*e.DeviceID]
		}
		if a := byID[id]; a.Name != "" {
			out[e.EntityID] = a
		}
	}
	return out, nil
}

// command sends one command and returns its result, unread: a reply that is not a
// successful result for this command is an error wrapping ErrNoRegistry.
func command(ctx context.Context, conn *websocket.Conn, id int, typ string) (json.RawMessage, error) {
	if err := wsjson.Write(ctx, conn, wsMessage{ID: id, Type: typ}); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoRegistry, typ, err)
	}
	var res struct {
		wsMessage
		Result json.RawMessage `json:"result"`
	}
	if err := wsjson.Read(ctx, conn, &res); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoRegistry, typ, err)
	}
	switch {
	case res.ID != id || res.Type != "result":
		return nil, fmt.Errorf("%w: %s: answered %q for id %d", ErrNoRegistry, typ, res.Type, res.ID)
	case !res.Success && res.Error != nil:
		return nil, fmt.Errorf("%w: %s: %s (%s)", ErrNoRegistry, typ, res.Error.Message, res.Error.Code)
	case !res.Success:
		return nil, fmt.Errorf("%w: %s failed", ErrNoRegistry, typ)
	}
	return res.Result, nil
}

// maxRegistryEntries bounds each registry list: a large home has a few thousand entities, and
// a reply (at most the connection's 16 MB read limit) of tiny entries must not become
// millions of them in memory.
const maxRegistryEntries = 100_000

// list sends a registry's list command and reads its result one entry at a time: an entry of
// the wrong shape (a number for a name, a string for an entry) is skipped, so that one odd
// entry does not lose every area; a result that is not a list or has more than
// maxRegistryEntries entries is an error wrapping ErrNoRegistry.
func list[T any](ctx context.Context, conn *websocket.Conn, id int, typ string) ([]T, error) {
	res, err := command(ctx, conn, id, typ)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(res))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fmt.Errorf("%w: %s: the result is not a list", ErrNoRegistry, typ)
	}
	var out []T
	for n := 0; dec.More(); n++ {
		if n == maxRegistryEntries {
			return nil, fmt.Errorf("%w: %s: more than %d entries", ErrNoRegistry, typ, maxRegistryEntries)
		}
		var e T
		err := dec.Decode(&e)
		var wrongType *json.UnmarshalTypeError
		switch {
		case err == nil:
			out = append(out, e)
		case !errors.As(err, &wrongType):
			return nil, fmt.Errorf("%w: %s: %v", ErrNoRegistry, typ, err)
		}
	}
	return out, nil
}

// registryWait is how long a first read of the entities waits for the registries: a
// WebSocket that a proxy accepts but never answers must not take the 3 s a command has.
const registryWait = time.Second

// areas returns each entity's area from the registries. When they are due to be read (never
// read, older than registryFor, or force) it reads them in the background; the first time it
// waits for them at most registryWait, and with force (Check) until they are read or ctx ends.
// A failed reading keeps the areas read before (RegistryError says why).
func (c *Client) areas(ctx context.Context, force bool) map[string]area {
	c.mu.Lock()
	first := c.regAt.IsZero()
	due := first || force || c.now().Sub(c.regAt) >= registryFor
	if due && c.regBusy == nil {
		c.regBusy = make(chan struct{})
		go c.readRegistry(c.regBusy)
	}
	busy := c.regBusy
	c.mu.Unlock()
	if busy != nil && (first || force) {
		wait := registryWait
		if force {
			wait = 2 * c.timeout
		}
		t := time.NewTimer(wait)
		select {
		case <-busy:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.regAreas
}

// readRegistry reads the registries (at most twice the request timeout: they can be large)
// and keeps the areas; done is closed when it has finished.
func (c *Client) readRegistry(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*c.timeout)
	defer cancel()
	fresh, err := c.registryAreas(ctx)
	c.mu.Lock()
	c.regAt, c.regBusy = c.now(), nil
	if err != nil {
		c.regErr = err
	} else {
		c.regAreas, c.regErr = fresh, nil
	}
	c.mu.Unlock()
	close(done)
}
