package ggml

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Magic is "ggml" as a little-endian uint32: whisper.cpp's .bin files (speech models and the
// Silero VAD) start with it, so the bytes on disk read "lmgg".
const Magic = 0x67676d6c

// Whisper is the header of a whisper.cpp speech model (.bin): hyperparameters, the sizes of
// the mel filter bank and vocabulary, and the tensors, in file order.
type Whisper struct {
	Vocab, AudioCtx, AudioState, AudioHeads, AudioLayers int32
	TextCtx, TextState, TextHeads, TextLayers, Mels      int32
	FType                                                int32 // quantization version × 1000 + ggml_ftype
	MelFilters                                           [2]int32
	Words                                                int32
	Tensors                                              []LegacyTensor
}

// Silero is the header of whisper.cpp's Silero VAD model (.bin).
type Silero struct {
	Type            string // "silero-16k"
	Version         [3]int32
	Window, Context int32
	Layers          int32
	// Sizes are the input and output channels and kernel size of each encoder layer, then the
	// LSTM's input and hidden sizes and the final convolution's channels and kernel.
	Sizes   []int32
	Tensors []LegacyTensor
}

// LegacyTensor is one tensor record of a ggml .bin file; At is where its record starts.
type LegacyTensor struct {
	Name  string
	Type  uint32
	Dims  []int64
	At    int64
	Bytes int64
}

// IsSilero tells a Silero VAD file from a whisper model by its first bytes: after the magic,
// a short model type string where a whisper model has its vocabulary size.
func IsSilero(head []byte) bool {
	if len(head) < 8 || binary.LittleEndian.Uint32(head) != Magic {
		return false
	}
	n := binary.LittleEndian.Uint32(head[4:])
	return n > 0 && n <= 64
}

// Limits well above any real model, so that a damaged header is reported instead of making a
// check loop or allocate for ever.
const (
	maxMelFilter  = 1 << 24
	maxWords      = 1 << 20
	maxWordBytes  = 1 << 10
	maxLegacyName = 256
	maxLayers     = 64
)

// ReadWhisper reads a whisper.cpp model's header and walks its tensor records to the end of
// the file (size bytes; r as for ReadGGUF). Errors are *Error, or r's own; the hyperparameters
// are not judged here (the callers know what they accept), only the sizes that steer reading.
func ReadWhisper(r io.Reader, size int64) (*Whisper, error) {
	rd := newReader(r, size)
	w := &Whisper{}
	if err := rd.magic(); err != nil {
		return w, err
	}
	for _, p := range []*int32{&w.Vocab, &w.AudioCtx, &w.AudioState, &w.AudioHeads, &w.AudioLayers,
		&w.TextCtx, &w.TextState, &w.TextHeads, &w.TextLayers, &w.Mels, &w.FType} {
		var err error
		if *p, err = rd.i32("the header"); err != nil {
			return w, err
		}
	}
	for i := range w.MelFilters {
		var err error
		if w.MelFilters[i], err = rd.i32("the mel filters"); err != nil {
			return w, err
		}
	}
	nMel, nFFT := int64(w.MelFilters[0]), int64(w.MelFilters[1])
	if nMel <= 0 || nFFT <= 0 || nMel*nFFT > maxMelFilter {
		return w, rd.corrupt("the mel filter bank is %d×%d, an impossible size", nMel, nFFT)
	}
	if err := rd.skip(uint64(4*nMel*nFFT), "the mel filters"); err != nil {
		return w, err
	}
	var err error
	if w.Words, err = rd.i32("the vocabulary"); err != nil {
		return w, err
	}
	if w.Words < 0 || w.Words > maxWords {
		return w, rd.corrupt("the vocabulary has %d entries, an impossible number", w.Words)
	}
	for i := range w.Words {
		what := fmt.Sprintf("vocabulary entry %d", i)
		n, err := rd.u32(what)
		if err != nil {
			return w, err
		}
		if n > maxWordBytes {
			return w, rd.corrupt("vocabulary entry %d is %d bytes long", i, n)
		}
		if err := rd.skip(uint64(n), what); err != nil {
			return w, err
		}
	}
	w.Tensors, err = rd.legacyTensors()
	return w, err
}

// ReadSilero reads a Silero VAD file's header and tensor records (see ReadWhisper). With a
// model type other than silero-16k it stops after setting Type, with ErrVersion.
func ReadSilero(r io.Reader, size int64) (*Silero, error) {
	rd := newReader(r, size)
	s := &Silero{}
	if err := rd.magic(); err != nil {
		return s, err
	}
	n, err := rd.u32("the header")
	if err != nil {
		return s, err
	}
	if n == 0 || n > 64 {
		return s, rd.corrupt("the model type is %d bytes long", n)
	}
	b, err := rd.bytes(uint64(n), "the header")
	if err != nil {
		return s, err
	}
	s.Type = string(b)
	if s.Type != "silero-16k" {
		return s, &Error{Err: ErrVersion, What: fmt.Sprintf("model type %q", s.Type), Size: size}
	}
	for _, p := range []*int32{&s.Version[0], &s.Version[1], &s.Version[2], &s.Window, &s.Context, &s.Layers} {
		if *p, err = rd.i32("the header"); err != nil {
			return s, err
		}
	}
	if s.Layers <= 0 || s.Layers > maxLayers {
		return s, rd.corrupt("the header gives an impossible number of encoder layers (%d)", s.Layers)
	}
	s.Sizes = make([]int32, 3*s.Layers+4)
	for i := range s.Sizes {
		if s.Sizes[i], err = rd.i32("the header"); err != nil {
			return s, err
		}
	}
	s.Tensors, err = rd.legacyTensors()
	return s, err
}

func (r *reader) magic() error {
	m, err := r.u32("the header")
	if err == nil && m != Magic {
		return r.corrupt("the file does not start with the ggml signature")
	}
	return err
}

// legacyTensors walks the tensor records that end a ggml .bin file (each: n_dims, name length,
// type, dims, name, data) up to the end of the file.
func (r *reader) legacyTensors() ([]LegacyTensor, error) {
	var out []LegacyTensor
	for r.off < r.size {
		t := LegacyTensor{At: r.off}
		what := fmt.Sprintf("the header of tensor %d (at byte %d)", len(out)+1, t.At)
		var h [3]int32
		for i := range h {
			var err error
			if h[i], err = r.i32(what); err != nil {
				return out, err
			}
		}
		nDims, nameLen, typ := h[0], h[1], h[2]
		switch {
		case nDims < 0 || nDims > maxDims:
			return out, r.corrupt("tensor %d (at byte %d) has %d dimensions", len(out)+1, t.At, nDims)
		case nameLen < 1 || nameLen > maxLegacyName:
			return out, r.corrupt("tensor %d (at byte %d) has a %d-byte name", len(out)+1, t.At, nameLen)
		}
		t.Type = uint32(typ)
		t.Dims = make([]int64, nDims)
		for d := range t.Dims {
			v, err := r.i32(what)
			if err != nil {
				return out, err
			}
			if v < 1 {
				return out, r.corrupt("tensor %d (at byte %d) has dimension %d = %d", len(out)+1, t.At, d, v)
			}
			t.Dims[d] = int64(v)
		}
		name, err := r.bytes(uint64(nameLen), what)
		if err != nil {
			return out, err
		}
		t.Name = printable(string(name))
		if t.Bytes, err = TensorBytes(t.Type, t.Dims); err != nil {
			return out, tensorError(t.Name, err, r.size)
		}
		if t.Bytes > r.size-r.off {
			return out, &Error{Err: ErrTruncated, What: fmt.Sprintf("tensor %q needs %d bytes from byte %d", t.Name, t.Bytes, r.off), Size: r.size, Data: true}
		}
		if err := r.skip(uint64(t.Bytes), ""); err != nil {
			return out, err
		}
		out = append(out, t)
	}
	return out, nil
}

// printable keeps a name read from a file safe to show: control characters become '?'.
func printable(s string) string {
	b := []rune(s)
	for i, c := range b {
		if c < 0x20 || c == 0x7f || c == 0xfffd {
			b[i] = '?'
		}
	}
	return string(b)
}
