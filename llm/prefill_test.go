package llm

import (
	"context"
	"testing"
)

// TestPrefillWithTools: with the tools prefilled after NewChat (Prefill with no message), a
// turn that offers them evaluates only its own tokens (no more than the same turn without
// tools, whose user-message markup is not prefilled), where without the prefill it evaluates
// the whole tools block; after Reset the block is still in the cache; a Prefill of the
// message with the tools leaves the Send nothing to evaluate and the same reply.
func TestPrefillWithTools(t *testing.T) {
	m := hermesModel(t)
	const system = "You control the lights."
	tools := GenOptions{Tools: []Tool{lightTool}, MaxTokens: 4, Seed: 3}
	plain := GenOptions{MaxTokens: 4, Seed: 3}
	const q1, q2, q3 = "Turn on the hall light", "And the kitchen one", "Switch everything off"

	c, err := m.NewChat(system)
	if err != nil {
		t.Fatal(err)
	}
	own3 := send(t, c, q3, plain).Stats.EvaluatedTokens
	c.Reset()
	own := send(t, c, q1, plain).Stats.EvaluatedTokens // the turn's own tokens
	c.Reset()
	cold := send(t, c, q1, tools).Stats.EvaluatedTokens // the tools block as well
	if cold <= own+20 {
		t.Fatalf("a first turn with tools evaluated %d tokens, without %d: the tools are not in the prompt?", cold, own)
	}

	// Something else in the cache (a turn without tools), then the tools prefilled.
	c.Reset()
	send(t, c, q1, plain)
	c.Reset()
	warm, err := c.Prefill(context.Background(), "", tools)
	if err != nil || warm < cold-own {
		t.Fatalf("Prefill(\"\", tools) = %d, %v; want about %d tokens (the tools block)", warm, err, cold-own)
	}
	if n, err := c.Prefill(context.Background(), "", tools); n != 0 || err != nil {
		t.Errorf("a second Prefill of the same prefix = %d, %v; want 0 (already in the cache)", n, err)
	}
	if len(c.Messages()) != 1 {
		t.Errorf("Prefill changed the conversation: %v", c.Messages())
	}
	r1 := send(t, c, q1, tools)
	if r1.Stats.EvaluatedTokens > own {
		t.Errorf("after the tools were prefilled a turn with tools evaluated %d tokens; the same turn without tools %d", r1.Stats.EvaluatedTokens, own)
	}
	want2 := send(t, c, q2, tools)

	// Another first turn, then the same second turn prefilled (speculative end of turn).
	c.Reset()
	if r := send(t, c, q3, tools); r.Stats.EvaluatedTokens > own3 {
		t.Errorf("after Reset a turn with tools evaluated %d tokens; without tools %d", r.Stats.EvaluatedTokens, own3)
	}
	n, err := c.Prefill(context.Background(), q2, tools)
	if err != nil || n == 0 {
		t.Fatalf("Prefill(%q, tools) = %d, %v", q2, n, err)
	}
	r2 := send(t, c, q2, tools)
	if r2.Stats.EvaluatedTokens != 0 || r2.Text != want2.Text || len(r2.ToolCalls) != len(want2.ToolCalls) {
		t.Errorf("after Prefill with tools: %d tokens evaluated, reply %q (%d calls); want none and %q (%d calls)",
			r2.Stats.EvaluatedTokens, r2.Text, len(r2.ToolCalls), want2.Text, len(want2.ToolCalls))
	}
	t.Logf("turn without tools: %d tokens evaluated; with tools, cold: %d, prefilled: %d (the prefill: %d)", own, cold, r1.Stats.EvaluatedTokens, warm)
}

// TestPrefillToolsWithoutChatLayer: a model driven as plain text takes no tools; Prefill
// with tools has nothing to do and says so without an error (Send would refuse them).
func TestPrefillToolsWithoutChatLayer(t *testing.T) {
	m := stories(t)
	c, err := m.NewChat("")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.Prefill(context.Background(), "hi", GenOptions{Tools: []Tool{lightTool}}); n != 0 || err != nil {
		t.Errorf("Prefill with tools on %s = %d, %v; want 0, nil", m.Info().TemplateFamily, n, err)
	}
}
