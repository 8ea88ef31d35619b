package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"hark/app"
	"hark/dictation"
	"hark/llm"
	"hark/models"
	"hark/notes"
)

// Structured notes (`hark note`, `hark dictate --note`): the notes package over the local
// language model.

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
