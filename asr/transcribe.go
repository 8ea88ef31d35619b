package asr

/*
#include <stdlib.h>
#include "whisper_glue.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Options configure one Transcribe call. The zero value is usable (language detected, greedy,
// the full 30-second window, the default guard); DefaultOptions is Hark's choice for commands.
type Options struct {
	// Language is a code ("en", "de") or English name ("german"); "" or "auto" detects it
	// (multilingual models). English-only models accept only English.
	Language string
	// Translate makes a multilingual model write English whatever was spoken (ignored by
	// English-only models, which only write English anyway).
	Translate bool
	// InitialPrompt conditions the decoder on domain words ("Kiel, Rendsburg, Eckernförde"):
	// whisper spells what it hears the way the prompt does.
	InitialPrompt string
	// TraditionalChinese keeps Chinese as whisper writes it. By default Chinese is Simplified:
	// a Simplified initial prompt when the language is zh (and no InitialPrompt is given), and
	// the text converted Traditional→Simplified (OpenCC) whenever zh was transcribed, since
	// whisper often writes Traditional characters either way.
	TraditionalChinese bool
	// Threads for this call; 0 uses LoadOptions.Threads.
	Threads int
	// BeamSize 0 or 1 decodes greedily (fastest, deterministic); 2-8 runs beam search with that
	// many beams. whisper.cpp 1.9.3's beam search draws its candidates at random from the
	// token distribution (whisper_sample_token_topk) with a generator that carries over between
	// calls, so beam results can differ from call to call.
	BeamSize int
	// TemperatureFallback re-decodes a window at rising temperatures (0.2 steps) when the
	// result looks like a failure (repetitive or unlikely), as OpenAI's whisper does. It costs
	// time on hard audio, and the sampled re-decodes are not reproducible (as with BeamSize);
	// off, every window is decoded exactly once, greedily.
	TemperatureFallback bool
	// TrimAudioCtx runs the encoder on the audio's length (50 positions a second) instead of
	// whisper's full 30-second window, so a 2-second command costs about a fifteenth of the
	// encoder time. Whisper was trained on 30-second windows: trimming can cost some accuracy
	// on very short audio. Ignored for audio of 30 s and more.
	TrimAudioCtx bool
	// MaxTokens caps the tokens of each segment (0: no cap beyond whisper's 224 per window).
	MaxTokens int
	// Timestamps asks whisper for timestamp tokens, which split the text into timed segments.
	// Without them each 30-second window is one segment timed by the window (faster).
	Timestamps bool
	// Guard is the hallucination guard; nil means DefaultGuard(), &Guard{Off: true} keeps
	// everything.
	Guard *Guard
	// RequireSpeech, when set, is asked first whether the audio holds speech (SpeechGate
	// builds one from a VAD); if not, whisper does not run and Result.Dropped says why.
	RequireSpeech func(pcm []float32) (bool, error)
}

// DefaultOptions are Hark's settings for voice commands: automatic language (English on an
// English-only model), greedy decoding without temperature fallback, the encoder trimmed to the
// utterance, no timestamps, the default guard, threads from LoadOptions.
func DefaultOptions() Options {
	return Options{Language: "auto", TrimAudioCtx: true}
}

// Result is what Transcribe heard.
type Result struct {
	Text     string    `json:"text"`     // the kept segments' text, trimmed
	Segments []Segment `json:"segments"` // every segment whisper returned, kept or dropped
	Language string    `json:"language"` // the language transcribed (detected when Options.Language is auto)
	Timings  Timings   `json:"timings"`
	// Dropped says why text was dropped by the hallucination guard ("" when nothing was).
	Dropped string `json:"dropped,omitempty"`
	// AudioCtx is the encoder length used (1500 = the full 30-second window).
	AudioCtx int `json:"audio_ctx"`
}

// Segment is one piece of the transcript with its time in the audio and the statistics the
// guard judged it by.
type Segment struct {
	Start        time.Duration `json:"start"`
	End          time.Duration `json:"end"`
	Text         string        `json:"text"`
	Tokens       int           `json:"tokens"`         // text tokens
	NoSpeechProb float32       `json:"no_speech_prob"` // the model's probability that the audio holds no speech; -1 when unknown
	AvgLogProb   float32       `json:"avg_logprob"`    // mean log-probability of the text tokens
	Dropped      string        `json:"dropped,omitempty"`
}

// Timings break a Transcribe call down. Mel, Encode and Decode are measured inside whisper_full
// by C callbacks at whisper.cpp's own phase boundaries: Mel is from the call to the first
// encoder pass (the log-mel spectrogram, and language detection when the language is auto);
// Encode is the encoder passes; Decode the decoder (prompt, token steps, sampling). Total is
// the whole Transcribe call, waiting for a free state and the guard included.
type Timings struct {
	Mel    time.Duration `json:"mel"`
	Encode time.Duration `json:"encode"`
	Decode time.Duration `json:"decode"`
	Total  time.Duration `json:"total"`
}

// maxBeams is WHISPER_MAX_DECODERS.
const maxBeams = 8

// Transcribe turns pcm (16 kHz mono, samples in [-1, 1]) into text. It is safe for concurrent
// use: each call runs on its own whisper_state (up to LoadOptions.MaxConcurrent at once; more
// wait their turn). When ctx is done Transcribe returns ctx.Err() at once; whisper.cpp stops at
// its next check (before and after each encoder pass, after each decoder step) and only then
// gives its state back for another call. Audio shorter than 100 ms gives an empty Result, as
// whisper.cpp does not decode it.
func (m *Model) Transcribe(ctx context.Context, pcm []float32, opts Options) (Result, error) {
	t0 := time.Now()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if len(pcm) == 0 {
		return Result{}, errors.New("asr: no audio to transcribe")
	}
	if len(pcm) > math.MaxInt32 {
		return Result{}, errors.New("asr: audio too long to transcribe in one call")
	}
	for _, v := range pcm {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return Result{}, errors.New("asr: the audio contains NaN or infinite samples")
		}
	}
	if err := m.begin(); err != nil {
		return Result{}, err
	}
	// What to undo when the call is over, in reverse order. Normally that is when Transcribe
	// returns; a cancelled call returns at once and leaves it to the goroutine that waits for
	// whisper.cpp to stop (see below).
	var undo []func()
	detached := false
	defer func() {
		if !detached {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	undo = append(undo, m.calls.Done)
	p, free, err := m.params(opts, len(pcm))
	undo = append(undo, free)
	if err != nil {
		return Result{}, err
	}

	res := Result{Language: C.GoString(p.language), AudioCtx: int(p.audio_ctx)}
	if res.AudioCtx == 0 {
		res.AudioCtx = m.info.AudioCtx
	}
	g := opts.Guard
	if g == nil {
		g = DefaultGuard()
	}
	if !g.Off {
		if db := peakDB(pcm); db < g.SilencePeakDB {
			res.Dropped = fmt.Sprintf("silence: the audio peaks at %.0f dBFS", db)
			res.Timings.Total = time.Since(t0)
			return res, nil
		}
	}
	if opts.RequireSpeech != nil {
		ok, err := opts.RequireSpeech(pcm)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			res.Dropped = "the voice activity detector heard no speech"
			res.Timings.Total = time.Since(t0)
			return res, nil
		}
	}

	st, err := m.acquire(ctx)
	if err != nil {
		return Result{}, err
	}
	undo = append(undo, func() { m.release(st) })

	// Cancellation: ctx or Close sets the C flag whisper.cpp polls. Before the state is reused
	// the flag must be clear, so an abort that fired must have finished (fired closed).
	C.hark_asr_call_reset(st.call)
	st.call.want_no_speech = 0
	if !g.Off {
		st.call.want_no_speech = 1
	}
	fired := make(chan struct{})
	var once sync.Once
	abort := func() { once.Do(func() { C.hark_asr_call_abort(st.call); close(fired) }) }
	stopCtx := context.AfterFunc(ctx, abort)
	stopClose := context.AfterFunc(m.closing, abort)
	var settleOnce sync.Once
	settle := func() {
		settleOnce.Do(func() {
			if a, b := stopCtx(), stopClose(); !a || !b {
				<-fired
			}
		})
	}
	undo = append(undo, settle)

	// whisper.cpp may still read the samples after a cancelled call has returned: give it a copy.
	samples := slices.Clone(pcm)
	ret := make(chan C.int, 1)
	go func() {
		ret <- C.hark_asr_full(m.c, st.s, p, (*C.float)(unsafe.Pointer(&samples[0])), C.int(len(samples)), st.call)
	}()
	var rc C.int
	finished := false
	select {
	case rc = <-ret:
		finished = true
	case <-ctx.Done():
	case <-m.closing.Done():
	}
	if !finished {
		select {
		case rc = <-ret: // it has just finished after all
			finished = true
		default:
		}
	}
	if !finished {
		// whisper.cpp stops at its next check: within a decoder step, or at the end of the
		// encoder pass in progress. The caller need not wait for that; the state goes back to the
		// pool (and Close proceeds) when it has stopped.
		detached = true
		go func() {
			<-ret
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}()
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		return Result{}, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if m.closing.Err() != nil {
		return Result{}, ErrClosed
	}
	settle()
	call := st.call
	res.Timings.Mel = time.Duration(call.t_first_encode - call.t_start)
	res.Timings.Encode = time.Duration(call.encode_ns)
	res.Timings.Decode = time.Duration(call.decode_ns)
	if rc != 0 {
		if rc == -7 {
			st.s = nil // whisper.cpp freed the state itself
		}
		return Result{}, fullError(int(rc))
	}

	if C.whisper_is_multilingual(m.c) != 0 {
		res.Language = languageCode(int(C.whisper_full_lang_id_from_state(st.s)))
	}
	n := int(C.whisper_full_n_segments_from_state(st.s))
	audioLen := duration(len(pcm))
	var kept, dropped []string
	for i := range n {
		var nText C.int
		sum := C.hark_asr_segment_logprob(st.s, C.int(i), m.eot, &nText)
		// whisper.cpp gives centiseconds. Without timestamp tokens a segment is a 30-second window
		// and only its end is meaningful (its start is read from a timestamp token that was never
		// decoded): the window starts 30 s before it ends.
		t0 := time.Duration(C.whisper_full_get_segment_t0_from_state(st.s, C.int(i))) * 10 * time.Millisecond
		t1 := time.Duration(C.whisper_full_get_segment_t1_from_state(st.s, C.int(i))) * 10 * time.Millisecond
		if !opts.Timestamps {
			t0 = t1 - 30*time.Second
		}
		start := min(max(t0, 0), audioLen)
		end := min(max(t1, start), audioLen)
		seg := Segment{
			Start:        start,
			End:          end,
			Text:         simplify(C.GoString(C.whisper_full_get_segment_text_from_state(st.s, C.int(i))), res.Language, opts.TraditionalChinese),
			Tokens:       int(nText),
			NoSpeechProb: float32(call.no_speech),
		}
		if nText > 0 {
			seg.AvgLogProb = float32(sum) / float32(nText)
		}
		seg.Dropped = g.Judge(SegmentStats{Text: seg.Text, NoSpeechProb: seg.NoSpeechProb, AvgLogProb: seg.AvgLogProb})
		if seg.Dropped == "" {
			kept = append(kept, seg.Text)
		} else {
			dropped = append(dropped, fmt.Sprintf("%q: %s", strings.TrimSpace(seg.Text), seg.Dropped))
		}
		res.Segments = append(res.Segments, seg)
	}
	res.Text = strings.TrimSpace(strings.Join(kept, ""))
	res.Dropped = strings.Join(dropped, "; ")
	res.Timings.Total = time.Since(t0)
	return res, nil
}

// params converts opts to whisper_full_params; free releases the C strings it allocated.
func (m *Model) params(opts Options, samples int) (*C.struct_whisper_full_params, func(), error) {
	var cstrs []*C.char
	free := func() {
		for _, s := range cstrs {
			C.free(unsafe.Pointer(s))
		}
	}
	cstr := func(s string) *C.char {
		c := C.CString(s)
		cstrs = append(cstrs, c)
		return c
	}
	if opts.BeamSize < 0 || opts.BeamSize > maxBeams {
		return nil, free, fmt.Errorf("asr: beam size %d: use 0 or 1 (greedy) up to %d", opts.BeamSize, maxBeams)
	}
	if opts.Threads < 0 || opts.MaxTokens < 0 {
		return nil, free, fmt.Errorf("asr: threads (%d) and max tokens (%d) cannot be negative", opts.Threads, opts.MaxTokens)
	}
	strategy := C.enum_whisper_sampling_strategy(C.WHISPER_SAMPLING_GREEDY)
	if opts.BeamSize > 1 {
		strategy = C.WHISPER_SAMPLING_BEAM_SEARCH
	}
	p := (*C.struct_whisper_full_params)(C.malloc(C.size_t(unsafe.Sizeof(C.struct_whisper_full_params{}))))
	*p = C.whisper_full_default_params(strategy)
	prevFree := free
	free = func() { prevFree(); C.free(unsafe.Pointer(p)) }

	p.n_threads = C.int(m.opts.Threads)
	if opts.Threads > 0 {
		p.n_threads = C.int(opts.Threads)
	}
	// Every utterance stands alone: no text carried over from the previous call on this state.
	p.no_context = true
	p.no_timestamps = C.bool(!opts.Timestamps)
	p.print_progress, p.print_realtime, p.print_timestamps, p.print_special = false, false, false, false
	p.max_tokens = C.int(opts.MaxTokens)
	if opts.BeamSize > 1 {
		p.beam_search.beam_size = C.int(opts.BeamSize)
		p.greedy.best_of = 5 // decoders for fallback temperatures > 0, as whisper-cli
	}
	p.temperature = 0
	if !opts.TemperatureFallback {
		p.temperature_inc = 0
	}
	// whisper.cpp would drop "no speech" windows itself, and skip temperature fallback for them,
	// judging by a no-speech probability that 1.9.3 reads from logits it did not compute (see
	// hark_asr_no_speech_prob). The guard applies that rule with a correctly computed value and
	// says why it dropped text, so whisper.cpp's own check is disabled.
	p.no_speech_thold = 2

	lang := strings.ToLower(strings.TrimSpace(opts.Language))
	multi := C.whisper_is_multilingual(m.c) != 0
	switch {
	case !multi && (lang == "" || lang == "auto" || languageID(lang) == 0):
		p.language = cstr("en")
	case !multi:
		return nil, free, fmt.Errorf("asr: the model %s is English-only; it cannot transcribe language %q", m.info.Type, opts.Language)
	case lang == "" || lang == "auto":
		p.language = cstr("auto")
		p.detect_language = false
	default:
		id := languageID(lang)
		if id < 0 || id >= len(m.info.Languages) {
			return nil, free, fmt.Errorf("asr: unknown language %q (use a code such as en, de, fr, or auto)", opts.Language)
		}
		p.language = cstr(languageCode(id))
	}
	p.translate = C.bool(opts.Translate && multi)
	if prompt := initialPrompt(opts, multi); prompt != "" {
		p.initial_prompt = cstr(prompt)
	}
	if opts.TrimAudioCtx {
		n := TrimmedAudioCtx(samples, m.info.AudioCtx)
		if m.opts.FlashAttention && n > 0 {
			// whisper.cpp 1.9.3's flash-attention path pads the encoder's and the cross-attention's
			// keys to a multiple of 256 positions and attends to the padding without a mask; with a
			// trimmed window the padding holds the previous call's audio. A multiple of 256 leaves
			// no padding.
			if n = (n + 255) / 256 * 256; n >= m.info.AudioCtx {
				n = 0
			}
		}
		p.audio_ctx = C.int(n)
	}
	return p, free, nil
}

// TrimmedAudioCtx is the encoder length Options.TrimAudioCtx uses for n samples: 50 positions a
// second, rounded up, or 0 (whisper's full window) when the audio fills the window anyway.
func TrimmedAudioCtx(samples, full int) int {
	n := (samples*50 + sampleRate - 1) / sampleRate
	if n >= full {
		return 0
	}
	return max(n, 1)
}

// fullError words whisper_full_with_state's documented failure codes (whisper.cpp 1.9.3).
func fullError(rc int) error {
	var what string
	switch rc {
	case -1:
		what = "voice activity detection failed"
	case -2:
		what = "could not compute the log-mel spectrogram"
	case -3:
		what = "language detection failed"
	case -4:
		what = "too many decoders"
	case -5:
		what = "audio_ctx is larger than the model's"
	case -6:
		what = "the encoder failed"
	case -7:
		what = "could not allocate the decoder's KV cache (out of memory?)"
	case -8, -9:
		what = "the decoder failed"
	default:
		what = "unknown error"
	}
	return fmt.Errorf("asr: transcription failed: %s (whisper_full code %d)", what, rc)
}
