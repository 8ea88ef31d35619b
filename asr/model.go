package asr

/*
#include <stdlib.h>
#include "whisper_glue.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// sampleRate is whisper's input rate (WHISPER_SAMPLE_RATE, audio.SampleRate).
const sampleRate = 16000

// ErrClosed is returned by calls on a closed Model, and by a Transcribe that Close interrupted.
var ErrClosed = errors.New("asr: speech model is closed")

// LoadOptions configure Load.
type LoadOptions struct {
	// Threads is the default thread count of Transcribe (Options.Threads overrides it);
	// 0 means min(4, number of CPUs).
	Threads int
	// MaxConcurrent is how many Transcribe calls run at once, each on its own whisper_state
	// (KV caches and compute buffers: Info.StateBytes each). Further calls wait their turn.
	// 0 means 2: a live partial transcript and a final one can overlap.
	MaxConcurrent int
	// FlashAttention turns on whisper.cpp's flash-attention kernels (whisper.cpp's own tools
	// default to them). Hark leaves them off: on the CPU they are not faster here, and whisper.cpp
	// 1.9.3 computes them over keys padded to 256 positions without masking the padding, which
	// makes results depend on the previous call (trimmed windows) and dilutes attention (full
	// windows: 36 zero keys). With it on, TrimAudioCtx rounds to multiples of 256 positions.
	FlashAttention bool
	// Verbose lets whisper.cpp and ggml log to stderr during this model's calls (they are
	// silent otherwise).
	Verbose bool
}

// Model is a loaded whisper.cpp model. All its methods may be called from any goroutine.
type Model struct {
	c    *C.struct_whisper_context
	opts LoadOptions
	info Info
	eot  C.whisper_token

	slots   chan struct{} // one token per Transcribe running on a state
	closing context.Context
	close   context.CancelFunc
	calls   sync.WaitGroup // Transcribe calls in progress

	mu         sync.Mutex
	closed     bool
	idle       []*state // states not in use
	busy       map[*state]bool
	states     int // states alive (idle or in use)
	stateBytes int64
}

// state is one whisper_state and the C block its calls use; one goroutine at a time owns it.
type state struct {
	s    *C.struct_whisper_state
	call *C.hark_asr_call
}

// Load checks the model file (CheckFile), loads it and allocates its first transcription state,
// so that a model that cannot run fails here rather than at the first utterance. The model stays
// loaded until Close; states are reused across calls.
func Load(path string, opts LoadOptions) (*Model, error) {
	info, err := CheckFile(path)
	if err != nil {
		return nil, err
	}
	if opts.Threads <= 0 {
		opts.Threads = min(4, runtime.NumCPU())
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 2
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	log := newLog(opts.Verbose)
	defer freeLog(log)
	c := C.hark_asr_init_model(cpath, C.bool(opts.FlashAttention), log)
	if c == nil {
		msg := loggedErrors(logText(log))
		if msg == "" {
			msg = "whisper.cpp could not load it"
		}
		return nil, fmt.Errorf("asr: load %s: %s", path, msg)
	}
	m := &Model{c: c, opts: opts, info: info, eot: C.whisper_token_eot(c), slots: make(chan struct{}, opts.MaxConcurrent), busy: map[*state]bool{}}
	m.closing, m.close = context.WithCancel(context.Background())
	st, err := m.newState()
	if err != nil {
		m.close()
		C.whisper_free(c)
		return nil, err
	}
	m.idle = append(m.idle, st)
	return m, nil
}

// newState allocates a whisper_state; whisper.cpp's log of it gives its memory.
func (m *Model) newState() (*state, error) {
	log := newLog(m.opts.Verbose)
	defer freeLog(log)
	s := C.hark_asr_init_state(m.c, log)
	text := logText(log)
	if s == nil {
		msg := loggedErrors(text)
		if msg == "" {
			msg = "out of memory?"
		}
		return nil, fmt.Errorf("asr: cannot allocate a transcription state: %s", msg)
	}
	call := C.hark_asr_call_new()
	if call == nil {
		C.whisper_free_state(s)
		return nil, errors.New("asr: cannot allocate a transcription state: out of memory")
	}
	call.log.verbose = log.verbose
	m.mu.Lock()
	m.states++
	m.stateBytes = max(m.stateBytes, loggedBytes(text))
	m.mu.Unlock()
	return &state{s: s, call: call}, nil
}

func (st *state) free() {
	if st.s != nil {
		C.whisper_free_state(st.s)
		st.s = nil
	}
	C.free(unsafe.Pointer(st.call))
	st.call = nil
}

// Info describes the model: what CheckFile read, plus its memory in use.
func (m *Model) Info() Info {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.info
	i.Languages = append([]string(nil), i.Languages...)
	i.StateBytes = m.stateBytes
	i.States = m.states
	i.MemoryBytes = i.WeightBytes + int64(m.states)*m.stateBytes
	return i
}

// Close interrupts Transcribe calls in progress (they return ErrClosed), waits for them to leave
// whisper.cpp, and frees the model. It is safe to call more than once.
func (m *Model) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.close()
	m.mu.Unlock()
	m.calls.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, st := range m.idle {
		st.free()
	}
	m.idle = nil
	m.states = 0
	C.whisper_free(m.c)
	m.c = nil
	return nil
}

// begin registers a call; it fails once Close has started.
func (m *Model) begin() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.calls.Add(1)
	return nil
}

// acquire waits for a free slot and returns a state for the caller's exclusive use.
func (m *Model) acquire(ctx context.Context) (*state, error) {
	select {
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-m.closing.Done():
		return nil, ErrClosed
	}
	m.mu.Lock()
	if n := len(m.idle); n > 0 {
		st := m.idle[n-1]
		m.idle = m.idle[:n-1]
		m.busy[st] = true
		m.mu.Unlock()
		return st, nil
	}
	m.mu.Unlock()
	st, err := m.newState()
	if err != nil {
		<-m.slots
		return nil, err
	}
	m.mu.Lock()
	m.busy[st] = true
	m.mu.Unlock()
	return st, nil
}

// release returns a state to the pool (or forgets it when whisper.cpp freed it) and its slot.
func (m *Model) release(st *state) {
	m.mu.Lock()
	delete(m.busy, st)
	if st.s == nil {
		C.free(unsafe.Pointer(st.call))
		m.states--
	} else {
		m.idle = append(m.idle, st)
	}
	m.mu.Unlock()
	<-m.slots
}

// Phases of the calls in progress, for tests that cancel at a given point: 0 before the first
// encoder pass, 1 encoding, 2 decoding, 3 returning.
func (m *Model) phases() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	var p []int
	for st := range m.busy {
		p = append(p, int(C.hark_asr_call_phase(st.call)))
	}
	return p
}
