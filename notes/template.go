package notes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Kind is what a section holds.
type Kind string

const (
	Paragraph Kind = "text"    // free text
	List      Kind = "list"    // bullet points
	Actions   Kind = "actions" // action items: task, owner, due
)

// Section is one part of a note.
type Section struct {
	Key   string `toml:"key" json:"key"`     // the JSON property: lower-case letters, digits, _
	Title string `toml:"title" json:"title"` // the heading in the rendered note
	Kind  Kind   `toml:"kind" json:"kind"`   // "" = text
	Hint  string `toml:"hint" json:"hint"`   // what belongs here, told to the model
}

// Template is the shape of a note.
type Template struct {
	Name         string    `toml:"name" json:"name"`
	Title        string    `toml:"title" json:"title"`               // the rendered note's heading
	Instructions string    `toml:"instructions" json:"instructions"` // extra words for the model
	Sections     []Section `toml:"sections" json:"sections"`
}

var keyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// ErrBadTemplate wraps everything wrong with a template file.
var ErrBadTemplate = errors.New("notes: invalid template")

// Check reports what is wrong with t, if anything.
func (t Template) Check() error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("%w %q: %s", ErrBadTemplate, t.Name, fmt.Sprintf(f, a...))
	}
	if strings.TrimSpace(t.Name) == "" {
		return bad("it needs a name")
	}
	if len(t.Sections) == 0 {
		return bad("it needs at least one [[sections]]")
	}
	if len(t.Sections) > 20 {
		return bad("%d sections; at most 20", len(t.Sections))
	}
	seen := map[string]bool{}
	for i, s := range t.Sections {
		if !keyRE.MatchString(s.Key) {
			return bad("section %d: key %q must be lower-case letters, digits and _, starting with a letter", i+1, s.Key)
		}
		if seen[s.Key] {
			return bad("section key %q appears twice", s.Key)
		}
		seen[s.Key] = true
		switch s.Kind {
		case "", Paragraph, List, Actions:
		default:
			return bad("section %q: kind %q is not text, list or actions", s.Key, s.Kind)
		}
	}
	return nil
}

func (s Section) kind() Kind {
	if s.Kind == "" {
		return Paragraph
	}
	return s.Kind
}

func (s Section) title() string {
	if s.Title != "" {
		return s.Title
	}
	return strings.ReplaceAll(s.Key, "_", " ")
}

func (t Template) title() string {
	if t.Title != "" {
		return t.Title
	}
	return t.Name
}

// Limits bound the note so that generation always ends, even with a model that rambles.
type Limits struct {
	TextChars int // a paragraph (default 1500 characters)
	Items     int // a list or the action items (default 12)
	ItemChars int // one item, or one action's task (default 200)
}

func (l Limits) orDefault() Limits {
	if l.TextChars <= 0 {
		l.TextChars = 1500
	}
	if l.Items <= 0 {
		l.Items = 12
	}
	if l.ItemChars <= 0 {
		l.ItemChars = 200
	}
	return l
}

// Schema is the JSON Schema the model's reply must satisfy: an object with every section
// required and nothing else.
func (t Template) Schema(l Limits) string {
	l = l.orDefault()
	str := func(n int) map[string]any { return map[string]any{"type": "string", "maxLength": n} }
	props := map[string]any{}
	var req []string
	for _, s := range t.Sections {
		var p map[string]any
		switch s.kind() {
		case Paragraph:
			p = str(l.TextChars)
		case List:
			p = map[string]any{"type": "array", "items": str(l.ItemChars), "maxItems": l.Items}
		case Actions:
			p = map[string]any{"type": "array", "maxItems": l.Items, "items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"task":  str(l.ItemChars),
					"owner": str(60),
					"due":   str(60),
				},
				"required":             []string{"task", "owner", "due"},
				"additionalProperties": false,
			}}
		}
		props[s.Key] = p
		req = append(req, s.Key)
	}
	schema := map[string]any{"type": "object", "properties": props, "required": req, "additionalProperties": false}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(schema) // maps of strings, numbers and slices always encode
	return strings.TrimSpace(b.String())
}

// Builtin returns the built-in templates: "soap" (a clinic visit), "minutes" (a meeting) and
// "handover" (a shift handover).
func Builtin() []Template {
	return []Template{
		{
			Name: "soap", Title: "Clinic visit (SOAP)",
			Instructions: "This is a consultation between a clinician and a patient. Write a SOAP note.",
			Sections: []Section{
				{Key: "subjective", Title: "Subjective", Hint: "the patient's complaints, history and symptoms in their own account"},
				{Key: "objective", Title: "Objective", Hint: "findings: examination, vital signs, test results that were stated"},
				{Key: "assessment", Title: "Assessment", Hint: "the clinician's assessment or diagnosis"},
				{Key: "plan", Title: "Plan", Kind: List, Hint: "treatment, prescriptions, tests ordered, follow-up"},
			},
		},
		{
			Name: "minutes", Title: "Meeting minutes",
			Instructions: "This is a meeting. Write its minutes.",
			Sections: []Section{
				{Key: "summary", Title: "Summary", Hint: "what the meeting was about, in a few sentences"},
				{Key: "attendees", Title: "Attendees", Kind: List, Hint: "people named as present"},
				{Key: "decisions", Title: "Decisions", Kind: List, Hint: "what was decided"},
				{Key: "action_items", Title: "Action items", Kind: Actions, Hint: "tasks agreed, each with its owner and due date when said (else \"\")"},
				{Key: "open_questions", Title: "Open questions", Kind: List, Hint: "questions left unresolved"},
			},
		},
		{
			Name: "handover", Title: "Shift handover",
			Instructions: "This is a shift handover. Write the handover note.",
			Sections: []Section{
				{Key: "status", Title: "Status", Hint: "the state of the work, the machines or the ward at handover"},
				{Key: "incidents", Title: "Incidents", Kind: List, Hint: "what went wrong or needed attention during the shift"},
				{Key: "pending", Title: "Pending tasks", Kind: Actions, Hint: "what the next shift must do, with owner and due time when said (else \"\")"},
				{Key: "safety", Title: "Safety notes", Kind: List, Hint: "hazards, lock-outs, warnings"},
			},
		},
	}
}

// Names lists the built-in templates and the *.toml files in dir ("" = none), sorted as found.
func Names(dir string) []string {
	var n []string
	for _, t := range Builtin() {
		n = append(n, t.Name)
	}
	if dir != "" {
		m, _ := filepath.Glob(filepath.Join(dir, "*.toml"))
		for _, f := range m {
			n = append(n, strings.TrimSuffix(filepath.Base(f), ".toml"))
		}
	}
	return n
}

// Find returns the template called name: a file (a path ending in .toml), a file NAME.toml in
// dir ("" = none), or a built-in one, in that order.
func Find(name, dir string) (Template, error) {
	if strings.HasSuffix(name, ".toml") {
		return LoadFile(name)
	}
	if dir != "" && keyRE.MatchString(strings.ToLower(name)) {
		p := filepath.Join(dir, name+".toml")
		if _, err := os.Stat(p); err == nil {
			return LoadFile(p)
		}
	}
	for _, t := range Builtin() {
		if t.Name == name {
			return t, nil
		}
	}
	return Template{}, fmt.Errorf("%w: no template called %q (there are: %s)", ErrNoTemplate, name, strings.Join(Names(dir), ", "))
}

// ErrNoTemplate is returned by Find for a name it does not know.
var ErrNoTemplate = errors.New("notes: unknown template")

// LoadFile reads a template written in TOML:
//
//	name = "visit"
//	title = "Home visit"
//	instructions = "A nurse visits a patient at home."
//	[[sections]]
//	key = "observations"
//	title = "Observations"
//	kind = "list"   # text (default), list or actions
//	hint = "what the nurse saw and measured"
func LoadFile(path string) (Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Template{}, fmt.Errorf("reading the note template: %w", err)
	}
	var t Template
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return Template{}, fmt.Errorf("%w %s: %v", ErrBadTemplate, path, err)
	}
	if t.Name == "" {
		t.Name = strings.TrimSuffix(filepath.Base(path), ".toml")
	}
	return t, t.Check()
}
