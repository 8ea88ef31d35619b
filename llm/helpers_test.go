package llm

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"hark/internal/testmodels"
)

// Tests run llama.cpp with one thread: the test machine is shared and small, and with more
// threads than free cores ggml's workers spin waiting for each other.
func load(t testing.TB, path string, o Options) *Model {
	t.Helper()
	if o.Threads == 0 {
		o.Threads = 1
	}
	if o.ContextSize == 0 {
		o.ContextSize = 512
	}
	m, err := Load(path, o)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func stories(t testing.TB) *Model {
	t.Helper()
	return load(t, testmodels.Shared(t, "stories260K.gguf"), Options{})
}

func chatML(t testing.TB, o Options) *Model {
	t.Helper()
	return load(t, testmodels.Llama(t, testmodels.ChatMLLlama()), o)
}

// pieces collects what a request streams and checks every piece is non-empty valid UTF-8.
type pieces struct {
	t    testing.TB
	list []string
}

func (p *pieces) emit(s string) error {
	if s == "" || !utf8.ValidString(s) {
		p.t.Errorf("emitted piece %q is empty or not valid UTF-8", s)
	}
	p.list = append(p.list, s)
	return nil
}

func (p *pieces) text() string { return strings.Join(p.list, "") }

func send(t testing.TB, c *Chat, msg string, g GenOptions) Reply {
	t.Helper()
	p := &pieces{t: t}
	r, err := c.Send(context.Background(), msg, g, p.emit)
	if err != nil {
		t.Fatalf("Send(%q): %v", msg, err)
	}
	if p.text() != r.Text {
		t.Fatalf("streamed pieces %q do not add up to the reply %q", p.list, r.Text)
	}
	return r
}

func complete(t testing.TB, m *Model, prompt string, g GenOptions) (Reply, []string) {
	t.Helper()
	p := &pieces{t: t}
	r, err := m.Complete(context.Background(), prompt, g, p.emit)
	if err != nil {
		t.Fatalf("Complete(%q): %v", prompt, err)
	}
	if p.text() != r.Text {
		t.Fatalf("streamed pieces %q do not add up to the text %q", p.list, r.Text)
	}
	return r, p.list
}

// tokens tokenizes text as a whole prompt would be (BOS added, markup parsed).
func (m *Model) testTokens(t testing.TB, text string, addSpecial bool) []token {
	t.Helper()
	toks, err := m.voc.tokenize(text, addSpecial, true)
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

// exclusive runs f holding the model's turn (for looking at the KV cache in tests).
func (m *Model) exclusive(f func()) {
	if err := m.acquire(context.Background()); err != nil {
		panic(err)
	}
	defer m.release()
	f()
}

// countdown is a context that reports cancellation from the n-th call of Err on, so tests can
// cancel at an exact point of a request (between two prompt batches) without timing.
type countdown struct {
	context.Context
	n    int
	done chan struct{}
}

func newCountdown(n int) *countdown {
	return &countdown{Context: context.Background(), n: n, done: make(chan struct{})}
}

func (c *countdown) Err() error {
	c.n--
	if c.n <= 0 {
		select {
		case <-c.done:
		default:
			close(c.done)
		}
		return context.Canceled
	}
	return nil
}

func (c *countdown) Done() <-chan struct{} { return c.done }
