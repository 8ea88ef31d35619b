package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"hark/app"
	"hark/models"
	"hark/remotellm"
)

// ---- Language model on an edge server (llm.backend = openai) ----

// remoteClient is the [llm] section's server.
func (s *setup) remoteClient(ctx context.Context) (*remotellm.Client, error) {
	lc := s.cfg.LLM
	key := ""
	if lc.APIKeyFile != "" {
		k, err := remotellm.ReadKey(lc.APIKeyFile)
		if err != nil {
			return nil, app.Explain(err, "The language model server's API key could not be read",
				"llm.api_key_file must name a file only you can read (chmod 600).")
		}
		key = k
	}
	client, err := remotellm.New(ctx, remotellm.Options{Endpoint: lc.Endpoint, Model: lc.Model, Key: key, Name: lc.Name,
		CAFile: lc.CAFile, AllowInternet: lc.AllowInternet, FirstToken: lc.FirstToken,
		MaxTokens: s.cfg.Assistant.MaxTokens, Temperature: s.cfg.Assistant.Temperature})
	if errors.Is(err, remotellm.ErrInternet) {
		return nil, app.Explain(err, "The language model server is outside the local network",
			"Use a server on this network, or set llm.allow_internet = true if conversations may leave the building.")
	}
	if err != nil {
		return nil, app.Explain(err, "The language model server's settings are not usable", "Check llm.endpoint and llm.ca_file.")
	}
	return client, nil
}

// loadRemoteBrain answers on the configured server and, when it cannot, on the local model
// (when one is installed: models.llm resolves to a file).
func (s *setup) loadRemoteBrain() func(context.Context, func(float64)) (app.Brain, error) {
	localSetup := *s
	localSetup.cfg = s.cfg.Clone()
	localSetup.cfg.LLM.Backend = "local"
	loadLocal := localSetup.loadBrain()
	return func(ctx context.Context, progress func(float64)) (app.Brain, error) {
		client, err := s.remoteClient(ctx)
		if err != nil {
			return nil, err
		}
		b := &remoteBrain{client: client, now: time.Now}
		if _, err := s.modelPath(models.LLM, s.cfg.Models.LLM); err == nil {
			if b.local, err = loadLocal(ctx, progress); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
}

// remoteBrain answers on a server; when the server fails a turn the local brain (if any)
// answers it, and the server is left alone for a while that doubles with each failure
// (5 s up to 5 min), so a dead server does not cost every turn its first_token_timeout.
type remoteBrain struct {
	client *remotellm.Client
	local  app.Brain // nil: no local model
	now    func() time.Time

	mu       sync.Mutex
	failures int
	retryAt  time.Time
	lastErr  error
}

const (
	remoteBackoffMin = 5 * time.Second
	remoteBackoffMax = 5 * time.Minute
)

// usable says whether to try the server for this turn, or why not.
func (b *remoteBrain) usable() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures == 0 || !b.now().Before(b.retryAt) {
		return nil
	}
	return fmt.Errorf("%w (trying it again in %v)", b.lastErr, b.retryAt.Sub(b.now()).Round(time.Second))
}

func (b *remoteBrain) result(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		b.failures = 0
		return
	}
	b.failures++
	d := remoteBackoffMin << min(b.failures-1, 10)
	b.retryAt, b.lastErr = b.now().Add(min(d, remoteBackoffMax)), err
}

func (b *remoteBrain) NewChat(system string) (app.Chat, error) {
	c := &remoteChat{b: b, r: b.client.NewChat(system)}
	if b.local != nil {
		lc, err := b.local.NewChat(system)
		if err != nil {
			return nil, err
		}
		c.local = lc
	}
	return c, nil
}

func (b *remoteBrain) Close() error {
	if c, ok := b.local.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// remoteChat is one conversation on the server, with its local twin for the turns the server
// does not answer. Each side keeps the turns it answered.
type remoteChat struct {
	b         *remoteBrain
	r         *remotellm.Chat
	local     app.Chat
	lastLocal bool // the local model answered the last turn (its tool calls are its own)
}

var _ app.ToolChat = (*remoteChat)(nil)

func (c *remoteChat) Send(ctx context.Context, user string, emit func(string) error) (app.Reply, error) {
	return c.SendTools(ctx, user, nil, emit)
}

func (c *remoteChat) SendTools(ctx context.Context, user string, tools []app.Tool, emit func(string) error) (app.Reply, error) {
	return c.answer(ctx, func() (remotellm.Reply, error) { return c.r.Send(ctx, user, remoteTools(tools), emit) },
		func(local app.Chat) (app.Reply, error) {
			if tc, ok := local.(app.ToolChat); ok && len(tools) > 0 {
				return tc.SendTools(ctx, user, tools, emit)
			}
			return local.Send(ctx, user, emit)
		})
}

// SendToolResults goes to the side that made the calls: the server, or the local model when
// it answered the turn instead.
func (c *remoteChat) SendToolResults(ctx context.Context, results []app.ToolResult, tools []app.Tool, emit func(string) error) (app.Reply, error) {
	if c.lastLocal {
		tc, ok := c.local.(app.ToolChat)
		if !ok {
			return app.Reply{}, errors.New("the local model made no tool call")
		}
		return tc.SendToolResults(ctx, results, tools, emit)
	}
	rr := make([]remotellm.ToolResult, len(results))
	for i, r := range results {
		rr[i] = remotellm.ToolResult{CallID: r.CallID, Name: r.Name, Content: r.Content}
	}
	return c.answer(ctx, func() (remotellm.Reply, error) { return c.r.SendToolResults(ctx, rr, remoteTools(tools), emit) }, nil)
}

func remoteTools(tools []app.Tool) []remotellm.Tool {
	out := make([]remotellm.Tool, len(tools))
	for i, t := range tools {
		out[i] = remotellm.Tool{Name: t.Name, Description: t.Description, Parameters: t.Parameters}
	}
	return out
}

// answer asks the server, or the local model (onLocal, when there is one) when the server is
// backing off or fails this turn.
func (c *remoteChat) answer(ctx context.Context, remote func() (remotellm.Reply, error), onLocal func(app.Chat) (app.Reply, error)) (app.Reply, error) {
	why := c.b.usable()
	if why == nil {
		rep, err := remote()
		if !errors.Is(err, remotellm.ErrUnavailable) {
			c.b.result(nil)
			c.lastLocal = false
			st := rep.Server
			out := app.Reply{Text: strings.TrimSpace(rep.Text), Tokens: rep.Tokens, Compute: st.Prompt + st.Generation,
				Interrupted: rep.Interrupted || ctx.Err() != nil, PromptTokens: st.PromptTokens + st.CachedTokens,
				ReusedTokens: st.CachedTokens, Origin: app.Origin{On: app.ComputedServer, Server: c.b.client.Name()}}
			for _, tc := range rep.ToolCalls {
				out.ToolCalls = append(out.ToolCalls, app.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
			}
			return out, err
		}
		c.b.result(err)
		why = err
	}
	if c.local == nil || onLocal == nil {
		return app.Reply{}, app.Explain(why, "The language model server did not answer",
			"Check that the server ("+c.b.client.Name()+") is running, or install a local model to answer when it is not.")
	}
	c.lastLocal = true
	rep, err := onLocal(c.local)
	rep.Fallback = why
	rep.Origin = app.Origin{On: app.ComputedFallback, Server: c.b.client.Name(), Why: why.Error()}
	return rep, err
}

func (c *remoteChat) Reset() {
	c.r.Reset()
	if c.local != nil {
		c.local.Reset()
	}
}
