package llm

// This file and embed.go (the embedding call) are package llm's Go files that talk to C. They
// bind llama.cpp, built from the sources in the npm package node-llama-cpp by scripts/native.sh
// (static libraries, headers on CGO_CPPFLAGS, libraries on CGO_LDFLAGS; see the Makefile's env
// target). ggml's libraries are installed as libllama-ggml*.a: whisper.cpp's (renamed wsp_ggml)
// are libggml*.a.
//
// The C helpers (abort flag, logger, sampling with a grammar, model loading, JSON schemas) live
// in llama_glue.c and llama_glue.cpp; none of them lets a C++ exception out.

/*
#cgo CXXFLAGS: -std=c++17
#cgo LDFLAGS: -lllama-common -lllama-common-base -lcpp-httplib -lllama -lllama-ggml -lllama-ggml-cpu -lllama-ggml-base -lgomp -lstdc++ -lm -lpthread
#include <stdlib.h>
#include "llama_glue.h"
#include "ggml-cpu.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/cgo"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"hark/internal/enginelog"
)

// token is a llama.cpp token id.
type token = int32

// Version names the llama.cpp compiled in: its release and where its sources came from.
func Version() string {
	return C.GoString(C.hark_llama_release()) + " (" + C.GoString(C.hark_llama_source()) + ")"
}

// BuildOptions are the options llama.cpp was compiled with (threading, weight repacking, ISA).
func BuildOptions() string { return C.GoString(C.hark_llama_options()) }

var backendOnce sync.Once

// initBackend initialises llama.cpp once per process.
func initBackend() {
	backendOnce.Do(func() {
		C.hark_log_install()
		C.llama_backend_init()
	})
}

func init() {
	C.hark_log_install()
}

// engineLog is llama.cpp's log on its way to Hark's (see SetLogger).
var engineLog = enginelog.Sink{Engine: "llama.cpp"}

// SetLogger routes llama.cpp's own log (model loading, warnings, errors) to l, every line at
// debug level, so that it shows only where l's handler lets debug records through. nil (the
// default) drops it. llama.cpp's logger is process-wide.
func SetLogger(l *slog.Logger) {
	v := C.int(0)
	if engineLog.Set(l) {
		v = 1
	}
	C.hark_log_set_forward(v)
}

// harkLlamaLog receives a piece of a log line from llama_glue.c.
//
//export harkLlamaLog
func harkLlamaLog(level C.int, text *C.char) {
	engineLog.Write(C.GoString(text))
}

// takeLog returns (and forgets) llama.cpp's recent warnings and errors, trimmed, one line each.
func takeLog() string {
	buf := make([]byte, C.HARK_LOG_KEEP)
	n := C.hark_log_take((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	return strings.TrimSpace(string(buf[:n]))
}

// ---- model ----

type cModel = *C.struct_llama_model

// loadModel maps a GGUF file; progress (may be nil) gets the fraction loaded.
func loadModel(path string, progress func(float64)) (cModel, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var h cgo.Handle
	if progress != nil {
		h = cgo.NewHandle(progress)
		defer h.Delete()
	}
	m := C.hark_model_load(cpath, C.uintptr_t(h))
	if m == nil {
		return nil, fmt.Errorf("llm: llama.cpp could not load %s%s", path, logSuffix())
	}
	return m, nil
}

//export harkLoadProgress
func harkLoadProgress(h C.uintptr_t, p C.float) C.bool {
	cgo.Handle(h).Value().(func(float64))(float64(p))
	return true
}

func freeModel(m cModel) { C.llama_model_free(m) }

// modelFacts are the things llama.cpp knows about a loaded model.
type modelFacts struct {
	desc                   string
	size, params           uint64
	trainCtx, embd, layers int
	heads, headsKV         int
	template               string // tokenizer.chat_template, "" if none
	hasEncoder, hasDecoder bool
}

func readModelFacts(m cModel) modelFacts {
	buf := make([]byte, 256)
	n := C.llama_model_desc(m, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	f := modelFacts{
		size:       uint64(C.llama_model_size(m)),
		params:     uint64(C.llama_model_n_params(m)),
		trainCtx:   int(C.llama_model_n_ctx_train(m)),
		embd:       int(C.llama_model_n_embd(m)),
		layers:     int(C.llama_model_n_layer(m)),
		heads:      int(C.llama_model_n_head(m)),
		headsKV:    int(C.llama_model_n_head_kv(m)),
		hasEncoder: bool(C.llama_model_has_encoder(m)),
		hasDecoder: bool(C.llama_model_has_decoder(m)),
	}
	if n > 0 {
		f.desc = string(buf[:min(int(n), len(buf)-1)])
	}
	if t := C.llama_model_chat_template(m, nil); t != nil {
		f.template = C.GoString(t)
	}
	return f
}

// metaString reads a scalar metadata value of a loaded model as text.
func metaString(m cModel, key string) (string, bool) {
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	buf := make([]byte, 512)
	n := C.llama_model_meta_val_str(m, ck, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	if n < 0 {
		return "", false
	}
	return string(buf[:min(int(n), len(buf)-1)]), true
}

// builtinTemplates lists the chat template names llama_chat_apply_template knows.
func builtinTemplates() []string {
	n := C.llama_chat_builtin_templates(nil, 0)
	if n <= 0 {
		return nil
	}
	ptrs := make([]*C.char, int(n))
	C.llama_chat_builtin_templates((**C.char)(unsafe.Pointer(&ptrs[0])), C.size_t(n))
	names := make([]string, len(ptrs))
	for i, p := range ptrs {
		names[i] = C.GoString(p)
	}
	return names
}

// ---- vocabulary ----

type vocab struct{ c *C.struct_llama_vocab }

func vocabOf(m cModel) vocab { return vocab{C.llama_model_get_vocab(m)} }

func (v vocab) size() int              { return int(C.llama_vocab_n_tokens(v.c)) }
func (v vocab) isEOG(t token) bool     { return bool(C.llama_vocab_is_eog(v.c, C.llama_token(t))) }
func (v vocab) isControl(t token) bool { return bool(C.llama_vocab_is_control(v.c, C.llama_token(t))) }

// parsedSpecial: the tokenizer matches t's text as a whole token when parsing special tokens
// (control, user-defined and unknown tokens; llama-vocab.cpp's cache_special_tokens).
func (v vocab) parsedSpecial(t token) bool {
	const control, userDefined, unknown = 1 << 3, 1 << 4, 1 << 0
	return v.valid(t) && C.llama_vocab_get_attr(v.c, C.llama_token(t))&(control|userDefined|unknown) != 0
}
func (v vocab) addsBOS() bool       { return bool(C.llama_vocab_get_add_bos(v.c)) }
func (v vocab) bos() token          { return token(C.llama_vocab_bos(v.c)) }
func (v vocab) text(t token) string { return C.GoString(C.llama_vocab_get_text(v.c, C.llama_token(t))) }
func (v vocab) valid(t token) bool  { return t >= 0 && int(t) < v.size() }

func (v vocab) filter(keep func(token) bool) (ids []token) {
	for t := range token(v.size()) {
		if keep(t) {
			ids = append(ids, t)
		}
	}
	return ids
}

// tokenize converts text to tokens. addSpecial adds BOS (and EOS) where the model wants them;
// parseSpecial turns the text of control tokens ("<|im_start|>") into those tokens.
func (v vocab) tokenize(text string, addSpecial, parseSpecial bool) ([]token, error) {
	if text == "" && !addSpecial {
		return nil, nil
	}
	ctext := C.CString(text)
	defer C.free(unsafe.Pointer(ctext))
	out := make([]token, len(text)+4)
	for range 2 {
		n := C.llama_tokenize(v.c, ctext, C.int32_t(len(text)), (*C.llama_token)(unsafe.Pointer(&out[0])), C.int32_t(len(out)), C.bool(addSpecial), C.bool(parseSpecial))
		switch {
		case n >= 0:
			return out[:n], nil
		case n == C.int32_t(-1<<31):
			return nil, errors.New("llm: text too long to tokenize")
		}
		out = make([]token, -int(n))
	}
	return nil, errors.New("llm: tokenizer kept changing its mind about the token count")
}

// piece appends the text of t to buf. Control tokens (template markup, BOS/EOS) give no text.
func (v vocab) piece(buf []byte, t token) []byte { return v.pieceOf(buf, t, false) }

// pieceSpecial appends the text of t to buf, the markup of control tokens included.
func (v vocab) pieceSpecial(buf []byte, t token) []byte { return v.pieceOf(buf, t, true) }

func (v vocab) pieceOf(buf []byte, t token, special bool) []byte {
	var tmp [64]byte
	n := C.llama_token_to_piece(v.c, C.llama_token(t), (*C.char)(unsafe.Pointer(&tmp[0])), C.int32_t(len(tmp)), 0, C.bool(special))
	if n >= 0 {
		return append(buf, tmp[:n]...)
	}
	big := make([]byte, -int(n))
	n = C.llama_token_to_piece(v.c, C.llama_token(t), (*C.char)(unsafe.Pointer(&big[0])), C.int32_t(len(big)), 0, C.bool(special))
	return append(buf, big[:max(0, int(n))]...)
}

// ---- chat templates ----

// applyTemplate formats msgs with a template understood by llama_chat_apply_template (a Jinja
// template from a GGUF file, recognised by its markers, or a built-in name such as "chatml").
// ok is false when llama.cpp does not recognise the template.
func applyTemplate(tmpl string, msgs []Message, addAssistant bool) (out string, ok bool) {
	ctmpl := C.CString(tmpl)
	defer C.free(unsafe.Pointer(ctmpl))
	n := max(len(msgs), 1)
	cmsgs := (*C.llama_chat_message)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(C.llama_chat_message{}))))
	defer C.free(unsafe.Pointer(cmsgs))
	view := unsafe.Slice(cmsgs, n)
	total := 0
	for i, m := range msgs {
		view[i].role = C.CString(m.Role)
		view[i].content = C.CString(m.Content)
		total += len(m.Role) + len(m.Content)
	}
	defer func() {
		for i := range msgs {
			C.free(unsafe.Pointer(view[i].role))
			C.free(unsafe.Pointer(view[i].content))
		}
	}()
	buf := make([]byte, 2*total+256)
	for range 2 {
		r := C.llama_chat_apply_template(ctmpl, cmsgs, C.size_t(len(msgs)), C.bool(addAssistant), (*C.char)(unsafe.Pointer(&buf[0])), C.int32_t(len(buf)))
		if r < 0 {
			return "", false
		}
		if int(r) <= len(buf) {
			return string(buf[:r]), true
		}
		buf = make([]byte, int(r)+1)
	}
	return "", false
}

// ---- context ----

// cContext owns one llama_context, its batch, its sampling buffer and its abort flag.
type cContext struct {
	c      *C.struct_llama_context
	mem    C.llama_memory_t
	batch  C.struct_llama_batch
	nBatch int
	cur    *C.llama_token_data // n_vocab entries for hark_sample
	nVocab int
	abort  *C.int32_t
	pools  []*C.struct_ggml_threadpool
}

type contextParams struct {
	nCtx, nBatch, threads, batchThreads int
	flash                               FlashAttention
}

func newContext(m cModel, p contextParams) (*cContext, error) {
	cp := C.llama_context_default_params()
	cp.n_ctx = C.uint32_t(p.nCtx)
	cp.n_batch = C.uint32_t(p.nBatch)
	cp.n_ubatch = C.uint32_t(p.nBatch)
	cp.n_seq_max = 1
	cp.n_threads = C.int32_t(p.threads)
	cp.n_threads_batch = C.int32_t(p.batchThreads)
	switch p.flash {
	case FlashAttentionOn:
		cp.flash_attn_type = C.LLAMA_FLASH_ATTN_TYPE_ENABLED
	case FlashAttentionOff:
		cp.flash_attn_type = C.LLAMA_FLASH_ATTN_TYPE_DISABLED
	default:
		cp.flash_attn_type = C.LLAMA_FLASH_ATTN_TYPE_AUTO
	}
	cp.embeddings = false
	cp.no_perf = false
	abort := (*C.int32_t)(C.calloc(2, C.size_t(unsafe.Sizeof(C.int32_t(0))))) // flag, polls
	cp.abort_callback = nil                                                   // installed below through the helper, which owns the C function pointer
	c := C.llama_init_from_model(m, cp)
	if c == nil {
		C.free(unsafe.Pointer(abort))
		return nil, fmt.Errorf("llm: llama.cpp could not create a context of %d tokens%s", p.nCtx, logSuffix())
	}
	C.hark_install_abort(c, abort)
	var pools []*C.struct_ggml_threadpool
	gen := C.hark_threadpool_new(C.int(p.threads))
	batch := gen
	if p.batchThreads != p.threads {
		batch = C.hark_threadpool_new(C.int(p.batchThreads))
	}
	for _, tp := range []*C.struct_ggml_threadpool{gen, batch} {
		if tp != nil && !slices.Contains(pools, tp) {
			pools = append(pools, tp)
		}
	}
	if gen != nil && batch != nil {
		C.llama_attach_threadpool(c, gen, batch)
	} // else ggml makes threads per decode: slower, still correct
	nv := int(C.llama_vocab_n_tokens(C.llama_model_get_vocab(m)))
	x := &cContext{
		c:      c,
		mem:    C.llama_get_memory(c),
		nBatch: int(C.llama_n_batch(c)),
		nVocab: nv,
		abort:  abort,
		pools:  pools,
		cur:    (*C.llama_token_data)(C.malloc(C.size_t(nv) * C.size_t(unsafe.Sizeof(C.llama_token_data{})))),
	}
	x.batch = C.llama_batch_init(C.int32_t(x.nBatch), 0, 1)
	return x, nil
}

func (x *cContext) free() {
	if x.c == nil {
		return
	}
	C.llama_batch_free(x.batch)
	C.llama_free(x.c)
	for _, p := range x.pools {
		C.ggml_threadpool_free(p)
	}
	C.free(unsafe.Pointer(x.cur))
	C.free(unsafe.Pointer(x.abort))
	x.c = nil
}

func (x *cContext) nCtx() int { return int(C.llama_n_ctx(x.c)) }

// setAbort raises or clears the flag ggml polls during a decode.
func (x *cContext) setAbort(on bool) {
	v := int32(0)
	if on {
		v = 1
	}
	atomic.StoreInt32((*int32)(unsafe.Pointer(x.abort)), v)
}

// abortPolls counts how often ggml has polled the abort flag (it does so while computing).
func (x *cContext) abortPolls() int32 {
	return atomic.LoadInt32((*int32)(unsafe.Add(unsafe.Pointer(x.abort), unsafe.Sizeof(int32(0)))))
}

// testHookDecode, when set (by tests), is called before each llama_decode with the number of
// tokens in the batch.
var testHookDecode func(x *cContext, n int)

// testHookCompute, when set (by tests), is called on the compute thread right before each
// llama_decode.
var testHookCompute func()

// decode evaluates toks at positions pos, pos+1, ...; logits are computed for the last token only.
// len(toks) must not exceed nBatch.
func (x *cContext) decode(toks []token, pos int) error {
	if testHookDecode != nil {
		testHookDecode(x, len(toks))
	}
	for i, t := range toks {
		C.hark_batch_set(&x.batch, C.int32_t(i), C.llama_token(t), C.llama_pos(pos+i), C.bool(i == len(toks)-1))
	}
	x.batch.n_tokens = C.int32_t(len(toks))
	var rc C.int32_t
	onComputeThread(func() {
		if testHookCompute != nil {
			testHookCompute()
		}
		rc = C.llama_decode(x.c, x.batch)
	})
	switch {
	case rc == 0:
		return nil
	case rc == 1:
		return errKVFull
	case rc == 2:
		return errAborted
	case rc == -1:
		return errors.New("llm: llama_decode rejected the batch (invalid input)")
	default:
		return fmt.Errorf("llm: llama_decode failed with code %d%s", int(rc), logSuffix())
	}
}

// Sentinel results of decode; Chat translates them.
var (
	errKVFull  = errors.New("llm: no room left in the KV cache")
	errAborted = errors.New("llm: evaluation aborted")
)

// posMax is the largest position held in the KV cache (-1 when empty).
func (x *cContext) posMax() int { return int(C.llama_memory_seq_pos_max(x.mem, 0)) }

// removeFrom drops positions >= p. It returns false when the memory cannot remove part of a
// sequence (recurrent models); the caller then clears everything.
func (x *cContext) removeFrom(p int) bool {
	return bool(C.llama_memory_seq_rm(x.mem, 0, C.llama_pos(p), -1))
}

// cut removes positions [p0, p1) and shifts everything after them down by p1-p0.
func (x *cContext) cut(p0, p1 int) bool {
	if !bool(C.llama_memory_seq_rm(x.mem, 0, C.llama_pos(p0), C.llama_pos(p1))) {
		return false
	}
	C.llama_memory_seq_add(x.mem, 0, C.llama_pos(p1), -1, C.llama_pos(p0-p1))
	return true
}

func (x *cContext) canShift() bool { return bool(C.llama_memory_can_shift(x.mem)) }

func (x *cContext) clear() { C.llama_memory_clear(x.mem, true) }

// perf returns llama.cpp's own counters: tokens evaluated in batches (prompt) and one at a time
// (generation), and the milliseconds spent computing them.
type perfCounters struct {
	PromptTokens, GenTokens int
	PromptMs, GenMs         float64
}

func (x *cContext) perf() perfCounters {
	C.llama_synchronize(x.c) // llama.cpp adds a decode to the counters when it synchronizes
	d := C.llama_perf_context(x.c)
	return perfCounters{PromptTokens: int(d.n_p_eval), GenTokens: int(d.n_eval), PromptMs: float64(d.t_p_eval_ms), GenMs: float64(d.t_eval_ms)}
}

func (x *cContext) resetPerf() {
	C.llama_synchronize(x.c) // or the last decode is added to the counters after the reset
	C.llama_perf_context_reset(x.c)
}

// ---- sampling ----

// sampler is a llama.cpp sampler chain plus an optional grammar sampler.
type sampler struct {
	chain   *C.struct_llama_sampler
	grammar *C.struct_llama_sampler
}

type samplerSpec struct {
	temp, topP, minP, repeat float32
	topK, repeatLastN        int
	seed                     uint32
	grammar                  string
	ban                      []token // tokens that may never be picked (logit -inf)
}

func newSampler(v vocab, s samplerSpec) (*sampler, error) {
	out := &sampler{}
	if s.grammar != "" {
		cg := C.CString(s.grammar)
		defer C.free(unsafe.Pointer(cg))
		takeLog()
		errbuf := make([]byte, 4096)
		out.grammar = C.hark_grammar_init(v.c, cg, (*C.char)(unsafe.Pointer(&errbuf[0])), C.size_t(len(errbuf)))
		if out.grammar == nil {
			return nil, fmt.Errorf("%w: %s", ErrBadGrammar, grammarReason(C.GoString((*C.char)(unsafe.Pointer(&errbuf[0]))), takeLog()))
		}
	}
	out.chain = C.llama_sampler_chain_init(C.llama_sampler_chain_params{no_perf: true})
	add := func(s *C.struct_llama_sampler) { C.llama_sampler_chain_add(out.chain, s) }
	if len(s.ban) > 0 {
		bias := make([]C.llama_logit_bias, len(s.ban))
		for i, t := range s.ban {
			bias[i] = C.llama_logit_bias{token: C.llama_token(t), bias: C.float(math.Inf(-1))}
		}
		// llama_sampler_init_logit_bias copies the array.
		add(C.llama_sampler_init_logit_bias(C.int32_t(v.size()), C.int32_t(len(bias)), &bias[0]))
	}
	if s.repeat > 0 && s.repeat != 1 {
		add(C.llama_sampler_init_penalties(C.int32_t(v.size()), C.int32_t(s.repeatLastN), C.float(s.repeat), 0, 0))
	}
	if s.temp <= 0 {
		add(C.llama_sampler_init_greedy())
		return out, nil
	}
	if s.topK > 0 {
		add(C.llama_sampler_init_top_k(C.int32_t(s.topK)))
	}
	if s.topP > 0 && s.topP < 1 {
		add(C.llama_sampler_init_top_p(C.float(s.topP), 1))
	}
	if s.minP > 0 && s.minP < 1 {
		add(C.llama_sampler_init_min_p(C.float(s.minP), 1))
	}
	add(C.llama_sampler_init_temp(C.float(s.temp)))
	add(C.llama_sampler_init_dist(C.uint32_t(s.seed)))
	return out, nil
}

func (s *sampler) free() {
	if s.chain != nil {
		C.llama_sampler_free(s.chain)
		s.chain = nil
	}
	if s.grammar != nil {
		C.llama_sampler_free(s.grammar)
		s.grammar = nil
	}
}

// grammarReason picks the line that explains why llama.cpp rejected a grammar.
func grammarReason(stderr, log string) string {
	for _, l := range strings.Split(stderr+"\n"+log, "\n") {
		l = strings.TrimSpace(l)
		if i := strings.Index(l, "error parsing grammar: "); i >= 0 {
			return l[i+len("error parsing grammar: "):]
		}
	}
	for _, l := range strings.Split(stderr+"\n"+log, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, "failed to parse grammar") {
			if _, after, ok := strings.Cut(l, ": "); ok {
				return after
			}
			return l
		}
	}
	return "llama.cpp rejected it"
}

// errGrammarStuck: the grammar allows no token of this vocabulary at this point.
var errGrammarStuck = errors.New("llm: the grammar allows no token of this model's vocabulary here")

// sample picks and accepts the next token from the last decode's logits.
func (x *cContext) sample(s *sampler) (token, error) {
	t := C.hark_sample(x.c, s.chain, s.grammar, -1, x.cur, C.int32_t(x.nVocab))
	switch {
	case t >= 0:
		return token(t), nil
	case t == -1:
		return 0, errGrammarStuck
	default:
		return 0, errors.New("llm: no logits to sample from")
	}
}

// ---- JSON schema ----

// schemaToGrammar converts a JSON schema to GBNF with llama.cpp's converter (common's
// json-schema-to-grammar; the glue catches the C++ exceptions an invalid schema raises).
func schemaToGrammar(schema string) (string, error) {
	cs := C.CString(schema)
	defer C.free(unsafe.Pointer(cs))
	var cerr *C.char
	g := C.hark_schema_to_grammar(cs, &cerr)
	if g == nil {
		reason := "not a JSON schema llama.cpp can convert"
		if cerr != nil {
			reason += ": " + C.GoString(cerr)
			C.free(unsafe.Pointer(cerr))
		}
		return "", fmt.Errorf("%w: %s", ErrBadGrammar, reason)
	}
	defer C.free(unsafe.Pointer(g))
	return C.GoString(g), nil
}

// compiledArchs lists the architectures the compiled llama.cpp knows (llm_arch_name).
var compiledArchs = sync.OnceValue(func() []string {
	n := int(C.hark_arch_names(nil, 0))
	if n <= 0 {
		return nil
	}
	ptrs := make([]*C.char, n)
	C.hark_arch_names((**C.char)(unsafe.Pointer(&ptrs[0])), C.int(n))
	names := make([]string, n)
	for i, p := range ptrs {
		names[i] = C.GoString(p)
	}
	return names
})

// ---- ggml type table (for CheckFile's tensor sizes; a test compares ours with ggml's) ----

func ggmlTypeCount() int { return int(C.GGML_TYPE_COUNT) }

func ggmlTypeSize(t int) (blockSize, typeSize int, name string) {
	return int(C.ggml_blck_size(uint32(t))), int(C.ggml_type_size(uint32(t))), C.GoString(C.ggml_type_name(uint32(t)))
}

// logSuffix formats llama.cpp's recent warnings and errors for an error message.
func logSuffix() string {
	l := takeLog()
	if l == "" {
		return ""
	}
	lines := strings.Split(l, "\n")
	if len(lines) > 4 {
		lines = lines[len(lines)-4:]
	}
	return " (llama.cpp: " + strings.Join(lines, "; ") + ")"
}
