package notes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeModel counts a token per word (a Chinese character is a word) and answers with a note
// whose paragraphs quote the start of the prompt, so tests can see which part a note came from.
type fakeModel struct {
	calls   []string // the prompts
	systems []string
	reply   func(prompt string) string // nil: a note of the template (set by the test)
	err     error
}

func (f *fakeModel) Generate(ctx context.Context, system, prompt, schema string) (string, error) {
	f.calls = append(f.calls, prompt)
	f.systems = append(f.systems, system)
	if f.err != nil {
		return "", f.err
	}
	return f.reply(prompt), nil
}

func (f *fakeModel) Tokens(text string) (int, error) {
	n := 0
	for _, w := range strings.Fields(text) {
		n += max(1, len([]rune(w))/4)
	}
	return n, nil
}

// echoNote answers with a note of t: paragraphs hold the prompt's first line, lists one item.
func echoNote(t Template) func(string) string {
	return func(prompt string) string {
		first, _, _ := strings.Cut(prompt, "\n")
		v := map[string]any{}
		for _, s := range t.Sections {
			switch s.kind() {
			case Paragraph:
				v[s.Key] = first
			case List:
				v[s.Key] = []string{s.Key + " item"}
			case Actions:
				v[s.Key] = []Action{{Task: "do it", Owner: "Ann", Due: "Friday"}}
			}
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func builtin(t *testing.T, name string) Template {
	t.Helper()
	tm, err := Find(name, "")
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestSchema: every built-in template's schema is an object that requires exactly its
// sections, allows nothing else, and bounds every string and list.
func TestSchema(t *testing.T) {
	for _, tm := range Builtin() {
		t.Run(tm.Name, func(t *testing.T) {
			if err := tm.Check(); err != nil {
				t.Fatal(err)
			}
			var s struct {
				Type       string
				Required   []string
				Properties map[string]map[string]any
				Additional *bool `json:"additionalProperties"`
			}
			if err := json.Unmarshal([]byte(tm.Schema(Limits{TextChars: 300})), &s); err != nil {
				t.Fatal(err)
			}
			if s.Type != "object" || s.Additional == nil || *s.Additional || len(s.Required) != len(tm.Sections) || len(s.Properties) != len(tm.Sections) {
				t.Fatalf("schema %+v", s)
			}
			for i, sec := range tm.Sections {
				p := s.Properties[sec.Key]
				if s.Required[i] != sec.Key || p == nil {
					t.Fatalf("section %q missing from the schema", sec.Key)
				}
				switch sec.kind() {
				case Paragraph:
					if p["maxLength"] != float64(300) {
						t.Errorf("%s: %v", sec.Key, p)
					}
				default:
					if p["maxItems"] == nil {
						t.Errorf("%s: unbounded list %v", sec.Key, p)
					}
				}
			}
		})
	}
}

// TestRender: Markdown and text have the title and every section's heading, in order, with
// the content, and "(nothing recorded)" in an empty section.
func TestRender(t *testing.T) {
	tm := builtin(t, "minutes")
	n, err := Parse(tm, []byte(`{"summary":" Budget review. ","attendees":["Ann","  ","Bo"],"decisions":[],
		"action_items":[{"task":"Send the figures","owner":"Ann","due":"Friday"},{"task":"Book a room","owner":"","due":""}],"open_questions":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  string
		want []string
	}{
		{"markdown", n.Markdown(), []string{"# Meeting minutes\n", "\n## Summary\n\nBudget review.\n", "\n## Attendees\n\n- Ann\n- Bo\n",
			"\n## Decisions\n\n_(nothing recorded)_\n", "- [ ] Send the figures (owner: Ann, due: Friday)\n- [ ] Book a room\n", "\n## Open questions\n"}},
		{"text", n.Text(), []string{"Meeting minutes\n===============\n", "\nSummary\n-------\nBudget review.\n", "* Ann\n* Bo\n",
			"Decisions\n---------\n(nothing recorded)\n", "* Send the figures (owner: Ann, due: Friday)\n", "Open questions\n--------------\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := 0
			for _, w := range tt.want {
				i := strings.Index(tt.got[at:], w)
				if i < 0 {
					t.Fatalf("%q not found (in order) in:\n%s", w, tt.got)
				}
				at += i + len(w)
			}
		})
	}
	var back map[string]any
	if err := json.Unmarshal(n.JSON(), &back); err != nil || len(back) != len(tm.Sections) {
		t.Fatalf("JSON %s: %v", n.JSON(), err)
	}
	if again, err := Parse(tm, n.JSON()); err != nil || again.Markdown() != n.Markdown() {
		t.Errorf("JSON does not read back: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tm := builtin(t, "soap")
	tests := []struct{ name, in, want string }{
		{"not json", `{"subjective":`, "not a JSON object"},
		{"missing section", `{"subjective":"","objective":"","assessment":""}`, `no section "plan"`},
		{"wrong type", `{"subjective":"","objective":"","assessment":"","plan":"rest"}`, `section "plan"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tm, []byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

// TestWriteShort: a transcript that fits is one model call, under the template's schema, with
// the template's sections named in the system prompt.
func TestWriteShort(t *testing.T) {
	tm := builtin(t, "soap")
	f := &fakeModel{reply: echoNote(tm)}
	n, err := Write(context.Background(), f, tm, "She has had a cough for five days.\nNo fever.\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 1 || !strings.HasPrefix(f.calls[0], "Transcript:\nShe has had a cough for five days.\nNo fever.") {
		t.Fatalf("calls %q", f.calls)
	}
	for _, s := range tm.Sections {
		if !strings.Contains(f.systems[0], "- "+s.Key+" (") {
			t.Errorf("system prompt does not name %q:\n%s", s.Key, f.systems[0])
		}
	}
	if n.Values["subjective"].Text != "Transcript:" || len(n.Values["plan"].Items) != 1 {
		t.Errorf("note %+v", n.Values)
	}
}

// TestWriteEmpty: silence makes an empty note, without asking the model (which could invent).
func TestWriteEmpty(t *testing.T) {
	tm := builtin(t, "handover")
	f := &fakeModel{err: errors.New("must not be called")}
	n, err := Write(context.Background(), f, tm, " \n\n", Options{})
	if err != nil || len(f.calls) != 0 {
		t.Fatalf("err %v, %d calls", err, len(f.calls))
	}
	if strings.Count(n.Markdown(), nothing) != len(tm.Sections) {
		t.Errorf("%s", n.Markdown())
	}
}

// TestWriteLong: a transcript many times the context is cut into parts at line ends, each
// part fits, every line is in exactly one part, in order, and the part notes are combined by
// the model in rounds until one note is left.
func TestWriteLong(t *testing.T) {
	tm := builtin(t, "minutes")
	var lines []string
	for i := range 300 {
		lines = append(lines, fmt.Sprintf("line%03d we talked about the budget and the hires", i))
	}
	tests := []struct {
		name           string
		context, reply int
		wantMerge      bool // the context is too small to combine two part notes: merged section by section
	}{
		{"combined by the model", 900, 200, false},
		{"merged", 520, 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeModel{}
			f.reply = func(p string) string {
				if n, _ := f.Tokens(p); n > tt.context-tt.reply-margin {
					t.Errorf("a prompt of %d tokens in a context of %d (reply %d)", n, tt.context, tt.reply)
				}
				return echoNote(tm)(p)
			}
			var steps []string
			o := Options{Context: tt.context, Reply: tt.reply, Progress: func(s, n int) { steps = append(steps, fmt.Sprint(s, "/", n)) }}
			n, err := Write(context.Background(), f, tm, strings.Join(lines, "\n"), o)
			if err != nil {
				t.Fatal(err)
			}
			var parts, combines int
			next := 0
			for _, c := range f.calls {
				if strings.HasPrefix(c, "Below are notes") {
					combines++
					continue
				}
				parts++
				if !strings.HasPrefix(c, fmt.Sprintf("Transcript, part %d of ", parts)) {
					t.Errorf("part %d starts %q", parts, c[:40])
				}
				for _, l := range strings.Split(c, "\n")[1:] {
					if l != lines[next] {
						t.Fatalf("part %d: %q, want %q", parts, l, lines[next])
					}
					next++
				}
			}
			if next != len(lines) || parts < 3 {
				t.Fatalf("%d parts covered %d of %d lines", parts, next, len(lines))
			}
			if tt.wantMerge != (combines == 0) {
				t.Fatalf("%d combining calls for %d parts", combines, parts)
			}
			if len(steps) != len(f.calls) {
				t.Errorf("progress %v for %d calls", steps, len(f.calls))
			}
			got := n.Values["summary"].Text
			if tt.wantMerge {
				if strings.Count(got, "Transcript, part") != parts {
					t.Errorf("merged summary %q", got)
				}
			} else if got != "Below are notes of consecutive parts of one recording. Combine them into one note of the same form: keep every fact, drop repetition." {
				t.Errorf("summary %q is not the last combining call's", got)
			}
		})
	}
}

// TestWriteChinese: a transcript without line breaks or spaces is cut at Chinese sentence ends.
func TestWriteChinese(t *testing.T) {
	tm := builtin(t, "handover")
	s := strings.Repeat("三号机床的冷却液快用完了，下一班要先加满再开机。", 40)
	f := &fakeModel{reply: echoNote(tm)}
	if _, err := Write(context.Background(), f, tm, s, Options{Context: 400, Reply: 100}); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "Below") {
			_, body, _ := strings.Cut(c, "\n")
			got.WriteString(body)
		}
	}
	if got.String() != s {
		t.Errorf("the parts do not add up to the transcript")
	}
}

func TestWriteErrors(t *testing.T) {
	tm := builtin(t, "soap")
	tests := []struct {
		name  string
		model *fakeModel
		o     Options
		want  string
	}{
		{"context too small", &fakeModel{reply: echoNote(tm)}, Options{Context: 200, Reply: 100}, "context is too small"},
		{"model fails", &fakeModel{err: errors.New("boom")}, Options{}, "boom"},
		{"reply not the template", &fakeModel{reply: func(string) string { return `{"subjective":"x"}` }}, Options{}, "does not follow the template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Write(context.Background(), tt.model, tm, "hello there", tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

// TestWriteCutShort: a note that does not fit is asked for again with shorter sections (a
// smaller maxLength in the schema), twice at most.
func TestWriteCutShort(t *testing.T) {
	tm := builtin(t, "soap")
	for _, tt := range []struct {
		fails int
		ok    bool
	}{{1, true}, {2, true}, {3, false}} {
		var schemas []string
		m := &cutModel{fails: tt.fails, reply: echoNote(tm), schemas: &schemas}
		_, err := Write(context.Background(), m, tm, "a cough", Options{})
		if (err == nil) != tt.ok || (!tt.ok && !errors.Is(err, ErrCutShort)) {
			t.Fatalf("%d failures: %v", tt.fails, err)
		}
		if len(schemas) != min(tt.fails+1, 3) || !strings.Contains(schemas[0], `"maxLength":1500`) || !strings.Contains(schemas[1], `"maxLength":750`) {
			t.Errorf("%d failures: schemas %q", tt.fails, schemas)
		}
	}
}

type cutModel struct {
	fails   int
	reply   func(string) string
	schemas *[]string
}

func (c *cutModel) Generate(_ context.Context, _, prompt, schema string) (string, error) {
	*c.schemas = append(*c.schemas, schema)
	if len(*c.schemas) <= c.fails {
		return "", fmt.Errorf("after 1024 tokens: %w", ErrCutShort)
	}
	return c.reply(prompt), nil
}

func (c *cutModel) Tokens(s string) (int, error) { return len(strings.Fields(s)), nil }

func TestTemplateFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("visit.toml", "title = \"Home visit\"\n[[sections]]\nkey = \"observations\"\nkind = \"list\"\n[[sections]]\nkey = \"next_visit\"\n")
	bad := write("bad.toml", "name = \"bad\"\n[[sections]]\nkey = \"Has Spaces\"\n")
	unknown := write("unknown.toml", "name = \"u\"\ncolour = \"red\"\n[[sections]]\nkey = \"a\"\n")
	kind := write("kind.toml", "name = \"k\"\n[[sections]]\nkey = \"a\"\nkind = \"table\"\n")
	empty := write("empty.toml", "name = \"e\"\n")
	dup := write("dup.toml", "name = \"d\"\n[[sections]]\nkey = \"a\"\n[[sections]]\nkey = \"a\"\n")

	tm, err := Find("visit", dir)
	if err != nil {
		t.Fatal(err)
	}
	if tm.Name != "visit" || tm.title() != "Home visit" || len(tm.Sections) != 2 || tm.Sections[1].title() != "next visit" {
		t.Errorf("%+v", tm)
	}
	if got := strings.Join(Names(dir), " "); !strings.HasPrefix(got, "soap minutes handover ") || !strings.Contains(got, "visit") {
		t.Errorf("names %q", got)
	}
	for _, p := range []string{bad, unknown, kind, empty, dup} {
		if _, err := Find(p, dir); !errors.Is(err, ErrBadTemplate) {
			t.Errorf("%s: err %v", filepath.Base(p), err)
		}
	}
	if _, err := Find("nosuch", dir); !errors.Is(err, ErrNoTemplate) || !strings.Contains(err.Error(), "soap, minutes, handover") {
		t.Errorf("err %v", err)
	}
}
