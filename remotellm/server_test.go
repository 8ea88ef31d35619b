package remotellm

import (
	"context"
	"testing"
	"time"

	"hark/internal/testserver"
)

func startLlamaServer(t testing.TB, extra ...string) *testserver.Server {
	return testserver.Start(t, extra...)
}

func newTestClient(t testing.TB, endpoint string, o Options) *Client {
	t.Helper()
	o.Endpoint = endpoint
	if o.MaxTokens == 0 {
		o.MaxTokens = 32
	}
	if o.FirstToken == 0 {
		o.FirstToken = 5 * time.Second
	}
	c, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
