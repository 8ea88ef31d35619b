package llm

import (
	"context"
	"slices"
)

// Prefill evaluates the conversation with the user's message added, laid out exactly as
// Send(ctx, user, g, ...) will lay it out (with the tools g offers), without generating
// anything and without changing the conversation: a Send of the same message with the same
// tools that follows evaluates nothing more, and samples its reply from the logits the
// prompt's last token left (unless another request used the model in between).
// This is speculative end of turn's head start: the prompt is evaluated while the person's
// trailing silence is still being confirmed. If the message turns out different (the person
// went on speaking), nothing needs undoing: the next Send keeps the cache up to where the two
// prompts agree (the conversation so far) and evaluates from there.
//
// With user "" it evaluates only what every next turn starts with: the system prompt, the
// tools g offers (most templates render them into the system prompt, hundreds of tokens for
// a few tools) and the kept turns, so that the next Send with those tools evaluates only its
// own message. Call it after NewChat or Reset when the turns will offer tools.
//
// It returns the number of tokens it evaluated. It does nothing (0, nil) when the message
// would make older turns drop out of the window, since that moves the cache.
func (c *Chat) Prefill(ctx context.Context, user string, g GenOptions) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.m
	if len(g.Tools) > 0 && m.format.layer == nil {
		return 0, nil // Send would refuse the tools: nothing to get ready
	}
	if err := m.acquire(ctx); err != nil {
		return 0, err
	}
	defer m.release()
	c.tools = g.Tools // as Send sets it for the turn
	var want []token
	if user == "" {
		// The tokens two different messages share are the ones every message is laid out
		// after (the markup that opens a user's message included, up to where a message's
		// first letter could join a token with it).
		a, err := c.plan([]Message{{Role: RoleUser, Content: "A"}})
		if err != nil {
			return 0, err
		}
		b, err := c.plan([]Message{{Role: RoleUser, Content: "Z"}})
		if err != nil {
			return 0, err
		}
		ta, tb := a.tokens(), b.tokens()
		n := 0
		for n < len(ta) && n < len(tb) && ta[n] == tb[n] {
			n++
		}
		want = ta[:n]
	} else {
		p, err := c.plan([]Message{{Role: RoleUser, Content: user}})
		if err != nil {
			return 0, err
		}
		want = p.tokens()
	}
	nCtx := m.x.nCtx()
	reserve := g.MaxTokens
	if reserve == 0 {
		reserve = nCtx / 4
	}
	reserve = min(reserve, nCtx/2)
	if len(want) == 0 || len(want) > nCtx-reserve {
		return 0, nil
	}
	if len(m.kv) >= len(want) && slices.Equal(m.kv[:len(want)], want) {
		return 0, nil // already there (Send evaluates the last token again if its logits are gone)
	}
	reused, err := m.syncKV(ctx, want)
	return len(want) - reused, err
}
