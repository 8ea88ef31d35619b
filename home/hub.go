package home

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"hark/internal/textdist"
)

// HubOptions configure a [Hub].
type HubOptions struct {
	// Timeout bounds one spoken command or question, every request in it included (0: 2 s),
	// so that "I can't reach Home Assistant" is said within 3 s.
	Timeout time.Duration
	// Refresh is how long the list of entities is reused before it is read again (0: 30 s).
	Refresh time.Duration
	// Language is the language answers are given in when a call does not say ("en", "zh").
	Language string
	// AskFor is how long a "Which one?" waits for just a name to complete the command (0:
	// 20 s); any other sentence cancels it at once ([Hub.Forget]).
	AskFor time.Duration
	Now    func() time.Time
}

// Hub is the connected systems seen as one home: it finds an entity from what people call it,
// and carries out commands and questions on whichever backend has it.
type Hub struct {
	backends []Backend
	o        HubOptions

	mu      sync.Mutex
	known   []target
	errs    map[Source]error // each backend's last error reading its entities
	fetched time.Time
	which   *pending // the last "Which one?" asked, waiting for a name
}

type target struct {
	Entity
	b       Backend
	areas   []string // its area and the area's aliases, normalized
	phrases []phrase // the names it answers to, normalized once (names are matched often)
}

func newTarget(e Entity, b Backend) target {
	t := target{Entity: e, b: b, phrases: phrases(e)}
	for _, a := range append([]string{e.Area}, e.AreaAliases...) {
		if n := norm1(a); n != "" {
			t.areas = append(t.areas, n)
		}
	}
	return t
}

// NewHub returns a hub over backends; it reads nothing yet.
func NewHub(backends []Backend, o HubOptions) *Hub {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Refresh <= 0 {
		o.Refresh = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AskFor <= 0 {
		o.AskFor = 20 * time.Second
	}
	return &Hub{backends: backends, o: o, errs: map[Source]error{}}
}

// Backends are the hub's backends.
func (h *Hub) Backends() []Backend { return h.backends }

// Refresh reads every backend's entities now, all at once. A backend that fails keeps the
// entities it still returned (a connector knows its configured devices while its server is
// away); its error is returned and remembered for [Hub.Status].
func (h *Hub) Refresh(ctx context.Context) error {
	type res struct {
		ents []Entity
		err  error
	}
	out := make([]res, len(h.backends))
	var wg sync.WaitGroup
	for i, b := range h.backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := b.Entities(ctx)
			out[i] = res{e, err}
		}()
	}
	wg.Wait()
	var known []target
	errs := map[Source]error{}
	var all []error
	for i, b := range h.backends {
		for _, e := range out[i].ents {
			known = append(known, newTarget(e, b))
		}
		if out[i].err != nil {
			errs[b.Source()] = out[i].err
			all = append(all, out[i].err)
		}
	}
	h.mu.Lock()
	h.known, h.errs, h.fetched = known, errs, h.o.Now()
	h.mu.Unlock()
	return errors.Join(all...)
}

// Configured is what a backend can say without its server: the devices its configuration
// declares. A backend that implements it is known to the hub at once ([Hub.Seed]).
type Configured interface {
	Configured() []Entity
}

// Seed makes the configured devices of the backends that declare them known at once, without
// contacting any server; the first command or question then reads them for real.
func (h *Hub) Seed() {
	var known []target
	for _, b := range h.backends {
		if c, ok := b.(Configured); ok {
			for _, e := range c.Configured() {
				known = append(known, newTarget(e, b))
			}
		}
	}
	h.mu.Lock()
	if h.fetched.IsZero() {
		h.known = known
	}
	h.mu.Unlock()
}

// refreshIfOld reads the entities again when the list is older than Refresh.
func (h *Hub) refreshIfOld(ctx context.Context) {
	h.mu.Lock()
	old := h.fetched.IsZero() || h.o.Now().Sub(h.fetched) >= h.o.Refresh
	h.mu.Unlock()
	if old {
		_ = h.Refresh(ctx)
	}
}

// Entities are the entities known from the last refresh, sorted by source, area and name.
func (h *Hub) Entities() []Entity {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Entity, len(h.known))
	for i, t := range h.known {
		out[i] = t.Entity
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Area != b.Area {
			return a.Area < b.Area
		}
		return a.Name < b.Name
	})
	return out
}

// BackendStatus is one connector's state, for `hark home`, doctor and the settings window.
type BackendStatus struct {
	Source   Source
	Entities int
	Err      error // nil: reachable and accepting Hark's credentials
}

// Status says how each backend fared at the last refresh.
func (h *Hub) Status() []BackendStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []BackendStatus
	for _, b := range h.backends {
		n := 0
		for _, t := range h.known {
			if t.b == b {
				n++
			}
		}
		out = append(out, BackendStatus{Source: b.Source(), Entities: n, Err: h.errs[b.Source()]})
	}
	return out
}

// Check asks every backend whether it is reachable (Backend.Check), all at once.
func (h *Hub) Check(ctx context.Context) []BackendStatus {
	out := make([]BackendStatus, len(h.backends))
	var wg sync.WaitGroup
	for i, b := range h.backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = BackendStatus{Source: b.Source(), Err: b.Check(ctx)}
		}()
	}
	wg.Wait()
	_ = h.Refresh(ctx)
	for i, s := range h.Status() {
		out[i].Entities = s.Entities
	}
	return out
}

// ---- Finding an entity by name ----

// Found says what a name turned out to mean.
type Found int

const (
	FoundNone      Found = iota // no entity of that name
	FoundOne                    // one entity (or, for a plural or an area, every one meant)
	FoundAmbiguous              // several fit a singular name: ask which
)

// Resolution is what a name means.
type Resolution struct {
	Found    Found
	Entities []Entity // FoundOne: the entities meant; FoundAmbiguous: the choices
	Plural   bool     // the name was plural ("the lights") or an area: every match is meant
	targets  []target
}

// Want narrows what a name may mean.
type Want struct {
	Op       Op     // the operation the entity must take (0: any, to be read)
	Kind     Kind   // only this kind ("lock" for "unlock the front door"; "" any)
	Quantity string // a reading of this ("temperature": a sensor in °C, or named so)
}

// Resolve finds what name means among the known entities. The name is matched forgivingly: case, "the", "my", plurals, "light in
// the kitchen" for "kitchen light", an area for everything in it that can do the operation,
// and a small misspelling (one edit in five letters).
func (h *Hub) Resolve(name string, w Want) Resolution {
	h.mu.Lock()
	known := h.known
	h.mu.Unlock()
	return resolve(known, name, w)
}

// Knows reports whether text names at least one known entity (an intent resolver: package
// intent's dynamic list "device").
func (h *Hub) Knows(lang, text string) (any, bool) { return h.Resolver(Want{})(lang, text) }

// Resolver is an intent resolver for the names of entities that fit w: "dim the living room
// to 30 percent" is a brightness only where the living room has a light.
func (h *Hub) Resolver(w Want) func(lang, text string) (any, bool) {
	return func(lang, text string) (any, bool) {
		r := h.Resolve(text, w)
		if r.Found == FoundNone {
			return nil, false
		}
		if r.Found == FoundOne && w.Op != 0 && !fits(r.targets[0], w) {
			return nil, false
		}
		return strings.TrimSpace(text), true
	}
}

func resolve(known []target, name string, w Want) Resolution {
	q, plural := normName(name)
	if q == "" {
		return Resolution{}
	}
	qt := normWord(w.Quantity)
	w.Quantity = qt
	// An area said alone means everything in it that fits.
	var inArea []target
	for _, t := range known {
		if slices.ContainsFunc(t.areas, func(a string) bool { return sameText(a, q) }) && fits(t, w) {
			inArea = append(inArea, t)
		}
	}
	if len(inArea) > 0 {
		if w.Op == 0 && len(inArea) > 1 && qt == "" {
			return choices(inArea)
		}
		return found(inArea, true)
	}
	bound := allowed(q)
	says := []said{newSaid(q)}
	if qt != "" {
		says = append(says, newSaid(q+" "+qt), newSaid(qt+" "+q))
	}
	best, bestD := []target(nil), 1<<30
	for _, t := range known {
		// Twice the edit distance; a name made up from the area and the kind ("kitchen
		// light") counts one more than a name given, so the Kitchen Light beats the kitchen's
		// lamp (unless the name is plural).
		d := 1 << 30
		for _, p := range t.phrases {
			pd := 1 << 20
			for _, sd := range says {
				pd = min(pd, sd.distance(p, bound))
			}
			if plural {
				d = min(d, 2*pd) // "the kitchen lights": every light there, named or not
			} else {
				d = min(d, 2*pd+p.derived)
			}
		}
		if d < bestD {
			best, bestD = []target{t}, d
		} else if d == bestD {
			best = append(best, t)
		}
	}
	if bestD/2 > allowed(q) || len(best) == 0 {
		return Resolution{}
	}
	var ok []target
	for _, t := range best {
		if fits(t, w) {
			ok = append(ok, t)
		}
	}
	if len(ok) == 0 {
		// It exists, but cannot do this: let the backend say so.
		return found(best[:1], false)
	}
	if len(ok) > 1 && !plural {
		return choices(ok)
	}
	return found(ok, plural)
}

func found(ts []target, plural bool) Resolution {
	r := Resolution{Found: FoundOne, Plural: plural, targets: ts}
	for _, t := range ts {
		r.Entities = append(r.Entities, t.Entity)
	}
	return r
}

func choices(ts []target) Resolution {
	r := found(ts, false)
	r.Found = FoundAmbiguous
	return r
}

// fits says whether an entity is of the kind wanted, can take the operation (0: be read), and
// measures the quantity (if given).
func fits(t target, w Want) bool {
	e := t.Entity
	if w.Kind != "" && e.Kind != w.Kind {
		return false
	}
	if w.Quantity != "" && !measures(t, w.Quantity) {
		return false
	}
	if w.Op == 0 {
		return true
	}
	if e.Ops != nil {
		return slices.Contains(e.Ops, w.Op)
	}
	switch w.Op {
	case SetBrightness, SetColor:
		return e.Kind == "light"
	case SetPosition:
		return e.Kind == "cover"
	case SetTemperature:
		return e.Kind == "climate"
	default:
		return !e.ReadOnly
	}
}

// measures says whether a sensor reads a quantity ("temperature"): by its name, or its unit.
func measures(t target, quantity string) bool {
	e := t.Entity
	for _, p := range t.phrases {
		if strings.Contains(p.text, quantity) {
			return true
		}
	}
	switch quantity {
	case "temperature", "温度":
		return e.Unit == "°C" || e.Unit == "°F" || e.Unit == "K" || e.Kind == "climate"
	case "humidity", "湿度":
		return e.Unit == "%" && strings.Contains(strings.ToLower(e.Name), "humid")
	}
	return false
}

// kindWords are what people call each kind, in English and Chinese.
var kindWords = map[Kind][]string{
	"light":   {"light", "lamp", "lights", "灯"},
	"switch":  {"switch", "开关"},
	"fan":     {"fan", "风扇"},
	"cover":   {"blind", "cover", "shade", "curtain", "窗帘"},
	"climate": {"thermostat", "heating", "heater", "air conditioning", "空调", "暖气"},
	"lock":    {"lock", "door", "锁"},
}

// phrase is a normalized name an entity answers to; derived is 1 for one made up from its area
// and kind rather than given.
type phrase struct {
	text     string
	squeezed string // without spaces: "pump3" is "pump 3"
	runes    []rune
	derived  int
}

// said is a name as said, normalized, ready to compare with phrases.
type said struct {
	text, squeezed string
	runes          []rune
}

func newSaid(s string) said { return said{s, strings.ReplaceAll(s, " ", ""), []rune(s)} }

// distance is the edit distance from s to p, or more than bound when it is surely more (the
// lengths alone tell, without computing it).
func (s said) distance(p phrase, bound int) int {
	if s.text == p.text || s.squeezed == p.squeezed {
		return 0
	}
	if n := len(s.runes) - len(p.runes); n > bound || -n > bound {
		return bound + 1
	}
	return textdist.Levenshtein(s.runes, p.runes)
}

// phrases are the names an entity answers to.
func phrases(e Entity) []phrase {
	var out []phrase
	add := func(s string, derived int) {
		if n := norm1(s); n != "" {
			out = append(out, phrase{text: n, squeezed: strings.ReplaceAll(n, " ", ""), runes: []rune(n), derived: derived})
		}
	}
	add(e.Name, 0)
	for _, a := range e.Aliases {
		add(a, 0)
	}
	for _, w := range kindWords[e.Kind] {
		add(w, 1)
		for _, a := range append([]string{e.Area}, e.AreaAliases...) {
			if a != "" {
				add(a+" "+w, 1)
			}
		}
	}
	if e.Area != "" && e.Name != "" && !strings.Contains(norm1(e.Name), norm1(e.Area)) {
		add(e.Area+" "+e.Name, 0)
	}
	return out
}

// normName normalizes a name as said and tells whether it was plural.
func normName(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	// "the light in the kitchen" is "the kitchen light"; 厨房的灯 is 厨房灯.
	if a, b, ok := strings.Cut(s, " in "); ok {
		s = b + " " + a
	}
	if a, b, ok := strings.Cut(s, " of "); ok {
		s = b + " " + a
	}
	s = strings.ReplaceAll(s, "的", "")
	plural := false
	var words []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		switch w {
		case "the", "my", "a", "an", "our", "please", "all":
			if w == "all" {
				plural = true
			}
			continue
		case "所有", "全部":
			plural = true
			continue
		}
		if sw := singular(w); sw != w {
			plural = true
			w = sw
		}
		words = append(words, w)
	}
	return strings.Join(words, " "), plural
}

// norm1 normalizes a configured name (singular forms, no articles).
func norm1(s string) string {
	n, _ := normName(s)
	return n
}

func normWord(s string) string { return norm1(s) }

// singular drops an English plural ending ("lights", "blinds", "switches"); short words and
// words ending in "ss" or "us" keep theirs.
func singular(w string) string {
	if len(w) <= 3 || !strings.HasSuffix(w, "s") || strings.HasSuffix(w, "ss") || strings.HasSuffix(w, "us") || strings.HasSuffix(w, "is") {
		return w
	}
	for _, end := range []string{"ches", "shes", "xes"} {
		if strings.HasSuffix(w, end) {
			return w[:len(w)-2]
		}
	}
	return w[:len(w)-1]
}

func sameText(a, b string) bool {
	return a == b || strings.ReplaceAll(a, " ", "") == strings.ReplaceAll(b, " ", "")
}

// allowed is the misspelling forgiven in a name: one edit per five letters, none in a name
// of three letters or fewer (so "fan" is never "van").
func allowed(q string) int {
	n := len([]rune(strings.ReplaceAll(q, " ", "")))
	if n <= 3 {
		return 0
	}
	return max(1, n/5)
}

// ---- Doing and reading ----

var opNames = [...]string{"read", "turn_on", "turn_off", "toggle", "set_brightness", "set_color", "set_position", "set_temperature"}

func (o Op) String() string {
	if int(o) >= 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "unknown"
}

// MarshalText writes the operation's name ("turn_on"; "read" for a question).
func (o Op) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Status is how a command or question went.
type Status int

const (
	Done        Status = iota + 1 // carried out (or read)
	Ambiguous                     // several entities fit: Outcome.Entities are the choices
	NotFound                      // no entity of that name
	Unreachable                   // the backend's server cannot be reached (Outcome.Source)
	Unsupported                   // the entity cannot do that
	Failed                        // the backend refused or failed (Outcome.Err)
	OutOfRange                    // the value is outside what the entity takes (Outcome.Range)
)

var statusNames = [...]string{"", "done", "ambiguous", "not_found", "unreachable", "unsupported", "failed", "out_of_range"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

// MarshalText writes the status's name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Outcome is what a command or question came to: typed, so that it can be said in any
// language ([Outcome.Say]), shown and audited.
type Outcome struct {
	Status   Status      `json:"status"`
	Said     string      `json:"said"`               // the name as said
	Command  Command     `json:"command"`            // Op 0: a question about the state
	Entities []Entity    `json:"entities,omitempty"` // acted on or read; Ambiguous: the choices
	States   []State     `json:"states,omitempty"`   // a question's answers, one per entity
	Expect   string      `json:"expect,omitempty"`   // "is it open?": the state asked about
	Source   Source      `json:"source,omitempty"`   // Unreachable: which system
	Range    *RangeError `json:"range,omitempty"`    // OutOfRange: what the entity takes
	Err      error       `json:"-"`
}

// Do carries out c on what name means (of that kind, if given), on every entity a plural or
// an area names. When several entities fit, the outcome asks which, and the hub remembers the
// command for a while: [Hub.Choose] with just a name completes it.
func (h *Hub) Do(ctx context.Context, name string, kind Kind, c Command) Outcome {
	ctx, cancel := context.WithTimeout(ctx, h.o.Timeout)
	defer cancel()
	h.refreshIfOld(ctx)
	o := Outcome{Said: name, Command: c}
	r := h.Resolve(name, Want{Op: c.Op, Kind: kind})
	if done, o := h.unresolved(o, r); done {
		h.askedWhich(o, r, request{cmd: c})
		return o
	}
	o.Entities = r.Entities
	for _, t := range r.targets {
		if !fits(t, Want{Op: c.Op, Kind: kind}) {
			// It exists but cannot do this: "lock the garage door" must not reach the cover's
			// turn_on (open_cover), so nothing is sent.
			o.Status, o.Entities = Unsupported, []Entity{t.Entity}
			return o
		}
	}
	return h.do(ctx, o, r.targets)
}

func (h *Hub) do(ctx context.Context, o Outcome, ts []target) Outcome {
	for _, t := range ts {
		if err := t.b.Do(ctx, t.ID, o.Command); err != nil {
			return h.failed(o, t, err)
		}
	}
	o.Status = Done
	return o
}

// Read answers a question about what name means: its state, or (with quantity, "temperature")
// the reading of that quantity there. expect is the state asked about ("open"), if any.
func (h *Hub) Read(ctx context.Context, name, quantity, expect string) Outcome {
	ctx, cancel := context.WithTimeout(ctx, h.o.Timeout)
	defer cancel()
	h.refreshIfOld(ctx)
	o := Outcome{Said: name, Expect: expect}
	r := h.Resolve(name, Want{Quantity: quantity})
	if r.Found == FoundNone && quantity != "" {
		r = h.Resolve(name, Want{})
	}
	if done, o := h.unresolved(o, r); done {
		h.askedWhich(o, r, request{expect: expect})
		return o
	}
	o.Entities = r.Entities
	return h.read(ctx, o, r.targets)
}

func (h *Hub) read(ctx context.Context, o Outcome, ts []target) Outcome {
	for _, t := range ts {
		st, err := t.b.State(ctx, t.ID)
		if errors.Is(err, ErrNoReading) {
			// Nothing reported yet is an answer, not a failure: said as "no reading yet".
			st, err = State{}, nil
		}
		if err != nil {
			return h.failed(o, t, err)
		}
		o.States = append(o.States, st)
	}
	o.Status = Done
	return o
}

func (h *Hub) unresolved(o Outcome, r Resolution) (bool, Outcome) {
	switch r.Found {
	case FoundNone:
		o.Status = NotFound
		return true, o
	case FoundAmbiguous:
		o.Status, o.Entities = Ambiguous, r.Entities
		return true, o
	}
	o.Entities = r.Entities
	return false, o
}

func (h *Hub) failed(o Outcome, t target, err error) Outcome {
	o.Entities, o.Err, o.Source = []Entity{t.Entity}, err, t.Source
	switch {
	case errors.Is(err, ErrUnreachable) || errors.Is(err, context.DeadlineExceeded):
		o.Status = Unreachable
	case errors.As(err, &o.Range):
		o.Status = OutOfRange
	case errors.Is(err, ErrUnsupported):
		o.Status = Unsupported
	case errors.Is(err, ErrUnknownEntity):
		o.Status = NotFound
	default:
		o.Status = Failed
	}
	return o
}
