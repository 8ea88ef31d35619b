// Package enginelog hands a native engine's own log (llama.cpp's, whisper.cpp's) to Hark's
// log: the engines write pieces of lines from C, and each complete line becomes one slog
// record at debug level, so that it shows only under --verbose.
package enginelog

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// Sink joins one engine's log pieces into lines for a slog.Logger. The zero value (with
// Engine set) drops everything until Set is given a logger.
type Sink struct {
	Engine string // the "engine" attribute of every record

	mu      sync.Mutex
	l       *slog.Logger
	partial strings.Builder
}

// Set makes l receive the lines (nil: drop them). It reports whether l lets debug records
// through, so that the engine's C side can skip calling Go at all when it does not.
func (s *Sink) Set(l *slog.Logger) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.l = l
	s.partial.Reset()
	return l != nil && l.Enabled(context.Background(), slog.LevelDebug)
}

// Write takes a piece of the engine's log. A piece may hold several lines, or part of one (a
// line is complete at its newline); empty lines are dropped.
func (s *Sink) Write(piece string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.l == nil {
		return
	}
	s.partial.WriteString(piece)
	text := s.partial.String()
	last := strings.LastIndexByte(text, '\n')
	if last < 0 {
		return
	}
	s.partial.Reset()
	s.partial.WriteString(text[last+1:])
	for line := range strings.SplitSeq(text[:last], "\n") {
		if line = strings.TrimSpace(line); line != "" {
			s.l.Debug(line, "engine", s.Engine)
		}
	}
}
