package enginelog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestSinkJoinsPiecesIntoLines(t *testing.T) {
	tests := []struct {
		name   string
		pieces []string
		want   []string
	}{
		{"one line", []string{"model loaded\n"}, []string{"model loaded"}},
		{"split line", []string{"load", "ing ", "done\n"}, []string{"loading done"}},
		{"two lines in a piece", []string{"a\nb\n"}, []string{"a", "b"}},
		{"unfinished line waits", []string{"a\nb"}, []string{"a"}},
		{"blank lines dropped", []string{"\n  \nx\n"}, []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := Sink{Engine: "test.cpp"}
			if !s.Set(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))) {
				t.Fatal("Set = false for a debug logger")
			}
			for _, p := range tt.pieces {
				s.Write(p)
			}
			var got []string
			for line := range strings.Lines(buf.String()) {
				if !strings.Contains(line, "level=DEBUG") || !strings.Contains(line, "engine=test.cpp") {
					t.Errorf("record %q: want debug level and the engine", line)
				}
				_, msg, _ := strings.Cut(line, "msg=")
				msg, _, _ = strings.Cut(msg, " engine=")
				got = append(got, strings.Trim(msg, `"`))
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("lines %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSinkQuietWithoutDebug(t *testing.T) {
	var s Sink
	if s.Set(nil) {
		t.Error("Set(nil) = true")
	}
	s.Write("dropped\n") // no logger: nothing to do, no panic
	var buf bytes.Buffer
	if s.Set(slog.New(slog.NewTextHandler(&buf, nil))) { // info level
		t.Error("Set(info logger) = true: the C side would forward lines nobody shows")
	}
	s.Write("hidden\n")
	if buf.Len() != 0 {
		t.Errorf("an info-level logger printed %q", buf.String())
	}
}
