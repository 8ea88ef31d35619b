package llm

// This is the only file of package llm that talks to C. It reaches the parts of llama.cpp that
// github.com/ollama/ollama/llama compiles and links but does not wrap (or wraps in a way Hark
// cannot use): context creation with our own parameters and its llama_free, llama_decode with
// every return code, the KV memory operations, the sampler chain API, chat templates, the abort
// callback, perf counters, model metadata, the vocabulary's special tokens and the logger.
//
// The declarations below are copied by hand from the llama.h (and two typedefs from ggml.h)
// vendored in github.com/ollama/ollama v0.17.4 (llama/llama.cpp/include/llama.h; llama.cpp and
// ggml are MIT-licensed, copyright the ggml authors). Including the header itself would need the
// module cache path in a #cgo directive, which cgo does not allow; the symbols resolve at link
// time against ollama's cgo objects. Structs passed by value must match llama.h exactly:
// checkLayout (run by Load) compares llama_context_params against ollama's own copy of it.
// Enums are declared as int32_t, which is how the C ABI passes them.
//
// Handles obtained from ollama (only *llama.Model) are read from the first field of ollama's
// struct, which holds the C pointer.

/*
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <math.h>
#include <pthread.h>
#include <unistd.h>

struct llama_model;
struct llama_context;
struct llama_vocab;
struct llama_sampler;
struct ggml_tensor;
typedef struct llama_memory_i * llama_memory_t;
typedef int32_t llama_pos;
typedef int32_t llama_token;
typedef int32_t llama_seq_id;

// ggml.h
typedef bool (*ggml_abort_callback)(void * data);
typedef void (*ggml_log_callback)(int32_t level, const char * text, void * user_data);
typedef bool (*ggml_backend_sched_eval_callback)(struct ggml_tensor * t, bool ask, void * user_data);
size_t  ggml_type_size(int32_t type);
#define GGML_MAX_N_THREADS 512
struct ggml_threadpool_params {
	bool     cpumask[GGML_MAX_N_THREADS];
	int      n_threads;
	int32_t  prio;       // enum ggml_sched_priority
	uint32_t poll;
	bool     strict_cpu;
	bool     paused;
};
struct ggml_threadpool;
void ggml_threadpool_params_init(struct ggml_threadpool_params * p, int n_threads);
struct ggml_threadpool * ggml_threadpool_new(struct ggml_threadpool_params * params);
void ggml_threadpool_free(struct ggml_threadpool * threadpool);
int64_t ggml_blck_size(int32_t type);
const char * ggml_type_name(int32_t type);

// build-info.cpp in ollama's llama package (a namespace-scope C++ variable: plain symbol name)
extern char const * LLAMA_COMMIT;

typedef struct llama_token_data { llama_token id; float logit; float p; } llama_token_data;
typedef struct llama_token_data_array {
	llama_token_data * data;
	size_t size;
	int64_t selected;
	bool sorted;
} llama_token_data_array;

typedef struct llama_batch {
	int32_t n_tokens;
	llama_token  *  token;
	float        *  embd;
	llama_pos    *  pos;
	int32_t      *  n_seq_id;
	llama_seq_id ** seq_id;
	int8_t       *  logits;
} llama_batch;

struct llama_context_params {
	uint32_t n_ctx;
	uint32_t n_batch;
	uint32_t n_ubatch;
	uint32_t n_seq_max;
	int32_t  n_threads;
	int32_t  n_threads_batch;
	int32_t  rope_scaling_type;   // enum llama_rope_scaling_type
	int32_t  pooling_type;        // enum llama_pooling_type
	int32_t  attention_type;      // enum llama_attention_type
	int32_t  flash_attn_type;     // enum llama_flash_attn_type
	float    rope_freq_base;
	float    rope_freq_scale;
	float    yarn_ext_factor;
	float    yarn_attn_factor;
	float    yarn_beta_fast;
	float    yarn_beta_slow;
	uint32_t yarn_orig_ctx;
	float    defrag_thold;
	ggml_backend_sched_eval_callback cb_eval;
	void * cb_eval_user_data;
	int32_t type_k;               // enum ggml_type
	int32_t type_v;               // enum ggml_type
	ggml_abort_callback abort_callback;
	void *              abort_callback_data;
	bool embeddings;
	bool offload_kqv;
	bool no_perf;
	bool op_offload;
	bool swa_full;
	bool kv_unified;
};

typedef struct llama_chat_message { const char * role; const char * content; } llama_chat_message;
typedef struct llama_logit_bias { llama_token token; float bias; } llama_logit_bias;
typedef struct llama_sampler_chain_params { bool no_perf; } llama_sampler_chain_params;

struct llama_perf_context_data {
	double t_start_ms;
	double t_load_ms;
	double t_p_eval_ms;
	double t_eval_ms;
	int32_t n_p_eval;
	int32_t n_eval;
	int32_t n_reused;
};

void llama_backend_init(void);
void llama_log_set(ggml_log_callback log_callback, void * user_data);

struct llama_context * llama_init_from_model(struct llama_model * model, struct llama_context_params params);
void llama_free(struct llama_context * ctx);
void llama_attach_threadpool(struct llama_context * ctx, struct ggml_threadpool * threadpool, struct ggml_threadpool * threadpool_batch);
uint32_t llama_n_ctx(const struct llama_context * ctx);
uint32_t llama_n_batch(const struct llama_context * ctx);
uint32_t llama_n_ubatch(const struct llama_context * ctx);
void llama_set_abort_callback(struct llama_context * ctx, ggml_abort_callback abort_callback, void * abort_callback_data);
int32_t llama_decode(struct llama_context * ctx, struct llama_batch batch);
float * llama_get_logits_ith(struct llama_context * ctx, int32_t i);
struct llama_batch llama_batch_init(int32_t n_tokens, int32_t embd, int32_t n_seq_max);
void llama_batch_free(struct llama_batch batch);

llama_memory_t llama_get_memory(const struct llama_context * ctx);
void llama_memory_clear(llama_memory_t mem, bool data);
bool llama_memory_seq_rm(llama_memory_t mem, llama_seq_id seq_id, llama_pos p0, llama_pos p1);
void llama_memory_seq_add(llama_memory_t mem, llama_seq_id seq_id, llama_pos p0, llama_pos p1, llama_pos delta);
llama_pos llama_memory_seq_pos_max(llama_memory_t mem, llama_seq_id seq_id);
bool llama_memory_can_shift(llama_memory_t mem);

const struct llama_vocab * llama_model_get_vocab(const struct llama_model * model);
int32_t llama_model_n_ctx_train(const struct llama_model * model);
int32_t llama_model_n_embd(const struct llama_model * model);
int32_t llama_model_n_layer(const struct llama_model * model);
int32_t llama_model_n_head(const struct llama_model * model);
int32_t llama_model_n_head_kv(const struct llama_model * model);
int32_t llama_model_desc(const struct llama_model * model, char * buf, size_t buf_size);
uint64_t llama_model_size(const struct llama_model * model);
uint64_t llama_model_n_params(const struct llama_model * model);
const char * llama_model_chat_template(const struct llama_model * model, const char * name);
int32_t llama_model_meta_val_str(const struct llama_model * model, const char * key, char * buf, size_t buf_size);
bool llama_model_has_encoder(const struct llama_model * model);
bool llama_model_has_decoder(const struct llama_model * model);
void llama_model_free(struct llama_model * model);

int32_t llama_vocab_n_tokens(const struct llama_vocab * vocab);
bool llama_vocab_is_eog(const struct llama_vocab * vocab, llama_token token);
bool llama_vocab_is_control(const struct llama_vocab * vocab, llama_token token);
int32_t llama_vocab_get_attr(const struct llama_vocab * vocab, llama_token token); // enum llama_token_attr
llama_token llama_vocab_bos(const struct llama_vocab * vocab);
bool llama_vocab_get_add_bos(const struct llama_vocab * vocab);
const char * llama_vocab_get_text(const struct llama_vocab * vocab, llama_token token);
int32_t llama_tokenize(const struct llama_vocab * vocab, const char * text, int32_t text_len,
	llama_token * tokens, int32_t n_tokens_max, bool add_special, bool parse_special);
int32_t llama_token_to_piece(const struct llama_vocab * vocab, llama_token token, char * buf,
	int32_t length, int32_t lstrip, bool special);

int32_t llama_chat_builtin_templates(const char ** output, size_t len);
int32_t llama_chat_apply_template(const char * tmpl, const struct llama_chat_message * chat, size_t n_msg,
	bool add_ass, char * buf, int32_t length);

struct llama_sampler * llama_sampler_chain_init(struct llama_sampler_chain_params params);
void llama_sampler_chain_add(struct llama_sampler * chain, struct llama_sampler * smpl);
void llama_sampler_apply(struct llama_sampler * smpl, llama_token_data_array * cur_p);
void llama_sampler_accept(struct llama_sampler * smpl, llama_token token);
void llama_sampler_free(struct llama_sampler * smpl);
struct llama_sampler * llama_sampler_init_greedy(void);
struct llama_sampler * llama_sampler_init_dist(uint32_t seed);
struct llama_sampler * llama_sampler_init_top_k(int32_t k);
struct llama_sampler * llama_sampler_init_top_p(float p, size_t min_keep);
struct llama_sampler * llama_sampler_init_min_p(float p, size_t min_keep);
struct llama_sampler * llama_sampler_init_temp(float t);
struct llama_sampler * llama_sampler_init_penalties(int32_t penalty_last_n, float penalty_repeat, float penalty_freq, float penalty_present);
struct llama_sampler * llama_sampler_init_grammar(const struct llama_vocab * vocab, const char * grammar_str, const char * grammar_root);
struct llama_sampler * llama_sampler_init_logit_bias(int32_t n_vocab, int32_t n_logit_bias, const llama_logit_bias * logit_bias);

struct llama_perf_context_data llama_perf_context(const struct llama_context * ctx);
void llama_perf_context_reset(struct llama_context * ctx);
void llama_synchronize(struct llama_context * ctx);

// ---- Hark's helpers (C, so that no Go callback runs on llama.cpp's threads) ----

// The abort flag lives in C memory; Go sets it with an atomic store when the request's context
// is done, and ggml's CPU backend polls it between graph nodes.
static bool hark_abort_cb(void * data) {
	return __atomic_load_n((int32_t *) data, __ATOMIC_RELAXED) != 0;
}
static void hark_install_abort(struct llama_context * ctx, int32_t * flag) {
	llama_set_abort_callback(ctx, hark_abort_cb, flag);
}

// hark_threadpool_new makes a persistent ggml thread pool. Without one attached, ggml's CPU
// backend creates and joins its worker threads on every decode, which costs tens of
// microseconds per generated token. The params struct gets slack in case a newer ggml grows it.
static struct ggml_threadpool * hark_threadpool_new(int n_threads) {
	struct ggml_threadpool_params * p = calloc(1, sizeof(struct ggml_threadpool_params) + 256);
	if (p == NULL) return NULL;
	ggml_threadpool_params_init(p, n_threads);
	struct ggml_threadpool * tp = ggml_threadpool_new(p);
	free(p);
	return tp;
}

// The logger is process-global in llama.cpp (and ggml). Hark keeps the most recent errors (to explain a failed load) and echoes everything to stderr only when asked to.
#define HARK_LOG_KEEP 2048
static pthread_mutex_t hark_log_mu = PTHREAD_MUTEX_INITIALIZER;
static char hark_log_buf[HARK_LOG_KEEP];
static size_t hark_log_len = 0;
static int hark_log_echo = 0;
static int hark_log_last_kept = 0;

static void hark_log_cb(int32_t level, const char * text, void * user) {
	(void) user;
	if (text == NULL) return;
	pthread_mutex_lock(&hark_log_mu);
	if (hark_log_echo) fputs(text, stderr);
	// levels (ggml.h): 1 debug, 2 info, 3 warn, 4 error, 5 continuation of the previous message
	int keep = level == 4 || (level == 5 && hark_log_last_kept);
	if (level != 5) hark_log_last_kept = keep;
	if (keep) {
		size_t n = strlen(text);
		if (n >= HARK_LOG_KEEP) { text += n - (HARK_LOG_KEEP - 1); n = HARK_LOG_KEEP - 1; }
		if (hark_log_len + n >= HARK_LOG_KEEP) {
			size_t drop = hark_log_len + n - (HARK_LOG_KEEP - 1);
			memmove(hark_log_buf, hark_log_buf + drop, hark_log_len - drop);
			hark_log_len -= drop;
		}
		memcpy(hark_log_buf + hark_log_len, text, n);
		hark_log_len += n;
	}
	pthread_mutex_unlock(&hark_log_mu);
}
static void hark_log_install(void) { llama_log_set(hark_log_cb, NULL); }
static void hark_log_set_echo(int on) {
	pthread_mutex_lock(&hark_log_mu);
	hark_log_echo = on;
	pthread_mutex_unlock(&hark_log_mu);
}
// hark_log_take copies the kept text into dst (cap bytes) and forgets it; returns the length.
static size_t hark_log_take(char * dst, size_t cap) {
	pthread_mutex_lock(&hark_log_mu);
	size_t n = hark_log_len < cap ? hark_log_len : cap;
	memcpy(dst, hark_log_buf + hark_log_len - n, n);
	hark_log_len = 0;
	pthread_mutex_unlock(&hark_log_mu);
	return n;
}

// hark_sample picks the next token from the logits of output idx.
//   chain:   penalties, top-k, top-p, min-p, temperature and the final picker (dist or greedy)
//   grammar: NULL, or a grammar sampler kept outside the chain
// With a grammar it samples unconstrained first and checks only the chosen token against the
// grammar (cheap); only when that token is not allowed does it run the grammar over the whole
// vocabulary and sample again (the strategy of llama.cpp's common_sampler). It never lets a
// token the grammar rejects reach llama_sampler_accept, where llama.cpp would throw (a C++
// exception that would kill the process). cur is a caller-owned buffer of n_vocab entries.
// Returns the token, -1 when the grammar allows no token at all, -2 when there are no logits.
static llama_token hark_sample(struct llama_context * ctx, struct llama_sampler * chain,
		struct llama_sampler * grammar, int32_t idx, llama_token_data * cur, int32_t n_vocab) {
	const float * logits = llama_get_logits_ith(ctx, idx);
	if (logits == NULL) return -2;
	for (llama_token t = 0; t < n_vocab; t++) {
		cur[t].id = t; cur[t].logit = logits[t]; cur[t].p = 0.0f;
	}
	llama_token_data_array arr = { cur, (size_t) n_vocab, -1, false };
	llama_sampler_apply(chain, &arr);
	if (arr.selected < 0 || (size_t) arr.selected >= arr.size) return -2;
	llama_token tok = arr.data[arr.selected].id;
	if (grammar != NULL) {
		llama_token_data one = { tok, 1.0f, 0.0f };
		llama_token_data_array single = { &one, 1, -1, false };
		llama_sampler_apply(grammar, &single);
		if (!isfinite(one.logit)) {
			for (llama_token t = 0; t < n_vocab; t++) {
				cur[t].id = t; cur[t].logit = logits[t]; cur[t].p = 0.0f;
			}
			arr = (llama_token_data_array) { cur, (size_t) n_vocab, -1, false };
			llama_sampler_apply(grammar, &arr);
			int any = 0;
			for (size_t i = 0; i < arr.size; i++) {
				if (isfinite(arr.data[i].logit)) { any = 1; break; }
			}
			if (!any) return -1;
			llama_sampler_apply(chain, &arr);
			if (arr.selected < 0 || (size_t) arr.selected >= arr.size) return -2;
			tok = arr.data[arr.selected].id;
			if (!isfinite(arr.data[arr.selected].logit)) return -1;
		}
		llama_sampler_accept(grammar, tok);
	}
	llama_sampler_accept(chain, tok);
	return tok;
}

// hark_grammar_init creates a grammar sampler. llama.cpp's grammar parser reports syntax errors
// with fprintf(stderr) rather than its logger, so stderr (fd 2) is pointed at a temporary file
// for the duration of the call and what was written is returned in errbuf (the reason shown to
// the user); it is not echoed, unless hark_log_echo is on.
static struct llama_sampler * hark_grammar_init(const struct llama_vocab * vocab, const char * grammar,
		char * errbuf, size_t errcap) {
	errbuf[0] = 0;
	FILE * tmp = tmpfile();
	int saved = -1;
	fflush(stderr);
	if (tmp != NULL) {
		saved = dup(2);
		if (saved < 0 || dup2(fileno(tmp), 2) < 0) {
			if (saved >= 0) close(saved);
			saved = -1;
		}
	}
	struct llama_sampler * s = llama_sampler_init_grammar(vocab, grammar, "root");
	if (saved >= 0) {
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
		long n = ftell(tmp);
		if (n > 0) {
			rewind(tmp);
			size_t got = fread(errbuf, 1, errcap - 1, tmp);
			errbuf[got] = 0;
			if (hark_log_echo) fwrite(errbuf, 1, got, stderr);
		}
	}
	if (tmp != NULL) fclose(tmp);
	return s;
}

// hark_batch_set fills entry i of a batch made by llama_batch_init(n, 0, 1).
static void hark_batch_set(struct llama_batch * b, int32_t i, llama_token tok, llama_pos pos, bool logits) {
	b->token[i] = tok;
	b->pos[i] = pos;
	b->n_seq_id[i] = 1;
	b->seq_id[i][0] = 0;
	b->logits[i] = logits;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/ollama/ollama/llama"
	"github.com/ollama/ollama/ml"
)

// token is a llama.cpp token id.
type token = int32

// Version is the commit of the llama.cpp sources compiled in.
func Version() string { return C.GoString(C.LLAMA_COMMIT) }

var backendOnce sync.Once

// initBackend initialises llama.cpp once per process and routes its log through Hark's logger.
// llama_backend_init is called directly rather than through ollama's BackendInit, which also
// scans ollama's library folders for GPU backends and logs a banner through slog.
func initBackend() {
	backendOnce.Do(func() {
		C.hark_log_install()
		C.llama_backend_init()
	})
}

func init() {
	// ollama's packages install a logger at init that prints to stderr whenever slog's default
	// level allows; ours replaces it (silent unless SetVerboseLog(true)).
	C.hark_log_install()
}

// SetVerboseLog makes llama.cpp's own log go to stderr (on) or nowhere (off, the default).
// llama.cpp's logger is process-wide, so this affects every model.
func SetVerboseLog(on bool) {
	v := C.int(0)
	if on {
		v = 1
	}
	C.hark_log_set_echo(v)
}

// takeLog returns (and forgets) llama.cpp's recent warnings and errors, trimmed, one line each.
func takeLog() string {
	buf := make([]byte, C.HARK_LOG_KEEP)
	n := C.hark_log_take((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	return strings.TrimSpace(string(buf[:n]))
}

// checkLayout verifies that the hand-declared llama_context_params has the size and field
// offsets of the real one, using ollama's Go copy of the C struct (its only field) as the witness.
func checkLayout() error {
	var ours C.struct_llama_context_params
	theirs := llama.NewContextParams(1234, 56, 1, 7, ml.FlashAttentionEnabled, "q8_0")
	if unsafe.Sizeof(theirs) != unsafe.Sizeof(ours) {
		return fmt.Errorf("llm: llama_context_params is %d bytes in the linked llama.cpp but %d as declared in llm: update llamacpp.go from llama.h", unsafe.Sizeof(theirs), unsafe.Sizeof(ours))
	}
	p := (*C.struct_llama_context_params)(unsafe.Pointer(&theirs))
	const q8_0 = 8
	if p.n_ctx != 1234 || p.n_ubatch != 56 || p.n_threads != 7 || p.n_threads_batch != 7 || p.flash_attn_type != 1 ||
		p.type_k != q8_0 || p.type_v != q8_0 || !bool(p.embeddings) {
		return errors.New("llm: llama_context_params fields are not where llamacpp.go declares them: update it from llama.h")
	}
	return nil
}

// ---- model ----

type cModel = *C.struct_llama_model

func modelHandle(m *llama.Model) cModel { return *(*cModel)(unsafe.Pointer(m)) }

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
func (v vocab) piece(buf []byte, t token) []byte {
	var tmp [64]byte
	n := C.llama_token_to_piece(v.c, C.llama_token(t), (*C.char)(unsafe.Pointer(&tmp[0])), C.int32_t(len(tmp)), 0, false)
	if n >= 0 {
		return append(buf, tmp[:n]...)
	}
	big := make([]byte, -int(n))
	n = C.llama_token_to_piece(v.c, C.llama_token(t), (*C.char)(unsafe.Pointer(&big[0])), C.int32_t(len(big)), 0, false)
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
	if err := checkLayout(); err != nil {
		return nil, err
	}
	// Start from ollama's params (llama_context_default_params plus its settings), then undo
	// what does not fit Hark: embeddings=true would extract embeddings on every decode.
	fa := ml.FlashAttentionAuto
	switch p.flash {
	case FlashAttentionOn:
		fa = ml.FlashAttentionEnabled
	case FlashAttentionOff:
		fa = ml.FlashAttentionDisabled
	}
	base := llama.NewContextParams(p.nCtx, p.nBatch, 1, p.threads, fa, "")
	cp := *(*C.struct_llama_context_params)(unsafe.Pointer(&base))
	cp.n_batch = C.uint32_t(p.nBatch)
	cp.n_ubatch = C.uint32_t(p.nBatch)
	cp.n_threads_batch = C.int32_t(p.batchThreads)
	cp.embeddings = false
	cp.no_perf = false
	abort := (*C.int32_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.int32_t(0)))))
	cp.abort_callback = nil // installed below through the helper, which owns the C function pointer
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

// decode evaluates toks at positions pos, pos+1, ...; logits are computed for the last token only.
// len(toks) must not exceed nBatch.
func (x *cContext) decode(toks []token, pos int) error {
	for i, t := range toks {
		C.hark_batch_set(&x.batch, C.int32_t(i), C.llama_token(t), C.llama_pos(pos+i), C.bool(i == len(toks)-1))
	}
	x.batch.n_tokens = C.int32_t(len(toks))
	switch rc := C.llama_decode(x.c, x.batch); {
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

func (x *cContext) resetPerf() { C.llama_perf_context_reset(x.c) }

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
		add(C.llama_sampler_init_penalties(C.int32_t(s.repeatLastN), C.float(s.repeat), 0, 0))
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

// schemaToGrammar converts a JSON schema to GBNF with llama.cpp's converter (through ollama's
// wrapper, which catches the C++ exceptions an invalid schema raises).
func schemaToGrammar(schema string) (string, error) {
	g := llama.SchemaToGrammar([]byte(schema))
	if g == nil {
		return "", fmt.Errorf("%w: not a JSON schema llama.cpp can convert", ErrBadGrammar)
	}
	return string(g), nil
}

// ---- ggml type table (for CheckFile's tensor sizes; a test compares ours with ggml's) ----

func ggmlTypeSize(t int) (blockSize, typeSize int, name string) {
	return int(C.ggml_blck_size(C.int32_t(t))), int(C.ggml_type_size(C.int32_t(t))), C.GoString(C.ggml_type_name(C.int32_t(t)))
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
