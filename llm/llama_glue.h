// llama_glue.h: Hark's C helpers around llama.cpp (llama_glue.c, llama_glue.cpp), so that no Go
// callback runs on llama.cpp's threads and no C++ exception reaches cgo.
#ifndef HARK_LLAMA_GLUE_H
#define HARK_LLAMA_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llama.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- llama_glue.c ----

// The log keeps this many bytes of recent errors (to explain a failed load or grammar).
#define HARK_LOG_KEEP 2048
void hark_log_install(void);
void hark_log_set_forward(int on); // hand every line to Go's harkLlamaLog
size_t hark_log_take(char * dst, size_t cap);

// flag points at two int32: the abort flag, and a count of ggml's polls of it.
void hark_install_abort(struct llama_context * ctx, int32_t * flag);
struct ggml_threadpool * hark_threadpool_new(int n_threads);
llama_token hark_sample(struct llama_context * ctx, struct llama_sampler * chain,
		struct llama_sampler * grammar, int32_t idx, llama_token_data * cur, int32_t n_vocab);
struct llama_sampler * hark_grammar_init(const struct llama_vocab * vocab, const char * grammar,
		char * errbuf, size_t errcap);
void hark_batch_set(struct llama_batch * b, int32_t i, llama_token tok, llama_pos pos, bool logits);
// hark_model_load loads a GGUF file with mmap; progress (a cgo.Handle, 0 for none) receives
// the fraction loaded through Go's harkLoadProgress.
struct llama_model * hark_model_load(const char * path, uintptr_t progress);

// ---- llama_glue.cpp ----

// hark_schema_to_grammar converts a JSON schema to GBNF. It returns a malloc'd string, or NULL
// with a malloc'd reason in *err.
char * hark_schema_to_grammar(const char * schema, char ** err);
// hark_arch_names fills out with the names of the architectures compiled in; returns how many.
int hark_arch_names(const char ** out, int cap);
const char * hark_llama_release(void);
const char * hark_llama_source(void);
const char * hark_llama_options(void);

#ifdef __cplusplus
}
#endif

#endif
