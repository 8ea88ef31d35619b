package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// GenOptions control one reply. The zero value generates greedily until the model ends its
// turn or the context is full; DefaultGenOptions suits conversation.
type GenOptions struct {
	// MaxTokens caps the reply; 0 = no cap (until end of turn, a stop sequence or a full context).
	MaxTokens int
	// Temperature 0 (or less) picks the most likely token every time (greedy): no randomness,
	// and TopK/TopP/MinP/Seed do not matter.
	Temperature float32
	TopK        int     // keep the K most likely tokens; 0 = off
	TopP        float32 // keep the most likely tokens up to this cumulative probability; 0 or 1 = off
	MinP        float32 // drop tokens less likely than MinP × the most likely one; 0 = off
	// RepeatPenalty > 1 discourages tokens used in the last RepeatLastN tokens; 0 or 1 = off.
	RepeatPenalty float32
	RepeatLastN   int // 0 = 64
	// Seed makes sampling reproducible: the same seed, options and conversation give the same
	// reply. 0 = a random seed (reported in Stats.Seed).
	Seed uint32
	// Stop sequences end the reply; they are not part of it.
	Stop []string
	// Grammar (GBNF, as llama.cpp's grammars/README.md describes, with a "root" rule) or
	// JSONSchema (converted to GBNF by llama.cpp) restrict what the reply can be. At most one.
	Grammar    string
	JSONSchema string
	// IgnoreEOS keeps generating through the model's end-of-turn tokens (which, like every
	// control token, are never picked): for benchmarks that need exactly MaxTokens tokens.
	IgnoreEOS bool
	// Tools are offered to the model this turn (Chat.Send, Chat.SendToolResults): they are
	// rendered in the model family's own format, and a call is constrained to its schema by
	// the grammar llama.cpp's chat layer makes (it starts when the model begins a call).
	// Calls come back in Reply.ToolCalls; answer them with Chat.SendToolResults. Not with
	// Grammar or JSONSchema.
	Tools []Tool
	// RequireTool makes the model call one of Tools (OpenAI's tool_choice "required": the
	// call's grammar applies from the first token instead of starting when the model opens a
	// call). It makes a random-weight test model call a tool, and a real one that would
	// rather chat. Only with Tools.
	RequireTool bool
}

// DefaultGenOptions returns settings suited to a spoken assistant: short, focused replies.
func DefaultGenOptions() GenOptions {
	return GenOptions{MaxTokens: 512, Temperature: 0.7, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1.1, RepeatLastN: 64}
}

// Errors of Send and Complete (besides ctx.Err() and ErrClosed).
var (
	ErrBadGrammar    = errors.New("llm: invalid grammar")
	ErrPromptTooLong = errors.New("llm: the prompt does not fit in the context")
	ErrBadOptions    = errors.New("llm: invalid generation options")
)

// StopReason says why a reply ended.
type StopReason string

const (
	StopEOS         StopReason = "eos"          // the model ended its turn
	StopSequence    StopReason = "stop"         // a stop sequence appeared
	StopMaxTokens   StopReason = "max_tokens"   // GenOptions.MaxTokens reached
	StopContextFull StopReason = "context_full" // nothing more fits and no older turn can be dropped
	StopInterrupted StopReason = "interrupted"  // the context was cancelled, emit failed, or the model was closed
)

// Reply is the result of one Send (or Complete).
type Reply struct {
	Text        string // exactly the concatenation of the pieces given to emit
	Stats       Stats
	Interrupted bool
	Stop        StopReason
	// ToolCalls are the calls the model made (with GenOptions.Tools); their syntax is never
	// part of Text.
	ToolCalls []ToolCall
	// Reasoning is the thinking text of a reasoning model (Qwen3 and the like): never emitted,
	// never in Text.
	Reasoning string
}

// Stats count the work of one reply.
type Stats struct {
	// PromptTokens is the length of the conversation the reply was written after (system
	// prompt, kept turns, the new message); ReusedTokens of them were already in the KV cache
	// and EvaluatedTokens (the rest) were computed for this reply.
	PromptTokens, ReusedTokens, EvaluatedTokens int
	// GeneratedTokens counts the reply's tokens (the end-of-turn token not included).
	GeneratedTokens int
	// PromptEval is the time spent evaluating the prompt; Generation the time from then to
	// the end of the reply (sampling, decoding, streaming).
	PromptEval, Generation time.Duration
	// DroppedTurns is the number of earlier turns (user message and reply) dropped from the
	// context to make room; ShiftedTokens the KV cache entries kept by shifting them instead
	// of evaluating them again.
	DroppedTurns, ShiftedTokens int
	Seed                        uint32
}

// PromptTokensPerSecond is the prompt evaluation speed (0 when nothing was evaluated).
func (s Stats) PromptTokensPerSecond() float64 {
	if s.EvaluatedTokens == 0 || s.PromptEval <= 0 {
		return 0
	}
	return float64(s.EvaluatedTokens) / s.PromptEval.Seconds()
}

// GenerationTokensPerSecond is the generation speed (0 when nothing was generated).
func (s Stats) GenerationTokensPerSecond() float64 {
	if s.GeneratedTokens == 0 || s.Generation <= 0 {
		return 0
	}
	return float64(s.GeneratedTokens) / s.Generation.Seconds()
}

// run is one request: options checked, sampler built.
type run struct {
	m     *Model
	g     GenOptions
	emit  func(string) error
	stops []string
	s     *sampler
	seed  uint32
	// makeRoom frees KV positions when the context is full during generation (returns how
	// many, or false when it cannot); nil = cannot.
	makeRoom func() (int, bool)
	// chat, when set, parses the reply with llama.cpp's chat layer (tool calls, thinking):
	// only content reaches emit. preserved are the tokens of the format's markup (such as
	// <tool_call>) that are part of the reply's text rather than the end of it.
	chat      *chatRender
	preserved map[token]bool
	// raw is the reply's text as generated; emitted the content given to emit; reasoning and
	// calls what the parser found.
	raw, emitted, reasoning string
	calls                   []ToolCall
	rawB, emittedB          strings.Builder // raw and emitted grow in these (appends, not copies)
	scan                    plainScan       // when the parser can be skipped (parsestream.go)
}

// prepare checks the options and builds the sampler. The caller frees r.s.
func (r *run) prepare() error {
	g := r.g
	switch {
	case g.MaxTokens < 0, g.TopK < 0, g.RepeatLastN < 0:
		return fmt.Errorf("%w: MaxTokens, TopK and RepeatLastN must not be negative", ErrBadOptions)
	case g.TopP < 0 || g.TopP > 1, g.MinP < 0 || g.MinP > 1:
		return fmt.Errorf("%w: TopP and MinP must be in [0, 1]", ErrBadOptions)
	case g.RepeatPenalty < 0:
		return fmt.Errorf("%w: RepeatPenalty must not be negative", ErrBadOptions)
	case g.Grammar != "" && g.JSONSchema != "":
		return fmt.Errorf("%w: give a grammar or a JSON schema, not both", ErrBadOptions)
	case len(g.Tools) > 0 && (g.Grammar != "" || g.JSONSchema != ""):
		return fmt.Errorf("%w: tools come with their own grammar; give no grammar or JSON schema with them", ErrBadOptions)
	}
	for _, t := range g.Tools {
		if t.Name == "" {
			return fmt.Errorf("%w: a tool without a name", ErrBadOptions)
		}
		if len(t.Parameters) > 0 && !json.Valid(t.Parameters) {
			return fmt.Errorf("%w: the parameters of tool %q are not JSON", ErrBadOptions, t.Name)
		}
	}
	grammar := g.Grammar
	if g.JSONSchema != "" {
		var err error
		if grammar, err = schemaToGrammar(g.JSONSchema); err != nil {
			return err
		}
	}
	r.seed = g.Seed
	for r.seed == 0 {
		r.seed = rand.Uint32()
	}
	lastN := g.RepeatLastN
	if lastN == 0 {
		lastN = 64
	}
	spec := samplerSpec{temp: g.Temperature, topK: g.TopK, topP: g.TopP, minP: g.MinP, repeat: g.RepeatPenalty, repeatLastN: lastN, seed: r.seed, grammar: grammar}
	if g.IgnoreEOS {
		// Every control token would end the reply; IgnoreEOS promises MaxTokens tokens.
		spec.ban = r.m.voc.filter(func(t token) bool { return r.m.voc.isControl(t) || r.m.voc.isEOG(t) })
	} else if grammar != "" || (r.chat != nil && len(g.Tools) > 0) {
		// llama.cpp's grammar matches control tokens by their text ("<s>" fits a JSON
		// string), but a control token is never content: it would end the reply mid-way.
		// The markup of tool calls (preserved tokens such as <tool_call>) is allowed.
		spec.ban = append(spec.ban, r.m.voc.filter(func(t token) bool {
			return r.m.voc.isControl(t) && !r.m.voc.isEOG(t) && !r.preserved[t]
		})...)
	}
	s, err := newSampler(r.m.voc, spec)
	if err != nil {
		return err
	}
	r.s = s
	if r.chat != nil && r.chat.Grammar != "" && len(g.Tools) > 0 {
		gs, err := r.chat.grammarSampler(r.m.voc)
		if err != nil {
			s.free()
			return err
		}
		s.grammar = gs
	}
	r.stops = append(r.stops, g.Stop...)
	return nil
}

// genResult is what generate did to the KV cache and the reply.
type genResult struct {
	reply Reply
	err   error
	// promptLen is where the reply's tokens start in m.kv (the prompt may have shifted);
	// gen are the reply's tokens kept in the KV cache (up to the end of the visible text) and
	// pending is reply text after them that is part of the reply but not in the cache.
	promptLen int
	gen       []token
	pending   string
}

// generate brings the KV cache to prompt (evaluating only what is not there yet) and writes a
// reply after it. The caller holds the model's turn.
func (r *run) generate(ctx context.Context, prompt []token, stats *Stats) (res genResult) {
	m := r.m
	if stats != nil {
		res.reply.Stats = *stats
	}
	st := &res.reply.Stats
	st.Seed = r.seed
	defer m.watch(ctx)()

	t0 := time.Now()
	reused, err := m.syncKV(ctx, prompt)
	st.PromptTokens = len(prompt)
	st.ReusedTokens = reused
	st.EvaluatedTokens = max(0, len(m.kv)-reused)
	st.PromptEval = time.Since(t0)
	if err != nil {
		res.err = m.cause(ctx, err)
		res.reply.Interrupted = true
		res.reply.Stop = StopInterrupted
		res.promptLen = len(m.kv)
		return res
	}

	t1 := time.Now()
	stream := newTextStream(r.stops)
	var (
		gen    []token
		genEnd []int // raw length of the stream after each token of gen
		piece  []byte
		nGen   int
	)
	pos := len(m.kv)
	nCtx := m.x.nCtx()
	emit := func(s string) error {
		if s == "" || r.emit == nil {
			return nil
		}
		return r.emit(s)
	}
loop:
	for {
		if err := ctx.Err(); err != nil {
			res.err, res.reply.Stop = err, StopInterrupted
			break
		}
		if m.closed.Load() {
			res.err, res.reply.Stop = ErrClosed, StopInterrupted
			break
		}
		if r.g.MaxTokens > 0 && nGen >= r.g.MaxTokens {
			res.reply.Stop = StopMaxTokens
			break
		}
		tok, err := m.x.sample(r.s)
		if err != nil {
			res.err, res.reply.Stop = fmt.Errorf("llm: sampling: %w", err), StopInterrupted
			break
		}
		if m.voc.isEOG(tok) || (m.voc.isControl(tok) && !r.preserved[tok]) {
			// Control tokens other than end-of-turn ones (a model opening a new turn itself)
			// end the reply too: their text is template markup, never part of an answer.
			res.reply.Stop = StopEOS
			break
		}
		nGen++
		if r.preserved[tok] {
			piece = m.voc.pieceSpecial(piece[:0], tok)
		} else {
			piece = m.voc.piece(piece[:0], tok)
		}
		show, stopped := stream.push(piece)
		if r.chat != nil {
			show = r.contentDelta(show, true)
		}
		if err := emit(show); err != nil {
			res.err, res.reply.Stop = err, StopInterrupted
			break
		}
		if stopped {
			res.reply.Stop = StopSequence
			break
		}
		if r.g.MaxTokens > 0 && nGen >= r.g.MaxTokens {
			res.reply.Stop = StopMaxTokens
			break // the last token needs no decode: nothing samples after it
		}
		if pos >= nCtx {
			freed, ok := 0, false
			if r.makeRoom != nil {
				freed, ok = r.makeRoom()
			}
			if !ok {
				res.reply.Stop = StopContextFull
				break
			}
			pos -= freed
		}
		m.logitsAt = -1
		switch err := m.x.decode([]token{tok}, pos); {
		case err == nil:
		case errors.Is(err, errKVFull):
			res.reply.Stop = StopContextFull
			break loop
		default:
			res.err, res.reply.Stop = m.cause(ctx, err), StopInterrupted
			break loop
		}
		m.kv = append(m.kv, tok)
		m.logitsAt = len(m.kv)
		gen = append(gen, tok)
		genEnd = append(genEnd, len(stream.raw))
		pos++
	}
	if res.reply.Stop != StopInterrupted {
		rest := stream.finish()
		if r.chat != nil {
			rest = r.contentDelta(rest, false)
		}
		if err := emit(rest); err != nil {
			res.err, res.reply.Stop = err, StopInterrupted
		}
	}
	st.Generation = time.Since(t1)
	st.GeneratedTokens = nGen
	res.reply.Text = stream.shown()
	if r.chat != nil {
		res.reply.Text, res.reply.Reasoning, res.reply.ToolCalls = r.emitted, r.reasoning, r.calls
	}
	res.reply.Interrupted = res.reply.Stop == StopInterrupted

	// Keep in the cache only the tokens inside the visible reply; the visible text after them
	// (a token cut by a stop sequence, an undecoded last token) is carried as pending text.
	keep := 0
	for keep < len(gen) && genEnd[keep] <= stream.visibleRaw {
		keep++
	}
	start := 0
	if keep > 0 {
		start = genEnd[keep-1]
	}
	if stream.visibleRaw > start {
		res.pending = string(stream.raw[start:stream.visibleRaw])
	}
	res.promptLen = len(m.kv) - len(gen)
	if keep < len(gen) {
		m.truncateKV(res.promptLen + keep)
	}
	res.gen = gen[:keep]
	return res
}

// watch raises the abort flag that ggml polls during a decode when ctx is done, until the
// returned function is called. A request id keeps a late AfterFunc of an earlier request from
// aborting a later one.
func (m *Model) watch(ctx context.Context) (stop func()) {
	m.abortMu.Lock()
	m.reqID++
	id := m.reqID
	m.x.setAbort(m.closed.Load())
	m.abortMu.Unlock()
	stopAfter := context.AfterFunc(ctx, func() {
		m.abortMu.Lock()
		if m.reqID == id {
			m.x.setAbort(true)
		}
		m.abortMu.Unlock()
	})
	return func() {
		stopAfter()
		m.abortMu.Lock()
		m.reqID++
		m.x.setAbort(m.closed.Load())
		m.abortMu.Unlock()
	}
}

// cause turns an evaluation error into what the caller should see: the context's error when
// it was cancelled, ErrClosed when the model is closing.
func (m *Model) cause(ctx context.Context, err error) error {
	if errors.Is(err, errAborted) || ctx.Err() != nil {
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case m.closed.Load():
			return ErrClosed
		}
	}
	return err
}

// syncKV makes the KV cache hold exactly want: it keeps the longest common prefix of what is
// there and evaluates the rest in batches, checking ctx between them. It returns the number of
// tokens reused. On error the cache (and m.kv) hold the prefix of want evaluated so far.
func (m *Model) syncKV(ctx context.Context, want []token) (int, error) {
	if len(want) == 0 {
		return 0, errors.New("llm: nothing to evaluate")
	}
	if len(want) > m.x.nCtx() {
		return 0, fmt.Errorf("%w: %d tokens, context %d", ErrPromptTooLong, len(want), m.x.nCtx())
	}
	p := 0
	for p < len(m.kv) && p < len(want) && m.kv[p] == want[p] {
		p++
	}
	if p == len(want) {
		if m.logitsAt == len(want) && len(m.kv) == len(want) {
			return p, nil // the last decode ended with want's last token: its logits are there
		}
		p-- // the last token is evaluated again: its logits are what the reply starts from
	}
	m.truncateKV(p)
	reused := p
	for p < len(want) {
		if err := ctx.Err(); err != nil {
			return reused, err
		}
		n := min(m.x.nBatch, len(want)-p)
		m.logitsAt = -1
		if err := m.x.decode(want[p:p+n], p); err != nil {
			// Batches that completed before an abort stay in the cache.
			kept := min(max(m.x.posMax()+1, p), p+n)
			m.kv = append(m.kv[:p], want[p:kept]...)
			m.truncateKV(kept)
			return reused, err
		}
		m.kv = append(m.kv[:p], want[p:p+n]...)
		m.logitsAt = len(m.kv) // every batch computes its last token's logits
		p += n
	}
	return reused, nil
}

// truncateKV drops cache positions >= n (everything, for memories that cannot drop a part).
func (m *Model) truncateKV(n int) {
	if n >= len(m.kv) && m.x.posMax() < n {
		return
	}
	m.logitsAt = -1
	if !m.x.removeFrom(n) {
		m.x.clear()
		m.kv = m.kv[:0]
		return
	}
	m.kv = m.kv[:min(n, len(m.kv))]
}

// useChatLayer renders the window (with the turn's tools) with llama.cpp's chat layer and,
// when the format has tool calls or thinking to take apart, switches the run to parsing the
// reply: the format's markup tokens become part of the reply's text, and prepare (called
// after) adds the tool-call grammar (lazy, with its triggers) to the sampler.
func (r *run) useChatLayer(win []Message) error {
	f := r.m.format
	if f.layer == nil {
		return nil
	}
	g := r.g
	cr, err := f.layer.applyChoice(toOAI(win), toOAITools(g.Tools), true, g.RequireTool)
	if err != nil {
		if len(g.Tools) > 0 {
			return err
		}
		return nil // rendering worked without the layer's extras; nothing to parse
	}
	if len(g.Tools) == 0 && !cr.SupportsThinking && cr.Parser == "" {
		return nil
	}
	r.chat = &cr
	r.scan = newPlainScan(&cr)
	r.preserved = map[token]bool{}
	for _, s := range cr.PreservedTokens {
		if toks, err := r.m.voc.tokenize(s, false, true); err == nil && len(toks) == 1 {
			r.preserved[toks[0]] = true
		}
	}
	for _, s := range cr.AdditionalStops {
		if s = strings.TrimSpace(s); s != "" {
			r.stops = append(r.stops, s)
		}
	}
	return nil
}
