package main

import "testing"

// storiesGreedy is what stories260K.gguf writes greedily (temperature 0) in the tests, by
// where it is asked. The model is trained and deterministic, so the tests assert the exact
// text. How it was obtained: "ask" from
//
//	hark ask --model stories260K.gguf --system "" --threads 1 --temp 0 --max-tokens 40 "Once upon a time"
//
// and "window" from the reply event of TestWindowOpens (the window at temperature 0 with an
// empty system prompt, asked "Once upon a time", max_tokens 40), both with the llama.cpp
// engine of December 2026. If the engine changes how it computes (another llama.cpp, other
// kernels), these change: run those and compare before updating the text here.
var storiesGreedy = map[string]string{
	"ask":    ", there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she saw a big bo",
	"window": ", there was a little girl named Lily. She loved to play with her toys and eat carrots. One day, she saw a big box",
}

// greedy returns the expected greedy text for where (a key of storiesGreedy).
func greedy(t *testing.T, where string) string {
	t.Helper()
	s, ok := storiesGreedy[where]
	if !ok {
		t.Fatalf("no greedy text of stories260K for %q", where)
	}
	return s
}
