package models

import (
	"errors"
	"fmt"
	"os"

	"hark/internal/ggml"
)

// checkGGUF reads a GGUF file's header, metadata and tensor table and checks that the tensor
// data fits in the file.
func checkGGUF(f *os.File, info *Info) error {
	info.Format, info.Kind = FormatGGUF, LLM
	g, err := ggml.ReadGGUF(f, info.Size)
	info.Version = int(g.Version)
	switch v := g.Version; {
	case err == nil:
	case !errors.Is(err, ggml.ErrVersion):
		return fromGGML(err)
	case v == 1:
		return &formatError{ErrVersion, "is a GGUF version 1 file, a format from before October 2023 that llama.cpp no longer reads",
			"Download a current GGUF of the model"}
	case v >= 1<<16:
		return &formatError{ErrNotAModel, "is a big-endian GGUF file, made for another kind of processor",
			"Download the ordinary (little-endian) GGUF file"}
	default:
		return &formatError{ErrVersion, fmt.Sprintf("is GGUF version %d, newer than this version of Hark reads (2 and 3)", v),
			"Update Hark, or download a GGUF version 3 file"}
	}
	info.Architecture = g.String("general.architecture")
	info.Name = g.String("general.name")
	if ft, ok := g.Uint("general.file_type"); ok {
		info.FileType = ggml.FileTypeName(uint32(ft))
		if info.FileType == "" {
			info.FileType = fmt.Sprintf("file type %d", ft)
		}
	}
	_, info.ChatTemplate = g.Meta["tokenizer.chat_template"]
	info.ContextLength = g.Int(info.Architecture + ".context_length")
	info.Tensors = len(g.Tensors)
	_, adapter := g.Meta["adapter.type"]
	switch genType := g.String("general.type"); {
	case info.Architecture == "":
		return corrupt("is a GGUF file without general.architecture, so no engine can tell what model it is")
	case adapter || genType == "adapter":
		return &formatError{ErrWrongKind, "is a LoRA adapter, not a complete language model", "Use the base model's GGUF file"}
	case info.Architecture == "clip" || genType == "mmproj":
		return &formatError{ErrWrongKind, "is a vision projector (mmproj), not a language model", "Use the model's main GGUF file"}
	case len(g.Tensors) == 0:
		return &formatError{ErrCorrupt, "is a GGUF file with no tensors: it holds no weights (a vocabulary-only test file?)",
			"Use a complete model file"}
	}
	if want := g.End(); want > info.Size {
		return truncated(info.Size, want)
	}
	return nil
}

// fromGGML words a header reader's error for people.
func fromGGML(err error) error {
	var e *ggml.Error
	switch {
	case !errors.As(err, &e):
		return err
	case e.Err == ggml.ErrTruncated && e.Data:
		return &formatError{ErrTruncated, "is truncated: " + e.Error(), "The download or copy stopped early. " + fixRedownload}
	case e.Err == ggml.ErrTruncated:
		what := e.What
		if what == "the header" {
			what = "its header"
		}
		return &formatError{ErrTruncated, fmt.Sprintf("is truncated: it ends at byte %d, inside %s", e.Size, what),
			"The download or copy stopped early. " + fixRedownload}
	case e.Err == ggml.ErrType:
		return &formatError{ErrUnsupported, e.Error() + ", which this version's engines cannot load",
			"The file was made for a newer engine; update Hark or download another quantization (Q4_K_M works everywhere)"}
	}
	return corrupt("is damaged: %s", e.What)
}
