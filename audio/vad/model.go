package vad

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
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
	info, err := check(bufio.NewReader(f), st.Size())
	if err != nil {
		return Info{}, fmt.Errorf("vad: %s: %w", path, err)
	}
	return info, nil
}

func check(r io.Reader, size int64) (Info, error) {
	var read int64
	i32 := func() (int32, error) {
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, fmt.Errorf("%w: the file ends early (after %d of %d bytes)", ErrBadModel, read, size)
		}
		read += 4
		return int32(binary.LittleEndian.Uint32(b[:])), nil
	}
	var info Info
	magic, err := i32()
	if err != nil {
		return info, err
	}
	if uint32(magic) != 0x67676d6c {
		return info, fmt.Errorf("%w: no ggml magic at the start (is it a whisper or GGUF model instead?)", ErrBadModel)
	}
	n, err := i32()
	if err != nil {
		return info, err
	}
	if n < 1 || n > 64 {
		return info, fmt.Errorf("%w: model type name of %d bytes", ErrBadModel, n)
	}
	name := make([]byte, n)
	if _, err := io.ReadFull(r, name); err != nil {
		return info, fmt.Errorf("%w: the file ends early", ErrBadModel)
	}
	read += int64(n)
	info.Type = string(name)
	if len(info.Type) < 6 || info.Type[:6] != "silero" {
		return info, fmt.Errorf("%w: model type %q, want silero", ErrBadModel, info.Type)
	}
	var hdr [5]int32 // major, minor, patch, n_window, n_context
	for i := range hdr {
		if hdr[i], err = i32(); err != nil {
			return info, err
		}
	}
	info.Version = fmt.Sprintf("%d.%d.%d", hdr[0], hdr[1], hdr[2])
	info.FrameSize = int(hdr[3])
	if info.FrameSize < 64 || info.FrameSize > 8192 || hdr[4] < 0 || hdr[4] > 8192 {
		return info, fmt.Errorf("%w: frame size %d, context %d", ErrBadModel, hdr[3], hdr[4])
	}
	layers, err := i32()
	if err != nil {
		return info, err
	}
	if layers != 4 { // whisper.cpp builds exactly four encoder layers
		return info, fmt.Errorf("%w: %d encoder layers, want 4", ErrBadModel, layers)
	}
	for i := 0; i < 3*int(layers)+4; i++ { // in, out, kernel per layer; then the LSTM and final conv sizes
		v, err := i32()
		if err != nil {
			return info, err
		}
		if v < 1 || v > 4096 {
			return info, fmt.Errorf("%w: layer size %d", ErrBadModel, v)
		}
	}
	want := map[string]bool{}
	for _, t := range tensorNames {
		want[t] = true
	}
	for {
		var b [4]byte
		k, err := io.ReadFull(r, b[:])
		if k == 0 && err == io.EOF {
			break
		}
		if err != nil {
			return info, fmt.Errorf("%w: the file ends inside a tensor header", ErrBadModel)
		}
		read += 4
		dims := int32(binary.LittleEndian.Uint32(b[:]))
		length, err := i32()
		if err != nil {
			return info, err
		}
		ttype, err := i32()
		if err != nil {
			return info, err
		}
		if dims < 0 || dims > 4 || length < 1 || length > 256 {
			return info, fmt.Errorf("%w: tensor header with %d dimensions and a %d-byte name", ErrBadModel, dims, length)
		}
		elems := int64(1)
		for d := int32(0); d < dims; d++ {
			ne, err := i32()
			if err != nil {
				return info, err
			}
			if ne < 1 || ne > 1<<20 {
				return info, fmt.Errorf("%w: tensor dimension %d", ErrBadModel, ne)
			}
			elems *= int64(ne)
		}
		tn := make([]byte, length)
		if _, err := io.ReadFull(r, tn); err != nil {
			return info, fmt.Errorf("%w: the file ends inside a tensor name", ErrBadModel)
		}
		read += int64(length)
		if !want[string(tn)] {
			return info, fmt.Errorf("%w: unexpected or repeated tensor %q", ErrBadModel, tn)
		}
		delete(want, string(tn))
		var bpe int64
		switch ttype {
		case 0: // F32
			bpe = 4
		case 1: // F16
			bpe = 2
		default:
			return info, fmt.Errorf("%w: tensor %s has type %d (only F32 and F16 are expected)", ErrBadModel, tn, ttype)
		}
		if elems > 1<<26 || read+elems*bpe > size {
			return info, fmt.Errorf("%w: tensor %s needs %d bytes, the file ends before", ErrBadModel, tn, elems*bpe)
		}
		if _, err := io.CopyN(io.Discard, r, elems*bpe); err != nil {
			return info, fmt.Errorf("%w: the file ends inside tensor %s", ErrBadModel, tn)
		}
		read += elems * bpe
		info.Tensors++
	}
	if len(want) > 0 {
		return info, fmt.Errorf("%w: %d of its %d tensors are missing", ErrBadModel, len(want), len(tensorNames))
	}
	return info, nil
}
