package vad

import (
	"errors"
	"fmt"
	"os"

	"hark/internal/ggml"
)

// ErrBadModel marks a file that is not a Silero VAD model whisper.cpp can load; the error says
// what is wrong with it.
var ErrBadModel = errors.New("not a usable Silero VAD model")

// Info describes a Silero VAD model file.
type Info struct {
	Type      string // "silero-16k"
	Version   string // e.g. "6.2.0"
	FrameSize int    // samples per frame at 16 kHz
	Tensors   int
}

// tensorNames are the tensors whisper.cpp's VAD loader knows (whisper-arch.h); a model must hold
// each exactly once.
var tensorNames = []string{
	"_model.stft.forward_basis_buffer",
	"_model.encoder.0.reparam_conv.weight", "_model.encoder.0.reparam_conv.bias",
	"_model.encoder.1.reparam_conv.weight", "_model.encoder.1.reparam_conv.bias",
	"_model.encoder.2.reparam_conv.weight", "_model.encoder.2.reparam_conv.bias",
	"_model.encoder.3.reparam_conv.weight", "_model.encoder.3.reparam_conv.bias",
	"_model.decoder.rnn.weight_ih", "_model.decoder.rnn.weight_hh",
	"_model.decoder.rnn.bias_ih", "_model.decoder.rnn.bias_hh",
	"_model.decoder.decoder.2.weight", "_model.decoder.decoder.2.bias",
}

// CheckFile reads a VAD model file's structure without loading it. whisper.cpp's loader trusts
// its input (a bad length or layer count makes it index out of bounds or throw through C), so
// Load runs this first and only hands C a file that passes.
func CheckFile(path string) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, fmt.Errorf("vad: VAD model: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("vad: VAD model: %w", err)
	}
	info, err := check(f, st.Size())
	if err != nil {
		return Info{}, fmt.Errorf("vad: %s: %w", path, err)
	}
	return info, nil
}

// check adds to the shared header reader what whisper.cpp's VAD loader assumes: four encoder
// layers of sane sizes, exactly the tensors it knows, in F32 or F16.
func check(f *os.File, size int64) (Info, error) {
	s, err := ggml.ReadSilero(f, size)
	info := Info{Type: s.Type, Version: fmt.Sprintf("%d.%d.%d", s.Version[0], s.Version[1], s.Version[2]), FrameSize: int(s.Window)}
	var e *ggml.Error
	switch {
	case errors.Is(err, ggml.ErrVersion):
		return info, fmt.Errorf("%w: model type %q, want silero-16k", ErrBadModel, s.Type)
	case errors.As(err, &e):
		return info, fmt.Errorf("%w: %v", ErrBadModel, err)
	case err != nil:
		return info, err
	}
	switch {
	case info.FrameSize < 64 || info.FrameSize > 8192 || s.Context < 0 || s.Context > 8192:
		return info, fmt.Errorf("%w: frame size %d, context %d", ErrBadModel, s.Window, s.Context)
	case s.Layers != 4: // whisper.cpp builds exactly four encoder layers
		return info, fmt.Errorf("%w: %d encoder layers, want 4", ErrBadModel, s.Layers)
	}
	for _, v := range s.Sizes {
		if v < 1 || v > 4096 {
			return info, fmt.Errorf("%w: layer size %d", ErrBadModel, v)
		}
	}
	want := map[string]bool{}
	for _, t := range tensorNames {
		want[t] = true
	}
	for _, t := range s.Tensors {
		if !want[t.Name] {
			return info, fmt.Errorf("%w: unexpected or repeated tensor %q", ErrBadModel, t.Name)
		}
		delete(want, t.Name)
		if t.Type != 0 && t.Type != 1 {
			return info, fmt.Errorf("%w: tensor %s has type %d (only F32 and F16 are expected)", ErrBadModel, t.Name, t.Type)
		}
		info.Tensors++
	}
	if len(want) > 0 {
		return info, fmt.Errorf("%w: %d of its %d tensors are missing", ErrBadModel, len(want), len(tensorNames))
	}
	return info, nil
}
