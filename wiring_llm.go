package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hark/app"
	"hark/llm"
	"hark/models"
)

// The language model: llm adapted to app.Brain and app.Chat.

// brain adapts *llm.Model: one llm.Chat per conversation, so each turn evaluates only its own
// tokens (the rest stays in the KV cache) and the chat template comes from the model file.
type brain struct {
	m   *llm.Model
	gen llm.GenOptions
}

func (s *setup) loadBrain() func(context.Context, func(float64)) (app.Brain, error) {
	if s.cfg.LLM.Backend == "openai" {
		return s.loadRemoteBrain()
	}
	ref := s.cfg.Models.LLM
	opts := llm.Options{ContextSize: s.cfg.Performance.ContextSize, Threads: s.threads()}
	gen := llm.DefaultGenOptions()
	gen.MaxTokens, gen.Temperature = s.cfg.Assistant.MaxTokens, float32(s.cfg.Assistant.Temperature)
	return func(ctx context.Context, progress func(float64)) (app.Brain, error) {
		path, err := s.modelPath(models.LLM, ref)
		if err != nil {
			return nil, err
		}
		opts := opts
		opts.Progress = progress
		m, err := llm.Load(path, opts)
		if err != nil {
			return nil, app.Explain(err, "The language model could not be loaded",
				"It must be a GGUF chat model for llama.cpp; choose another file in Settings.")
		}
		return &brain{m: m, gen: gen}, nil
	}
}

func (b *brain) NewChat(system string) (app.Chat, error) {
	c, err := b.m.NewChat(system)
	if err != nil {
		return nil, app.Explain(err, "The language model could not start a conversation",
			"Shorten the system prompt in Settings, or raise performance.context_size.")
	}
	ch := &chat{c: c, gen: b.gen}
	if b.m.Info().TemplateFamily != "plain" {
		return toolChat{ch}, nil // the chat layer can offer tools; a plain completion model just chats
	}
	return ch, nil
}

func (b *brain) Close() error { return b.m.Close() }

// chat adapts *llm.Chat. app calls Reset right after cancelling a turn whose Send may still be
// finishing, and must not wait for it; llm.Chat.Reset would. So Reset only marks the
// conversation for forgetting and forgets it in the background as soon as the Send is done
// (a kiosk's idle wipe must not leave the conversation in memory until the next question);
// a Send that comes first forgets it before it starts. mu orders the two.
type chat struct {
	c       *llm.Chat
	gen     llm.GenOptions
	mu      sync.Mutex
	pending atomic.Bool
}

func (c *chat) forget() {
	if c.pending.Swap(false) {
		c.c.Reset()
	}
}

// Send's Compute is the engine's prompt evaluation and generation minus the time spent in emit
// (the pipeline's own work: events, the window), so the pipeline's overhead is not hidden in
// the engine's figure.
func (c *chat) Send(ctx context.Context, user string, emit func(string) error) (app.Reply, error) {
	return c.run(ctx, emit, func(emit func(string) error) (llm.Reply, error) { return c.c.Send(ctx, user, c.gen, emit) })
}

// run makes one llm call (a question, or tool results) and adapts its reply.
func (c *chat) run(ctx context.Context, emit func(string) error, call func(emit func(string) error) (llm.Reply, error)) (app.Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forget()
	var inEmit time.Duration
	rep, err := call(func(p string) error {
		t := time.Now()
		err := emit(p)
		inEmit += time.Since(t)
		return err
	})
	st := rep.Stats
	out := app.Reply{Text: strings.TrimSpace(rep.Text), Tokens: st.GeneratedTokens,
		Compute: max(0, st.PromptEval+st.Generation-inEmit), Interrupted: rep.Interrupted || ctx.Err() != nil,
		PromptTokens: st.PromptTokens, ReusedTokens: st.ReusedTokens}
	for _, tc := range rep.ToolCalls {
		out.ToolCalls = append(out.ToolCalls, app.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
	}
	if errors.Is(err, llm.ErrPromptTooLong) {
		err = app.Explain(err, "The question does not fit in the language model's context",
			"Ask something shorter, start a new conversation (Ctrl+N), or raise performance.context_size.")
	}
	return out, err
}

// Prefill evaluates the turn's prompt ahead of Send or SendTools (speculative end of turn),
// or with user "" the system prompt and tools a new conversation starts with.
func (c *chat) Prefill(ctx context.Context, user string, tools []app.Tool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forget()
	g := c.gen
	if len(tools) > 0 {
		g.Tools = llmTools(tools)
	}
	_, err := c.c.Prefill(ctx, user, g)
	return err
}

func (c *chat) Reset() {
	c.pending.Store(true)
	go func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.forget()
	}()
}
