// Package notes turns a transcript into a structured note that follows a template: a clinic
// visit in SOAP form, meeting minutes with decisions and action items, a shift handover, or a
// template the user wrote as a TOML file.
//
// # How a note is made
//
// A [Template] is a list of sections, each a paragraph, a list, or action items (what, who,
// by when). [Template.Schema] turns it into a JSON Schema in which every section is required
// and every string and list has a maximum length; the language model generates under that
// schema (llama.cpp turns it into a grammar), so the reply is valid JSON with every section
// present and of bounded length, whatever the model. [Write] turns the transcript into a
// [Note]: when the transcript does not fit in the model's context it is cut at line and
// sentence ends into parts that do, each part becomes a note, and the part notes are combined
// by the model into one (in rounds when even they do not fit). [Note.Markdown] and
// [Note.Text] render it.
//
// The package knows nothing of llama.cpp: it asks a [Model] (package main adapts the
// language model) for schema-constrained JSON and a token count.
//
// # Concurrency
//
// Templates and notes are values; Write is safe to call from several goroutines if the Model is.
package notes
