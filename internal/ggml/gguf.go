package ggml

import (
	"fmt"
	"io"
	"math"
)

// GGUF is a GGUF file's header (gguf.h): its version, metadata and tensor table.
type GGUF struct {
	Version uint32
	// Meta holds each metadata value: uint64 (unsigned integers), int64 (signed), float64,
	// bool, string (strings over 1 MiB are left out), or Array (only its type and length).
	Meta      map[string]any
	Tensors   []Tensor
	Alignment int64
	// DataStart is where the tensor data begins: the end of the header, aligned.
	DataStart int64
}

// Array stands for a metadata array: its element type and length.
type Array struct {
	Type uint32
	Len  uint64
}

// Tensor is one entry of the tensor table; Offset is relative to DataStart.
type Tensor struct {
	Name   string
	Type   uint32
	Dims   []int64
	Offset int64
	Bytes  int64
}

// GGUF metadata value types (gguf.h).
const (
	ggufString = 8
	ggufArray  = 9
)

var ggufScalarSize = map[uint32]int{0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

const (
	maxTensorName = 64 // GGML_MAX_NAME
	maxDims       = 4  // GGML_MAX_DIMS
	maxString     = 1 << 20
)

// ReadGGUF reads the header of a GGUF file of size bytes from r, positioned at its first byte
// (an io.Seeker is not read through where the header skips). Errors are *Error, or r's own. A
// version other than 2 and 3 stops it with ErrVersion after Version is set. It does not check
// that the tensor data fits in the file: see Overrun.
func ReadGGUF(r io.Reader, size int64) (*GGUF, error) {
	rd := newReader(r, size)
	g := &GGUF{Meta: map[string]any{}, Alignment: 32}
	if err := rd.read(rd.buf[:4], "the header"); err != nil {
		return g, err
	}
	if string(rd.buf[:4]) != "GGUF" {
		return g, rd.corrupt("the file does not start with \"GGUF\"")
	}
	var err error
	if g.Version, err = rd.u32("the header"); err != nil {
		return g, err
	}
	if g.Version != 2 && g.Version != 3 {
		return g, &Error{Err: ErrVersion, What: fmt.Sprintf("GGUF version %d", g.Version), Size: size}
	}
	nTensors, err := rd.u64("the header")
	if err != nil {
		return g, err
	}
	nKV, err := rd.u64("the header")
	if err != nil {
		return g, err
	}
	// Limits well above any real model (a truncated file must still read as truncated).
	if nKV > 1<<16 || nTensors > 1<<20 {
		return g, rd.corrupt("the header claims %d metadata entries and %d tensors, more than any model has", nKV, nTensors)
	}
	for i := range nKV {
		key, err := rd.ggufString(fmt.Sprintf("metadata entry %d", i), maxString)
		if err != nil {
			return g, err
		}
		typ, err := rd.u32(fmt.Sprintf("metadata entry %q", key))
		if err != nil {
			return g, err
		}
		if g.Meta[key], err = rd.ggufValue(typ, key); err != nil {
			return g, err
		}
	}
	if v, ok := g.Meta["general.alignment"]; ok {
		a, _ := v.(uint64)
		if a == 0 || a&(a-1) != 0 || a > 1<<20 {
			return g, rd.corrupt("general.alignment is %v, not a power of two", v)
		}
		g.Alignment = int64(a)
	}
	g.Tensors = make([]Tensor, 0, nTensors)
	for i := range nTensors {
		what := fmt.Sprintf("the description of tensor %d", i)
		t := Tensor{}
		if t.Name, err = rd.ggufString(what, maxTensorName); err != nil {
			return g, err
		}
		nDims, err := rd.u32(what)
		if err != nil {
			return g, err
		}
		if nDims == 0 || nDims > maxDims {
			return g, rd.corrupt("tensor %q has %d dimensions", t.Name, nDims)
		}
		t.Dims = make([]int64, nDims)
		for d := range t.Dims {
			n, err := rd.u64(what)
			if err != nil {
				return g, err
			}
			if n == 0 || n > 1<<40 {
				return g, rd.corrupt("tensor %q has a bad dimension %d", t.Name, n)
			}
			t.Dims[d] = int64(n)
		}
		if t.Type, err = rd.u32(what); err != nil {
			return g, err
		}
		off, err := rd.u64(what)
		if err != nil {
			return g, err
		}
		if t.Bytes, err = TensorBytes(t.Type, t.Dims); err != nil {
			return g, tensorError(t.Name, err, size)
		}
		if off%uint64(g.Alignment) != 0 || off > 1<<50 {
			return g, rd.corrupt("tensor %q starts at offset %d, not aligned to %d", t.Name, off, g.Alignment)
		}
		t.Offset = int64(off)
		g.Tensors = append(g.Tensors, t)
	}
	g.DataStart = (rd.off + g.Alignment - 1) / g.Alignment * g.Alignment
	return g, nil
}

// Overrun returns the first tensor whose data ends past size bytes, and where it ends.
func (g *GGUF) Overrun(size int64) (t Tensor, end int64, ok bool) {
	for _, t := range g.Tensors {
		if end := g.DataStart + t.Offset + t.Bytes; end > size {
			return t, end, true
		}
	}
	return Tensor{}, 0, false
}

// End is where the last tensor's data ends: the size the file should have.
func (g *GGUF) End() int64 {
	end := g.DataStart
	for _, t := range g.Tensors {
		end = max(end, g.DataStart+t.Offset+t.Bytes)
	}
	return end
}

// String returns a string metadata value ("" when absent or not a string).
func (g *GGUF) String(key string) string {
	s, _ := g.Meta[key].(string)
	return s
}

// Uint returns an integer metadata value that is not negative.
func (g *GGUF) Uint(key string) (uint64, bool) {
	switch v := g.Meta[key].(type) {
	case uint64:
		return v, true
	case int64:
		return uint64(v), v >= 0
	}
	return 0, false
}

// Int returns an integer metadata value that fits an int32 (0 otherwise).
func (g *GGUF) Int(key string) int {
	if v, ok := g.Uint(key); ok && v <= math.MaxInt32 {
		return int(v)
	}
	return 0
}

func (r *reader) ggufString(what string, limit uint64) (string, error) {
	n, err := r.u64(what)
	if err != nil {
		return "", err
	}
	if n > uint64(r.size-r.off) {
		return "", r.short(what)
	}
	if n > limit {
		return "", r.corrupt("a %d-byte name at byte %d (at most %d)", n, r.off, limit)
	}
	b, err := r.bytes(n, what)
	return string(b), err
}

// ggufValue reads one metadata value of type typ (see GGUF.Meta).
func (r *reader) ggufValue(typ uint32, key string) (any, error) {
	what := fmt.Sprintf("the value of %q", key)
	switch typ {
	case ggufString:
		n, err := r.u64(what)
		if err != nil {
			return nil, err
		}
		if n > maxString {
			return nil, r.skip(n, what)
		}
		b, err := r.bytes(n, what)
		return string(b), err
	case ggufArray:
		et, err := r.u32(what)
		if err != nil {
			return nil, err
		}
		n, err := r.u64(what)
		if err != nil {
			return nil, err
		}
		if n > uint64(r.size) {
			return nil, r.corrupt("metadata %q claims %d entries, more than the file has bytes", key, n)
		}
		switch sz, ok := ggufScalarSize[et]; {
		case ok:
			err = r.skip(n*uint64(sz), what)
		case et == ggufString:
			for i := uint64(0); i < n && err == nil; i++ {
				var l uint64
				if l, err = r.u64(what); err == nil {
					err = r.skip(l, what)
				}
			}
		default:
			return nil, r.corrupt("metadata %q is an array of type %d, which llama.cpp does not read", key, et)
		}
		return Array{et, n}, err
	}
	sz, ok := ggufScalarSize[typ]
	if !ok {
		return nil, r.corrupt("metadata %q has type %d, which GGUF does not have", key, typ)
	}
	if err := r.read(r.buf[:sz], what); err != nil {
		return nil, err
	}
	var u uint64
	for i := sz - 1; i >= 0; i-- {
		u = u<<8 | uint64(r.buf[i])
	}
	switch typ {
	case 0, 2, 4, 10:
		return u, nil
	case 1:
		return int64(int8(u)), nil
	case 3:
		return int64(int16(u)), nil
	case 5:
		return int64(int32(u)), nil
	case 11:
		return int64(u), nil
	case 6:
		return float64(math.Float32frombits(uint32(u))), nil
	case 12:
		return math.Float64frombits(u), nil
	}
	return u != 0, nil // 7: bool
}
