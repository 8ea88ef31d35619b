package enginelog_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"hark/asr"
	"hark/internal/testmodels"
	"hark/llm"
)

// syncBuffer is a bytes.Buffer safe for the engines' logging threads.
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

// TestEnginesRouteTheirLog loads a model of each engine with a debug logger set (the engines
// log the file's metadata and the buffers they allocate), then with an info-level logger and
// with none: only the first may receive anything, each line one debug record.
func TestEnginesRouteTheirLog(t *testing.T) {
	engines := []struct {
		engine, marker string
		setLogger      func(*slog.Logger)
		load           func(t *testing.T)
	}{
		{"llama.cpp", "llama_model_loader", llm.SetLogger, func(t *testing.T) {
			m, err := llm.Load(testmodels.Shared(t, "stories260K.gguf"), llm.Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			m.Close()
		}},
		{"whisper.cpp", "whisper_init", asr.SetLogger, func(t *testing.T) {
			m, err := asr.Load(testmodels.Shared(t, "whisper-tiny-random.en.bin"), asr.LoadOptions{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			m.Close()
		}},
	}
	for _, e := range engines {
		t.Run(e.engine, func(t *testing.T) {
			t.Cleanup(func() { e.setLogger(nil) })
			var debug syncBuffer
			e.setLogger(slog.New(slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug})))
			e.load(t)
			out := debug.String()
			if !strings.Contains(out, "engine="+e.engine) || !strings.Contains(out, e.marker) {
				t.Fatalf("debug logger got no %s loading lines:\n%.2000s", e.engine, out)
			}
			for line := range strings.Lines(out) {
				if !strings.Contains(line, "level=DEBUG") {
					t.Errorf("record not at debug level: %q", line)
				}
			}
			var info syncBuffer
			e.setLogger(slog.New(slog.NewTextHandler(&info, nil)))
			e.load(t)
			e.setLogger(nil)
			e.load(t)
			if info.String() != "" || debug.String() != out {
				t.Errorf("%s's log reached a logger that should not see it: info %q, debug grew by %d bytes", e.engine, info.String(), len(debug.String())-len(out))
			}
		})
	}
}
