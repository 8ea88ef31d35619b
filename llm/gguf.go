package llm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"hark/internal/ggml"
)

// Errors CheckFile (and Load, which calls it) wraps, so callers can tell the cases apart with
// errors.Is. The messages around them say what was found and what to do.
var (
	ErrNotGGUF          = errors.New("not a GGUF language model")
	ErrTruncated        = errors.New("the file is truncated")
	ErrUnsupportedGGUF  = errors.New("unsupported GGUF version")
	ErrUnsupportedModel = errors.New("unsupported model architecture")
	ErrCorrupt          = errors.New("the file is corrupt")
)

// ggufMaxVersion is the newest GGUF version the compiled llama.cpp reads (gguf.h: GGUF_VERSION).
const ggufMaxVersion = 3

// Info describes a model file. CheckFile fills what the file's header says; Load adds what
// llama.cpp reports and the sizes of the context it created.
type Info struct {
	Path         string
	FileSize     int64
	GGUFVersion  int
	Architecture string // general.architecture, e.g. "llama", "qwen2"
	Name         string // general.name
	Parameters   uint64 // number of weights
	Quantization string // e.g. "Q4_0", "Q4_K_M", "F16"
	TrainContext int    // context length the model was trained with
	Layers       int
	Embedding    int
	VocabSize    int
	ChatTemplate string // tokenizer.chat_template as stored in the file; "" when there is none

	// Filled by Load.
	Description    string // llama.cpp's one-line description, e.g. "llama 7B Q4_0"
	TemplateFamily string // how chats are formatted: a template name ("chatml", "llama2", ...), or "plain"
	ContextSize    int    // tokens in the context Hark created
	BatchSize      int
	Threads        int
	WeightBytes    uint64 // size of the weights (memory-mapped)
	KVCacheBytes   uint64 // size of the KV cache for ContextSize tokens
}

// MemoryBytes estimates the memory a loaded model uses: weights plus KV cache (compute buffers,
// a few MB for small models, are not counted).
func (i Info) MemoryBytes() uint64 { return i.WeightBytes + i.KVCacheBytes }

// CheckFile reads the GGUF header of path — magic, version, metadata and tensor table — and
// checks that every tensor lies inside the file and that the architecture is one this build's
// llama.cpp can run, before any C code sees the file (llama.cpp reports most of these cases
// with a log line and a NULL, or not at all).
func CheckFile(path string) (Info, error) {
	info := Info{Path: path}
	f, err := os.Open(path)
	if err != nil {
		return info, fmt.Errorf("llm: language model: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return info, fmt.Errorf("llm: language model: %w", err)
	}
	if st.IsDir() {
		return info, fmt.Errorf("llm: %s is a folder, not a model file: %w", path, ErrNotGGUF)
	}
	info.FileSize = st.Size()
	if info.FileSize == 0 {
		return info, fmt.Errorf("llm: %s is empty (0 bytes): %w; download the model again", path, ErrTruncated)
	}
	r := &ggufReader{r: bufio.NewReaderSize(f, 1<<16), size: info.FileSize}
	if err := parseGGUF(r, &info); err != nil {
		return info, fmt.Errorf("llm: %s: %w", path, err)
	}
	return info, nil
}

// parseGGUF reads the header into info. Errors name the problem; the caller adds the path.
func parseGGUF(r *ggufReader, info *Info) error {
	magic := r.bytes(4)
	if r.err != nil {
		return fmt.Errorf("only %d bytes, too short for any model file: %w", info.FileSize, ErrTruncated)
	}
	switch string(magic) {
	case "GGUF":
	case "lmgg":
		return fmt.Errorf("%w: %s", ErrNotGGUF, describeGGML(r))
	case "tjgg", "fmgg", "algg":
		return fmt.Errorf("%w: it is in the old GGML/GGJT format that llama.cpp dropped in 2023; use a GGUF version of the model", ErrNotGGUF)
	default:
		return fmt.Errorf("%w: the file does not start with \"GGUF\" (it starts with %q)", ErrNotGGUF, printable(magic))
	}
	info.GGUFVersion = int(r.u32())
	switch {
	case r.err != nil:
		return r.truncated("the version")
	case info.GGUFVersion == 1:
		return fmt.Errorf("%w: GGUF version 1 is no longer read by llama.cpp; convert the model again", ErrUnsupportedGGUF)
	case info.GGUFVersion > ggufMaxVersion && info.GGUFVersion < 1<<16:
		return fmt.Errorf("%w: the file is GGUF version %d, newer than this build reads (%d); update Hark", ErrUnsupportedGGUF, info.GGUFVersion, ggufMaxVersion)
	case info.GGUFVersion != 2 && info.GGUFVersion != 3:
		return fmt.Errorf("%w: version field %#x is not a GGUF version (wrong byte order?)", ErrCorrupt, info.GGUFVersion)
	}
	nTensors, nKV := r.u64(), r.u64()
	if r.err != nil {
		return r.truncated("the header")
	}
	// Every key/value takes at least 12 bytes and every tensor info at least 24.
	if nKV > uint64(info.FileSize)/12 || nTensors > uint64(info.FileSize)/24 {
		return fmt.Errorf("%w: the header claims %d metadata entries and %d tensors, more than fit in %d bytes", ErrCorrupt, nKV, nTensors, info.FileSize)
	}
	kv := map[string]any{}
	for i := range nKV {
		key := r.str()
		typ := r.u32()
		if r.err != nil {
			return r.truncated(fmt.Sprintf("metadata entry %d", i))
		}
		v, err := r.value(typ, key)
		if err != nil {
			return err
		}
		kv[key] = v
	}
	str := func(k string) string { s, _ := kv[k].(string); return s }
	num := func(k string) int {
		if v, ok := kv[k].(uint64); ok && v < math.MaxInt32 {
			return int(v)
		}
		return 0
	}
	info.Architecture = str("general.architecture")
	info.Name = str("general.name")
	info.ChatTemplate = str("tokenizer.chat_template")
	arch := info.Architecture
	info.TrainContext = num(arch + ".context_length")
	info.Layers = num(arch + ".block_count")
	info.Embedding = num(arch + ".embedding_length")
	if n, ok := kv["tokenizer.ggml.tokens"].(arrayLen); ok {
		info.VocabSize = int(n)
	}
	if info.Architecture == "" {
		return fmt.Errorf("%w: the file has no general.architecture, so it is not a model llama.cpp can load", ErrUnsupportedModel)
	}
	if err := checkArch(info.Architecture); err != nil {
		return err
	}
	align := uint64(32)
	if a, ok := kv["general.alignment"]; ok {
		v, _ := a.(uint64)
		if v == 0 || v&(v-1) != 0 || v > 1<<16 {
			return fmt.Errorf("%w: general.alignment is %v, not a power of two", ErrCorrupt, a)
		}
		align = v
	}

	type tensorInfo struct {
		name        string
		typ         int
		elems, size uint64
		offset      uint64
	}
	tensors := make([]tensorInfo, 0, nTensors)
	byteOfType := map[int]uint64{}
	for i := range nTensors {
		t := tensorInfo{name: r.str()}
		nDims := r.u32()
		if r.err != nil {
			return r.truncated(fmt.Sprintf("the description of tensor %d", i))
		}
		if nDims == 0 || nDims > 4 {
			return fmt.Errorf("%w: tensor %q has %d dimensions", ErrCorrupt, t.name, nDims)
		}
		t.elems = 1
		var first uint64
		for d := range nDims {
			n := r.u64()
			if d == 0 {
				first = n
			}
			if n == 0 || n > 1<<40 || t.elems > math.MaxUint64/n {
				return fmt.Errorf("%w: tensor %q has a bad dimension %d", ErrCorrupt, t.name, n)
			}
			t.elems *= n
		}
		t.typ = int(r.u32())
		t.offset = r.u64()
		if r.err != nil {
			return r.truncated(fmt.Sprintf("the description of tensor %q", t.name))
		}
		tt, ok := ggml.TypeOf(uint32(t.typ))
		if !ok {
			return fmt.Errorf("%w: tensor %q has tensor type %d, which this build of llama.cpp does not know", ErrUnsupportedModel, t.name, t.typ)
		}
		if first%uint64(tt.Block) != 0 {
			return fmt.Errorf("%w: tensor %q has %d columns, not a multiple of the %s block size %d", ErrCorrupt, t.name, first, tt.Name, tt.Block)
		}
		t.size = t.elems / uint64(tt.Block) * uint64(tt.Size)
		if t.offset%align != 0 {
			return fmt.Errorf("%w: tensor %q starts at offset %d, not aligned to %d", ErrCorrupt, t.name, t.offset, align)
		}
		tensors = append(tensors, t)
		info.Parameters += t.elems
		byteOfType[t.typ] += t.size
	}
	dataStart := (uint64(r.pos) + align - 1) / align * align
	for _, t := range tensors {
		end := dataStart + t.offset + t.size
		if end < dataStart || end > uint64(info.FileSize) {
			return fmt.Errorf("%w: tensor %q ends at byte %d but the file has only %d bytes; download the model again", ErrTruncated, t.name, end, info.FileSize)
		}
	}
	if len(tensors) == 0 {
		return fmt.Errorf("%w: the file has metadata but no weights (a vocabulary-only file?)", ErrUnsupportedModel)
	}
	info.Quantization = quantName(kv["general.file_type"], byteOfType)
	return nil
}

// describeGGML explains a file with the "lmgg" magic: a whisper.cpp model or an old llama file.
func describeGGML(r *ggufReader) string {
	head := r.bytes(16)
	if len(head) >= 8 && int(binary.LittleEndian.Uint32(head[0:])) >= 51864 && int(binary.LittleEndian.Uint32(head[0:])) <= 51866 && binary.LittleEndian.Uint32(head[4:]) == 1500 {
		return "it is a whisper.cpp speech-recognition model (ggml .bin); use it as the speech model, and a GGUF file as the language model"
	}
	if len(head) >= 14 && strings.HasPrefix(string(head[4:]), "silero") {
		return "it is a Silero voice-activity model for whisper.cpp; use it as the VAD model, and a GGUF file as the language model"
	}
	return "it is an old-format GGML file (whisper.cpp models use this format), not GGUF"
}

func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 32 || r > 126 {
			return '.'
		}
		return r
	}, string(b))
}

// arrayLen stands for a metadata array: only its length is kept.
type arrayLen uint64

type ggufReader struct {
	r    *bufio.Reader
	size int64
	pos  int64
	err  error
}

func (g *ggufReader) bytes(n int) []byte {
	if g.err != nil {
		return nil
	}
	if int64(n) > g.size-g.pos {
		g.err = io.ErrUnexpectedEOF
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(g.r, b); err != nil {
		g.err = err
		return nil
	}
	g.pos += int64(n)
	return b
}

func (g *ggufReader) skip(n uint64) {
	if g.err != nil {
		return
	}
	if n > uint64(g.size-g.pos) {
		g.err = io.ErrUnexpectedEOF
		return
	}
	if _, err := g.r.Discard(int(n)); err != nil {
		g.err = err
		return
	}
	g.pos += int64(n)
}

func (g *ggufReader) u32() uint32 {
	b := g.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (g *ggufReader) u64() uint64 {
	b := g.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (g *ggufReader) str() string {
	n := g.u64()
	if g.err != nil {
		return ""
	}
	if n > uint64(g.size-g.pos) {
		g.err = io.ErrUnexpectedEOF
		return ""
	}
	return string(g.bytes(int(n)))
}

func (g *ggufReader) truncated(what string) error {
	if errors.Is(g.err, io.ErrUnexpectedEOF) || errors.Is(g.err, io.EOF) {
		return fmt.Errorf("%w: the file ends inside %s (after %d bytes); download the model again", ErrTruncated, what, g.pos)
	}
	return fmt.Errorf("reading %s: %w", what, g.err)
}

// GGUF metadata value types (gguf.h).
var ggufScalarSize = map[uint32]uint64{0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

const (
	ggufString = 8
	ggufArray  = 9
)

// value reads a value of type typ. Integers come back as uint64 (negative ones as 0 when they
// do not matter here), strings as string, arrays as arrayLen.
func (g *ggufReader) value(typ uint32, key string) (any, error) {
	switch {
	case typ == ggufString:
		s := g.str()
		if g.err != nil {
			return nil, g.truncated(fmt.Sprintf("the value of %q", key))
		}
		return s, nil
	case typ == ggufArray:
		et, n := g.u32(), g.u64()
		if g.err != nil {
			return nil, g.truncated(fmt.Sprintf("the value of %q", key))
		}
		if et == ggufString {
			for i := uint64(0); i < n && g.err == nil; i++ {
				g.skip(g.u64())
			}
		} else if sz, ok := ggufScalarSize[et]; ok {
			if n > uint64(g.size)/sz {
				return nil, fmt.Errorf("%w: metadata %q claims %d elements, more than the file holds", ErrTruncated, key, n)
			}
			g.skip(n * sz)
		} else {
			return nil, fmt.Errorf("%w: metadata %q is an array of unknown type %d", ErrCorrupt, key, et)
		}
		if g.err != nil {
			return nil, g.truncated(fmt.Sprintf("the value of %q", key))
		}
		return arrayLen(n), nil
	}
	sz, ok := ggufScalarSize[typ]
	if !ok {
		return nil, fmt.Errorf("%w: metadata %q has unknown type %d", ErrCorrupt, key, typ)
	}
	b := g.bytes(int(sz))
	if g.err != nil {
		return nil, g.truncated(fmt.Sprintf("the value of %q", key))
	}
	switch typ {
	case 0, 7:
		return uint64(b[0]), nil
	case 1:
		return uint64(max(0, int8(b[0]))), nil
	case 2:
		return uint64(binary.LittleEndian.Uint16(b)), nil
	case 3:
		return uint64(max(0, int16(binary.LittleEndian.Uint16(b)))), nil
	case 4:
		return uint64(binary.LittleEndian.Uint32(b)), nil
	case 5:
		return uint64(max(0, int32(binary.LittleEndian.Uint32(b)))), nil
	case 6:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), nil
	case 10:
		return binary.LittleEndian.Uint64(b), nil
	case 11:
		return uint64(max(0, int64(binary.LittleEndian.Uint64(b)))), nil
	default: // 12
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	}
}

// quantName names the quantization: general.file_type when present, otherwise the tensor type
// holding the most bytes.
func quantName(ft any, bytesOfType map[int]uint64) string {
	if v, ok := ft.(uint64); ok && v <= math.MaxUint32 {
		if n := ggml.FileTypeName(uint32(v)); n != "" {
			return n
		}
	}
	best, bestBytes := -1, uint64(0)
	types := make([]int, 0, len(bytesOfType))
	for t := range bytesOfType {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		if bytesOfType[t] > bestBytes {
			best, bestBytes = t, bytesOfType[t]
		}
	}
	if best < 0 {
		return "unknown"
	}
	tt, _ := ggml.TypeOf(uint32(best))
	return strings.ToUpper(tt.Name)
}
