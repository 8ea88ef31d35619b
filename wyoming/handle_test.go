package wyoming_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"hark/wyoming"
)

// fakeHandler answers "echo: TEXT (CONVERSATION)"; "fail" fails, "unknown" is not handled
// and "slow" waits for its context.
type fakeHandler struct {
	mu   sync.Mutex
	reqs []wyoming.HandleRequest
}

func (f *fakeHandler) Handle(ctx context.Context, req wyoming.HandleRequest) (wyoming.HandleResult, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	switch req.Text {
	case "fail":
		return wyoming.HandleResult{}, errors.New("the language model could not answer")
	case "unknown":
		return wyoming.HandleResult{Text: "I can't do that yet."}, nil
	case "slow":
		<-ctx.Done()
		return wyoming.HandleResult{}, ctx.Err()
	}
	return wyoming.HandleResult{Text: "echo: " + req.Text + " (" + req.Conversation + ")", Handled: true}, nil
}

func (c *client) handled(want string) wyoming.HandledData {
	c.t.Helper()
	e := c.read()
	var d wyoming.HandledData
	if e.Type != want || e.Decode(&d) != nil {
		c.t.Fatalf("got %s %s, want %s", e.Type, e.Data, want)
	}
	return d
}

func TestHandle(t *testing.T) {
	h := &fakeHandler{}
	addr := start(t, &wyoming.Server{Handler: h, HandleTimeout: 300 * time.Millisecond, MaxQuestion: 100,
		Info: wyoming.Info{Handle: []wyoming.HandleProgram{{Name: "hark", Installed: true, Models: []wyoming.Model{{Name: "hark", Languages: []string{"en"}}}}}}})
	c := dial(t, addr)

	c.send(wyoming.TypeDescribe, nil, nil)
	var info wyoming.Info
	if e := c.read(); e.Type != wyoming.TypeInfo || e.Decode(&info) != nil || len(info.Handle) != 1 || info.Handle[0].Name != "hark" {
		t.Fatalf("info = %s", e.Data)
	}

	ctxJSON := json.RawMessage(`{"conversation_id":"abc"}`)
	for _, tc := range []struct {
		in       wyoming.TranscriptIn
		wantType string
		wantText string
	}{
		{wyoming.TranscriptIn{Text: "what time is it", Language: "en"}, wyoming.TypeHandled, "echo: what time is it (connection "},
		{wyoming.TranscriptIn{Text: "and now", Context: ctxJSON}, wyoming.TypeHandled, "echo: and now (conversation abc)"},
		{wyoming.TranscriptIn{Text: "unknown"}, wyoming.TypeNotHandled, "I can't do that yet."},
		{wyoming.TranscriptIn{Text: "fail"}, wyoming.TypeNotHandled, "the language model could not answer"},
		{wyoming.TranscriptIn{Text: "slow"}, wyoming.TypeNotHandled, "no answer within 300ms"},
		{wyoming.TranscriptIn{Text: "   "}, wyoming.TypeNotHandled, "the transcript is empty"},
		{wyoming.TranscriptIn{Text: strings.Repeat("x", 101)}, wyoming.TypeNotHandled, "Hark answers at most 100"},
	} {
		c.send(wyoming.TypeTranscript, tc.in, nil)
		d := c.handled(tc.wantType)
		if !strings.Contains(d.Text, tc.wantText) {
			t.Errorf("%q: %s %q, want it to contain %q", tc.in.Text, tc.wantType, d.Text, tc.wantText)
		}
		if len(tc.in.Context) > 0 && string(d.Context) != string(tc.in.Context) {
			t.Errorf("%q: context %s, want %s back", tc.in.Text, d.Context, tc.in.Context)
		}
	}
	if h.reqs[0].Language != "en" {
		t.Errorf("language %q, want en", h.reqs[0].Language)
	}
	// The connection still works after all that.
	c.send(wyoming.TypePing, nil, nil)
	if e := c.read(); e.Type != wyoming.TypePong {
		t.Errorf("after the requests: %s", e.Type)
	}
	c.send(wyoming.TypeTranscript, map[string]any{"text": 5}, nil)
	c.expectError(wyoming.CodeBadRequest)
}

// A server without the handle service says so, and a client that hangs up mid-answer stops
// the answer.
func TestHandleUnsupportedAndHangUp(t *testing.T) {
	c := dial(t, start(t, &wyoming.Server{ASR: fakeASR{}}))
	c.send(wyoming.TypeTranscript, wyoming.TranscriptIn{Text: "hello"}, nil)
	c.expectError(wyoming.CodeUnsupported)

	stopped := make(chan error, 1)
	h := handlerFunc(func(ctx context.Context, req wyoming.HandleRequest) (wyoming.HandleResult, error) {
		<-ctx.Done()
		stopped <- ctx.Err()
		return wyoming.HandleResult{}, ctx.Err()
	})
	c2 := dial(t, start(t, &wyoming.Server{Handler: h}))
	c2.send(wyoming.TypeTranscript, wyoming.TranscriptIn{Text: "tell me a long story"}, nil)
	time.Sleep(100 * time.Millisecond)
	c2.c.Close()
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the answer stopped with %v, want canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the answer went on after the client hung up")
	}
}

type handlerFunc func(context.Context, wyoming.HandleRequest) (wyoming.HandleResult, error)

func (f handlerFunc) Handle(ctx context.Context, r wyoming.HandleRequest) (wyoming.HandleResult, error) {
	return f(ctx, r)
}
