package notes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Model is what notes needs from a language model.
type Model interface {
	// Generate answers prompt, after the system prompt, with one JSON value valid under the
	// JSON Schema schema. It must return soon after ctx is done.
	Generate(ctx context.Context, system, prompt, schema string) (string, error)
	// Tokens is the number of tokens text takes in the model's vocabulary.
	Tokens(text string) (int, error)
}

// Options tune Write.
type Options struct {
	Limits Limits
	// Context is the model's context in tokens (default 4096); Reply of them (default 1024)
	// are kept for the note, the rest hold the instructions and the transcript.
	Context, Reply int
	// Progress, when set, is told each time a model call starts: step of steps (the parts, then
	// the combining rounds; steps can grow as combining goes on).
	Progress func(step, steps int)
}

// ErrTooSmall is returned when the model's context cannot hold the instructions, a line of
// transcript and the reply together.
var ErrTooSmall = errors.New("notes: the language model's context is too small for a note")

// ErrCutShort is what a Model returns (wrapped) when the note did not fit the tokens it may
// take. Write then asks again with every section half as long, twice at most.
var ErrCutShort = errors.New("notes: the note was cut short")

// margin covers the chat template's markup around the system prompt and the message.
const margin = 64

// Write makes a note from transcript (one line per segment, as `hark transcribe --txt` writes).
// An empty transcript gives an empty note without asking the model: nothing said, nothing
// written.
func Write(ctx context.Context, m Model, t Template, transcript string, o Options) (Note, error) {
	if err := t.Check(); err != nil {
		return Note{}, err
	}
	if o.Context <= 0 {
		o.Context = 4096
	}
	if o.Reply <= 0 {
		o.Reply = 1024
	}
	w := &writer{m: m, t: t, o: o, schema: t.Schema(o.Limits), system: systemPrompt(t)}
	if strings.TrimSpace(transcript) == "" {
		return Merge(t, nil), nil
	}
	sys, err := m.Tokens(w.system)
	if err != nil {
		return Note{}, err
	}
	w.budget = o.Context - o.Reply - sys - margin
	if w.budget < 64 {
		return Note{}, fmt.Errorf("%w (%d tokens; the template's instructions take %d and the note %d)", ErrTooSmall, o.Context, sys, o.Reply)
	}
	parts, err := w.split(transcript)
	if err != nil {
		return Note{}, err
	}
	w.steps = len(parts)
	var notes []Note
	for i, p := range parts {
		head := "Transcript:\n"
		if len(parts) > 1 {
			head = fmt.Sprintf("Transcript, part %d of %d:\n", i+1, len(parts))
		}
		n, err := w.generate(ctx, head+p)
		if err != nil {
			return Note{}, err
		}
		notes = append(notes, n)
	}
	return w.combine(ctx, notes)
}

type writer struct {
	m              Model
	t              Template
	o              Options
	schema, system string
	budget         int // tokens of message the context has room for
	step, steps    int
}

func (w *writer) generate(ctx context.Context, prompt string) (Note, error) {
	w.step++
	if w.o.Progress != nil {
		w.o.Progress(w.step, max(w.steps, w.step))
	}
	out, err := w.m.Generate(ctx, w.system, prompt, w.schema)
	for l, tries := w.o.Limits.orDefault(), 0; errors.Is(err, ErrCutShort) && tries < 2; tries++ {
		l = Limits{TextChars: max(100, l.TextChars/2), Items: max(3, l.Items/2), ItemChars: max(60, l.ItemChars/2)}
		out, err = w.m.Generate(ctx, w.system, prompt, w.t.Schema(l))
	}
	if err != nil {
		return Note{}, err
	}
	n, err := Parse(w.t, []byte(out))
	if err != nil {
		return Note{}, fmt.Errorf("the language model's note does not follow the template: %w", err)
	}
	return n, nil
}

// combine asks the model to put part notes together, as many at a time as fit, in rounds,
// until one is left. When not even two fit together, they are merged section by section.
func (w *writer) combine(ctx context.Context, notes []Note) (Note, error) {
	const head = "Below are notes of consecutive parts of one recording. Combine them into one note of the same form: keep every fact, drop repetition.\n"
	for len(notes) > 1 {
		texts := make([]string, len(notes))
		for i, n := range notes {
			texts[i] = fmt.Sprintf("\nPart %d:\n%s", i+1, n.Text())
		}
		groups, err := w.pack(texts, w.budget-w.count(head))
		if err != nil || len(groups) == len(notes) {
			return Merge(w.t, notes), nil
		}
		w.steps += countMulti(groups)
		var next []Note
		at := 0
		for _, g := range groups {
			if len(g) == 1 {
				next = append(next, notes[at])
			} else {
				n, err := w.generate(ctx, head+strings.Join(g, ""))
				if err != nil {
					return Note{}, err
				}
				next = append(next, n)
			}
			at += len(g)
		}
		notes = next
	}
	return notes[0], nil
}

func countMulti(groups [][]string) (n int) {
	for _, g := range groups {
		if len(g) > 1 {
			n++
		}
	}
	return n
}

func (w *writer) count(s string) int {
	n, err := w.m.Tokens(s)
	if err != nil {
		return len(s) // a byte per token is never fewer
	}
	return n
}

// split cuts the transcript into parts that fit the budget: at line ends, else at sentence
// ends, else (a sentence longer than the whole budget) between words or characters.
func (w *writer) split(transcript string) ([]string, error) {
	header := w.count("Transcript, part 99 of 99:\n")
	var units []string
	for _, line := range strings.Split(transcript, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if w.count(line) <= w.budget-header {
			units = append(units, line+"\n")
			continue
		}
		for _, s := range sentences(line) {
			if w.count(s) <= w.budget-header {
				units = append(units, s)
				continue
			}
			units = append(units, w.hardCut(s, w.budget-header)...)
		}
	}
	groups, err := w.pack(units, w.budget-header)
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = strings.TrimSpace(strings.Join(g, ""))
	}
	return parts, nil
}

// pack groups consecutive units so that each group's tokens stay within budget (a unit's own
// count, summed: joining text changes the count by a token or two at the seams, which the
// margin absorbs).
func (w *writer) pack(units []string, budget int) ([][]string, error) {
	var groups [][]string
	var cur []string
	used := 0
	for _, u := range units {
		n := w.count(u) + 1
		if n > budget {
			return nil, fmt.Errorf("%w (a part of %d tokens does not fit in %d)", ErrTooSmall, n, budget)
		}
		if used+n > budget && len(cur) > 0 {
			groups, cur, used = append(groups, cur), nil, 0
		}
		cur, used = append(cur, u), used+n
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups, nil
}

// sentences cuts s after sentence-ending punctuation (Western and Chinese), keeping it.
func sentences(s string) []string {
	var out []string
	start := 0
	rs := []rune(s)
	for i, r := range rs {
		end := strings.ContainsRune("。！？；", r) ||
			(strings.ContainsRune(".!?;", r) && (i+1 == len(rs) || unicode.IsSpace(rs[i+1])))
		if end {
			out = append(out, string(rs[start:i+1]))
			start = i + 1
		}
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}

// hardCut cuts s into pieces of at most budget tokens, between words where there are spaces,
// else between characters (Chinese).
func (w *writer) hardCut(s string, budget int) []string {
	var out []string
	rs := []rune(s)
	for len(rs) > 0 {
		// The longest prefix that fits, by halving: counts are monotone enough in length.
		lo, hi := 1, len(rs)
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if w.count(string(rs[:mid])) <= budget {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		cut := lo
		if cut < len(rs) {
			for j := cut; j > cut/2; j-- {
				if unicode.IsSpace(rs[j-1]) {
					cut = j
					break
				}
			}
		}
		out = append(out, string(rs[:cut]))
		rs = rs[cut:]
	}
	return out
}

// systemPrompt tells the model what the note is and what each section holds.
func systemPrompt(t Template) string {
	var b strings.Builder
	b.WriteString("You write notes from transcripts of speech. ")
	if t.Instructions != "" {
		b.WriteString(strings.TrimSpace(t.Instructions) + " ")
	}
	b.WriteString("Write in the language of the transcript. Use only what the transcript says: never invent facts, names, doses, dates or owners. Leave a section empty (\"\" or []) when nothing was said about it. Answer with one JSON object with these keys:\n")
	for _, s := range t.Sections {
		fmt.Fprintf(&b, "- %s (%s): %s", s.Key, s.kind(), s.title())
		if s.Hint != "" {
			b.WriteString(" — " + s.Hint)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
