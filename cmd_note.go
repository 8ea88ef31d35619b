package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"hark/internal/atomicfile"
	"hark/notes"
)

const noteArgs = "[--template soap|minutes|handover|NAME|FILE.toml] [--out FILE] [--md|--text|--json] [--llm-model FILE] TRANSCRIPT (.txt, .srt, .vtt, .json, or - for standard input)"

// noteFlags are the flags `hark note` and `hark dictate --note` share.
type noteFlags struct {
	text, json   *bool
	sectionChars *int
	seed         *uint
}

// bindNoteFlags adds the note's flags; forms adds --md, --text and --json (`hark dictate` has
// its own --txt and --json for the transcript).
func bindNoteFlags(fs *flag.FlagSet, forms bool) noteFlags {
	off := false
	nf := noteFlags{text: &off, json: &off,
		sectionChars: fs.Int("section-chars", 1500, "longest paragraph of a note's section, in characters"),
		seed:         fs.Uint("seed", 0, "random seed for the language model's note (0: random)"),
	}
	if forms {
		fs.Bool("md", false, "write the note as Markdown (the default)")
		nf.text = fs.Bool("text", false, "write the note as plain text")
		nf.json = fs.Bool("json", false, "write the note as JSON (one key per section)")
	}
	return nf
}

// runNote is `hark note`: a transcript turned into a structured note by the language model.
func runNote(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("note", stderr)
	cf := bindConfigFlags(fs, false)
	tmplName := fs.String("template", "soap", "the note's template: soap, minutes, handover, a NAME.toml in dictation.templates, or a FILE.toml")
	out := fs.String("out", "", "write the note to `FILE` (readable by you only); .md, .txt or .json chooses the form")
	nf := bindNoteFlags(fs, true)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (*nf.text && *nf.json) || *nf.sectionChars < 50 {
		return fmt.Errorf("%w: %s", errUsage, usage("note"))
	}
	s, err := openSetup(cf, stderr, "hark note", false)
	if err != nil {
		return err
	}
	t, err := s.noteTemplate(*tmplName)
	if err != nil {
		return err
	}
	transcript, err := readTranscript(fs.Arg(0), os.Stdin)
	if err != nil {
		return err
	}
	n, err := s.makeNote(ctx, t, transcript, nf, stderr)
	if err != nil {
		return err
	}
	return writeNote(stdout, stderr, n, nf.form(*out), *out)
}

// noteTemplate finds a template by name among the built-in ones and dictation.templates.
func (s *setup) noteTemplate(name string) (notes.Template, error) {
	dir, err := s.cfg.NoteTemplatesDir()
	if err != nil {
		dir = ""
	}
	t, err := notes.Find(name, dir)
	return t, explainNote(err)
}

// makeNote loads the language model, writes the note and frees the model.
func (s *setup) makeNote(ctx context.Context, t notes.Template, transcript string, nf noteFlags, stderr io.Writer) (notes.Note, error) {
	if strings.TrimSpace(transcript) == "" {
		fmt.Fprintln(stderr, "hark: the transcript is empty; the note is too")
	}
	m, err := s.loadNoteLM(ctx, uint32(*nf.seed), stderr)
	if err != nil {
		return notes.Note{}, err
	}
	defer m.Close()
	o := m.options(notes.Limits{TextChars: *nf.sectionChars})
	o.Progress = func(step, steps int) {
		if steps > 1 {
			fmt.Fprintf(stderr, "hark: writing the note, step %d of %d\n", step, steps)
		}
	}
	n, err := notes.Write(ctx, m, t, transcript, o)
	return n, explainNote(err)
}

// noteForm is how a note is written.
type noteForm int

const (
	noteMarkdown noteForm = iota
	noteText
	noteJSON
)

// form is the form asked for: --text or --json, else out's extension, else Markdown.
func (nf noteFlags) form(out string) noteForm {
	switch {
	case *nf.json:
		return noteJSON
	case *nf.text:
		return noteText
	}
	switch strings.ToLower(filepath.Ext(out)) {
	case ".json":
		return noteJSON
	case ".txt", ".text":
		return noteText
	}
	return noteMarkdown
}

func (f noteForm) render(n notes.Note) []byte {
	switch f {
	case noteJSON:
		return n.JSON()
	case noteText:
		return []byte(n.Text())
	}
	return []byte(n.Markdown())
}

// writeNote writes the note to out (readable by its owner only), or to stdout when out is "".
func writeNote(stdout, stderr io.Writer, n notes.Note, f noteForm, out string) error {
	b := f.render(n)
	if out == "" {
		_, err := stdout.Write(b)
		return err
	}
	if err := atomicfile.WriteFile(out, b, 0o600); err != nil {
		return fmt.Errorf("writing the note: %w", err)
	}
	fmt.Fprintf(stderr, "hark: the note is in %s\n", out)
	return nil
}

// readTranscript reads a transcript as text, one segment per line: a text file, subtitles
// (.srt, .vtt: the cues' text) or a transcript in JSON (`hark transcribe --json`, whisper-cli's
// --output-json). "-" is r.
func readTranscript(path string, r io.Reader) (string, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(r, 64<<20))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("reading the transcript: %w", err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return transcriptFromJSON(data)
	case ".srt", ".vtt":
		return transcriptFromCues(data), nil
	}
	return string(data), nil
}

func transcriptFromJSON(data []byte) (string, error) {
	var t struct {
		Segments      []struct{ Text string } `json:"segments"`
		Transcription []struct{ Text string } `json:"transcription"`
		Text          string                  `json:"text"`
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return "", fmt.Errorf("reading the transcript: not a transcript in JSON: %w", err)
	}
	var lines []string
	for _, s := range append(t.Segments, t.Transcription...) {
		lines = append(lines, strings.TrimSpace(s.Text))
	}
	if len(lines) == 0 {
		return t.Text, nil
	}
	return strings.Join(lines, "\n"), nil
}

// transcriptFromCues keeps the text lines of SubRip or WebVTT cues: not the header, the cue
// numbers or the timing lines.
func transcriptFromCues(data []byte) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	prevBlank := true
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		blank := l == ""
		switch {
		case blank, l == "WEBVTT", strings.Contains(l, "-->"):
		case prevBlank && isDigits(l):
		default:
			lines = append(lines, l)
		}
		prevBlank = blank
	}
	return strings.Join(lines, "\n")
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
