// Package asr turns speech (16 kHz mono float32 PCM) into text with whisper.cpp, in-process.
//
// The model is loaded through the official whisper.cpp Go bindings; the C/C++ library comes
// from whisper.cpp 1.9.3 as shipped in the whisper.rn npm package and is linked statically
// (scripts/native.sh builds it).
package asr

/*
#include <whisper.h>
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	whisper "github.com/ggerganov/whisper.cpp/bindings/go"

	_ "hark/internal/cpucheck" // stop with a clear message on a CPU this build cannot run on
)

// Version is the version of the linked whisper.cpp library.
func Version() string { return C.GoString(C.whisper_version()) }

// Model is a loaded whisper model. Its methods may be called from any goroutine; transcriptions
// run one at a time.
type Model struct {
	mu  sync.Mutex
	ctx *whisper.Context
}

// Load loads a whisper.cpp ggml model file.
func Load(path string) (*Model, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("asr: speech model: %w", err)
	}
	c := whisper.Whisper_init(path)
	if c == nil {
		return nil, fmt.Errorf("asr: %s is not a whisper.cpp model that this version can load", path)
	}
	return &Model{ctx: c}, nil
}

// Close frees the model. It is safe to call more than once.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx != nil {
		m.ctx.Whisper_free()
		m.ctx = nil
	}
	return nil
}

// Transcribe returns the text spoken in pcm (16 kHz mono), in English, decoding greedily.
func (m *Model) Transcribe(ctx context.Context, pcm []float32, threads int) (string, error) {
	if len(pcm) == 0 {
		return "", errors.New("asr: no audio to transcribe")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx == nil {
		return "", errors.New("asr: model is closed")
	}
	p := m.ctx.Whisper_full_default_params(whisper.SAMPLING_GREEDY)
	p.SetThreads(threads)
	p.SetPrintProgress(false)
	p.SetPrintRealtime(false)
	p.SetPrintTimestamps(false)
	p.SetTemperatureFallback(0)
	if err := p.SetLanguage(m.ctx.Whisper_lang_id("en")); err != nil {
		return "", fmt.Errorf("asr: %w", err)
	}
	keepGoing := func() bool { return ctx.Err() == nil }
	if err := m.ctx.Whisper_full(p, pcm, keepGoing, nil, nil); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("asr: transcription failed: %w", err)
	}
	var b strings.Builder
	for i := range m.ctx.Whisper_full_n_segments() {
		b.WriteString(m.ctx.Whisper_full_get_segment_text(i))
	}
	return strings.TrimSpace(b.String()), nil
}
