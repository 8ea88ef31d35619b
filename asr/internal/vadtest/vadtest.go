// Package vadtest is a minimal binding of whisper.cpp's Silero voice activity detector, for
// asr's tests only: it gives asr.SpeechGate a real detector without making asr depend on
// audio/vad, Hark's VAD package (asr may import only audio). Product code uses audio/vad.
package vadtest

/*
#include <stdlib.h>
#include <whisper.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Silero is a loaded Silero VAD model; one goroutine at a time.
type Silero struct {
	c *C.struct_whisper_vad_context
}

// Load loads a whisper.cpp-format Silero VAD model (ggml-silero-v6.2.0.bin).
func Load(path string) (*Silero, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	p := C.whisper_vad_default_context_params()
	p.n_threads = 1
	p.use_gpu = false
	c := C.whisper_vad_init_from_file_with_params(cpath, p)
	if c == nil {
		return nil, fmt.Errorf("vadtest: cannot load %s", path)
	}
	return &Silero{c: c}, nil
}

// FrameSize is Silero's window at 16 kHz.
func (s *Silero) FrameSize() int { return 512 }

// Speech returns the speech probability of the next frame of the stream.
func (s *Silero) Speech(frame []float32) (float32, error) {
	if len(frame) != s.FrameSize() {
		return 0, fmt.Errorf("vadtest: frame of %d samples, want %d", len(frame), s.FrameSize())
	}
	if !C.whisper_vad_detect_speech_no_reset(s.c, (*C.float)(unsafe.Pointer(&frame[0])), C.int(len(frame))) {
		return 0, errors.New("vadtest: whisper_vad_detect_speech failed")
	}
	if C.whisper_vad_n_probs(s.c) < 1 {
		return 0, errors.New("vadtest: no probability")
	}
	return float32(*C.whisper_vad_probs(s.c)), nil
}

// Reset forgets the stream (the LSTM state).
func (s *Silero) Reset() { C.whisper_vad_reset_state(s.c) }

// Close frees the model.
func (s *Silero) Close() {
	if s.c != nil {
		C.whisper_vad_free(s.c)
		s.c = nil
	}
}
