// Package hass is Hark's Home Assistant connector: a [home.Backend] over Home Assistant's
// documented REST API (GET /api/, /api/states, /api/states/<entity_id>, POST
// /api/services/<domain>/<service>, with a long-lived access token in the Authorization
// header), and its WebSocket API for the areas, which the REST API does not give
// (config/area_registry/list, config/entity_registry/list, config/device_registry/list).
//
// Only the entities the person lists (an allow-list, [Exposed]) are seen or touched; locks and
// alarm panels must be marked confirm to be listed at all. Names, aliases and areas come from
// the list; a missing name from Home Assistant's friendly_name, a missing area from its
// registries (the entity's area, else its device's). States are read on demand
// and kept for a short while (Options.CacheFor), so a burst of questions costs one request.
// Every request is cut off after Options.Timeout (3 s); a server that cannot be reached, or
// does not answer in time, gives an error that wraps [home.ErrUnreachable].
//
// The token is read from a file that only its owner may read ([ReadToken]) or from the
// environment; it is sent in the Authorization header and nowhere else, and never appears in
// an error.
//
// # Concurrency properties
//
// A [*Client] may be used from any goroutine.
package hass

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"hark/home"
)

// Exposed is one entity the person lets Hark see and, unless it is read-only, change.
type Exposed struct {
	ID      string   `toml:"id"`      // "light.kitchen"
	Name    string   `toml:"name"`    // what people call it ("" = Home Assistant's friendly_name)
	Aliases []string `toml:"aliases"` // other names
	Area    string   `toml:"area"`    // "kitchen"
	Confirm bool     `toml:"confirm"` // a change needs a yes first
}

// Options configure a [Client].
type Options struct {
	URL      string // http://homeassistant.local:8123 (the API is under /api/)
	Token    string // a long-lived access token
	Entities []Exposed
	Timeout  time.Duration // each request (0: 3 s)
	CacheFor time.Duration // how long states read are reused (0: 2 s)
	HTTP     *http.Client  // nil: a client of its own
	Now      func() time.Time
}

// Client is a connection to one Home Assistant.
type Client struct {
	base    *url.URL
	token   string
	exposed map[string]Exposed
	order   []string
	timeout time.Duration
	ttl     time.Duration
	http    *http.Client
	now     func() time.Time

	mu       sync.Mutex
	states   map[string]apiState // the last /api/states, exposed entities only
	fetched  time.Time
	regAreas map[string]area // entity id -> its area, from the registries (registry.go)
	regAt    time.Time       // when they were last read (or tried)
	regErr   error           // why the last reading failed
	regBusy  chan struct{}   // a reading under way, closed when it ends
}

var (
	_ home.Backend    = (*Client)(nil)
	_ home.Configured = (*Client)(nil)
)

// confirmDomains are never listed unless marked confirm.
var confirmDomains = map[string]bool{"lock": true, "alarm_control_panel": true}

// New checks the options and returns a client; it does not contact the server.
func New(o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(o.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("home assistant: url %q: give http://host:8123 or https://...", o.URL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if strings.TrimSpace(o.Token) == "" {
		return nil, errors.New("home assistant: no access token (home_assistant.token_file, or the variable named by home_assistant.token_env)")
	}
	c := &Client{base: u, token: strings.TrimSpace(o.Token), exposed: map[string]Exposed{}, timeout: o.Timeout, ttl: o.CacheFor, http: o.HTTP, now: o.Now}
	if c.timeout <= 0 {
		c.timeout = 3 * time.Second
	}
	if c.ttl <= 0 {
		c.ttl = 2 * time.Second
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: c.timeout}
	}
	if c.now == nil {
		c.now = time.Now
	}
	for _, e := range o.Entities {
		dom, obj, ok := strings.Cut(e.ID, ".")
		if !ok || dom == "" || obj == "" {
			return nil, fmt.Errorf("home assistant: entity %q: an id is domain.object_id, e.g. light.kitchen", e.ID)
		}
		if confirmDomains[dom] && !e.Confirm {
			return nil, fmt.Errorf("home assistant: %s is a %s: list it with confirm = true, or leave it out", e.ID, dom)
		}
		if _, dup := c.exposed[e.ID]; dup {
			return nil, fmt.Errorf("home assistant: entity %s listed twice", e.ID)
		}
		c.exposed[e.ID] = e
		c.order = append(c.order, e.ID)
	}
	return c, nil
}

// Source is home.SourceHomeAssistant.
func (c *Client) Source() home.Source { return home.SourceHomeAssistant }

// apiState is one state object of the REST API.
type apiState struct {
	EntityID    string         `json:"entity_id"`
	State       string         `json:"state"`
	Attributes  map[string]any `json:"attributes"`
	LastChanged time.Time      `json:"last_changed"`
	LastUpdated time.Time      `json:"last_updated"`
}

// readOnlyDomains are read, never commanded.
var readOnlyDomains = map[string]bool{"sensor": true, "binary_sensor": true, "weather": true, "sun": true, "person": true,
	"device_tracker": true, "zone": true, "event": true}

// Entities lists the exposed entities that Home Assistant has. When the server cannot be
// reached it returns the entities as configured (names from the list or the id) with an error
// wrapping home.ErrUnreachable, so that Hark still knows what "the kitchen light" is and can
// say that Home Assistant is away.
//
// An entity the list gives no area is put in the area Home Assistant's registries give it
// (its own, else its device's), read over the WebSocket API the first time (waiting at most
// a second) and every 10 minutes after in the background; when they cannot be read the
// entities come without those areas, and no error is returned for it.
func (c *Client) Entities(ctx context.Context) ([]home.Entity, error) {
	states, err := c.load(ctx)
	var areas map[string]area
	if err == nil {
		areas = c.areas(ctx, false)
	}
	var out []home.Entity
	for _, id := range c.order {
		st, ok := states[id]
		if err == nil && !ok {
			continue // listed, but Home Assistant has no such entity (Check says so)
		}
		e := c.entity(id, st)
		if a, ok := areas[id]; ok && e.Area == "" {
			e.Area, e.AreaAliases = a.Name, a.Aliases
		}
		out = append(out, e)
	}
	return out, err
}

// RegistryError says why the areas could not be read from Home Assistant's registries the
// last time they were tried (nil: they were, or have not been tried yet).
func (c *Client) RegistryError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.regErr
}

// Configured lists the exposed entities as configured, without contacting the server (names
// from the list, or made from the ids).
func (c *Client) Configured() []home.Entity {
	var out []home.Entity
	for _, id := range c.order {
		out = append(out, c.entity(id, apiState{}))
	}
	return out
}

func (c *Client) entity(id string, st apiState) home.Entity {
	x := c.exposed[id]
	dom, obj, _ := strings.Cut(id, ".")
	e := home.Entity{ID: id, Name: x.Name, Aliases: x.Aliases, Area: x.Area, Kind: home.Kind(dom), Source: home.SourceHomeAssistant,
		Confirm: x.Confirm, ReadOnly: readOnlyDomains[dom]}
	if e.Name == "" {
		e.Name, _ = st.Attributes["friendly_name"].(string)
	}
	if e.Name == "" {
		e.Name = strings.ReplaceAll(obj, "_", " ")
	}
	e.Unit, _ = st.Attributes["unit_of_measurement"].(string)
	return e
}

// State reads one exposed entity (from the cache when it is fresh).
func (c *Client) State(ctx context.Context, id string) (home.State, error) {
	if _, ok := c.exposed[id]; !ok {
		return home.State{}, fmt.Errorf("home assistant: %s: %w", id, home.ErrUnknownEntity)
	}
	states, err := c.load(ctx)
	if err != nil {
		return home.State{}, err
	}
	st, ok := states[id]
	if !ok {
		return home.State{}, fmt.Errorf("home assistant has no %s: %w", id, home.ErrUnknownEntity)
	}
	return toState(st), nil
}

func toState(st apiState) home.State {
	unit, _ := st.Attributes["unit_of_measurement"].(string)
	upd := st.LastUpdated
	if upd.IsZero() {
		upd = st.LastChanged
	}
	return home.State{Value: st.State, Unit: unit, Attributes: st.Attributes, Updated: upd,
		Stale: st.State == "unavailable" || st.State == "unknown"}
}

// load returns the exposed entities' states, read at most CacheFor ago.
func (c *Client) load(ctx context.Context) (map[string]apiState, error) {
	c.mu.Lock()
	if c.states != nil && c.now().Sub(c.fetched) < c.ttl {
		s := c.states
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	var all []apiState
	if err := c.call(ctx, http.MethodGet, "/api/states", nil, &all); err != nil {
		return nil, err
	}
	m := map[string]apiState{}
	for _, st := range all {
		if _, ok := c.exposed[st.EntityID]; ok {
			m[st.EntityID] = st
		}
	}
	c.mu.Lock()
	c.states, c.fetched = m, c.now()
	c.mu.Unlock()
	return m, nil
}

// forget drops the cached states: after a command they have changed.
func (c *Client) forget() {
	c.mu.Lock()
	c.states = nil
	c.mu.Unlock()
}

// Do calls the Home Assistant service that carries out the command for an exposed entity.
func (c *Client) Do(ctx context.Context, id string, cmd home.Command) error {
	x, ok := c.exposed[id]
	if !ok {
		return fmt.Errorf("home assistant: %s: %w", id, home.ErrUnknownEntity)
	}
	dom, _, _ := strings.Cut(x.ID, ".")
	service, data, err := serviceFor(dom, cmd)
	if err != nil {
		return fmt.Errorf("home assistant: %s: %w", id, err)
	}
	data["entity_id"] = id
	body, err := json.Marshal(data)
	if err != nil {
		return err
	}
	var changed []apiState
	err = c.call(ctx, http.MethodPost, "/api/services/"+dom+"/"+service, body, &changed)
	c.forget()
	return err
}

// serviceFor maps a command on a domain to a Home Assistant service and its data.
func serviceFor(dom string, cmd home.Command) (string, map[string]any, error) {
	data := map[string]any{}
	switch dom {
	case "light":
		switch cmd.Op {
		case home.SetBrightness:
			data["brightness_pct"] = max(0, min(100, cmd.Level))
			return "turn_on", data, nil
		case home.SetColor:
			if rgb, ok := hexRGB(cmd.Color); ok {
				data["rgb_color"] = rgb
			} else {
				data["color_name"] = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(cmd.Color)), " ", "")
			}
			return "turn_on", data, nil
		}
	case "cover":
		switch cmd.Op {
		case home.TurnOn:
			return "open_cover", data, nil
		case home.TurnOff:
			return "close_cover", data, nil
		case home.Toggle:
			return "toggle", data, nil
		case home.SetPosition:
			data["position"] = max(0, min(100, cmd.Level))
			return "set_cover_position", data, nil
		}
		return "", nil, home.ErrUnsupported
	case "lock":
		// Opening a lock is lock.unlock, which every lock takes; lock.open (unlatching the
		// door) is only for locks that declare it, and a door left unlatched is not what
		// "open the front door" asks of most of them.
		switch cmd.Op {
		case home.TurnOn:
			return "unlock", data, nil
		case home.TurnOff:
			return "lock", data, nil
		}
		return "", nil, home.ErrUnsupported
	case "alarm_control_panel":
		switch cmd.Op {
		case home.TurnOn:
			return "alarm_arm_away", data, nil
		case home.TurnOff:
			return "alarm_disarm", data, nil
		}
		return "", nil, home.ErrUnsupported
	case "climate":
		if cmd.Op == home.SetTemperature {
			data["temperature"] = cmd.Temperature
			return "set_temperature", data, nil
		}
	case "scene", "script":
		if cmd.Op == home.TurnOn {
			return "turn_on", data, nil
		}
		return "", nil, home.ErrUnsupported
	}
	if readOnlyDomains[dom] {
		return "", nil, home.ErrUnsupported
	}
	switch cmd.Op {
	case home.TurnOn:
		return "turn_on", data, nil
	case home.TurnOff:
		return "turn_off", data, nil
	case home.Toggle:
		return "toggle", data, nil
	}
	return "", nil, home.ErrUnsupported
}

// hexRGB reads "#rrggbb".
func hexRGB(s string) ([3]int, bool) {
	var rgb [3]int
	s = strings.TrimSpace(s)
	if len(s) != 7 || s[0] != '#' {
		return rgb, false
	}
	if _, err := fmt.Sscanf(s[1:], "%02x%02x%02x", &rgb[0], &rgb[1], &rgb[2]); err != nil {
		return rgb, false
	}
	return rgb, true
}

// Check asks the API whether it runs and takes the token, and whether every listed entity
// exists.
func (c *Client) Check(ctx context.Context) error {
	var msg struct {
		Message string `json:"message"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/", nil, &msg); err != nil {
		return err
	}
	c.forget()
	states, err := c.load(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, id := range c.order {
		if _, ok := states[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("home assistant has no %s (check the ids in your entity list): %w", strings.Join(missing, ", "), home.ErrUnknownEntity)
	}
	// The areas are read again (a test, or a reload): a failure is not Home Assistant's being
	// away, so it is not returned; RegistryError tells it.
	c.areas(ctx, true)
	return nil
}

// ErrUnauthorized is returned when Home Assistant refuses the token (401 or 403).
var ErrUnauthorized = errors.New("home assistant refused the access token (401): make a new long-lived token in your Home Assistant profile")

// call sends one request under the timeout and decodes the JSON answer into out.
func (c *Client) call(ctx context.Context, method, path string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := *c.base
	u.Path += path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("home assistant: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return unreachable(c.base.Host, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return unreachable(c.base.Host, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return ErrUnauthorized
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("home assistant: %s %s: %w", method, path, home.ErrUnknownEntity)
	case resp.StatusCode == http.StatusBadRequest:
		return fmt.Errorf("home assistant refused %s: %s: %w", path, firstLine(data), home.ErrUnsupported)
	case resp.StatusCode >= 500:
		return fmt.Errorf("home assistant: %s %s: server error %d: %w", method, path, resp.StatusCode, home.ErrUnreachable)
	case resp.StatusCode >= 300:
		return fmt.Errorf("home assistant: %s %s: status %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("home assistant: %s %s: not the documented answer: %w", method, path, err)
		}
	}
	return nil
}

// unreachable words a transport error without the request (whose URL is harmless, but whose
// wrapping by net/http might one day carry headers) and wraps home.ErrUnreachable.
func unreachable(host string, err error) error {
	why := "no answer"
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		why = "no answer in time"
	case errors.Is(err, context.Canceled):
		return err
	default:
		var op *net.OpError
		if errors.As(err, &op) {
			why = op.Err.Error()
		}
	}
	return fmt.Errorf("home assistant at %s: %s: %w", host, why, home.ErrUnreachable)
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// ReadToken reads an access token from a file that only its owner may read.
func ReadToken(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("home assistant token file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("home assistant token file %s can be read by others (mode %04o): run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("home assistant token file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("home assistant token file %s is empty", path)
	}
	return t, nil
}
