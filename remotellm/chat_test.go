package remotellm

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLlamaServerStreams(t *testing.T) {
	srv := startLlamaServer(t)
	c := newTestClient(t, srv.Endpoint, Options{Name: "edge-1", Temperature: 0})
	ch := c.NewChat("You are a storyteller.")
	var pieces []string
	rep, err := ch.Send(context.Background(), "Once upon a time", nil, func(p string) error {
		pieces = append(pieces, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pieces) < 2 || strings.Join(pieces, "") != rep.Text || rep.Text == "" {
		t.Fatalf("pieces %q, text %q: want the reply streamed in several pieces", pieces, rep.Text)
	}
	if rep.Server.PromptTokens == 0 || rep.Server.Prompt <= 0 || rep.FirstPiece <= 0 {
		t.Errorf("server timings %+v, first piece %v: want llama-server's timings", rep.Server, rep.FirstPiece)
	}
	if c.Name() != "edge-1" {
		t.Errorf("name %q", c.Name())
	}
	// The conversation is kept here: the second request carries the first turn, so the server
	// evaluates a longer prompt, most of it from its cache.
	rep2, err := ch.Send(context.Background(), "And then?", nil, func(string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Server.PromptTokens+rep2.Server.CachedTokens <= rep.Server.PromptTokens+rep.Server.CachedTokens {
		t.Errorf("second prompt %+v not longer than the first %+v: the history was not sent", rep2.Server, rep.Server)
	}
	ch.Reset()
	rep3, err := ch.Send(context.Background(), "Once upon a time", nil, func(string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep3.Server.PromptTokens+rep3.Server.CachedTokens, rep.Server.PromptTokens+rep.Server.CachedTokens; got != want {
		t.Errorf("after Reset the prompt is %d tokens, want %d as the first", got, want)
	}
}

func TestLlamaServerCancel(t *testing.T) {
	srv := startLlamaServer(t)
	c := newTestClient(t, srv.Endpoint, Options{MaxTokens: 1500})
	ch := c.NewChat("")
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	rep, err := ch.Send(ctx, "Tell a long story", nil, func(string) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || !rep.Interrupted {
		t.Fatalf("err %v interrupted %v: want the turn cancelled", err, rep.Interrupted)
	}
	if n > 3 {
		t.Errorf("%d pieces emitted after cancelling at the 3rd", n-3)
	}
	// The interrupted turn stays in the conversation (as the local model keeps it), and the
	// server still answers the next one.
	if _, err := ch.Send(context.Background(), "Again", nil, func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestLlamaServerStoppedMidReply(t *testing.T) {
	srv := startLlamaServer(t)
	c := newTestClient(t, srv.Endpoint, Options{MaxTokens: 1500})
	ch := c.NewChat("")
	n := 0
	rep, err := ch.Send(context.Background(), "Tell a long story", nil, func(string) error {
		if n++; n == 2 {
			srv.Stop()
		}
		return nil
	})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %v (reply %q): want ErrUnavailable after the server died", err, rep.Text)
	}
	// Now nothing listens on the port: unreachable.
	_, err = ch.Send(context.Background(), "Hello", nil, func(string) error { return nil })
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %v: want ErrUnavailable from a stopped server", err)
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if len(ch.history) != 0 {
		t.Errorf("failed turns kept in the conversation: %d messages", len(ch.history))
	}
}

// TestLlamaServerStructured: a reply asked for under a JSON Schema (response_format
// json_schema) is, from a real llama-server with a tiny story model that knows nothing of
// JSON, one JSON value valid under the schema, with every required field; a reply stopped by
// the token limit says so.
func TestLlamaServerStructured(t *testing.T) {
	srv := startLlamaServer(t)
	c := newTestClient(t, srv.Endpoint, Options{})
	const schema = `{"type":"object","additionalProperties":false,
		"required":["subjective","plan","actions"],
		"properties":{
			"subjective":{"type":"string","maxLength":80},
			"plan":{"type":"string","maxLength":80},
			"actions":{"type":"array","maxItems":2,"items":{"type":"string","maxLength":40}}}}`
	for seed := int64(1); seed <= 3; seed++ {
		rep, err := c.Structured(context.Background(), "Write the note as JSON.", "Once upon a time a girl had a cough.", schema,
			StructuredOptions{MaxTokens: 400, Temperature: 0.8, Seed: seed, Wait: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if rep.CutShort {
			t.Fatalf("seed %d: cut short at 400 tokens: %q", seed, rep.Text)
		}
		var v struct {
			Subjective, Plan *string
			Actions          *[]string
		}
		dec := json.NewDecoder(strings.NewReader(rep.Text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil || v.Subjective == nil || v.Plan == nil || v.Actions == nil {
			t.Fatalf("seed %d: reply %q is not the schema's object (%v)", seed, rep.Text, err)
		}
		if len([]rune(*v.Subjective)) > 80 || len([]rune(*v.Plan)) > 80 || len(*v.Actions) > 2 {
			t.Errorf("seed %d: reply %q breaks the schema's limits", seed, rep.Text)
		}
	}
	rep, err := c.Structured(context.Background(), "", "Once upon a time", schema, StructuredOptions{MaxTokens: 5, Wait: 30 * time.Second})
	if err != nil || !rep.CutShort {
		t.Errorf("5 tokens: cut short %v, err %v, text %q", rep.CutShort, err, rep.Text)
	}
	if _, err := c.Structured(context.Background(), "", "x", "{not json", StructuredOptions{}); err == nil {
		t.Error("a schema that is not JSON was sent")
	}
}
