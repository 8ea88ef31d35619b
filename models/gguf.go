package models

import (
	"fmt"
	"strings"

	"hark/internal/ggml"
)

// GGUF value types (gguf.h).
const (
	ggufUint8 = iota
	ggufInt8
	ggufUint16
	ggufInt16
	ggufUint32
	ggufInt32
	ggufFloat32
	ggufBool
	ggufString
	ggufArray
	ggufUint64
	ggufInt64
	ggufFloat64
)

var ggufScalarSize = map[uint32]int64{
	ggufUint8: 1, ggufInt8: 1, ggufUint16: 2, ggufInt16: 2, ggufUint32: 4, ggufInt32: 4,
	ggufFloat32: 4, ggufBool: 1, ggufUint64: 8, ggufInt64: 8, ggufFloat64: 8,
}

// Limits well above any real model, so a damaged header is reported instead of making the
// checker loop or allocate for ever.
const (
	maxGGUFTensors = 1 << 20
	maxGGUFKV      = 1 << 16
	maxKeyLen      = 1 << 16
	maxDims        = 4 // GGML_MAX_DIMS
	maxTensorName  = 64
)

// checkGGUF reads a GGUF file's header, metadata and tensor table and checks that the tensor
// data fits in the file.
func checkGGUF(r *reader, info *Info) error {
	info.Format, info.Kind = FormatGGUF, LLM
	if _, err := r.read(4); err != nil { // "GGUF"
		return err
	}
	version, err := r.u32()
	if err != nil {
		return err
	}
	info.Version = int(version)
	switch {
	case version == 1:
		return &formatError{ErrVersion, "is a GGUF version 1 file, a format from before October 2023 that llama.cpp no longer reads",
			"Download a current GGUF of the model"}
	case version >= 1<<16:
		return &formatError{ErrNotAModel, "is a big-endian GGUF file, made for another kind of processor",
			"Download the ordinary (little-endian) GGUF file"}
	case version != 2 && version != 3:
		return &formatError{ErrVersion, fmt.Sprintf("is GGUF version %d, newer than this version of Hark reads (2 and 3)", version),
			"Update Hark, or download a GGUF version 3 file"}
	}
	nTensors, err := r.u64()
	if err != nil {
		return err
	}
	nKV, err := r.u64()
	if err != nil {
		return err
	}
	if nTensors > maxGGUFTensors || nKV > maxGGUFKV {
		return corrupt("has an impossible GGUF header (%d tensors, %d metadata entries)", nTensors, nKV)
	}

	alignment := int64(32)
	var fileType uint32
	hasFileType := false
	var genType string
	ctxLen := map[string]uint64{}
	for i := uint64(0); i < nKV; i++ {
		key, err := readGGUFString(r, maxKeyLen)
		if err != nil {
			return err
		}
		typ, err := r.u32()
		if err != nil {
			return err
		}
		v, err := ggufValue(r, typ, key, 0)
		if err != nil {
			return err
		}
		switch {
		case key == "general.architecture":
			info.Architecture, _ = v.(string)
		case key == "general.name":
			info.Name, _ = v.(string)
		case key == "general.type":
			genType, _ = v.(string)
		case key == "adapter.type":
			genType = "adapter"
		case key == "general.file_type":
			if n, ok := asUint(v); ok {
				fileType, hasFileType = uint32(n), true
			}
		case key == "general.alignment":
			n, ok := asUint(v)
			if !ok || n == 0 || n&(n-1) != 0 || n > 1<<20 {
				return corrupt("has an invalid general.alignment %v", v)
			}
			alignment = int64(n)
		case key == "tokenizer.chat_template":
			info.ChatTemplate = true
		case strings.HasSuffix(key, ".context_length"):
			if n, ok := asUint(v); ok {
				ctxLen[strings.TrimSuffix(key, ".context_length")] = n
			}
		}
	}
	if hasFileType {
		info.FileType = ggml.FileTypeName(fileType)
		if info.FileType == "" {
			info.FileType = fmt.Sprintf("file type %d", fileType)
		}
	}
	info.ContextLength = int(ctxLen[info.Architecture])

	switch {
	case info.Architecture == "":
		return corrupt("is a GGUF file without general.architecture, so no engine can tell what model it is")
	case genType == "adapter":
		return &formatError{ErrWrongKind, "is a LoRA adapter, not a complete language model", "Use the base model's GGUF file"}
	case info.Architecture == "clip" || genType == "mmproj":
		return &formatError{ErrWrongKind, "is a vision projector (mmproj), not a language model", "Use the model's main GGUF file"}
	}

	var dataEnd int64
	for i := uint64(0); i < nTensors; i++ {
		name, err := readGGUFString(r, maxTensorName)
		if err != nil {
			return err
		}
		nDims, err := r.u32()
		if err != nil {
			return err
		}
		if nDims > maxDims {
			return corrupt("tensor %q has %d dimensions (at most %d)", name, nDims, maxDims)
		}
		ne := make([]int64, nDims)
		for d := range ne {
			v, err := r.u64()
			if err != nil {
				return err
			}
			if v > 1<<40 {
				return corrupt("tensor %q has an impossible dimension %d", name, v)
			}
			ne[d] = int64(v)
		}
		typ, err := r.u32()
		if err != nil {
			return err
		}
		off, err := r.u64()
		if err != nil {
			return err
		}
		n, err := tensorBytes(typ, ne)
		if err != nil {
			if _, known := ggml.TypeOf(typ); !known {
				return &formatError{ErrUnsupported, fmt.Sprintf("tensor %q uses %v", name, err),
					"The file was made for a newer llama.cpp; update Hark or download another quantization (Q4_K_M works everywhere)"}
			}
			return corrupt("tensor %q: %v", name, err)
		}
		if int64(off)%alignment != 0 || off > 1<<50 {
			return corrupt("tensor %q has a misaligned data offset %d", name, off)
		}
		dataEnd = max(dataEnd, int64(off)+n)
	}
	info.Tensors = int(nTensors)
	if nTensors == 0 {
		return &formatError{ErrCorrupt, "is a GGUF file with no tensors: it holds no weights (a vocabulary-only test file?)",
			"Use a complete model file"}
	}
	dataStart := (r.off + alignment - 1) / alignment * alignment
	if want := dataStart + dataEnd; want > r.size {
		return truncated(r.size, want)
	}
	return nil
}

// readGGUFString reads a GGUF string (uint64 length, bytes), refusing lengths over limit.
func readGGUFString(r *reader, limit int64) (string, error) {
	n, err := r.u64()
	if err != nil {
		return "", err
	}
	if n > uint64(limit) {
		if n > uint64(r.size) {
			return "", corrupt("has a string of %d bytes at byte %d, longer than the file", n, r.off)
		}
		return "", corrupt("has a %d-byte name at byte %d (at most %d)", n, r.off, limit)
	}
	b, err := r.bytes(int64(n))
	return string(b), err
}

// ggufValue reads one metadata value. Scalars and strings up to 64 KiB are returned; arrays
// and long strings are skipped (nil).
func ggufValue(r *reader, typ uint32, key string, depth int) (any, error) {
	if size, ok := ggufScalarSize[typ]; ok {
		b, err := r.read(int(size))
		if err != nil {
			return nil, err
		}
		var v uint64
		for i := int(size) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		switch typ {
		case ggufUint8, ggufUint16, ggufUint32, ggufUint64:
			return v, nil
		case ggufBool:
			return v != 0, nil
		}
		return nil, nil // signed and float values are not needed
	}
	switch typ {
	case ggufString:
		n, err := r.u64()
		if err != nil {
			return nil, err
		}
		if n > 1<<16 {
			return nil, r.skip(int64(min(n, 1<<62)))
		}
		b, err := r.bytes(int64(n))
		return string(b), err
	case ggufArray:
		if depth > 0 {
			return nil, corrupt("metadata %q nests arrays, which llama.cpp does not read", key)
		}
		et, err := r.u32()
		if err != nil {
			return nil, err
		}
		count, err := r.u64()
		if err != nil {
			return nil, err
		}
		if count > uint64(r.size) {
			return nil, corrupt("metadata %q claims %d entries, more than the file has bytes", key, count)
		}
		if size, ok := ggufScalarSize[et]; ok {
			return nil, r.skip(int64(count) * size)
		}
		for range count {
			if _, err := ggufValue(r, et, key, depth+1); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	return nil, corrupt("metadata %q has unknown value type %d", key, typ)
}

func asUint(v any) (uint64, bool) {
	n, ok := v.(uint64)
	return n, ok
}
