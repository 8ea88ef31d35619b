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

// loadRemoteBrain answers on the configured server and, when it cannot, on the local model
// (when one is installed: models.llm resolves to a file).
func (s *setup) loadRemoteBrain() func(context.Context, func(float64)) (app.Brain, error) {
	lc := s.cfg.LLM
	localSetup := *s
	localSetup.cfg = s.cfg.Clone()
	localSetup.cfg.LLM.Backend = "local"
	loadLocal := localSetup.loadBrain()
	return func(ctx context.Context, progress func(float64)) (app.Brain, error) {
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
	b     *remoteBrain
	r     *remotellm.Chat
	local app.Chat
}

func (c *remoteChat) Send(ctx context.Context, user string, emit func(string) error) (app.Reply, error) {
	why := c.b.usable()
	if why == nil {
		rep, err := c.r.Send(ctx, user, nil, emit)
		if !errors.Is(err, remotellm.ErrUnavailable) {
			c.b.result(nil)
			st := rep.Server
			return app.Reply{Text: strings.TrimSpace(rep.Text), Tokens: rep.Tokens, Compute: st.Prompt + st.Generation,
				Interrupted: rep.Interrupted || ctx.Err() != nil, PromptTokens: st.PromptTokens + st.CachedTokens,
				ReusedTokens: st.CachedTokens, Where: c.b.client.Name()}, err
		}
		c.b.result(err)
		why = err
	}
	if c.local == nil {
		return app.Reply{}, app.Explain(why, "The language model server did not answer",
			"Check that the server ("+c.b.client.Name()+") is running, or install a local model to answer when it is not.")
	}
	rep, err := c.local.Send(ctx, user, emit)
	rep.Fallback = why
	return rep, err
}

func (c *remoteChat) Reset() {
	c.r.Reset()
	if c.local != nil {
		c.local.Reset()
	}
}
