package llm

import (
	"fmt"
	"slices"
)

// llamaArchs are the architecture names of the compiled llama.cpp: LLM_ARCH_NAMES in
// llama/llama.cpp/src/llama-arch.cpp of github.com/ollama/ollama v0.17.4, without the "clip"
// placeholder. TestArchListMatchesLlamaCpp re-reads that file from the module cache, so a
// dependency bump that changes the list fails the tests until this copy is updated.
var llamaArchs = []string{
	"llama", "llama4", "deci", "falcon", "grok", "gpt2", "gptj", "gptneox", "mpt", "baichuan", "starcoder",
	"refact", "bert", "nomic-bert", "nomic-bert-moe", "neo-bert", "jina-bert-v2", "jina-bert-v3", "bloom",
	"stablelm", "qwen", "qwen2", "qwen2moe", "qwen2vl", "qwen3", "qwen3moe", "qwen3next", "qwen3vl",
	"qwen3vlmoe", "phi2", "phi3", "phimoe", "plamo", "plamo2", "codeshell", "orion", "internlm2", "minicpm",
	"minicpm3", "gemma", "gemma2", "gemma3", "gemma3n", "gemma-embedding", "starcoder2", "mamba", "mamba2",
	"jamba", "falcon-h1", "xverse", "command-r", "cohere2", "dbrx", "olmo", "olmo2", "olmoe", "openelm", "arctic",
	"deepseek", "deepseek2", "chatglm", "glm4", "glm4moe", "bitnet", "t5", "t5encoder", "jais", "nemotron",
	"nemotron_h", "nemotron_h_moe", "exaone", "exaone4", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7", "granite",
	"granitemoe", "granitehybrid", "chameleon", "solar", "wavtokenizer-dec", "plm", "bailingmoe",
	"bailingmoe2", "dots1", "arcee", "afmoe", "ernie4_5", "ernie4_5-moe", "hunyuan-moe", "hunyuan-dense",
	"smollm3", "gpt-oss", "lfm2", "lfm2moe", "dream", "smallthinker", "llada", "llada-moe", "seed_oss",
	"grovemoe", "apertus", "minimax-m2", "cogvlm", "rnd1", "pangu-embedded", "mistral3",
}

// notChat are architectures llama.cpp loads but that cannot answer in a chat, with the reason.
var notChat = map[string]string{
	"bert":             "an embedding model",
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
	if !slices.Contains(llamaArchs, arch) {
		return fmt.Errorf("%w: %q is not an architecture this build of llama.cpp knows (it may be newer than Hark's llama.cpp)", ErrUnsupportedModel, arch)
	}
	if why, ok := notChat[arch]; ok {
		return fmt.Errorf("%w: %q is %s, not a chat model", ErrUnsupportedModel, arch, why)
	}
	return nil
}
