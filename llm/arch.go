package llm

import (
	"fmt"
	"slices"
)

// notChat are architectures llama.cpp loads but that cannot answer in a chat, with the reason.
var notChat = map[string]string{
	"bert":             "an embedding model",
	"modern-bert":      "an embedding model",
	"eurobert":         "an embedding model",
	"nomic-bert":       "an embedding model",
	"nomic-bert-moe":   "an embedding model",
	"neo-bert":         "an embedding model",
	"jina-bert-v2":     "an embedding model",
	"jina-bert-v3":     "an embedding model",
	"gemma-embedding":  "an embedding model",
	"t5encoder":        "an encoder-only model",
	"t5":               "an encoder-decoder model, which Hark's generation loop does not drive",
	"wavtokenizer-dec": "an audio decoder for text-to-speech",
	"dream":            "a diffusion language model, which needs a different generation loop",
	"llada":            "a diffusion language model, which needs a different generation loop",
	"llada-moe":        "a diffusion language model, which needs a different generation loop",
	"rnd1":             "a diffusion language model, which needs a different generation loop",
}

// checkArch accepts architectures this build can chat with.
func checkArch(arch string) error {
	if !slices.Contains(compiledArchs(), arch) {
		return fmt.Errorf("%w: %q is not an architecture this build of llama.cpp knows (it may be newer than Hark's llama.cpp)", ErrUnsupportedModel, arch)
	}
	if why, ok := notChat[arch]; ok {
		return fmt.Errorf("%w: %q is %s, not a chat model", ErrUnsupportedModel, arch, why)
	}
	return nil
}
