package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Risk says whether a tool may run as soon as it is asked for.
type Risk int

const (
	Safe    Risk = iota // runs at once
	Confirm             // runs only after a yes
)

func (r Risk) String() string {
	if r == Confirm {
		return "confirm"
	}
	return "safe"
}

// MarshalText writes "safe" or "confirm".
func (r Risk) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Control is one of Hark's own controls a result asks the assistant to apply.
type Control int

const (
	NoControl      Control = iota
	ControlStop            // stop speaking, cancel the turn
	ControlNewChat         // forget the conversation
	ControlVolume          // Result.Level is the new volume, 0..100
	ControlMute            // speech output off
	ControlUnmute          // speech output on
)

var controlNames = [...]string{"", "stop", "new_conversation", "volume", "mute", "unmute"}

// MarshalText writes the control's name.
func (c Control) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

func (c Control) String() string {
	if int(c) < len(controlNames) {
		return controlNames[c]
	}
	return "unknown"
}

// Result is what a tool did.
type Result struct {
	Done    bool    `json:"done"`              // the action happened (false: it could not, Say says why)
	Say     string  `json:"say"`               // one or two sentences for the person
	Data    any     `json:"data,omitempty"`    // structured detail for the model and the front ends (JSON-encodable)
	Control Control `json:"control,omitempty"` // a control for the assistant to apply, if any
	Level   int     `json:"level,omitempty"`   // ControlVolume's level
}

// Args are a call's validated arguments.
type Args map[string]any

// Int returns the integer argument name, or def when it is absent.
func (a Args) Int(name string, def int) int {
	switch v := a[name].(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return int(i)
		}
		if f, err := v.Float64(); err == nil {
			return int(f)
		}
	case int:
		return v
	case float64:
		return int(v)
	}
	return def
}

// Float returns the number argument name, or def.
func (a Args) Float(name string, def float64) float64 {
	switch v := a[name].(type) {
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return f
		}
	case int:
		return float64(v)
	case float64:
		return v
	}
	return def
}

// String returns the text argument name, or "".
func (a Args) String(name string) string {
	s, _ := a[name].(string)
	return s
}

// Handler does a tool's work. It must return soon after ctx is done.
type Handler func(ctx context.Context, args Args) (Result, error)

// Tool is one thing Hark can do.
type Tool struct {
	Name        string
	Description string          // for the language model and `hark tools`
	Schema      json.RawMessage // JSON schema of the arguments (an object)
	Risk        Risk
	// RiskFor, when set, decides the risk per call instead of Risk: a connector's tool is
	// safe for a lamp and needs a yes for a lock.
	RiskFor func(args Args) Risk
	Timeout time.Duration // 0: DefaultTimeout
	// Question asks for confirmation ("Delete all 4 notes?"); nil: a question built from the
	// description.
	Question func(args Args) string
	// Ask is Question in the turn's language (LanguageOf(ctx)); when set, it is used instead.
	Ask func(ctx context.Context, args Args) string
	// Accept, when set, tells whether a template match is really meant for this tool
	// ("what is the capital of France" fits "what is {expression}" but is no sum); a
	// rejected match falls through to the language model.
	Accept  func(args Args) bool
	Handler Handler
}

// DefaultTimeout cuts off a tool that takes longer.
const DefaultTimeout = 5 * time.Second

var (
	// ErrUnknownTool is returned for a call to a tool that is not registered (or not enabled).
	ErrUnknownTool = errors.New("no such tool")
	// ErrInvalidArgs is returned when a call's arguments do not fit the tool's schema.
	ErrInvalidArgs = errors.New("invalid arguments")
	// ErrTimeout is returned when a handler did not finish within the tool's timeout.
	ErrTimeout = errors.New("the action took too long and was cut off")
)

// Registry holds the tools.
type Registry struct {
	mu      sync.RWMutex
	tools   map[string]*entry
	enabled map[string]bool // nil: all
}

type entry struct {
	Tool
	schema *jsonschema.Schema
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{tools: map[string]*entry{}} }

// Register adds t; its schema is compiled now, so a bad schema fails here and not when the
// tool is called.
func (r *Registry) Register(t Tool) error {
	if t.Name == "" || t.Handler == nil {
		return errors.New("action: a tool needs a name and a handler")
	}
	if len(t.Schema) == 0 {
		t.Schema = json.RawMessage(`{"type":"object","properties":{},"additionalProperties":false}`)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(t.Schema))
	if err != nil {
		return fmt.Errorf("action: tool %s: schema: %w", t.Name, err)
	}
	c := jsonschema.NewCompiler()
	url := "hark:tool/" + t.Name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		return fmt.Errorf("action: tool %s: schema: %w", t.Name, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return fmt.Errorf("action: tool %s: schema: %w", t.Name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.tools[t.Name]; dup {
		return fmt.Errorf("action: tool %s registered twice", t.Name)
	}
	r.tools[t.Name] = &entry{Tool: t, schema: sch}
	return nil
}

// Enable limits the tools offered and run to names (nil: all of them).
func (r *Registry) Enable(names []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if names == nil {
		r.enabled = nil
		return
	}
	r.enabled = map[string]bool{}
	for _, n := range names {
		r.enabled[n] = true
	}
}

// Known reports whether a tool of that name is registered, enabled or not.
func (r *Registry) Known(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.tools[name] != nil
}

// Tools lists the enabled tools by name.
func (r *Registry) Tools() []Tool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []Tool
	for n, e := range r.tools {
		if r.enabled == nil || r.enabled[n] {
			out = append(out, e.Tool)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the enabled tool name.
func (r *Registry) Lookup(name string) (Tool, bool) {
	e, err := r.get(name)
	if err != nil {
		return Tool{}, false
	}
	return e.Tool, true
}

func (r *Registry) get(name string) (*entry, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e := r.tools[name]
	if e == nil || (r.enabled != nil && !r.enabled[name]) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTool, name)
	}
	return e, nil
}

// Validate checks a call's arguments (JSON) against the tool's schema and returns them
// decoded.
func (r *Registry) Validate(name string, raw json.RawMessage) (Tool, Args, error) {
	e, err := r.get(name)
	if err != nil {
		return Tool{}, nil, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage(`{}`)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return e.Tool, nil, fmt.Errorf("%w for %s: not JSON: %v", ErrInvalidArgs, name, err)
	}
	if err := e.schema.Validate(v); err != nil {
		return e.Tool, nil, fmt.Errorf("%w for %s: %v", ErrInvalidArgs, name, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return e.Tool, nil, fmt.Errorf("%w for %s: not an object", ErrInvalidArgs, name)
	}
	return e.Tool, Args(m), nil
}

// Run validates and runs a call under the tool's timeout.
func (r *Registry) Run(ctx context.Context, name string, raw json.RawMessage) (Result, error) {
	t, args, err := r.Validate(name, raw)
	if err != nil {
		return Result{}, err
	}
	return runHandler(ctx, t, args)
}

// runHandler runs t's handler on a goroutine of its own, so that one that ignores its context
// is still cut off.
func runHandler(ctx context.Context, t Tool, args Args) (Result, error) {
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type out struct {
		res Result
		err error
	}
	ch := make(chan out, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- out{err: fmt.Errorf("action %s: internal error: %v", t.Name, p)}
			}
		}()
		res, err := t.Handler(ctx, args)
		ch <- out{res, err}
	}()
	select {
	case o := <-ch:
		if o.err != nil && ctx.Err() == context.DeadlineExceeded {
			return o.res, fmt.Errorf("%s: %w", t.Name, ErrTimeout)
		}
		return o.res, o.err
	case <-ctx.Done():
		if ctx.Err() == context.DeadlineExceeded {
			return Result{}, fmt.Errorf("%s: %w", t.Name, ErrTimeout)
		}
		return Result{}, ctx.Err()
	}
}
