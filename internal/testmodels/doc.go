// Package testmodels writes tiny random-weight model files for tests and benchmarks: a
// llama-architecture GGUF (with an optional chat template and special tokens) for llm/, and a
// whisper.cpp ggml .bin for asr/. The files load and run in the real engines; their output is
// gibberish, which is all a test of the plumbing needs. It also locates the shared test models
// (HARK_TEST_MODELS, default ../shared/models beside the checkout) and the one trained model
// the project commits: a test-grade whisper model that knows its test sentences (TrainedWhisper).
//
// Everything here is deterministic for a given Seed, so tests can rely on byte-identical files.
package testmodels
