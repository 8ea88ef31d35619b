// Package home is Hark's connector layer: the devices and sensors that other systems already
// run (Home Assistant in homes, MQTT brokers in workshops and greenhouses), seen through one
// model, so that intents, tools, confirmation, the audit trail and the settings window treat a
// Home Assistant light and an MQTT pump the same way. Each system is a [Backend] in a
// subpackage; this package imports neither the language model nor the window.
//
// A [Hub] joins the backends: it finds what a name means ([Hub.Resolve]: areas, plurals,
// aliases, small misspellings; several fits are a question, never a guess), carries out
// commands and answers questions as typed [Outcome]s that [Outcome.Say] words in English or
// Chinese, and gives the action layer its tools ([Hub.Tools]: a command on an entity marked
// Confirm asks first) and sentence templates ([Templates], [Hub.Attach]).
//
// # Usage
//
//	hub := home.NewHub([]home.Backend{haClient, mqttClient}, home.HubOptions{})
//	hub.Seed()                                 // the configured devices, without the network
//	tpl, _ := home.Templates()
//	act, _ := action.New(action.Options{Store: st, Tools: hub.Tools(), Templates: tpl})
//	hub.Attach(act.Templates())                // the templates' device names come from the hub
//
// # Concurrency properties
//
// A [*Hub] may be used from any goroutine; a command or question is bounded by
// HubOptions.Timeout (2 s), every request in it included. Backends must be safe for
// concurrent use.
package home

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Source names the system an entity comes from.
type Source string

// The systems Hark connects to.
const (
	SourceHomeAssistant Source = "home_assistant"
	SourceMQTT          Source = "mqtt"
)

// Kind is what an entity is, named as Home Assistant names its domains ("light", "switch",
// "cover", "climate", "lock", "alarm_control_panel", "sensor", "binary_sensor", ...).
type Kind string

// Entity is one device or sensor Hark may control or read.
type Entity struct {
	ID      string   `json:"id"`      // the backend's own id: "light.kitchen", or an MQTT device's configured name
	Name    string   `json:"name"`    // the friendly name people say
	Aliases []string `json:"aliases"` // other names people say
	Area    string   `json:"area"`    // "kitchen", "greenhouse two"
	// AreaAliases are other names of its area ("厨房" for the kitchen: Home Assistant's area
	// aliases).
	AreaAliases []string `json:"area_aliases,omitempty"`
	Kind        Kind     `json:"kind"`
	Source      Source   `json:"source"`
	Unit        string   `json:"unit,omitempty"` // a sensor's unit ("°C", "%")
	Confirm     bool     `json:"confirm"`        // changing it needs a yes first (locks, alarm panels, pumps marked so)
	ReadOnly    bool     `json:"read_only"`      // a sensor: it can be read, not commanded
	// Ops are the commands it takes, when its backend knows them exactly (an MQTT device
	// takes those its configuration declares); nil: those its Kind takes.
	Ops []Op `json:"ops,omitempty"`
}

// State is an entity's current value.
type State struct {
	Value      string         `json:"value"`                // "on", "off", "open", "21.5"
	Unit       string         `json:"unit,omitempty"`       // the value's unit, if any
	Attributes map[string]any `json:"attributes,omitempty"` // the backend's extra detail (brightness, position, ...)
	Updated    time.Time      `json:"updated"`              // when the device last reported it (zero: unknown)
	Stale      bool           `json:"stale"`                // older than the entity's stale_after
}

// Op is what a command asks for.
type Op int

// The operations a backend may support; one that does not returns [ErrUnsupported].
//
// TurnOn and TurnOff also open and close: on a cover they open and close it, and on a lock
// TurnOn opens it (unlocks) and TurnOff closes it (locks), so that "打开前门" and "open the
// front door" unlock it, as "open the garage door" opens a cover (Home Assistant's lock binary
// sensors read the same way: on is unlocked). On an alarm panel they arm and disarm it.
const (
	TurnOn  Op = iota + 1 // turn on, open, unlock, arm
	TurnOff               // turn off, close, lock, disarm
	Toggle
	SetBrightness  // Command.Level, 0..100 percent
	SetColor       // Command.Color, a colour name or #rrggbb
	SetPosition    // Command.Level, 0 (closed) .. 100 (open)
	SetTemperature // Command.Temperature, in the entity's unit
)

// Command is one change to an entity.
type Command struct {
	Op          Op      `json:"op"`
	Level       int     `json:"level,omitempty"`
	Color       string  `json:"color,omitempty"`
	Temperature float64 `json:"temperature,omitempty"`
}

// Backend is one connected system.
type Backend interface {
	Source() Source
	// Entities lists what this system exposes to Hark (already filtered by its allow-list).
	Entities(ctx context.Context) ([]Entity, error)
	// State reads one entity's current state.
	State(ctx context.Context, id string) (State, error)
	// Do sends one command; it returns once the system has accepted it.
	Do(ctx context.Context, id string, c Command) error
	// Check says whether the system is reachable and accepts Hark's credentials (doctor,
	// the settings window's test button).
	Check(ctx context.Context) error
}

var (
	// ErrUnreachable wraps a backend's failure to reach its server, so that Hark can say
	// "I can't reach Home Assistant" rather than a network error.
	ErrUnreachable = errors.New("the server cannot be reached")
	// ErrUnsupported is returned for a command the entity or its system cannot do.
	ErrUnsupported = errors.New("that device cannot do that")
	// ErrUnknownEntity is returned for an id the backend does not expose.
	ErrUnknownEntity = errors.New("no such device")
	// ErrNoReading is returned by State for a device that has not reported anything yet (an
	// MQTT topic with no retained reading): a fact to say, not a failure.
	ErrNoReading = errors.New("no reading has arrived yet")
)

// RangeError is returned for a value the entity cannot be set to ("set the heater to 60
// degrees"): the command is refused, never clamped, and the person is told the range.
type RangeError struct {
	Op       Op
	Min, Max float64
	Unit     string // "%" or "°C"
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("%s takes %s to %s%s", e.Op, num(e.Min), num(e.Max), e.Unit)
}
