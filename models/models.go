// Package models describes the speech and language models Hark can use: the curated manifest,
// where installed models live, and how files are checked before an engine opens them. The
// weights themselves live in the user's data directory, never in this repository.
package models
