package main

import (
	"context"
	"encoding/json"
	"testing"

	"hark/app"
	"hark/internal/testmodels"
	"hark/llm"
)

// TestChatPrefillWithTools: through the wiring's chat (what the assistant holds), the tools
// prefilled as the conversation starts leave a first turn with tools only its own tokens to
// evaluate, and a turn's prompt prefilled with its tools leaves one.
func TestChatPrefillWithTools(t *testing.T) {
	m, err := llm.Load(testmodels.Llama(t, testmodels.HermesToolsLlama()), llm.Options{ContextSize: 2048, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	b := &brain{m: m, gen: llm.GenOptions{MaxTokens: 2, Seed: 1}}
	defer b.Close()
	c, err := b.NewChat("You control the lights.")
	if err != nil {
		t.Fatal(err)
	}
	tc, ok := c.(toolChat)
	if !ok {
		t.Fatalf("a chat of a tool-template model is %T", c)
	}
	tools := []app.Tool{{Name: "set_light", Description: "Switch a light on or off",
		Parameters: json.RawMessage(`{"type":"object","properties":{"on":{"type":"boolean"}},"required":["on"]}`)}}
	ctx := context.Background()
	if err := tc.Prefill(ctx, "", tools); err != nil {
		t.Fatal(err)
	}
	emit := func(string) error { return nil }
	r1, err := tc.SendTools(ctx, "Turn on the light", tools, emit)
	if err != nil {
		t.Fatal(err)
	}
	if n := r1.PromptTokens - r1.ReusedTokens; n > 40 || r1.PromptTokens < 200 {
		t.Errorf("first turn: %d of %d prompt tokens evaluated; want the turn's own (< 40) after the tools were prefilled", n, r1.PromptTokens)
	}
	if err := tc.Prefill(ctx, "And off again", tools); err != nil {
		t.Fatal(err)
	}
	r2, err := tc.SendTools(ctx, "And off again", tools, emit)
	if err != nil {
		t.Fatal(err)
	}
	if n := r2.PromptTokens - r2.ReusedTokens; n != 0 {
		t.Errorf("prefilled turn: %d of %d prompt tokens evaluated, want none", n, r2.PromptTokens)
	}
	t.Logf("first turn %d/%d evaluated, prefilled turn %d/%d", r1.PromptTokens-r1.ReusedTokens, r1.PromptTokens, r2.PromptTokens-r2.ReusedTokens, r2.PromptTokens)
}
