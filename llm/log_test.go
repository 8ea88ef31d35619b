package llm

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"hark/internal/testmodels"
)

// syncBuffer is a bytes.Buffer safe for llama.cpp's logging threads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSetLoggerRoutesLlamaLog loads a model with a debug logger set (llama.cpp logs the GGUF's
// metadata and the context it makes), then with an info-level one and with none: only the
// first may receive anything.
func TestSetLoggerRoutesLlamaLog(t *testing.T) {
	path := testmodels.Shared(t, "stories260K.gguf")
	t.Cleanup(func() { SetLogger(nil) })
	var debug syncBuffer
	SetLogger(slog.New(slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug})))
	load(t, path, Options{}).Close()
	out := debug.String()
	if !strings.Contains(out, "engine=llama.cpp") || !strings.Contains(out, "llama_model_loader") {
		t.Fatalf("debug logger got no llama.cpp model-loading lines:\n%.2000s", out)
	}
	for line := range strings.Lines(out) {
		if !strings.Contains(line, "level=DEBUG") {
			t.Errorf("record not at debug level: %q", line)
		}
	}

	var info syncBuffer
	SetLogger(slog.New(slog.NewTextHandler(&info, nil)))
	load(t, path, Options{}).Close()
	SetLogger(nil)
	load(t, path, Options{}).Close()
	if info.String() != "" || debug.String() != out {
		t.Errorf("llama.cpp's log reached a logger that should not see it: info %q, debug grew by %d bytes", info.String(), len(debug.String())-len(out))
	}
}
