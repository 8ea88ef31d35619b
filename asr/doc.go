// Package asr turns speech (16 kHz mono float32 PCM) into text with whisper.cpp, in-process and
// offline.
//
// The C/C++ library is whisper.cpp 1.9.3 as shipped in the whisper.rn npm package, linked
// statically (scripts/native.sh builds libwhisper.a and ggml's libraries).
//
// # Usage
//
//	info, err := asr.CheckFile(path)          // optional: Load checks too
//	m, err := asr.Load(path, asr.LoadOptions{Threads: 2})
//	defer m.Close()
//	res, err := m.Transcribe(ctx, pcm, asr.DefaultOptions())
//	fmt.Println(res.Text, res.Language, res.Timings.Total)
//
// Live partial transcripts while the user is still speaking: NewStreamer, then per utterance
// Streamer.Start, Utterance.Append or Update as audio arrives, and Utterance.Finish when the
// endpointer closes the utterance (its final transcript replaces the partials).
//
// # Own binding, not the official Go bindings
//
// asr binds whisper.h itself (binding.go, whisper_glue.c) and does not use
// github.com/ggerganov/whisper.cpp/bindings/go, because that package
//   - exposes no abort callback, so a cancelled utterance would run to its end;
//   - runs every call on the context's single built-in state, and whisper.h says a context
//     must not be used by two threads at once, so concurrent calls would have to queue;
//   - loads through the deprecated whisper_init_from_file, which allocates that built-in state
//     (KV caches and compute buffers) whether it is used or not, and cannot set context
//     parameters;
//   - leaves whisper.cpp's logging on stderr.
//
// What asr binds: whisper_init_from_file_with_params_no_state (loading, after CheckFile),
// whisper_init_state / whisper_free_state (one state per concurrent call, kept for reuse),
// whisper_full_with_state with abort_callback and encoder_begin_callback, the
// *_from_state result getters, the language table (whisper_lang_id/str), and whisper_log_set.
// The callbacks are C functions reading a flag and a clock in C memory, so whisper.cpp never
// calls into Go; Go sets the flag from context.AfterFunc.
//
// # Cancellation latency
//
// Transcribe returns ctx.Err() as soon as ctx is done (microseconds); whisper.cpp itself stops at
// its next check and only then frees the state for another call. whisper.cpp 1.9.3 polls the
// abort callback after each encoder pass and each decoder step (its encoder graphs run through a
// scheduler that is not given the callback, so a pass is not interrupted midway); asr also
// aborts before each encoder pass. So the engine stops within one decoder step (milliseconds)
// while decoding, and at the end of the encoder pass in progress while encoding.
// Options.TrimAudioCtx shortens that pass for short utterances, which is also what keeps the
// engine's stop prompt. BenchmarkCancelLatency measures both figures.
//
// # whisper.cpp 1.9.3 behaviours asr works around
//
//   - The no-speech probability whisper.cpp reports is read from logits row 0, which it only
//     computes for one-token prompts; otherwise the row holds the previous call's values (or
//     zeros). asr computes the probability itself as OpenAI's whisper does (one decoder step on
//     the start-of-transcript token, only when the guard is on) and turns whisper.cpp's own
//     no-speech dropping off (no_speech_thold above 1).
//   - With flash attention on, the encoder's and the cross-attention's keys are padded to 256
//     positions and the padding is attended to without a mask: with a trimmed window it holds
//     the previous call's audio, so results depend on call history. asr loads models with flash
//     attention off (LoadOptions.FlashAttention turns it on, and then trims to multiples of 256).
//   - Beam search and temperature fallback draw candidates from a random generator that is not
//     reset between calls: only greedy decoding without fallback (the default) is reproducible.
//   - whisper_full_with_state frees the caller's state when it cannot allocate a KV cache (code
//     -7); asr then forgets that state instead of freeing it twice.
//   - ggml's worker threads spin while they wait for each other. On a busy 2-core machine
//     Threads: 2 can be many times slower than Threads: 1 (whisper-ref on jfk.wav while other
//     builds ran: 57 s against 1.2 s); leave a core free, or use one thread while the language
//     model runs.
//
// # Logging
//
// whisper.cpp and ggml log through one process-wide hook. asr installs it when the package is
// initialised and keeps them silent, except during calls of a model loaded with
// LoadOptions.Verbose. asr also reads whisper.cpp's log of each state's allocation to report
// memory (Info.StateBytes) and of a failed load to word the error. Other packages linking the
// same library (audio/vad) should not call whisper_log_set.
//
// # Concurrency properties
//
// Every method of Model may be called from any goroutine. Transcribe calls run in parallel on
// separate whisper_states, up to LoadOptions.MaxConcurrent; each uses Options.Threads threads.
// Close interrupts calls in progress and waits for them to leave C before freeing anything.
// A Streamer may be shared; each Utterance is fed from one goroutine and emits from one
// goroutine at a time.
package asr
