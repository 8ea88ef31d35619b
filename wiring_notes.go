package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode"

	"hark/app"
	"hark/dictation"
	"hark/llm"
	"hark/models"
	"hark/notes"
	"hark/remotellm"
)

// Structured notes (`hark note`, `hark dictate --note`): the notes package over the local
// language model, or the server of llm.backend = openai.

// noteModel adapts *llm.Model to notes.Model: each call is a fresh chat, generated under the
// note's JSON schema (llama.cpp turns it into a grammar).
type noteModel struct {
	m   *llm.Model
	gen llm.GenOptions
}

// noteReply is the most tokens a note (or a combined note) may take.
const noteReply = 1024

func (n *noteModel) Generate(ctx context.Context, system, prompt, schema string) (string, error) {
	c, err := n.m.NewChat(system)
	if err != nil {
		return "", app.Explain(err, "The language model could not start the note",
			"Raise performance.context_size, or choose a model with a larger context.")
	}
	g := n.gen
	g.JSONSchema = schema
	rep, err := c.Send(ctx, prompt, g, func(string) error { return nil })
	if err != nil {
		return "", err
	}
	switch rep.Stop {
	case llm.StopMaxTokens, llm.StopContextFull:
		return "", &app.UserError{Msg: fmt.Sprintf("The note was cut short after %d tokens", rep.Stats.GeneratedTokens),
			Hint: "Shorten the sections with --section-chars, or raise performance.context_size.", Err: notes.ErrCutShort}
	case llm.StopInterrupted:
		return "", context.Canceled
	}
	return rep.Text, nil
}

func (n *noteModel) Tokens(text string) (int, error) { return n.m.CountTokens(text) }

func (n *noteModel) options(limits notes.Limits) notes.Options {
	return notes.Options{Limits: limits, Context: n.m.Info().ContextSize, Reply: noteReply}
}

// loadNoteModel loads the configured local language model for notes. seed 0 is random.
func (s *setup) loadNoteModel(seed uint32) (*noteModel, error) {
	path, err := s.modelPath(models.LLM, s.cfg.Models.LLM)
	if err != nil {
		return nil, err
	}
	m, err := llm.Load(path, llm.Options{ContextSize: s.cfg.Performance.ContextSize, Threads: s.threads()})
	if err != nil {
		return nil, app.Explain(err, "The language model could not be loaded",
			"It must be a GGUF chat model for llama.cpp; choose another one with --llm-model.")
	}
	// Cooler than conversation: a note repeats what was said rather than inventing.
	g := llm.GenOptions{MaxTokens: noteReply, Temperature: 0.2, TopK: 40, TopP: 0.9, RepeatPenalty: 1.05, RepeatLastN: 64, Seed: seed}
	return &noteModel{m: m, gen: g}, nil
}

func (n *noteModel) Close() error { return n.m.Close() }

// noteLM is the language model a note is written with: the local one (noteModel) or the
// server of llm.backend = openai (remoteNoteModel).
type noteLM interface {
	notes.Model
	options(notes.Limits) notes.Options
	Close() error
}

// loadNoteLM is the language model for notes that llm.backend names. seed 0 is random.
func (s *setup) loadNoteLM(ctx context.Context, seed uint32, stderr io.Writer) (noteLM, error) {
	if s.cfg.LLM.Backend != "openai" {
		return s.loadNoteModel(seed)
	}
	c, err := s.remoteClient(ctx)
	if err != nil {
		return nil, err
	}
	r := &remoteNoteModel{c: c, seed: int64(seed), context: s.cfg.Performance.ContextSize,
		wait: max(s.cfg.LLM.FirstToken, noteWait), stderr: stderr}
	if _, err := s.modelPath(models.LLM, s.cfg.Models.LLM); err == nil {
		r.local = func() (*noteModel, error) { return s.loadNoteModel(seed) }
	}
	return r, nil
}

// noteWait is the shortest wait for a note's first piece from the server: it reads a whole
// transcript first, and nobody is waiting mid-sentence for a note.
const noteWait = time.Minute

// remoteNoteModel writes notes on the server: each call is one request under the note's JSON
// schema (response_format json_schema, which llama-server turns into a grammar). The server's
// tokenizer is not at hand, so lengths are estimated generously (estimateNoteTokens) and its
// context is taken to be performance.context_size. When the server is unavailable the local
// model (when one is installed) writes the rest of the note.
type remoteNoteModel struct {
	c       *remotellm.Client
	seed    int64
	context int
	wait    time.Duration
	stderr  io.Writer

	local    func() (*noteModel, error) // nil: no local model
	fallback *noteModel
}

func (r *remoteNoteModel) Generate(ctx context.Context, system, prompt, schema string) (string, error) {
	if r.fallback != nil {
		return r.fallback.Generate(ctx, system, prompt, schema)
	}
	rep, err := r.c.Structured(ctx, system, prompt, schema, remotellm.StructuredOptions{MaxTokens: noteReply, Temperature: 0.2, Seed: r.seed, Wait: r.wait})
	switch {
	case err == nil && rep.CutShort:
		return "", &app.UserError{Msg: fmt.Sprintf("The note was cut short after %d tokens", rep.Tokens),
			Hint: "Shorten the sections with --section-chars.", Err: notes.ErrCutShort}
	case err == nil:
		return rep.Text, nil
	case errors.Is(err, remotellm.ErrUnavailable) && ctx.Err() == nil && r.local != nil:
		fmt.Fprintf(r.stderr, "hark: %v; the note is written on this device\n", err)
		if r.fallback, err = r.local(); err != nil {
			return "", err
		}
		return r.fallback.Generate(ctx, system, prompt, schema)
	case errors.Is(err, remotellm.ErrUnavailable):
		return "", app.Explain(err, "The language model server could not write the note, and no local model is installed to write it instead",
			"Check that the server at llm.endpoint runs, or install a local model (models.llm) to fall back on.")
	}
	return "", err
}

func (r *remoteNoteModel) Tokens(text string) (int, error) {
	if r.fallback != nil {
		return r.fallback.Tokens(text)
	}
	return estimateNoteTokens(text), nil
}

func (r *remoteNoteModel) options(limits notes.Limits) notes.Options {
	return notes.Options{Limits: limits, Context: r.context, Reply: noteReply}
}

func (r *remoteNoteModel) Close() error {
	if r.fallback != nil {
		return r.fallback.Close()
	}
	return nil
}

// estimateNoteTokens is a generous count of the tokens text takes in a tokenizer not at hand:
// one a Chinese, Japanese or Korean character and one per three other characters (common
// tokenizers need about 0.7 and one per four), so a transcript cut to fit the estimate fits
// the server's context.
func estimateNoteTokens(text string) int {
	var cjk, other int
	for _, r := range text {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) {
			cjk++
		} else {
			other++
		}
	}
	return cjk + (other+2)/3
}

// explainNote words the notes package's errors for the person.
func explainNote(err error) error {
	switch {
	case errors.Is(err, notes.ErrNoTemplate):
		return app.Explain(err, "There is no such note template",
			"Use soap, minutes or handover, or a template file (NAME.toml); see README's \"Dictation and notes\".")
	case errors.Is(err, notes.ErrBadTemplate):
		return app.Explain(err, "The note template is not valid", "See README's \"Dictation and notes\" for a template file's form.")
	case errors.Is(err, notes.ErrTooSmall):
		return app.Explain(err, "The language model's context is too small for a note", "Raise performance.context_size.")
	}
	return err
}

// dictationStore is dictation.store, with the dictations older than dictation.retention_days
// deleted (each command that can keep one prunes first, so a store nobody opens keeps its
// old dictations no longer than the next dictation).
func (s *setup) dictationStore(stderr io.Writer) (dictation.Store, error) {
	dir, err := s.cfg.DictationStore()
	if err != nil {
		return dictation.Store{}, err
	}
	st := dictation.Store{Dir: dir}
	if days := s.cfg.Dictation.RetentionDays; days > 0 {
		if n, err := st.Prune(time.Now(), time.Duration(days)*24*time.Hour); err != nil {
			fmt.Fprintf(stderr, "hark: deleting old dictations: %v\n", err)
		} else if n > 0 {
			fmt.Fprintf(stderr, "hark: deleted %d dictations older than %d days\n", n, days)
		}
	}
	return st, nil
}

// keepDictation keeps a transcript (text and JSON) and its note (Markdown and JSON) in the store.
func keepDictation(st dictation.Store, segs []dictation.Segment, language string, note *notes.Note) (string, error) {
	var txt, js bytes.Buffer
	dictation.WriteTXT(&txt, segs)
	if err := dictation.WriteJSON(&js, segs, language); err != nil {
		return "", err
	}
	files := map[string][]byte{"transcript.txt": txt.Bytes(), "transcript.json": js.Bytes()}
	if note != nil {
		files["note.md"] = []byte(note.Markdown())
		files["note.json"] = note.JSON()
	}
	return st.Keep(time.Now(), files)
}
