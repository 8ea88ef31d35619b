package llm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
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
	if err := parseGGUF(f, &info); err != nil {
		return info, fmt.Errorf("llm: %s: %w", path, err)
	}
	return info, nil
}

// parseGGUF reads the header into info. Errors name the problem; the caller adds the path.
func parseGGUF(f *os.File, info *Info) error {
	var magic [16]byte
	n, _ := io.ReadFull(f, magic[:])
	if n < 4 {
		return fmt.Errorf("only %d bytes, too short for any model file: %w", info.FileSize, ErrTruncated)
	}
	switch string(magic[:4]) {
	case "GGUF":
	case "lmgg":
		return fmt.Errorf("%w: %s", ErrNotGGUF, describeGGML(magic[:n]))
	case "tjgg", "fmgg", "algg":
		return fmt.Errorf("%w: it is in the old GGML/GGJT format that llama.cpp dropped in 2023; use a GGUF version of the model", ErrNotGGUF)
	default:
		return fmt.Errorf("%w: the file does not start with \"GGUF\" (it starts with %q)", ErrNotGGUF, printable(magic[:4]))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	g, err := ggml.ReadGGUF(f, info.FileSize)
	info.GGUFVersion = int(g.Version)
	var he *ggml.Error
	switch {
	case err == nil:
	case errors.Is(err, ggml.ErrVersion) && g.Version == 1:
		return fmt.Errorf("%w: GGUF version 1 is no longer read by llama.cpp; convert the model again", ErrUnsupportedGGUF)
	case errors.Is(err, ggml.ErrVersion) && g.Version > ggufMaxVersion && g.Version < 1<<16:
		return fmt.Errorf("%w: the file is GGUF version %d, newer than this build reads (%d); update Hark", ErrUnsupportedGGUF, g.Version, ggufMaxVersion)
	case errors.Is(err, ggml.ErrVersion):
		return fmt.Errorf("%w: version field %#x is not a GGUF version (wrong byte order?)", ErrCorrupt, g.Version)
	case errors.Is(err, ggml.ErrTruncated):
		return fmt.Errorf("%w: %v; download the model again", ErrTruncated, err)
	case errors.Is(err, ggml.ErrType):
		return fmt.Errorf("%w: %v, which this build of llama.cpp does not know", ErrUnsupportedModel, err)
	case errors.As(err, &he):
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	default:
		return err
	}
	info.Architecture = g.String("general.architecture")
	info.Name = g.String("general.name")
	info.ChatTemplate = g.String("tokenizer.chat_template")
	arch := info.Architecture
	info.TrainContext = g.Int(arch + ".context_length")
	info.Layers = g.Int(arch + ".block_count")
	info.Embedding = g.Int(arch + ".embedding_length")
	if a, ok := g.Meta["tokenizer.ggml.tokens"].(ggml.Array); ok {
		info.VocabSize = int(a.Len)
	}
	if info.Architecture == "" {
		return fmt.Errorf("%w: the file has no general.architecture, so it is not a model llama.cpp can load", ErrUnsupportedModel)
	}
	if err := checkArch(info.Architecture); err != nil {
		return err
	}
	if t, end, over := g.Overrun(info.FileSize); over {
		return fmt.Errorf("%w: tensor %q ends at byte %d but the file has only %d bytes; download the model again", ErrTruncated, t.Name, end, info.FileSize)
	}
	if len(g.Tensors) == 0 {
		return fmt.Errorf("%w: the file has metadata but no weights (a vocabulary-only file?)", ErrUnsupportedModel)
	}
	bytesOfType := map[uint32]int64{}
	for _, t := range g.Tensors {
		elems := uint64(1)
		for _, d := range t.Dims {
			elems *= uint64(d)
		}
		info.Parameters += elems
		bytesOfType[t.Type] += t.Bytes
	}
	ft, hasFT := g.Uint("general.file_type")
	info.Quantization = quantName(ft, hasFT, bytesOfType)
	return nil
}

// describeGGML explains a file with the "lmgg" magic: a whisper.cpp model or an old llama file.
func describeGGML(head []byte) string {
	if len(head) >= 12 && int(binary.LittleEndian.Uint32(head[4:])) >= 51864 && int(binary.LittleEndian.Uint32(head[4:])) <= 51866 && binary.LittleEndian.Uint32(head[8:]) == 1500 {
		return "it is a whisper.cpp speech-recognition model (ggml .bin); use it as the speech model, and a GGUF file as the language model"
	}
	if ggml.IsSilero(head) {
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

// quantName names the quantization: general.file_type when present, otherwise the tensor type
// holding the most bytes.
func quantName(ft uint64, hasFT bool, bytesOfType map[uint32]int64) string {
	if hasFT && ft <= math.MaxUint32 {
		if n := ggml.FileTypeName(uint32(ft)); n != "" {
			return n
		}
	}
	types := slices.Sorted(maps.Keys(bytesOfType))
	best, bestBytes := uint32(0), int64(-1)
	for _, t := range types {
		if bytesOfType[t] > bestBytes {
			best, bestBytes = t, bytesOfType[t]
		}
	}
	if bestBytes < 0 {
		return "unknown"
	}
	tt, _ := ggml.TypeOf(best)
	return strings.ToUpper(tt.Name)
}
