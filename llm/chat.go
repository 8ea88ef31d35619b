package llm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Chat is one conversation: a system prompt and the turns since. Its tokens stay in the
// model's KV cache between turns, so each Send evaluates only what is new (see the package
// doc). A Chat's methods may be called from any goroutine; they take turns.
type Chat struct {
	m      *Model
	mu     sync.Mutex
	system string

	history []Message // every message since NewChat/Reset, system prompt excluded
	first   int       // history[first:] is what the context window holds
	// turnLens are the number of messages of each kept turn (history[first:] in order): a
	// user's message and the reply (2), or tool results and the reply that followed them.
	turnLens []int
	// tools are the tools offered for the current turn; rendering includes them.
	tools []Tool

	// The conversation as tokens, in pieces that map onto messages: sys is the system
	// prompt's text (and BOS), turns[i] the i-th kept turn (the user's message with its markup,
	// the reply as generated, the markup closing the reply). segmented is false when the
	// template cannot be cut that way; then turns is empty and every turn is rendered whole.
	base      segment // the system prompt alone
	sys       segment // base, or the whole conversation when it is laid out flat
	turns     []segment
	segmented bool
	// prompt is the text the latest reply was generated after; pending is reply text that is
	// part of the conversation but not in the KV cache yet (see genResult).
	prompt  string
	pending string
}

type segment struct {
	toks []token
	text string // the rendered text the tokens stand for (replies as shown)
}

// NewChat starts a conversation with the given system prompt ("" for none) and evaluates the
// system prompt now, so the first Send only evaluates the user's message.
func (m *Model) NewChat(system string) (*Chat, error) {
	c := &Chat{m: m, system: system}
	if err := m.acquire(context.Background()); err != nil {
		return nil, err
	}
	defer m.release()
	if err := c.reset(); err != nil {
		return nil, err
	}
	if len(c.sys.toks) > 0 {
		if len(c.sys.toks)+16 > m.x.nCtx() {
			return nil, fmt.Errorf("%w: the system prompt has %d tokens; the context holds %d", ErrPromptTooLong, len(c.sys.toks), m.x.nCtx())
		}
		// The whole prompt is evaluated; the last token's logits are not needed yet, but
		// syncKV evaluates it anyway and a later Send reuses everything.
		if _, err := m.syncKV(context.Background(), c.sys.toks); err != nil {
			return nil, fmt.Errorf("llm: evaluating the system prompt: %w", err)
		}
	}
	return c, nil
}

// Reset starts a new conversation with the same system prompt (still in the KV cache).
func (c *Chat) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.history, c.first, c.turns, c.prompt, c.pending, c.segmented = nil, 0, nil, "", "", true
	c.turnLens, c.tools = nil, nil
	c.sys = c.base
}

// Messages returns the conversation: the system prompt (if any), then every message since
// NewChat or Reset, including turns dropped from the context window.
func (c *Chat) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Message
	if c.system != "" {
		out = append(out, Message{Role: RoleSystem, Content: c.system})
	}
	return append(out, c.history...)
}

// Dropped is the number of messages dropped from the front of the context window.
func (c *Chat) Dropped() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.first
}

func (c *Chat) sysMsgs() []Message {
	if c.system == "" {
		return nil
	}
	return []Message{{Role: RoleSystem, Content: c.system}}
}

// window returns the messages the model reads: system prompt, kept history, then extra.
func (c *Chat) window(extra ...Message) []Message {
	out := c.sysMsgs()
	out = append(out, c.history[c.first:]...)
	return append(out, extra...)
}

// render formats msgs with the model's template and the tools of the current turn.
func (c *Chat) render(msgs []Message, addAssistant bool) string {
	return c.m.format.renderTools(msgs, addAssistant, c.tools)
}

func (c *Chat) reset() error {
	c.history, c.first, c.turns, c.prompt, c.pending, c.segmented = nil, 0, nil, "", "", true
	c.turnLens = nil
	text := ""
	if c.system != "" {
		text = c.render(c.sysMsgs(), false)
	}
	toks, err := c.m.tokenizeText(text, []string{c.system}, true, noToken)
	if err != nil {
		return err
	}
	c.base = segment{toks: toks, text: text}
	c.sys = c.base
	return nil
}

// turnPlan is the conversation as it will be for one Send: the segments (with the new
// messages as the open last turn), and how many old turns were dropped to make room.
type turnPlan struct {
	c         *Chat
	msgs      []Message // the new messages: the user's, or tool results
	first     int       // history index of the first kept message
	lens      []int     // messages of each kept turn
	sys       segment
	turns     []segment // complete turns kept
	open      segment   // the new user message and the opening of the reply
	segmented bool
	dropped   int
	shifted   int
}

func (p *turnPlan) tokens() []token {
	n := len(p.sys.toks) + len(p.open.toks)
	for _, t := range p.turns {
		n += len(t.toks)
	}
	out := make([]token, 0, n)
	out = append(out, p.sys.toks...)
	for _, t := range p.turns {
		out = append(out, t.toks...)
	}
	return append(out, p.open.toks...)
}

func (p *turnPlan) window() []Message {
	out := p.c.sysMsgs()
	out = append(out, p.c.history[p.first:]...)
	return append(out, p.msgs...)
}

// contents are the user-supplied strings of the kept window (see Model.tokenizeText).
func (p *turnPlan) contents() []string {
	var out []string
	for _, m := range p.window() {
		out = append(out, m.Content)
	}
	return out
}

// Send adds the user's message, streams the reply's pieces to emit as they are produced
// (valid UTF-8; never template markup or a stop sequence), and adds the reply to the
// conversation. When ctx is cancelled (or emit fails) generation stops within one token: the
// partial reply is returned with Interrupted set, kept in the conversation marked
// Interrupted, and the error is ctx.Err() (or emit's error).
func (c *Chat) Send(ctx context.Context, user string, g GenOptions, emit func(piece string) error) (Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.send(ctx, []Message{{Role: RoleUser, Content: user}}, g, emit)
}

// SendToolResults answers the tool calls of the last reply with their results and streams
// the reply the model writes after them, as Send does.
func (c *Chat) SendToolResults(ctx context.Context, results []ToolResult, g GenOptions, emit func(piece string) error) (Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(results) == 0 {
		return Reply{}, fmt.Errorf("%w: no tool results", ErrBadOptions)
	}
	if n := len(c.history); n == 0 || len(c.history[n-1].ToolCalls) == 0 {
		return Reply{}, fmt.Errorf("%w: the last reply made no tool call", ErrBadOptions)
	}
	msgs := make([]Message, len(results))
	for i, r := range results {
		msgs[i] = Message{Role: RoleTool, Content: r.Content, ToolCallID: r.CallID, ToolName: r.Name}
	}
	return c.send(ctx, msgs, g, emit)
}

func (c *Chat) send(ctx context.Context, msgs []Message, g GenOptions, emit func(piece string) error) (Reply, error) {
	m := c.m
	if len(g.Tools) > 0 && m.format.layer == nil {
		return Reply{}, fmt.Errorf("%w: tools need a chat template (this model is driven as %s)", ErrBadOptions, m.format.name)
	}
	r := &run{m: m, g: g, emit: emit, stops: slices.Clone(m.stops)}
	c.tools = g.Tools
	// The grammar and markup do not depend on which old turns will be dropped.
	if err := r.useChatLayer(c.window(msgs...)); err != nil {
		return Reply{}, err
	}
	if err := r.prepare(); err != nil {
		return Reply{}, err
	}
	defer r.s.free()
	if err := m.acquire(ctx); err != nil {
		return Reply{}, err
	}
	defer m.release()

	p, err := c.plan(msgs)
	if err != nil {
		return Reply{}, err
	}
	nCtx := m.x.nCtx()
	reserve := g.MaxTokens
	if reserve == 0 {
		reserve = nCtx / 4
	}
	reserve = min(reserve, nCtx/2)
	if err := p.fit(nCtx - reserve); err != nil {
		return Reply{}, err
	}
	want := p.tokens()
	if len(want)+1 > nCtx {
		return Reply{}, fmt.Errorf("%w: the conversation needs %d tokens even with older turns dropped; the context holds %d", ErrPromptTooLong, len(want), nCtx)
	}
	r.makeRoom = p.makeRoom
	res := r.generate(ctx, want, &Stats{DroppedTurns: p.dropped, ShiftedTokens: p.shifted})
	res.reply.Stats.DroppedTurns, res.reply.Stats.ShiftedTokens = p.dropped, p.shifted
	c.commit(p, res)
	return res.reply, res.err
}

// plan lays out the conversation with the new message, reusing the token segments of the
// turns before it. Nothing in c changes until commit.
func (c *Chat) plan(msgs []Message) (*turnPlan, error) {
	p := &turnPlan{c: c, msgs: msgs, first: c.first, lens: slices.Clone(c.turnLens), sys: c.sys, turns: slices.Clone(c.turns), segmented: c.segmented}
	if c.segmented {
		ok, err := p.extend()
		if err != nil {
			return nil, err
		}
		if ok {
			return p, nil
		}
	}
	// The template does not extend the previous text: lay the whole window out again.
	if err := p.resegment(); err != nil {
		return nil, err
	}
	return p, nil
}

// extend appends the new user message to the segments already in the cache: the previous
// reply's closing markup goes to the last turn, the new message (and the reply's opening
// markup) becomes the open turn. It reports false when the template's output is not an
// extension of what was rendered before.
func (p *turnPlan) extend() (bool, error) {
	c, m := p.c, p.c.m
	win := c.window()
	if len(c.turns) == 0 {
		x := c.render(append(win, p.msgs...), true)
		if !strings.HasPrefix(x, c.sys.text) {
			return false, nil
		}
		return true, p.setOpen(c.pending+x[len(c.sys.text):], c.pending)
	}
	// Render the last reply as a marker to find where the reply ends and what follows it.
	marked := slices.Clone(win)
	marked[len(marked)-1].Content = replyMark
	x := c.render(append(slices.Clone(marked), p.msgs...), true)
	y := c.render(marked, false)
	i := strings.Index(x, replyMark)
	if i < 0 || !strings.HasPrefix(x[:i], c.prompt) || !strings.HasPrefix(y, x[:i+len(replyMark)]) {
		return false, nil
	}
	closing := y[i+len(replyMark):]
	rest := x[i+len(replyMark):]
	if !strings.HasPrefix(rest, closing) {
		return false, nil
	}
	last := &p.turns[len(p.turns)-1]
	closeToks, err := m.tokenizeText(c.pending+closing, []string{c.pending}, false, p.lastToken())
	if err != nil {
		return false, err
	}
	last.toks = append(slices.Clone(last.toks), closeToks...)
	last.text += closing
	return true, p.setOpen(rest[len(closing):])
}

// lastToken is the last token before the open turn.
func (p *turnPlan) lastToken() token {
	for i := len(p.turns) - 1; i >= 0; i-- {
		if n := len(p.turns[i].toks); n > 0 {
			return p.turns[i].toks[n-1]
		}
	}
	if n := len(p.sys.toks); n > 0 {
		return p.sys.toks[n-1]
	}
	return noToken
}

func (p *turnPlan) setOpen(text string, contents ...string) error {
	for _, m := range p.msgs {
		contents = append(contents, m.Content)
	}
	toks, err := p.c.m.tokenizeText(text, contents, false, p.lastToken())
	if err != nil {
		return err
	}
	p.open = segment{toks: toks, text: text}
	return nil
}

// resegment renders the kept window from scratch, one segment per turn when every rendered
// prefix extends the previous one (the usual case), else as one flat segment.
func (p *turnPlan) resegment() error {
	c, m := p.c, p.c.m
	win := p.window()
	sysN := len(c.sysMsgs())
	contents := p.contents()
	texts := []string{c.base.text}
	prev := c.base.text
	ok := true
	end := sysN
	for _, n := range p.lens {
		end += n
		r := c.render(win[:end], false)
		if !strings.HasPrefix(r, prev) {
			ok = false
			break
		}
		texts = append(texts, r[len(prev):])
		prev = r
	}
	x := c.render(win, true)
	if ok && strings.HasPrefix(x, prev) {
		p.segmented = true
		p.sys = c.base
		p.turns = nil
		for _, t := range texts[1:] {
			toks, err := m.tokenizeText(t, contents, false, p.lastToken())
			if err != nil {
				return err
			}
			p.turns = append(p.turns, segment{toks: toks, text: t})
		}
		return p.setOpen(x[len(prev):])
	}
	toks, err := m.tokenizeText(x, contents, true, noToken)
	if err != nil {
		return err
	}
	p.segmented = false
	p.sys = segment{toks: toks, text: x}
	p.turns, p.open = nil, segment{}
	return nil
}

// fit drops the oldest turns until the prompt takes at most budget tokens (or only the new
// message is left), shifting the KV cache where that keeps the rest valid.
func (p *turnPlan) fit(budget int) error {
	for len(p.tokens()) > budget && len(p.lens) > 0 {
		if p.segmented && len(p.turns) > 0 {
			if err := p.dropOldest(); err != nil {
				return err
			}
			continue
		}
		// Flat layout: drop a turn from the window and render it again.
		p.first += p.lens[0]
		p.lens = p.lens[1:]
		p.dropped++
		if err := p.resegment(); err != nil {
			return err
		}
	}
	return nil
}

// dropOldest removes the oldest kept turn. When the turn is in the KV cache right after the
// system prompt and the cache can shift, its entries are cut out and the later ones moved down
// (no re-evaluation), as llama.cpp's own context shift does: the kept segments stay as they
// were evaluated, even where the template would now render the first kept turn a little
// differently (plain text loses the space before it). Otherwise, when the remaining segments
// are not exactly what the template renders without the turn, the segments are rebuilt and
// the cache is evaluated again from the first difference.
func (p *turnPlan) dropOldest() error {
	m := p.c.m
	drop := p.turns[0]
	exact := p.separableWithout()
	p.first += p.lens[0]
	p.lens = p.lens[1:]
	p.dropped++
	p.turns = p.turns[1:]
	a := len(p.sys.toks)
	b := a + len(drop.toks)
	inCache := m.x.canShift() && len(m.kv) >= b && slices.Equal(m.kv[:a], p.sys.toks) && slices.Equal(m.kv[a:b], drop.toks)
	if !exact && !p.closeToRendering() {
		inCache = false // the rest would read as a different conversation (Gemma's folded system prompt)
	}
	switch {
	case inCache && m.x.cut(a, b):
		m.kv = append(m.kv[:a], m.kv[b:]...)
		m.logitsAt = -1
		p.shifted += len(m.kv) - a
	case inCache:
		m.truncateKV(a)
		if !exact {
			return p.resegment()
		}
	case !exact:
		return p.resegment()
	}
	return nil
}

// closeToRendering reports whether the segments differ from the template's rendering of the
// window in whitespace only (plain text's joining spaces).
func (p *turnPlan) closeToRendering() bool {
	want := p.c.render(p.window(), true)
	joined := p.sys.text
	for _, t := range p.turns {
		joined += t.text
	}
	squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
	return squash(want) == squash(joined+p.open.text)
}

// separableWithout reports whether the segments without the oldest turn are exactly what the
// template renders for the window without it.
func (p *turnPlan) separableWithout() bool {
	if !p.segmented || len(p.turns) == 0 || len(p.lens) == 0 {
		return false
	}
	win := p.window()
	sysN := len(p.c.sysMsgs())
	want := p.c.render(append(slices.Clone(win[:sysN]), win[sysN+p.lens[0]:]...), true)
	joined := p.sys.text
	for _, t := range p.turns[1:] {
		joined += t.text
	}
	return want == joined+p.open.text
}

// makeRoom is called when the context fills up during generation: it drops the oldest turn
// by a KV shift if it can, returning the number of positions freed.
func (p *turnPlan) makeRoom() (int, bool) {
	m := p.c.m
	if !m.x.canShift() || !p.segmented || len(p.turns) == 0 {
		return 0, false
	}
	a := len(p.sys.toks)
	b := a + len(p.turns[0].toks)
	if len(m.kv) < b || !slices.Equal(m.kv[:a], p.sys.toks) || !slices.Equal(m.kv[a:b], p.turns[0].toks) {
		return 0, false
	}
	before := len(m.kv)
	if err := p.dropOldest(); err != nil || len(m.kv) == before {
		return 0, false
	}
	return before - len(m.kv), true
}

// commit records the turn: the user's message and the reply join the history and the reply's
// tokens (as generated) join the segments.
func (c *Chat) commit(p *turnPlan, res genResult) {
	c.first = p.first
	c.sys = p.sys
	c.segmented = p.segmented
	c.prompt = c.render(p.window(), true)
	reply := Message{Role: RoleAssistant, Content: res.reply.Text, Interrupted: res.reply.Interrupted, ToolCalls: res.reply.ToolCalls}
	c.history = append(c.history, p.msgs...)
	c.history = append(c.history, reply)
	c.turnLens = append(p.lens, len(p.msgs)+1)
	if p.segmented {
		open := p.open
		open.toks = append(slices.Clone(open.toks), res.gen...)
		open.text += res.reply.Text
		c.turns = append(p.turns, open)
		c.pending = res.pending
	} else {
		// Flat: the conversation so far is one segment. The next turn tries to extend it.
		c.turns = nil
		c.pending = res.pending
		c.segmented = true
		c.sys.toks = append(slices.Clone(c.sys.toks), res.gen...)
		c.sys.text += res.reply.Text
	}
}
