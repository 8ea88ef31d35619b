// C side of asr's binding of whisper.h; see binding.go.
#include "whisper_glue.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <whisper.h>

#include "_cgo_export.h"

// hark_asr_log_fwd: whether every line also goes to Go's harkASRLog (Hark's log, at debug
// level; see SetLogger). Off by default, so that no log call enters Go.
static int hark_asr_log_fwd;

void hark_asr_log_set_forward(int on) { __atomic_store_n(&hark_asr_log_fwd, on, __ATOMIC_RELAXED); }

// The log target of the C call running on this thread (whisper.cpp logs on the calling thread).
static __thread hark_asr_log *hark_asr_tls_log;

static void hark_asr_log_cb(enum wsp_ggml_log_level level, const char *text, void *user) {
	(void) user;
	if (text == NULL) return;
	if (__atomic_load_n(&hark_asr_log_fwd, __ATOMIC_RELAXED)) harkASRLog((char *) text);
	hark_asr_log *l = hark_asr_tls_log;
	if (l == NULL) return;
	if (l->verbose) { fputs(text, stderr); fflush(stderr); }
	if (l->buf != NULL) {
		if (level == WSP_GGML_LOG_LEVEL_ERROR && l->len + 7 <= l->cap) {
			memcpy(l->buf + l->len, "ERROR: ", 7);
			l->len += 7;
			l->buf[l->len] = 0;
		}
		size_t n = strlen(text);
		if (l->len + n + 1 <= l->cap) {
			memcpy(l->buf + l->len, text, n);
			l->len += n;
			l->buf[l->len] = 0;
		}
	}
}

void hark_asr_log_install(void) { whisper_log_set(hark_asr_log_cb, NULL); }

struct whisper_context *hark_asr_init_model(const char *path, bool flash_attn, hark_asr_log *log) {
	hark_asr_log *prev = hark_asr_tls_log;
	hark_asr_tls_log = log;
	struct whisper_context_params p = whisper_context_default_params();
	p.use_gpu = false;
	p.flash_attn = flash_attn;
	struct whisper_context *c = whisper_init_from_file_with_params_no_state(path, p);
	hark_asr_tls_log = prev;
	return c;
}

struct whisper_state *hark_asr_init_state(struct whisper_context *ctx, hark_asr_log *log) {
	hark_asr_log *prev = hark_asr_tls_log;
	hark_asr_tls_log = log;
	struct whisper_state *s = whisper_init_state(ctx);
	hark_asr_tls_log = prev;
	return s;
}

static int64_t hark_asr_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

hark_asr_call *hark_asr_call_new(void) { return (hark_asr_call *) calloc(1, sizeof(hark_asr_call)); }
void hark_asr_call_reset(hark_asr_call *c) { __atomic_store_n(&c->abort, 0, __ATOMIC_SEQ_CST); }
void hark_asr_call_abort(hark_asr_call *c) { __atomic_store_n(&c->abort, 1, __ATOMIC_RELAXED); }
int hark_asr_call_phase(hark_asr_call *c) { return __atomic_load_n(&c->phase, __ATOMIC_RELAXED); }
int hark_asr_call_aborted(hark_asr_call *c) { return __atomic_load_n(&c->abort, __ATOMIC_SEQ_CST); }

static bool hark_asr_on_encoder_begin(struct whisper_context *ctx, struct whisper_state *st, void *user) {
	(void) ctx; (void) st;
	hark_asr_call *c = (hark_asr_call *) user;
	int64_t now = hark_asr_now();
	if (c->phase == 0) c->t_first_encode = now;
	else if (c->phase == 2) c->decode_ns += now - c->t_phase;
	else c->encode_ns += now - c->t_phase;
	__atomic_store_n(&c->phase, 1, __ATOMIC_RELAXED);
	c->t_phase = now;
	c->encoder_runs++;
	return !__atomic_load_n(&c->abort, __ATOMIC_RELAXED);
}

static bool hark_asr_on_abort(void *user) {
	hark_asr_call *c = (hark_asr_call *) user;
	if (c->phase == 1) {
		int64_t now = hark_asr_now();
		c->encode_ns += now - c->t_phase;
		__atomic_store_n(&c->phase, 2, __ATOMIC_RELAXED);
		c->t_phase = now;
	}
	return __atomic_load_n(&c->abort, __ATOMIC_RELAXED) != 0;
}

// hark_asr_no_speech_prob computes the no-speech probability of the window whisper_full just
// encoded, as OpenAI's whisper does: the softmax of the decoder's logits at the start-of-transcript
// token, at the no-speech token. whisper.cpp 1.9.3 reports a value it reads from logits row 0,
// which it computes only for one-token prompts (otherwise the row holds the previous call's
// values), so asr computes it itself: one extra decoder step on [sot].
static float hark_asr_no_speech_prob(struct whisper_context *ctx, struct whisper_state *st, int n_threads) {
	whisper_token sot = whisper_token_sot(ctx);
	if (whisper_decode_with_state(ctx, st, &sot, 1, 0, n_threads) != 0) return -1;
	const float *logits = whisper_get_logits_from_state(st);
	int n = whisper_n_vocab(ctx);
	whisper_token nosp = whisper_token_nosp(ctx);
	if (logits == NULL || nosp < 0 || nosp >= n) return -1;
	float mx = -INFINITY;
	for (int i = 0; i < n; i++) if (logits[i] > mx) mx = logits[i];
	double sum = 0;
	for (int i = 0; i < n; i++) sum += exp((double) logits[i] - mx);
	return (float) (exp((double) logits[nosp] - mx) / sum);
}

static bool hark_asr_stop_at_encoder(struct whisper_context *ctx, struct whisper_state *st, void *user) {
	(void) ctx; (void) st; (void) user;
	return false;
}

// hark_asr_prime_audio_ctx makes st's encoder length p->audio_ctx before a call that detects the
// language. whisper.cpp 1.9.3 detects the language before it applies the call's audio_ctx to the
// state, so on a reused state detection ran on the previous call's window (on a new one, on the
// full 30 s). A call on 0.2 s of silence that stops at the encoder applies it, for the cost of a
// tiny log-mel spectrogram.
static void hark_asr_prime_audio_ctx(struct whisper_context *ctx, struct whisper_state *st, const struct whisper_full_params *p) {
	static const float quiet[3200];
	struct whisper_full_params q = *p;
	q.language = "en";
	q.detect_language = false;
	q.initial_prompt = NULL;
	q.prompt_tokens = NULL;
	q.prompt_n_tokens = 0;
	q.encoder_begin_callback = hark_asr_stop_at_encoder;
	q.encoder_begin_callback_user_data = NULL;
	q.abort_callback = NULL;
	q.abort_callback_user_data = NULL;
	hark_asr_log *prev = hark_asr_tls_log;
	hark_asr_tls_log = NULL; // its "aborted" message is no one's business
	whisper_full_with_state(ctx, st, q, quiet, 3200);
	hark_asr_tls_log = prev;
}

static bool hark_asr_detects(const struct whisper_full_params *p) {
	return p->language == NULL || p->language[0] == 0 || strcmp(p->language, "auto") == 0 || p->detect_language;
}

int hark_asr_full(struct whisper_context *ctx, struct whisper_state *st, struct whisper_full_params *p,
		const float *pcm, int n, hark_asr_call *c) {
	if (whisper_is_multilingual(ctx) && hark_asr_detects(p)) {
		hark_asr_prime_audio_ctx(ctx, st, p);
	}
	hark_asr_log *prev = hark_asr_tls_log;
	hark_asr_tls_log = &c->log;
	__atomic_store_n(&c->phase, 0, __ATOMIC_RELAXED);
	c->encode_ns = c->decode_ns = 0;
	c->encoder_runs = 0;
	c->t_start = hark_asr_now();
	c->t_phase = c->t_start;
	c->t_first_encode = 0;
	p->encoder_begin_callback = hark_asr_on_encoder_begin;
	p->encoder_begin_callback_user_data = c;
	p->abort_callback = hark_asr_on_abort;
	p->abort_callback_user_data = c;
	int rc = whisper_full_with_state(ctx, st, *p, pcm, n);
	c->no_speech = -1;
	if (rc == 0 && c->want_no_speech && c->encoder_runs == 1 && !__atomic_load_n(&c->abort, __ATOMIC_RELAXED) &&
			whisper_full_n_segments_from_state(st) > 0) {
		c->no_speech = hark_asr_no_speech_prob(ctx, st, p->n_threads);
	}
	c->t_end = hark_asr_now();
	if (c->phase == 1) c->encode_ns += c->t_end - c->t_phase;
	if (c->phase == 2) c->decode_ns += c->t_end - c->t_phase;
	if (c->phase == 0) c->t_first_encode = c->t_end;
	__atomic_store_n(&c->phase, 3, __ATOMIC_RELAXED);
	hark_asr_tls_log = prev;
	return rc;
}

// hark_asr_segment_logprob sums the log probabilities of segment i's text tokens (ids below eot).
float hark_asr_segment_logprob(struct whisper_state *st, int i, whisper_token eot, int *n_text) {
	int n = whisper_full_n_tokens_from_state(st, i);
	float sum = 0;
	int k = 0;
	for (int j = 0; j < n; j++) {
		whisper_token_data d = whisper_full_get_token_data_from_state(st, i, j);
		if (d.id < eot) { sum += d.plog; k++; }
	}
	*n_text = k;
	return sum;
}
