package ggml

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"hark/internal/testmodels"
)

func readAll(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// good returns a valid file of each format the readers know.
func good(t testing.TB) (gguf, whisper, silero []byte) {
	return readAll(t, testmodels.Llama(t, testmodels.TinyLlama())),
		readAll(t, testmodels.Whisper(t, testmodels.TinyWhisper())),
		readAll(t, testmodels.Shared(t, "ggml-silero-v6.2.0.bin"))
}

// readers runs each reader on b, as an io.Reader and as a seekable one.
var readers = map[string]func(r io.Reader, size int64) error{
	"gguf":    func(r io.Reader, size int64) error { _, err := ReadGGUF(r, size); return err },
	"whisper": func(r io.Reader, size int64) error { _, err := ReadWhisper(r, size); return err },
	"silero":  func(r io.Reader, size int64) error { _, err := ReadSilero(r, size); return err },
}

func read(kind string, b []byte, seek bool) error {
	var r io.Reader = bytes.NewReader(b)
	if !seek {
		r = io.MultiReader(r) // hides Seek
	}
	return readers[kind](r, int64(len(b)))
}

func TestReadGoodFiles(t *testing.T) {
	gguf, whisper, silero := good(t)
	g, err := ReadGGUF(bytes.NewReader(gguf), int64(len(gguf)))
	if err != nil || g.Version != 3 || g.String("general.architecture") != "llama" || len(g.Tensors) == 0 || g.End() != int64(len(gguf)) {
		t.Errorf("gguf: %v, %+v", err, g)
	}
	if a, ok := g.Meta["tokenizer.ggml.tokens"].(Array); !ok || a.Type != ggufString || a.Len == 0 {
		t.Errorf("gguf: tokens %#v, want a string array", g.Meta["tokenizer.ggml.tokens"])
	}
	w, err := ReadWhisper(io.MultiReader(bytes.NewReader(whisper)), int64(len(whisper)))
	if err != nil || w.Vocab != 51864 || w.Mels != 80 || w.MelFilters != [2]int32{80, 201} || len(w.Tensors) != 50 {
		t.Errorf("whisper: %v, %+v", err, w)
	}
	s, err := ReadSilero(bytes.NewReader(silero), int64(len(silero)))
	if err != nil || s.Type != "silero-16k" || s.Layers <= 0 || len(s.Tensors) != 2*int(s.Layers)+7 {
		t.Errorf("silero: %v, %+v", err, s)
	}
}

// TestReadTruncated cuts each good file at 200 places: every reader says truncated (and names
// what it was reading), seeking or not, and never reads past the end it was told.
func TestReadTruncated(t *testing.T) {
	gguf, whisper, silero := good(t)
	for kind, b := range map[string][]byte{"gguf": gguf, "whisper": whisper, "silero": silero} {
		for i := range 200 {
			n := (len(b) - 1) * i / 200
			if kind == "gguf" && n > 0 {
				// GGUF's reader stops at the tensor table; only Overrun sees cut data.
				g, err := ReadGGUF(bytes.NewReader(b[:n]), int64(n))
				if err == nil {
					if _, _, over := g.Overrun(int64(n)); !over {
						t.Fatalf("gguf cut at %d of %d: no error and no overrun", n, len(b))
					}
					continue
				}
			}
			for _, seek := range []bool{false, true} {
				err := read(kind, b[:n], seek)
				var e *Error
				if !errors.Is(err, ErrTruncated) || !errors.As(err, &e) || e.Size != int64(n) || e.What == "" {
					t.Fatalf("%s cut at %d of %d (seek %v): %v, want a truncation", kind, n, len(b), seek, err)
				}
			}
		}
	}
}

func TestReadBadHeaders(t *testing.T) {
	gguf, whisper, silero := good(t)
	patch := func(b []byte, off int, v uint64, width int) []byte {
		c := bytes.Clone(b)
		if width == 4 {
			binary.LittleEndian.PutUint32(c[off:], uint32(v))
		} else {
			binary.LittleEndian.PutUint64(c[off:], v)
		}
		return c
	}
	typeAt := bytes.Index(gguf, []byte("output_norm.weight")) + len("output_norm.weight") + 4 + 8
	firstTensor := bytes.Index(whisper, []byte("encoder.positional_embedding")) - 12 - 8
	rng := rand.New(rand.NewPCG(5, 6))
	noise := make([]byte, 4096)
	for i := range noise {
		noise[i] = byte(rng.UintN(256))
	}
	tests := []struct {
		name, kind string
		data       []byte
		want       error
		says       string
	}{
		{"gguf: no magic", "gguf", append([]byte("GGUX"), gguf[4:]...), ErrCorrupt, `"GGUF"`},
		{"gguf: version 1", "gguf", patch(gguf, 4, 1, 4), ErrVersion, "version 1"},
		{"gguf: byte-swapped version", "gguf", patch(gguf, 4, 3<<24, 4), ErrVersion, "version 50331648"},
		{"gguf: absurd tensor count", "gguf", patch(gguf, 8, 1<<40, 8), ErrCorrupt, "more than any model"},
		{"gguf: absurd key length", "gguf", patch(gguf, 24, 1<<50, 8), ErrTruncated, "metadata entry 0"},
		{"gguf: unknown value type", "gguf", patch(gguf, 24+8+len("general.alignment"), 99, 4), ErrCorrupt, "type 99"},
		{"gguf: unknown tensor type", "gguf", patch(gguf, typeAt, 77, 4), ErrType, `"output_norm.weight" has tensor type 77`},
		{"gguf: noise after the magic", "gguf", append([]byte("GGUF\x03\x00\x00\x00"), noise...), ErrCorrupt, ""},
		{"whisper: no magic", "whisper", append([]byte("XGML"), whisper[4:]...), ErrCorrupt, "ggml signature"},
		{"whisper: filter bank", "whisper", patch(whisper, 48, 1<<30, 4), ErrCorrupt, "mel filter bank"},
		{"whisper: word length", "whisper", patch(whisper, 56+80*201*4+4, 1<<31, 4), ErrCorrupt, "vocabulary entry 0"},
		{"whisper: tensor dimensions", "whisper", patch(whisper, firstTensor, 7, 4), ErrCorrupt, "7 dimensions"},
		{"whisper: tensor type", "whisper", patch(whisper, firstTensor+8, 77, 4), ErrType, "tensor type 77"},
		{"whisper: junk at the end", "whisper", append(bytes.Clone(whisper), "junk after the last tensor"...), ErrCorrupt, "tensor 51"},
		{"silero: another model type", "silero", append(append(bytes.Clone(silero[:8]), "silero-8kk"...), silero[18:]...), ErrVersion, `"silero-8kk"`},
		{"silero: layers", "silero", patch(silero, 8+10+20, 1000, 4), ErrCorrupt, "encoder layers (1000)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := read(tt.kind, tt.data, true)
			var e *Error
			if !errors.Is(err, tt.want) || !errors.As(err, &e) {
				t.Fatalf("%v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("%q, want it to say %q", err, tt.says)
			}
		})
	}
}

// TestTensorBytes: sizes of tensors of the types the engines read, the newest included
// (llama.cpp's ggml reads types 40-42 now, as whisper.cpp's does), and the types they do not.
func TestTensorBytes(t *testing.T) {
	tests := []struct {
		typ  uint32
		ne   []int64
		want int64 // -1: an error
	}{
		{0, []int64{10, 3}, 120},           // f32
		{2, []int64{64, 2}, 2 * 2 * 18},    // q4_0: 2 blocks a row
		{12, []int64{512}, 2 * 144},        // q4_K
		{39, []int64{64}, 2 * 17},          // mxfp4
		{40, []int64{128, 4}, 4 * 2 * 36},  // nvfp4
		{41, []int64{256}, 2 * 18},         // q1_0
		{42, []int64{128, 3}, 3 * 2 * 18},  // q2_0
		{0, nil, 4},                        // a scalar
		{42, []int64{100}, -1},             // a row that is not whole blocks
		{31, []int64{64}, -1},              // q4_0_4_4, removed from ggml
		{43, []int64{64}, -1},              // newer than the engines
		{2, []int64{64, 0}, -1},            // an empty dimension
		{0, []int64{1 << 40, 1 << 40}, -1}, // overflows
	}
	for _, tt := range tests {
		got, err := TensorBytes(tt.typ, tt.ne)
		if tt.want < 0 {
			if err == nil {
				t.Errorf("type %d %v: %d bytes, want an error", tt.typ, tt.ne, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("type %d %v: %d, %v; want %d", tt.typ, tt.ne, got, err, tt.want)
		}
	}
}

// TestWeightTypes: every whisper ftype names a tensor type the table has.
func TestWeightTypes(t *testing.T) {
	for f, w := range weightTypes {
		if _, ok := TypeOf(w); !ok {
			t.Errorf("ftype %d maps to type %d, which the table lacks", f, w)
		}
	}
}

// FuzzRead feeds arbitrary bytes to the three readers: no panic, no runaway allocation, and
// every refusal an *Error.
func FuzzRead(f *testing.F) {
	gguf, whisper, silero := good(f)
	for _, b := range [][]byte{gguf, whisper, silero} {
		f.Add(b[:min(len(b), 4096)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for kind := range readers {
			var e *Error
			if err := read(kind, data, true); err != nil && !errors.As(err, &e) {
				t.Fatalf("%s: %T %v", kind, err, err)
			}
		}
	})
}
