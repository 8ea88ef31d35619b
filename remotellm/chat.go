package remotellm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/shared"
)

// ErrUnavailable is wrapped by every error that means the server could not answer this turn
// (unreachable, too slow, a broken or garbled stream); another model can answer instead.
var ErrUnavailable = errors.New("the language model server is unavailable")

// Options configure a Client.
type Options struct {
	Endpoint      string        // base URL of the OpenAI-compatible API, e.g. http://edge-1:8080/v1
	Model         string        // model name the server knows ("" = the server's default)
	Key           string        // API key ("" = none)
	Name          string        // what the person calls the server, e.g. edge-1 ("" = the endpoint's host)
	CAFile        string        // PEM certificates trusted for https besides the system's
	AllowInternet bool          // accept endpoints outside loopback and private LAN ranges
	FirstToken    time.Duration // longest wait for the reply's first piece, and for each next one (0 = 10 s)
	MaxTokens     int           // longest reply (0 = the server's default)
	Temperature   float64       // sampling temperature (negative = the server's default)
}

// Tool is a function the model may call (same shape as llm.Tool).
type Tool struct {
	Name, Description string
	Parameters        json.RawMessage // JSON Schema of the arguments
}

// ToolCall is a call the model made: Arguments is a JSON object (same shape as llm.ToolCall).
type ToolCall struct {
	ID, Name  string
	Arguments json.RawMessage
}

// ToolResult answers a ToolCall (same shape as llm.ToolResult).
type ToolResult struct {
	CallID, Name, Content string
}

// Timings are the server's own measurements of a reply, when it reports them (llama-server's
// "timings"); zero otherwise.
type Timings struct {
	PromptTokens int
	Prompt       time.Duration // prompt evaluation on the server
	Predicted    int
	Generation   time.Duration
	CachedTokens int
}

// Reply is a finished (or interrupted) answer.
type Reply struct {
	Text        string
	ToolCalls   []ToolCall
	Tokens      int           // pieces streamed (or the server's count when it gives one)
	FirstPiece  time.Duration // from sending the request to the first piece of the reply
	Server      Timings
	Interrupted bool // ctx was done or emit failed
	// CutShort says the server stopped at the token limit (finish_reason "length"), not at
	// the reply's end.
	CutShort bool
}

// Client is one language model server.
type Client struct {
	opts   Options
	name   string
	client openai.Client
}

// New checks the endpoint and prepares a client; it does not contact the server.
func New(ctx context.Context, o Options) (*Client, error) {
	u, err := CheckEndpoint(ctx, o.Endpoint, o.AllowInternet)
	if err != nil {
		return nil, err
	}
	hc, err := httpClient(o.CAFile)
	if err != nil {
		return nil, err
	}
	if o.FirstToken <= 0 {
		o.FirstToken = 10 * time.Second
	}
	name := o.Name
	if name == "" {
		name = u.Hostname()
	}
	ro := []option.RequestOption{option.WithBaseURL(strings.TrimSuffix(o.Endpoint, "/") + "/"),
		option.WithHTTPClient(hc), option.WithMaxRetries(0), option.WithAPIKey(o.Key)}
	if o.Key == "" {
		ro = append(ro, option.WithHeaderDel("Authorization"))
	}
	return &Client{opts: o, name: name, client: openai.NewClient(ro...)}, nil
}

// Name is the server's name as the person sees it (where an answer was computed).
func (c *Client) Name() string { return c.name }

// Message is one message of a conversation.
type message struct {
	role      string // system, user, assistant, tool
	content   string
	toolCalls []ToolCall
	callID    string
}

// Chat is one conversation, kept on this side. Its methods may be called from any goroutine;
// Reset does not wait for a Send in progress.
type Chat struct {
	c   *Client
	sys string

	mu      sync.Mutex
	history []message
	epoch   int // bumped by Reset: a Send that began before does not add its turn
}

// NewChat starts a conversation with a system prompt.
func (c *Client) NewChat(system string) *Chat { return &Chat{c: c, sys: system} }

// Reset forgets the conversation.
func (ch *Chat) Reset() {
	ch.mu.Lock()
	ch.history, ch.epoch = nil, ch.epoch+1
	ch.mu.Unlock()
}

// Send adds the user's message and streams the reply's pieces to emit. tools are offered for
// this turn. On an error wrapping ErrUnavailable the turn is not added to the conversation.
func (ch *Chat) Send(ctx context.Context, user string, tools []Tool, emit func(string) error) (Reply, error) {
	return ch.send(ctx, []message{{role: "user", content: user}}, tools, emit)
}

// SendToolResults answers the last reply's tool calls and streams the reply that follows.
func (ch *Chat) SendToolResults(ctx context.Context, results []ToolResult, tools []Tool, emit func(string) error) (Reply, error) {
	ch.mu.Lock()
	n := len(ch.history)
	ok := n > 0 && len(ch.history[n-1].toolCalls) > 0
	ch.mu.Unlock()
	if !ok || len(results) == 0 {
		return Reply{}, errors.New("remotellm: no tool call to answer")
	}
	msgs := make([]message, len(results))
	for i, r := range results {
		msgs[i] = message{role: "tool", content: r.Content, callID: r.CallID}
	}
	return ch.send(ctx, msgs, tools, emit)
}

func (ch *Chat) send(ctx context.Context, add []message, tools []Tool, emit func(string) error) (Reply, error) {
	ch.mu.Lock()
	epoch := ch.epoch
	conv := append(append([]message{}, ch.history...), add...)
	ch.mu.Unlock()

	rep, err := ch.c.stream(ctx, ch.c.params(ch.sys, conv, tools), ch.c.opts.FirstToken, emit)
	if err != nil && !rep.Interrupted {
		return rep, err
	}
	ch.mu.Lock()
	if ch.epoch == epoch {
		ch.history = append(conv, message{role: "assistant", content: rep.Text, toolCalls: rep.ToolCalls})
	}
	ch.mu.Unlock()
	return rep, err
}

func (c *Client) params(system string, conv []message, tools []Tool) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{Model: c.opts.Model}
	if system != "" {
		p.Messages = append(p.Messages, openai.SystemMessage(system))
	}
	for _, m := range conv {
		switch m.role {
		case "user":
			p.Messages = append(p.Messages, openai.UserMessage(m.content))
		case "tool":
			p.Messages = append(p.Messages, openai.ToolMessage(m.content, m.callID))
		case "assistant":
			a := openai.ChatCompletionAssistantMessageParam{}
			if m.content != "" || len(m.toolCalls) == 0 {
				a.Content.OfString = param.NewOpt(m.content)
			}
			for _, tc := range m.toolCalls {
				a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{ID: tc.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: string(tc.Arguments)}}})
			}
			p.Messages = append(p.Messages, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		}
	}
	for _, t := range tools {
		var schema map[string]any
		if len(t.Parameters) > 0 {
			_ = json.Unmarshal(t.Parameters, &schema)
		}
		fd := shared.FunctionDefinitionParam{Name: t.Name, Parameters: schema}
		if t.Description != "" {
			fd.Description = param.NewOpt(t.Description)
		}
		p.Tools = append(p.Tools, openai.ChatCompletionFunctionTool(fd))
	}
	if c.opts.MaxTokens > 0 {
		p.MaxTokens = param.NewOpt(int64(c.opts.MaxTokens))
	}
	if c.opts.Temperature >= 0 {
		p.Temperature = param.NewOpt(c.opts.Temperature)
	}
	return p
}

// stream sends one request and reads its event stream. A watchdog cancels the request when
// the next piece is later than FirstToken (or ctx is done): cancelling the request's context
// closes its connection, which ends the blocked read at once.
func (c *Client) stream(ctx context.Context, p openai.ChatCompletionNewParams, wait time.Duration, emit func(string) error) (Reply, error) {
	var rep Reply
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	errStall := fmt.Errorf("%w: no reply from %s within %v", ErrUnavailable, c.name, wait)
	watchdog := time.AfterFunc(wait, func() { cancel(errStall) })
	defer watchdog.Stop()

	start := time.Now()
	// A kept-alive connection the server closes just as this request goes out ends in EOF
	// before any answer; Go's transport sends a request again on a new connection in that case
	// only when it is marked safe to repeat. It is: the server has not seen it.
	s := c.client.Chat.Completions.NewStreaming(rctx, p, option.WithHeader("Idempotency-Key", requestID()))
	defer s.Close()
	var text strings.Builder
	calls := map[int64]*ToolCall{}
	var order []int64
	var args = map[int64]*strings.Builder{}
	finished := false
	for s.Next() {
		watchdog.Reset(wait)
		ch := s.Current()
		// llama-server's own measurements come with the last chunk, outside the OpenAI schema.
		if raw := ch.RawJSON(); strings.Contains(raw, `"timings"`) {
			var x struct{ Timings json.RawMessage }
			if json.Unmarshal([]byte(raw), &x) == nil && len(x.Timings) > 0 {
				rep.Server = parseTimings(string(x.Timings))
			}
		}
		if ch.Usage.CompletionTokens > 0 {
			rep.Tokens = int(ch.Usage.CompletionTokens)
		}
		for _, choice := range ch.Choices {
			d := choice.Delta
			for _, tc := range d.ToolCalls {
				call, ok := calls[tc.Index]
				if !ok {
					call = &ToolCall{}
					calls[tc.Index], args[tc.Index] = call, &strings.Builder{}
					order = append(order, tc.Index)
				}
				if tc.ID != "" {
					call.ID = tc.ID
				}
				if tc.Function.Name != "" {
					call.Name += tc.Function.Name
				}
				args[tc.Index].WriteString(tc.Function.Arguments)
				if rep.FirstPiece == 0 {
					rep.FirstPiece = time.Since(start)
				}
			}
			if d.Content != "" {
				if ctx.Err() != nil {
					// A stop: nothing more reaches the speaker, not even a piece already read.
					rep.Text, rep.Interrupted = text.String(), true
					return rep, ctx.Err()
				}
				if rep.FirstPiece == 0 {
					rep.FirstPiece = time.Since(start)
				}
				text.WriteString(d.Content)
				rep.Tokens++
				if err := emit(d.Content); err != nil {
					rep.Text, rep.Interrupted = text.String(), true
					return rep, err
				}
			}
			if choice.FinishReason != "" {
				finished = true
				rep.CutShort = choice.FinishReason == "length"
			}
		}
	}
	rep.Text = text.String()
	for _, i := range order {
		tc := calls[i]
		tc.Arguments = json.RawMessage(args[i].String())
		if !json.Valid(tc.Arguments) {
			return rep, fmt.Errorf("%w: %s sent a tool call with arguments that are not JSON", ErrUnavailable, c.name)
		}
		rep.ToolCalls = append(rep.ToolCalls, *tc)
	}
	err := s.Err()
	switch {
	case ctx.Err() != nil:
		rep.Interrupted = true
		return rep, ctx.Err()
	case context.Cause(rctx) == errStall:
		return rep, errStall
	case err != nil:
		return rep, fmt.Errorf("%w: %s: %w", ErrUnavailable, c.name, err)
	case !finished:
		// The connection closed before the server said the reply was complete.
		return rep, fmt.Errorf("%w: %s closed the reply before its end", ErrUnavailable, c.name)
	}
	return rep, nil
}

func parseTimings(raw string) Timings {
	var t struct {
		PromptN     int     `json:"prompt_n"`
		PromptMS    float64 `json:"prompt_ms"`
		PredictedN  int     `json:"predicted_n"`
		PredictedMS float64 `json:"predicted_ms"`
		CacheN      int     `json:"cache_n"`
	}
	if json.Unmarshal([]byte(raw), &t) != nil {
		return Timings{}
	}
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	return Timings{PromptTokens: t.PromptN, Prompt: ms(t.PromptMS), Predicted: t.PredictedN, Generation: ms(t.PredictedMS), CachedTokens: t.CacheN}
}

// StructuredOptions tune a Structured request.
type StructuredOptions struct {
	MaxTokens   int     // longest reply (0 = the client's MaxTokens)
	Temperature float64 // sampling temperature (negative = the client's)
	Seed        int64   // the server's sampling seed (0 = none sent)
	// Wait is the longest wait for the first piece and each next one (0 = the client's
	// FirstToken): a long prompt, such as a transcript, takes the server a while to read.
	Wait time.Duration
}

// Structured asks for one reply outside any conversation, as one JSON value valid under
// schema (a JSON Schema): it is sent as the request's response_format of type json_schema,
// which llama-server (and vLLM) turn into a grammar the model cannot leave. The reply is
// not checked here.
func (c *Client) Structured(ctx context.Context, system, user, schema string, o StructuredOptions) (Reply, error) {
	if !json.Valid([]byte(schema)) {
		return Reply{}, errors.New("remotellm: the schema is not JSON")
	}
	p := c.params(system, []message{{role: "user", content: user}}, nil)
	p.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
		JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "reply", Schema: json.RawMessage(schema), Strict: param.NewOpt(true)}}}
	if o.MaxTokens > 0 {
		p.MaxTokens = param.NewOpt(int64(o.MaxTokens))
	}
	if o.Temperature >= 0 {
		p.Temperature = param.NewOpt(o.Temperature)
	}
	if o.Seed != 0 {
		p.Seed = param.NewOpt(o.Seed)
	}
	wait := o.Wait
	if wait <= 0 {
		wait = c.opts.FirstToken
	}
	return c.stream(ctx, p, wait, func(string) error { return nil })
}

// requestID is a fresh random key for one request.
func requestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
