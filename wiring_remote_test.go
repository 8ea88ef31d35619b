package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hark/app"
	"hark/internal/testserver"
	"hark/remotellm"
)

// localChat stands for the model on this device.
type localChat struct{ sends int }

func (c *localChat) Send(ctx context.Context, user string, emit func(string) error) (app.Reply, error) {
	c.sends++
	emit("local answer")
	return app.Reply{Text: "local answer"}, nil
}
func (c *localChat) Reset() {}

type localBrain struct{ c *localChat }

func (b localBrain) NewChat(string) (app.Chat, error) { return b.c, nil }

func newRemoteBrain(t *testing.T, endpoint string, firstToken time.Duration, local *localChat) (*remoteBrain, *time.Time) {
	t.Helper()
	c, err := remotellm.New(context.Background(), remotellm.Options{Endpoint: endpoint, Name: "edge-1", FirstToken: firstToken, MaxTokens: 1500, Temperature: 0})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	b := &remoteBrain{client: c, now: func() time.Time { return now }}
	if local != nil {
		b.local = localBrain{local}
	}
	return b, &now
}

// A real llama-server answers; stopped mid-reply, the turn is answered on this device and
// says so; the server is left alone until its backoff has passed, then tried again.
func TestRemoteBrainFallsBackWhenTheServerStops(t *testing.T) {
	srv := testserver.Start(t)
	local := &localChat{}
	b, now := newRemoteBrain(t, srv.Endpoint, 5*time.Second, local)
	chat, err := b.NewChat("")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := chat.Send(context.Background(), "Once upon a time", func(string) error { return nil })
	if err != nil || rep.Origin != (app.Origin{On: app.ComputedServer, Server: "edge-1"}) || rep.Fallback != nil || rep.Text == "" || local.sends != 0 {
		t.Fatalf("first turn: %+v, %v: want it answered on edge-1", rep, err)
	}
	n := 0
	var pieces strings.Builder
	rep, err = chat.Send(context.Background(), "Tell a long story", func(p string) error {
		pieces.WriteString(p)
		if n++; n == 2 {
			srv.Stop()
		}
		return nil
	})
	if err != nil || rep.Origin.On != app.ComputedFallback || rep.Origin.Server != "edge-1" || rep.Origin.Why == "" || rep.Fallback == nil || rep.Text != "local answer" || local.sends != 1 {
		t.Fatalf("turn cut by the server's end: %+v, %v: want the local answer with the reason", rep, err)
	}
	// Within the backoff the server is not tried.
	rep, _ = chat.Send(context.Background(), "Hello", func(string) error { return nil })
	if local.sends != 2 || rep.Fallback == nil || !strings.Contains(rep.Fallback.Error(), "again in") {
		t.Fatalf("during the backoff: %+v (local sends %d)", rep, local.sends)
	}
	// After it, it is tried again (still dead: unreachable) and the backoff doubles.
	*now = now.Add(remoteBackoffMin)
	rep, _ = chat.Send(context.Background(), "Hello", func(string) error { return nil })
	if local.sends != 3 || b.failures != 2 || b.retryAt.Sub(*now) != 2*remoteBackoffMin {
		t.Fatalf("after the backoff: failures %d, retry in %v: want 2, %v", b.failures, b.retryAt.Sub(*now), 2*remoteBackoffMin)
	}
}

// A server slower than first_token_timeout: the local model answers; without a local model
// the turn fails with an error worded for the person.
func TestRemoteBrainSlowServer(t *testing.T) {
	stop := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(stop)
	local := &localChat{}
	b, _ := newRemoteBrain(t, slow.URL+"/v1", 200*time.Millisecond, local)
	chat, _ := b.NewChat("")
	rep, err := chat.Send(context.Background(), "Hi", func(string) error { return nil })
	if err != nil || rep.Fallback == nil || rep.Text != "local answer" {
		t.Fatalf("%+v, %v: want the local answer", rep, err)
	}
	b2, _ := newRemoteBrain(t, slow.URL+"/v1", 200*time.Millisecond, nil)
	chat2, _ := b2.NewChat("")
	if _, err := chat2.Send(context.Background(), "Hi", func(string) error { return nil }); err == nil || app.Hint(err) == "" {
		t.Fatalf("err %v: want an error with a hint", err)
	}
}
