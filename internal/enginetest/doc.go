// Package enginetest holds tests that need both native engines in one test binary: proof that
// whisper.cpp (wsp_-prefixed ggml) and llama.cpp (ollama's ggml) link and run side by side.
package enginetest
