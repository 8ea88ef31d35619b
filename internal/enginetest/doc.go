// Package enginetest holds tests that need both native engines in one test binary: proof that
// whisper.cpp (wsp_-prefixed ggml) and llama.cpp (its own ggml) link and run side by side.
package enginetest
