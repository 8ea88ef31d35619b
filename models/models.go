// Package models describes the speech and language models Hark can use: the curated manifest
// (manifest.toml, device classes with a default pair each), the store in the user's data
// directory (~/.local/share/hark/models), downloading with resume and checksum verification
// (Pull: the only code in Hark that opens a network connection, and only when asked), and the
// header checks that run before an engine opens a file (Check). The weights themselves live in
// the user's data directory, never in this repository.
//
// The package is pure Go. The engines' own file checks (asr.CheckFile, llm.CheckFile) are
// injected by main through Checkers.
//
// # Concurrency
//
// Manifest, Store and Info values may be used from any goroutine. Store.Pull may run
// concurrently for different models; two pulls of the same model into one store must not
// overlap (they would share the partial file). Progress callbacks run on the pulling goroutine.
package models

import "fmt"

// Kind is what a model does in Hark.
type Kind string

// The kinds of model Hark uses.
const (
	ASR Kind = "asr" // speech recognition (whisper.cpp)
	LLM Kind = "llm" // language model (llama.cpp, GGUF)
	VAD Kind = "vad" // voice activity detection (whisper.cpp's Silero)
	// Embed is an embedding model (llama.cpp, GGUF) for ranking the knowledge store's
	// passages (knowledge.embedding_model). It is optional: no device class names one, so it
	// is not among Kinds.
	Embed Kind = "embed"
)

// Kinds lists the kinds in the order Hark shows them.
func Kinds() []Kind { return []Kind{ASR, LLM, VAD} }

// ParseKind accepts "asr", "llm", "vad" or "embed".
func ParseKind(s string) (Kind, error) {
	for _, k := range append(Kinds(), Embed) {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown model kind %q: use asr, llm, vad or embed", s)
}

// Describe names the kind for people.
func (k Kind) Describe() string {
	switch k {
	case ASR:
		return "speech recognition model"
	case LLM:
		return "language model"
	case VAD:
		return "voice activity detector"
	case Embed:
		return "embedding model"
	}
	return "model of unknown kind"
}

// FileHint says which files hold this kind of model.
func (k Kind) FileHint() string {
	switch k {
	case ASR:
		return "whisper.cpp ggml-*.bin file"
	case LLM, Embed:
		return ".gguf file"
	case VAD:
		return "Silero VAD ggml-silero-*.bin file"
	}
	return "model file"
}
