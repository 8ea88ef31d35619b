package llm

// The embedding call: like llamacpp.go, this file talks to llama.cpp directly (a context made
// for embeddings, with pooling, is not the generation context llamacpp.go manages).

/*
#include <stdlib.h>
#include "llama_glue.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"unsafe"
)

// Pooling is how an embedding model's per-token vectors become one vector for the text.
type Pooling string

const (
	PoolingMean Pooling = "mean" // the average of the tokens' vectors (sentence-transformers)
	PoolingCLS  Pooling = "cls"  // the first token's (BERT's [CLS])
	PoolingLast Pooling = "last" // the last token's (decoder models such as Qwen3-Embedding)
)

// EmbedOptions configure an Embedder.
type EmbedOptions struct {
	Threads int // CPU threads; 0 means 2
	// Pooling overrides the model's own (the GGUF's <arch>.pooling_type); "" uses the
	// model's, and a model that names none (a plain language model) is mean-pooled.
	Pooling Pooling
	// MaxTokens is the longest text embedded, in tokens; a longer one is cut. 0 means 512,
	// or the model's training context when that is smaller.
	MaxTokens int
}

// Embedder turns text into a vector with a GGUF embedding model through llama.cpp: the
// knowledge store compares a question's vector with its passages'. Vectors are L2-normalised,
// so their dot product is their cosine. An Embedder embeds one text at a time; it may be
// used from any goroutine.
type Embedder struct {
	mu      sync.Mutex
	m       cModel
	c       *C.struct_llama_context
	batch   C.struct_llama_batch
	n       int // tokens at most
	dim     int
	pooling Pooling
	encoder bool // an encoder-only model (BERT): llama_encode, not llama_decode
}

// OpenEmbedder loads an embedding model.
func OpenEmbedder(path string, o EmbedOptions) (*Embedder, error) {
	initBackend()
	m, err := loadModel(path, nil)
	if err != nil {
		return nil, err
	}
	f := readModelFacts(m)
	e := &Embedder{m: m, dim: f.embd, pooling: o.Pooling, encoder: f.hasEncoder && !f.hasDecoder}
	if e.pooling == "" {
		e.pooling = modelPooling(m)
	}
	e.n = o.MaxTokens
	if e.n <= 0 {
		e.n = 512
		if f.trainCtx > 0 {
			e.n = min(e.n, f.trainCtx)
		}
	}
	threads := o.Threads
	if threads <= 0 {
		threads = 2
	}
	cp := C.llama_context_default_params()
	cp.n_ctx = C.uint32_t(e.n)
	cp.n_batch = C.uint32_t(e.n)
	cp.n_ubatch = C.uint32_t(e.n) // pooling needs the whole text in one micro-batch
	cp.n_seq_max = 1
	cp.n_threads = C.int32_t(threads)
	cp.n_threads_batch = C.int32_t(threads)
	cp.embeddings = true
	switch e.pooling {
	case PoolingMean:
		cp.pooling_type = C.LLAMA_POOLING_TYPE_MEAN
	case PoolingCLS:
		cp.pooling_type = C.LLAMA_POOLING_TYPE_CLS
	case PoolingLast:
		cp.pooling_type = C.LLAMA_POOLING_TYPE_LAST
	default:
		freeModel(m)
		return nil, fmt.Errorf("llm: %s: pooling %q is not one of mean, cls, last", path, e.pooling)
	}
	e.c = C.llama_init_from_model(m, cp)
	if e.c == nil {
		freeModel(m)
		return nil, fmt.Errorf("llm: llama.cpp could not make an embedding context for %s%s", path, logSuffix())
	}
	e.batch = C.llama_batch_init(C.int32_t(e.n), 0, 1)
	return e, nil
}

// modelPooling is the pooling the GGUF names (<arch>.pooling_type, llama.cpp's enum); mean
// when it names none or one Hark does not use.
func modelPooling(m cModel) Pooling {
	arch, _ := metaString(m, "general.architecture")
	s, ok := metaString(m, arch+".pooling_type")
	if !ok {
		return PoolingMean
	}
	switch n, _ := strconv.Atoi(s); n {
	case int(C.LLAMA_POOLING_TYPE_CLS):
		return PoolingCLS
	case int(C.LLAMA_POOLING_TYPE_LAST):
		return PoolingLast
	}
	return PoolingMean
}

// Dim is the length of the vectors.
func (e *Embedder) Dim() int { return e.dim }

// Pooling is the pooling in use.
func (e *Embedder) Pooling() Pooling { return e.pooling }

// ErrNothingToEmbed is returned for a text that makes no tokens.
var ErrNothingToEmbed = errors.New("llm: nothing to embed")

// Embed returns text's vector, of Dim floats with length 1. A text longer than MaxTokens is
// embedded from its start.
func (e *Embedder) Embed(ctx context.Context, text string) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c == nil {
		return nil, errors.New("llm: the embedder is closed")
	}
	toks, err := vocabOf(e.m).tokenize(text, true, false)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, ErrNothingToEmbed
	}
	toks = toks[:min(len(toks), e.n)]
	C.llama_memory_clear(C.llama_get_memory(e.c), true)
	for i, t := range toks {
		C.hark_batch_set(&e.batch, C.int32_t(i), C.llama_token(t), C.llama_pos(i), true)
	}
	e.batch.n_tokens = C.int32_t(len(toks))
	var rc C.int32_t
	if e.encoder {
		rc = C.llama_encode(e.c, e.batch)
	} else {
		rc = C.llama_decode(e.c, e.batch)
	}
	if rc != 0 {
		return nil, fmt.Errorf("llm: embedding failed (llama.cpp status %d)%s", int(rc), logSuffix())
	}
	p := C.llama_get_embeddings_seq(e.c, 0)
	if p == nil {
		return nil, fmt.Errorf("llm: llama.cpp returned no pooled embedding%s", logSuffix())
	}
	v := make([]float32, e.dim)
	copy(v, unsafe.Slice((*float32)(unsafe.Pointer(p)), e.dim))
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	if norm == 0 || math.IsNaN(norm) || math.IsInf(norm, 0) {
		return nil, errors.New("llm: the embedding model returned a zero or invalid vector")
	}
	inv := float32(1 / math.Sqrt(norm))
	for i := range v {
		v[i] *= inv
	}
	return v, nil
}

// Close frees the model and its context.
func (e *Embedder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c != nil {
		C.llama_batch_free(e.batch)
		C.llama_free(e.c)
		freeModel(e.m)
		e.c = nil
	}
	return nil
}
