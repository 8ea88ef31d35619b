// Package vad detects speech with the real Silero VAD model (ggml-silero-*.bin) through
// whisper.cpp's VAD API, in the same static library the asr package links. *Silero implements
// audio.Detector; audio.NewEndpointer turns its probabilities into utterances.
//
// # Concurrency
//
// A Silero keeps the model's LSTM state between frames, so one stream at a time goes through
// it: Speech and Reset are called by one goroutine. Close may be called from any goroutine; it
// waits for a Speech in progress.
package vad

/*
#cgo LDFLAGS: -lwhisper -lggml -lggml-base -lggml-cpu -lm -lstdc++
#cgo linux LDFLAGS: -fopenmp
#include <stdlib.h>
#include <whisper.h>

// whisper.cpp logs every VAD call at INFO level to stderr; Hark's library code does not log.
static void hark_vad_quiet(enum wsp_ggml_log_level level, const char * text, void * user) {
	(void)level; (void)text; (void)user;
}
static void hark_vad_quiet_logs(void) { whisper_log_set(hark_vad_quiet, NULL); }
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"hark/audio"
	_ "hark/internal/cpucheck" // stop with a clear message on a CPU this build cannot run on
)

// Options tune Load.
type Options struct {
	// Threads for the model's matrix work. The default, 1, is the right one: a 32 ms frame is
	// too little work to share, and ggml's threads wait for each other by spinning, which on
	// a busy two-core machine is ruinous (2 threads did not get through 3 minutes of audio in
	// 15 minutes while other builds ran; 1 thread does 60 s in 0.4 s).
	Threads int
}

// Silero is a loaded Silero VAD model with its stream state.
type Silero struct {
	mu    sync.Mutex
	c     *C.struct_whisper_vad_context
	frame int
	info  Info
}

var _ audio.Detector = (*Silero)(nil)

// Load loads a Silero VAD model (e.g. ggml-silero-v6.2.0.bin) with one thread.
func Load(path string) (*Silero, error) { return LoadWithOptions(path, Options{}) }

// LoadWithOptions loads a Silero VAD model.
func LoadWithOptions(path string, o Options) (*Silero, error) {
	info, err := CheckFile(path)
	if err != nil {
		return nil, err
	}
	if o.Threads <= 0 {
		o.Threads = 1
	}
	C.hark_vad_quiet_logs()
	p := C.whisper_vad_default_context_params()
	p.n_threads = C.int(o.Threads)
	p.use_gpu = false
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	c := C.whisper_vad_init_from_file_with_params(cpath, p)
	if c == nil {
		return nil, fmt.Errorf("vad: whisper.cpp could not load the VAD model %s", path)
	}
	// The LSTM state is not cleared when the model loads: without this, the first frames'
	// probabilities depend on whatever the allocator left there.
	C.whisper_vad_reset_state(c)
	return &Silero{c: c, frame: info.FrameSize, info: info}, nil
}

// Info describes the loaded model.
func (s *Silero) Info() Info { return s.info }

// FrameSize is the number of 16 kHz samples per frame (512 for Silero v5 and v6: 32 ms).
func (s *Silero) FrameSize() int { return s.frame }

// ErrClosed is returned by Speech after Close.
var ErrClosed = errors.New("vad: the VAD model is closed")

// Speech returns the probability that frame (FrameSize samples, following the previous frame
// of the stream) holds speech.
func (s *Silero) Speech(frame []float32) (float32, error) {
	if len(frame) != s.frame {
		return 0, fmt.Errorf("vad: frame of %d samples, want %d", len(frame), s.frame)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return 0, ErrClosed
	}
	// The frame is Go memory that C reads only during this call.
	if !C.whisper_vad_detect_speech_no_reset(s.c, (*C.float)(unsafe.Pointer(&frame[0])), C.int(len(frame))) {
		return 0, errors.New("vad: whisper.cpp failed to run the VAD model")
	}
	if C.whisper_vad_n_probs(s.c) != 1 {
		return 0, fmt.Errorf("vad: the VAD model gave %d probabilities for one frame", int(C.whisper_vad_n_probs(s.c)))
	}
	return float32(*C.whisper_vad_probs(s.c)), nil
}

// Reset clears the model's LSTM state for a new stream.
func (s *Silero) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil {
		C.whisper_vad_reset_state(s.c)
	}
}

// Close frees the model. It is safe to call more than once.
func (s *Silero) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil {
		C.whisper_vad_free(s.c)
		s.c = nil
	}
	return nil
}
