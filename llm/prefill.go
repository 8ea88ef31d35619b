package llm

import (
	"context"
	"fmt"
)

// Prefill evaluates the conversation with the user's message added, laid out exactly as
// Send(ctx, user, g, ...) will lay it out, without generating anything and without changing
// the conversation: a Send of the same message that follows evaluates only the prompt's last
// token (whose logits start the reply). This is speculative end of turn's head start: the
// prompt is evaluated while the person's trailing silence is still being confirmed. If the
// message turns out different (the person went on speaking), nothing needs undoing: the next
// Send keeps the cache up to where the two prompts agree (the conversation so far) and
// evaluates from there. It returns the number of tokens it evaluated.
//
// Prefill does nothing (0, nil) when the message would make older turns drop out of the
// window, since that moves the cache; and it does not take tools (Send with tools renders
// them into the prompt).
func (c *Chat) Prefill(ctx context.Context, user string, g GenOptions) (int, error) {
	if len(g.Tools) > 0 {
		return 0, fmt.Errorf("%w: Prefill takes no tools", ErrBadOptions)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.m
	if err := m.acquire(ctx); err != nil {
		return 0, err
	}
	defer m.release()
	c.tools = nil // as Send sets it for a turn without tools
	p, err := c.plan([]Message{{Role: RoleUser, Content: user}})
	if err != nil {
		return 0, err
	}
	nCtx := m.x.nCtx()
	reserve := g.MaxTokens
	if reserve == 0 {
		reserve = nCtx / 4
	}
	reserve = min(reserve, nCtx/2)
	want := p.tokens()
	if len(want) > nCtx-reserve || len(want) < 2 {
		return 0, nil
	}
	want = want[:len(want)-1]
	reused, err := m.syncKV(ctx, want)
	return len(want) - reused, err
}
