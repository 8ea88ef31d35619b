package notes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Note is a filled-in template.
type Note struct {
	Template Template
	Values   map[string]Value // by section key; every section has one
}

// Value is a section's content: Text for a paragraph, Items for a list, Actions for action items.
type Value struct {
	Text    string
	Items   []string
	Actions []Action
}

// Action is one action item.
type Action struct {
	Task  string `json:"task"`
	Owner string `json:"owner"`
	Due   string `json:"due"`
}

func (v Value) empty() bool {
	return strings.TrimSpace(v.Text) == "" && len(v.Items) == 0 && len(v.Actions) == 0
}

// Parse reads a note in the JSON the template's schema describes. A missing section or one of
// the wrong type is an error: the schema makes every section required.
func Parse(t Template, data []byte) (Note, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Note{}, fmt.Errorf("notes: the note is not a JSON object: %w", err)
	}
	n := Note{Template: t, Values: map[string]Value{}}
	for _, s := range t.Sections {
		r, ok := raw[s.Key]
		if !ok {
			return Note{}, fmt.Errorf("notes: the note has no section %q", s.Key)
		}
		var v Value
		var err error
		switch s.kind() {
		case Paragraph:
			err = json.Unmarshal(r, &v.Text)
			v.Text = strings.TrimSpace(v.Text)
		case List:
			err = json.Unmarshal(r, &v.Items)
			v.Items = clean(v.Items)
		case Actions:
			err = json.Unmarshal(r, &v.Actions)
			var keep []Action
			for _, a := range v.Actions {
				a.Task, a.Owner, a.Due = strings.TrimSpace(a.Task), strings.TrimSpace(a.Owner), strings.TrimSpace(a.Due)
				if a.Task != "" {
					keep = append(keep, a)
				}
			}
			v.Actions = keep
		}
		if err != nil {
			return Note{}, fmt.Errorf("notes: section %q: %w", s.Key, err)
		}
		n.Values[s.Key] = v
	}
	return n, nil
}

func clean(items []string) []string {
	var out []string
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// JSON is the note in its schema's layout, sections in the template's order.
func (n Note) JSON() []byte {
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, s := range n.Template.Sections {
		v := n.Values[s.Key]
		var x any
		switch s.kind() {
		case Paragraph:
			x = v.Text
		case List:
			x = nonNil(v.Items)
		case Actions:
			x = nonNil(v.Actions)
		}
		k, _ := json.Marshal(s.Key)
		val, _ := json.MarshalIndent(x, "  ", "  ")
		fmt.Fprintf(&b, "  %s: %s", k, val)
		if i < len(n.Template.Sections)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func nonNil[T any](x []T) []T {
	if x == nil {
		return []T{}
	}
	return x
}

// nothing stands in a rendered section about which nothing was said, so that every heading
// of the template is there and visibly empty rather than missing.
const nothing = "(nothing recorded)"

// Markdown renders the note with a heading per section.
func (n Note) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", oneLine(n.Template.title()))
	for _, s := range n.Template.Sections {
		fmt.Fprintf(&b, "\n## %s\n\n", oneLine(s.title()))
		v := n.Values[s.Key]
		switch {
		case v.empty():
			b.WriteString("_" + nothing + "_\n")
		case s.kind() == Paragraph:
			b.WriteString(v.Text + "\n")
		case s.kind() == List:
			for _, it := range v.Items {
				b.WriteString("- " + oneLine(it) + "\n")
			}
		default:
			for _, a := range v.Actions {
				b.WriteString("- [ ] " + oneLine(a.Task) + actionTail(a) + "\n")
			}
		}
	}
	return b.String()
}

// Text renders the note as plain text, headings underlined.
func (n Note) Text() string {
	var b strings.Builder
	t := oneLine(n.Template.title())
	fmt.Fprintf(&b, "%s\n%s\n", t, strings.Repeat("=", len([]rune(t))))
	for _, s := range n.Template.Sections {
		h := oneLine(s.title())
		fmt.Fprintf(&b, "\n%s\n%s\n", h, strings.Repeat("-", len([]rune(h))))
		v := n.Values[s.Key]
		switch {
		case v.empty():
			b.WriteString(nothing + "\n")
		case s.kind() == Paragraph:
			b.WriteString(v.Text + "\n")
		case s.kind() == List:
			for _, it := range v.Items {
				b.WriteString("* " + oneLine(it) + "\n")
			}
		default:
			for _, a := range v.Actions {
				b.WriteString("* " + oneLine(a.Task) + actionTail(a) + "\n")
			}
		}
	}
	return b.String()
}

func actionTail(a Action) string {
	var p []string
	if a.Owner != "" {
		p = append(p, "owner: "+oneLine(a.Owner))
	}
	if a.Due != "" {
		p = append(p, "due: "+oneLine(a.Due))
	}
	if len(p) == 0 {
		return ""
	}
	return " (" + strings.Join(p, ", ") + ")"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Merge puts notes of the same template together section by section: paragraphs joined,
// lists and actions appended. It is the last resort when the model cannot combine them.
func Merge(t Template, parts []Note) Note {
	out := Note{Template: t, Values: map[string]Value{}}
	for _, s := range t.Sections {
		var v Value
		var texts []string
		for _, p := range parts {
			pv := p.Values[s.Key]
			if pv.Text != "" {
				texts = append(texts, pv.Text)
			}
			v.Items = append(v.Items, pv.Items...)
			v.Actions = append(v.Actions, pv.Actions...)
		}
		v.Text = strings.Join(texts, "\n\n")
		out.Values[s.Key] = v
	}
	return out
}
