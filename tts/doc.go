// Package tts is Hark's speech output: a Synthesizer interface with an espeak-ng
// implementation, text clean-up for speaking (Clean), a Chunker that cuts a token stream into
// sentences, the Speaker that speaks a stream of LLM pieces while it is still arriving, and
// earcons.
//
// # Usage
//
//	synth, err := tts.NewEspeak()
//	sp := tts.NewSpeaker(synth, player, tts.Voice{Language: "en-us"})
//	stats, err := sp.Speak(ctx, pieces) // pieces: the LLM's reply as it is generated
//
// A neural voice engine is added as another Synthesizer; nothing else changes.
//
// # espeak-ng: library, not program
//
// Espeak links Debian's libespeak-ng (libespeak-ng-dev) statically through cgo rather than
// running the espeak-ng program for each sentence. BenchmarkSynthesize compares the two on the
// same texts (2 cores, Debian 12; ms per call, lower is better):
//
//	                              library (cgo)   program (fork+exec)
//	"Sure." (0.6 s of audio)      1.4 ms          25 ms
//	one sentence (3.9 s)          3.4 ms          31 ms    (9× faster)
//	paragraph (14.5 s)            21 ms           40 ms
//	same, machine busy (6 engineers building): sentence 12 ms vs 179 ms (15× faster)
//
// The program pays ~25 ms per call to start and load its phoneme data, and more when the CPU
// is busy — exactly when the LLM is generating the rest of the reply on the same cores. The
// library loads its data once (4–18 ms, +3 MB of memory) and then synthesizes about 300–1000×
// faster than real time, so the first sentence's audio is ready a few milliseconds after its
// text (BenchmarkSpeakerFirstAudio: 7 ms with the whole reply at once, under 1 ms after the
// sentence's last token at 30 tokens/s). The library also stops within 100 ms of synthesized
// audio (about a millisecond) when its context is cancelled, through its sample callback.
//
// Costs of the library, and how they are handled:
//   - Its state is global: one synthesizer per process. Espeak serializes calls; a sentence
//     takes milliseconds, so that is no limit.
//   - libespeak-ng.a refers to pcaudio (its own audio output, never used here): pcaudio_stub.c
//     stands in for it at link time, so `ldd hark` gains no library at all (linking the real
//     pcaudio would load PulseAudio, ALSA and libsndfile at every start). libsonic.a (speed
//     control) is linked too. Both come from Debian's -dev packages (scripts/setup.sh).
//   - Licence: espeak-ng is GPL-3.0-or-later, so a hark binary that links it is distributed
//     under the GPL as a whole (Hark's sources stay MIT; LICENSES/espeak-ng.txt). A product
//     that cannot ship a GPL binary can run the program instead behind the same Synthesizer
//     (the benchmark's espeakProgram is one), at the cost measured above.
//   - The voice data stays in the system's espeak-ng-data package (13 MB, 100+ languages).
//
// # Concurrency properties
//
// Espeak, Clean and Earcon are safe for concurrent use. A Chunker is used by one goroutine. A
// Speaker runs one Speak at a time; Speak runs its own goroutines (chunking, synthesis) and
// returns only after they have ended.
package tts
