package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"hark/internal/testmodels"
	"hark/llm"
	"hark/notes"
)

// checkedModel is the real note adapter with every reply checked against the schema it was
// generated under.
type checkedModel struct {
	noteLM
	t       *testing.T
	replies int
}

func (c *checkedModel) Generate(ctx context.Context, system, prompt, schema string) (string, error) {
	out, err := c.noteLM.Generate(ctx, system, prompt, schema)
	if err != nil {
		return out, err
	}
	c.replies++
	validate(c.t, schema, out)
	return out, nil
}

func validate(t *testing.T, schema, out string) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("hark:note.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("hark:note.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatalf("the reply is not JSON: %v\n%s", err, out)
	}
	if err := sch.Validate(v); err != nil {
		t.Fatalf("the reply does not follow the schema: %v\n%s", err, out)
	}
}

func randomNoteModel(t *testing.T, ctxSize int, seed uint32) *checkedModel {
	m, err := llm.Load(testmodels.Shared(t, "llama-2-tiny-random.gguf"), llm.Options{ContextSize: ctxSize, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return &checkedModel{noteLM: &noteModel{m: m, gen: llm.GenOptions{MaxTokens: noteReply, Temperature: 0.8, TopK: 40, Seed: seed}}, t: t}
}

// TestNotesRandomModel: each built-in template through the real language model with random
// weights, under llama.cpp's grammar from the note's schema. The content is nonsense (the
// weights are random); what is checked is that every reply is JSON valid under the schema,
// with every section, and that the rendered note has every heading.
func TestNotesRandomModel(t *testing.T) {
	transcript := "The patient has had a cough for five days.\nTemperature 38.2.\nRest, fluids, come back in a week.\n"
	for i, tm := range notes.Builtin() {
		t.Run(tm.Name, func(t *testing.T) {
			m := randomNoteModel(t, 2048, uint32(11+i))
			n, err := notes.Write(context.Background(), m, tm, transcript, m.options(notes.Limits{TextChars: 300, ItemChars: 120, Items: 4}))
			if err != nil {
				t.Fatal(err)
			}
			if m.replies != 1 {
				t.Fatalf("%d replies", m.replies)
			}
			md, txt := n.Markdown(), n.Text()
			for _, s := range tm.Sections {
				if !strings.Contains(md, "\n## "+s.Title+"\n") || !strings.Contains(txt, "\n"+s.Title+"\n") {
					t.Errorf("section %q missing:\n%s", s.Title, md)
				}
			}
		})
	}
}

// TestNotesRandomModelLong: a transcript several times the context is summarised in parts,
// and the part notes combined; every reply follows the schema.
func TestNotesRandomModelLong(t *testing.T) {
	var lines []string
	for i := range 150 {
		lines = append(lines, fmt.Sprintf("Line %d: the third machine lost coolant pressure and the next shift must refill it.", i))
	}
	m := randomNoteModel(t, 1024, 5)
	tm, _ := notes.Find("handover", "")
	o := m.options(notes.Limits{TextChars: 200, ItemChars: 80, Items: 3})
	o.Reply = 400
	tokens, _ := m.Tokens(strings.Join(lines, "\n"))
	n, err := notes.Write(context.Background(), m, tm, strings.Join(lines, "\n"), o)
	if err != nil {
		t.Fatal(err)
	}
	if tokens < 3*1024 || m.replies < 5 {
		t.Fatalf("%d tokens of transcript took %d replies", tokens, m.replies)
	}
	if len(n.Values) != len(tm.Sections) {
		t.Errorf("%d sections", len(n.Values))
	}
	t.Logf("%d tokens of transcript, %d replies", tokens, m.replies)
}

// TestNoteCLI: `hark note` with the random model writes a Markdown note (0600) with every
// SOAP heading from a subtitle file; an unknown template is a clear error.
func TestNoteCLI(t *testing.T) {
	model := testmodels.Shared(t, "llama-2-tiny-random.gguf")
	dir := t.TempDir()
	srt := filepath.Join(dir, "visit.srt")
	os.WriteFile(srt, []byte("1\n00:00:00,000 --> 00:00:02,000\nI have had a cough for five days.\n\n2\n00:00:02,500 --> 00:00:04,000\nNo fever.\n\n"), 0o600)
	out := filepath.Join(dir, "visit.md")
	code, _, errOut := runCLI(t, "note", "--llm-model", model, "--seed", "3", "--section-chars", "200", "--out", out, srt)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", fi, err)
	}
	b, _ := os.ReadFile(out)
	for _, h := range []string{"# Clinic visit (SOAP)\n", "\n## Subjective\n", "\n## Objective\n", "\n## Assessment\n", "\n## Plan\n"} {
		if !strings.Contains(string(b), h) {
			t.Errorf("%q missing:\n%s", h, b)
		}
	}
	for _, args := range [][]string{{}, {"--text", "--json", srt}, {"a", "b"}} {
		if code, _, errOut := runCLI(t, append([]string{"note"}, args...)...); code != 2 || !strings.Contains(errOut, "usage: hark note") {
			t.Errorf("hark note %q: exit %d: %s", args, code, errOut)
		}
	}
	code, _, errOut = runCLI(t, "note", "--llm-model", model, "--template", "nosuch", srt)
	if code == 0 || !strings.Contains(errOut, "no template called \"nosuch\"") || !strings.Contains(errOut, "soap, minutes, handover") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestReadTranscript: the transcript forms `hark note` reads.
func TestReadTranscript(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, data, want string }{
		{"a.txt", "one\ntwo\n", "one\ntwo\n"},
		{"a.srt", "1\n00:00:00,000 --> 00:00:01,000\none\n\n2\n00:00:01,000 --> 00:00:02,000\n12\n\n", "one\n12"},
		{"a.vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\none\n\n00:00:01.000 --> 00:00:02.000\ntwo\n\n", "one\ntwo"},
		{"a.json", `{"transcription":[{"text":" one"},{"text":"two"}]}`, "one\ntwo"},
		{"b.json", `{"text":"one two","segments":[{"text":"one"},{"text":" two"}]}`, "one\ntwo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			os.WriteFile(p, []byte(tt.data), 0o600)
			got, err := readTranscript(p, nil)
			if err != nil || got != tt.want {
				t.Errorf("%q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if got, err := readTranscript("-", strings.NewReader("from stdin")); got != "from stdin" || err != nil {
		t.Errorf("%q %v", got, err)
	}
}
