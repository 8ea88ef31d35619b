package action

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"hark/intent"
)

//go:embed templates/*.toml
var defaultTemplates embed.FS

// Intent names the templates use for answers to a confirmation question.
const (
	IntentYes = "confirm_yes"
	IntentNo  = "confirm_no"
)

// Options configure an [Actor].
type Options struct {
	Store *Store // required: timers and notes
	Now   func() time.Time
	// Location is the time zone the clock and alarms use (nil: local time). Hour12 says the
	// time as 3:05 PM instead of 15:05 (see [Hour12For]).
	Location *time.Location
	Hour12   bool
	Language string // the templates' language to try first ("" or "auto": all)
	// TemplateDirs are folders of the person's own template files (*.toml), read after the
	// built-in ones; a missing folder is skipped.
	TemplateDirs []string
	// Templates are more built-in template files (a connector's), compiled with Hark's own
	// before the person's.
	Templates []intent.NamedFile
	// Tools are more tools (a connector's), registered beside the built-in ones.
	Tools []Tool
	// Enabled limits the tools offered and run (nil: all built-in tools).
	Enabled []string
	Ring    func(Ring) // a timer came due (may be set later with Timers().SetRing)
}

// Actor is Hark's action layer: the registry of tools, the built-in skills and the intent
// templates.
type Actor struct {
	reg    *Registry
	store  *Store
	timers *Timers
	set    *intent.Set
	clock  clock
	lang   string

	mu    sync.Mutex
	level int // speech volume 0..100
}

// New builds the actor: it registers the built-in tools, compiles the templates and schedules
// the timers found in the store.
func New(o Options) (*Actor, error) {
	if o.Store == nil {
		return nil, errors.New("action: no store")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	a := &Actor{reg: NewRegistry(), store: o.Store, clock: clock{now: o.Now, loc: o.Location, hour12: o.Hour12}, lang: o.Language, level: 100}
	if err := a.registerBuiltins(); err != nil {
		return nil, err
	}
	for _, t := range o.Tools {
		if err := a.reg.Register(t); err != nil {
			return nil, err
		}
	}
	if o.Enabled != nil {
		for _, n := range o.Enabled {
			if !a.reg.Known(n) {
				return nil, fmt.Errorf("action: no tool %q (`hark tools` lists them)", n)
			}
		}
		a.reg.Enable(o.Enabled)
	}
	set, err := loadTemplates(o.Templates, o.TemplateDirs...)
	if err != nil {
		return nil, err
	}
	a.set = set
	if a.timers, err = NewTimers(o.Store, o.Now, o.Ring); err != nil {
		return nil, err
	}
	return a, nil
}

// LoadTemplates compiles the built-in templates and the *.toml files in dirs.
func LoadTemplates(dirs ...string) (*intent.Set, error) { return loadTemplates(nil, dirs...) }

func loadTemplates(extra []intent.NamedFile, dirs ...string) (*intent.Set, error) {
	files, err := intent.LoadFS(defaultTemplates, "templates")
	if err != nil {
		return nil, fmt.Errorf("action: built-in templates: %w", err)
	}
	files = append(files, extra...)
	for _, d := range dirs {
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			continue
		}
		more, err := intent.LoadFS(os.DirFS(d), ".")
		if err != nil {
			return nil, fmt.Errorf("intent templates in %s: %w", d, err)
		}
		for i := range more {
			more[i].Name = filepath.Join(d, more[i].Name)
		}
		files = append(files, more...)
	}
	return intent.Compile(files)
}

// Registry is the actor's tool registry (connectors register theirs here).
func (a *Actor) Registry() *Registry { return a.reg }

// Timers is the timer service.
func (a *Actor) Timers() *Timers { return a.timers }

// Templates is the compiled template set.
func (a *Actor) Templates() *intent.Set { return a.set }

// Close stops the timers (they ring after the next start).
func (a *Actor) Close() { a.timers.Close() }

// MatchKind says what a sentence turned out to be.
type MatchKind int

const (
	NoMatch   MatchKind = iota // no template fits: the language model may try
	Matched                    // a tool call, ready to validate and run
	Ambiguous                  // several intents fit equally well: ask which
	Yes                        // an answer to a confirmation question
	No
)

var kindNames = [...]string{"none", "matched", "ambiguous", "yes", "no"}

func (k MatchKind) String() string { return kindNames[k] }

// MarshalText writes the kind's name.
func (k MatchKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Match is what a sentence means to the actor.
type Match struct {
	Kind     MatchKind       `json:"kind"`
	Tool     string          `json:"tool,omitempty"`
	Args     json.RawMessage `json:"args,omitempty"`
	Intent   string          `json:"intent,omitempty"`
	Language string          `json:"language,omitempty"`
	Template string          `json:"template,omitempty"`
	Slots    map[string]any  `json:"slots,omitempty"`
	Choices  []string        `json:"choices,omitempty"` // Ambiguous: the intents that fit
	Question string          `json:"question,omitempty"`
}

// Match compares a sentence with the templates. An intent whose tool is not enabled does not
// match.
func (a *Actor) Match(lang, sentence string) Match {
	if lang == "" {
		lang = a.lang
	}
	r := a.set.Match(lang, sentence)
	if r.Best == nil && r.Ambiguous == nil && lang != "" && lang != "auto" {
		// Another language's templates next: a Chinese sentence on an English set-up.
		r = a.set.Match("", sentence)
	}
	if len(r.Ambiguous) > 0 {
		m := Match{Kind: Ambiguous, Language: r.Ambiguous[0].Language}
		l := replyLang(m.Language)
		var says []string
		for _, c := range r.Ambiguous {
			m.Choices = append(m.Choices, c.Intent)
			if t, ok := a.reg.Lookup(c.Intent); ok {
				says = append(says, l.title(t))
			}
		}
		m.Question = l.f("Did you mean: %s?", "你是说：%s？", strings.Join(says, l.f(", or ", "，还是")))
		return m
	}
	if r.Best == nil {
		return Match{Kind: NoMatch}
	}
	b := r.Best
	m := Match{Intent: b.Intent, Language: b.Language, Template: b.Template, Slots: b.Slots}
	switch b.Intent {
	case IntentYes:
		m.Kind = Yes
		return m
	case IntentNo:
		m.Kind = No
		return m
	}
	args, err := json.Marshal(b.Slots)
	if err != nil {
		return Match{Kind: NoMatch}
	}
	t, v, err := a.reg.Validate(b.Intent, args)
	if err != nil || (t.Accept != nil && !t.Accept(v)) {
		return Match{Kind: NoMatch}
	}
	m.Kind, m.Tool, m.Args = Matched, b.Intent, args
	return m
}

// ToolInfo describes an enabled tool for the language model and the front ends.
type ToolInfo struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Risk        Risk            `json:"risk"`
}

// Tools lists the enabled tools.
func (a *Actor) Tools() []ToolInfo {
	var out []ToolInfo
	for _, t := range a.reg.Tools() {
		p := t.Schema
		if len(p) == 0 {
			p = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out = append(out, ToolInfo{Name: t.Name, Description: t.Description, Parameters: p, Risk: t.Risk})
	}
	return out
}

// Check validates a call without running it and returns its risk and, for a Confirm tool, the
// question to ask, in the language of ctx (WithLanguage).
func (a *Actor) Check(ctx context.Context, name string, args json.RawMessage) (Risk, string, error) {
	t, v, err := a.reg.Validate(name, args)
	if err != nil {
		return Safe, "", err
	}
	risk := t.Risk
	if t.RiskFor != nil {
		risk = t.RiskFor(v)
	}
	if risk != Confirm {
		return Safe, "", nil
	}
	q := ""
	switch {
	case t.Ask != nil:
		q = t.Ask(ctx, v)
	case t.Question != nil:
		q = t.Question(v)
	}
	if q == "" {
		if l := langOf(ctx); l == langZH && zhTitles[t.Name] != "" {
			q = zhTitles[t.Name] + "吗？"
		} else {
			q = strings.TrimSuffix(t.Description, ".") + "?"
		}
	}
	return Confirm, q, nil
}

// Run validates and runs a call; the result is said in the language of ctx (WithLanguage).
// Confirmation is the caller's business: Run does not ask.
func (a *Actor) Run(ctx context.Context, name string, args json.RawMessage) (Result, error) {
	return a.reg.Run(ctx, name, args)
}

// Hour12For reports whether people in the locale (a POSIX locale such as "en_US.UTF-8", or a
// language tag "en-US") read the time on a 12-hour clock.
func Hour12For(locale string) bool {
	locale, _, _ = strings.Cut(locale, ".")
	locale = strings.ReplaceAll(locale, "-", "_")
	_, region, ok := strings.Cut(locale, "_")
	if !ok {
		return false
	}
	switch strings.ToUpper(region) {
	case "US", "CA", "AU", "NZ", "PH", "IN", "PK", "BD", "EG", "SA", "CO", "MY":
		return true
	}
	return false
}
