// llama_glue.c: the C side of llamacpp.go (see llama_glue.h).
#define _GNU_SOURCE // fileno, dup
#include "llama_glue.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ggml-cpu.h"
#include "_cgo_export.h"

// The abort flag lives in C memory (flag[0]); Go sets it with an atomic store when the
// request's context is done, and ggml's CPU backend polls it between graph nodes. flag[1]
// counts the polls, so that a test can tell that a decode is under way.
static bool hark_abort_cb(void * data) {
	int32_t * flag = (int32_t *) data;
	__atomic_add_fetch(&flag[1], 1, __ATOMIC_RELAXED);
	return __atomic_load_n(&flag[0], __ATOMIC_RELAXED) != 0;
}

void hark_install_abort(struct llama_context * ctx, int32_t * flag) {
	llama_set_abort_callback(ctx, hark_abort_cb, flag);
}

// hark_threadpool_new makes a persistent ggml thread pool (as llama-bench does), so that ggml
// does not make one per decode.
struct ggml_threadpool * hark_threadpool_new(int n_threads) {
	struct ggml_threadpool_params p = ggml_threadpool_params_default(n_threads);
	return ggml_threadpool_new(&p);
}

// The logger is process-global in llama.cpp (and ggml). Hark keeps the most recent errors (to
// explain a failed load), and hands lines to Go's logger only when asked to.
static pthread_mutex_t hark_log_mu = PTHREAD_MUTEX_INITIALIZER;
static char hark_log_buf[HARK_LOG_KEEP];
static size_t hark_log_len = 0;
static int hark_log_forward = 0;
static int hark_log_last_kept = 0;

static void hark_log_cb(enum ggml_log_level level, const char * text, void * user) {
	(void) user;
	if (text == NULL) return;
	pthread_mutex_lock(&hark_log_mu);
	int forward = hark_log_forward;
	// levels (ggml.h): 1 debug, 2 info, 3 warn, 4 error, 5 continuation of the previous message
	int keep = level == GGML_LOG_LEVEL_ERROR || (level == GGML_LOG_LEVEL_CONT && hark_log_last_kept);
	if (level != GGML_LOG_LEVEL_CONT) hark_log_last_kept = keep;
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
	if (forward) harkLlamaLog((int) level, (char *) text);
}

void hark_log_install(void) { llama_log_set(hark_log_cb, NULL); }

void hark_log_set_forward(int on) {
	pthread_mutex_lock(&hark_log_mu);
	hark_log_forward = on;
	pthread_mutex_unlock(&hark_log_mu);
}

size_t hark_log_take(char * dst, size_t cap) {
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
llama_token hark_sample(struct llama_context * ctx, struct llama_sampler * chain,
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
// the user).
struct llama_sampler * hark_grammar_init(const struct llama_vocab * vocab, const char * grammar,
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
		}
	}
	if (tmp != NULL) fclose(tmp);
	return s;
}

// hark_batch_set fills entry i of a batch made by llama_batch_init(n, 0, 1).
void hark_batch_set(struct llama_batch * b, int32_t i, llama_token tok, llama_pos pos, bool logits) {
	b->token[i] = tok;
	b->pos[i] = pos;
	b->n_seq_id[i] = 1;
	b->seq_id[i][0] = 0;
	b->logits[i] = logits;
}

static bool hark_progress_cb(float p, void * data) {
	return harkLoadProgress((uintptr_t) data, p);
}

struct llama_model * hark_model_load(const char * path, uintptr_t progress) {
	struct llama_model_params p = llama_model_default_params();
	p.n_gpu_layers = 0;
	p.load_mode = LLAMA_LOAD_MODE_MMAP;
	if (progress != 0) {
		p.progress_callback = hark_progress_cb;
		p.progress_callback_user_data = (void *) progress;
	}
	return llama_model_load_from_file(path, p);
}
