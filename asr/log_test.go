package asr

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a bytes.Buffer safe for whisper.cpp's logging threads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSetLoggerRoutesWhisperLog loads a model with a debug logger set (whisper.cpp logs the
// model's hyperparameters and buffer sizes), then with an info-level logger: only the first
// receives anything, each line one debug record.
func TestSetLoggerRoutesWhisperLog(t *testing.T) {
	t.Cleanup(func() { SetLogger(nil) })
	var debug lockedBuffer
	SetLogger(slog.New(slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug})))
	m, err := Load(sharedModel(t), LoadOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	out := debug.String()
	if !strings.Contains(out, "engine=whisper.cpp") || !strings.Contains(out, "whisper_init") {
		t.Fatalf("debug logger got no whisper.cpp loading lines:\n%.2000s", out)
	}
	for line := range strings.Lines(out) {
		if !strings.Contains(line, "level=DEBUG") {
			t.Errorf("record not at debug level: %q", line)
		}
	}
	var info lockedBuffer
	SetLogger(slog.New(slog.NewTextHandler(&info, nil)))
	if m, err = Load(sharedModel(t), LoadOptions{Threads: 1}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if info.String() != "" || debug.String() != out {
		t.Errorf("whisper.cpp's log reached a logger that should not see it: info %q", info.String())
	}
}
