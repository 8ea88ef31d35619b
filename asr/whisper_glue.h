// asr's C glue around whisper.h: per-call log routing, abort flag and timings. See binding.go.
#ifndef HARK_ASR_WHISPER_GLUE_H
#define HARK_ASR_WHISPER_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <whisper.h>

// hark_asr_log routes whisper.cpp's and ggml's log lines for one C call: to stderr when verbose,
// and into buf (a NUL-terminated C buffer of cap bytes) when buf is set, so that Go can read the
// sizes and errors whisper.cpp reports. Lines logged by other threads are dropped.
typedef struct {
	int verbose;
	char *buf;
	size_t len, cap;
} hark_asr_log;

// hark_asr_call is the C side of one state's current whisper_full call: the abort flag (set from
// Go by hark_asr_call_abort, read by whisper.cpp through hark_asr_on_abort after every encoder pass and
// decoder step and by hark_asr_on_encoder_begin before every encoder pass) and the timings the two
// callbacks measure. whisper.cpp 1.9.3 calls both on the thread that called whisper_full.
typedef struct {
	int abort;
	int phase;                 // 0 before the first encoder pass (mel, language detection), 1 encoding, 2 decoding, 3 returned
	int64_t t_start, t_phase, t_first_encode, t_end;
	int64_t encode_ns, decode_ns;
	int encoder_runs;
	int want_no_speech;        // compute no_speech after a one-window call
	float no_speech;           // the window's no-speech probability, or -1
	hark_asr_log log;
} hark_asr_call;

void hark_asr_log_install(void);
void hark_asr_log_set_forward(int on);
struct whisper_context *hark_asr_init_model(const char *path, bool flash_attn, hark_asr_log *log);
struct whisper_state *hark_asr_init_state(struct whisper_context *ctx, hark_asr_log *log);
hark_asr_call *hark_asr_call_new(void);
void hark_asr_call_reset(hark_asr_call *c);
void hark_asr_call_abort(hark_asr_call *c);
int hark_asr_call_aborted(hark_asr_call *c);
int hark_asr_call_phase(hark_asr_call *c);
int hark_asr_full(struct whisper_context *ctx, struct whisper_state *st, struct whisper_full_params *p,
		const float *pcm, int n, hark_asr_call *c);
float hark_asr_segment_logprob(struct whisper_state *st, int i, whisper_token eot, int *n_text);

#endif
