// Package llm answers with a local GGUF language model on llama.cpp, in-process.
//
// llama.cpp comes vendored in github.com/ollama/ollama/llama (v0.17.4), which compiles it with
// cgo. That package is an implementation detail: nothing outside llm sees its types, so it can
// be replaced (upstream removes it from v0.30.0 on) without touching the rest of Hark.
package llm

/*
// Defined in ollama's llama/build-info.cpp (a namespace-scope C++ variable, so its symbol is
// its plain name).
extern char const *LLAMA_COMMIT;
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/ollama/ollama/llama"
	"github.com/ollama/ollama/ml"

	_ "hark/internal/cpucheck" // stop with a clear message on a CPU this build cannot run on
)

// Version is the commit of the llama.cpp sources compiled in.
func Version() string { return C.GoString(C.LLAMA_COMMIT) }

var initOnce sync.Once

// Model is a loaded GGUF model with one context. Generation runs one request at a time.
type Model struct {
	mu      sync.Mutex
	model   *llama.Model
	ctx     *llama.Context
	threads int
	nCtx    int
}

// Load maps a GGUF model file and creates a context of nCtx tokens.
func Load(path string, nCtx, threads int) (*Model, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("llm: language model: %w", err)
	}
	initOnce.Do(llama.BackendInit)
	m, err := llama.LoadModelFromFile(path, llama.ModelParams{UseMmap: true})
	if err != nil {
		return nil, fmt.Errorf("llm: %s could not be loaded as a GGUF model: %w", path, err)
	}
	c, err := llama.NewContextWithModel(m, llama.NewContextParams(nCtx, 512, 1, threads, ml.FlashAttentionDisabled, ""))
	if err != nil {
		llama.FreeModel(m)
		return nil, fmt.Errorf("llm: %w", err)
	}
	return &Model{model: m, ctx: c, threads: threads, nCtx: nCtx}, nil
}

// Generate continues prompt greedily for at most maxTokens tokens, handing each piece to emit.
func (m *Model) Generate(ctx context.Context, prompt string, maxTokens int, emit func(string) error) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.model == nil {
		return "", errors.New("llm: model is closed")
	}
	toks, err := m.model.Tokenize(prompt, true, true)
	if err != nil {
		return "", fmt.Errorf("llm: %w", err)
	}
	if len(toks)+maxTokens > m.nCtx {
		return "", fmt.Errorf("llm: prompt of %d tokens and %d more do not fit the %d-token context", len(toks), maxTokens, m.nCtx)
	}
	m.ctx.KvCacheClear()
	batch, err := llama.NewBatch(512, 1, 0)
	if err != nil {
		return "", fmt.Errorf("llm: %w", err)
	}
	defer batch.Free()
	for i, t := range toks {
		batch.Add(t, nil, i, i == len(toks)-1, 0)
	}
	if err := m.ctx.Decode(batch); err != nil {
		return "", fmt.Errorf("llm: evaluating the prompt: %w", err)
	}
	smp, err := llama.NewSamplingContext(m.model, llama.SamplingParams{Temp: 0, TopK: 1, Seed: 1})
	if err != nil {
		return "", fmt.Errorf("llm: %w", err)
	}
	var out strings.Builder
	idx, pos := batch.NumTokens()-1, len(toks)
	for range maxTokens {
		if err := ctx.Err(); err != nil {
			return out.String(), err
		}
		id := smp.Sample(m.ctx, idx)
		smp.Accept(id, true)
		if m.model.TokenIsEog(id) {
			break
		}
		piece := m.model.TokenToPiece(id)
		out.WriteString(piece)
		if emit != nil {
			if err := emit(piece); err != nil {
				return out.String(), err
			}
		}
		batch.Clear()
		batch.Add(id, nil, pos, true, 0)
		pos++
		if err := m.ctx.Decode(batch); err != nil {
			return out.String(), fmt.Errorf("llm: %w", err)
		}
		idx = 0
	}
	return out.String(), nil
}

// Close frees the context and the model. It is safe to call more than once.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.model != nil {
		llama.FreeModel(m.model)
		m.model, m.ctx = nil, nil
	}
	return nil
}
