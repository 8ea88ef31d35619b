package remotellm

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// A server may close a kept-alive connection just as the next request goes out on it (an idle
// timeout, a restart of its HTTP workers): the request is then read by nobody and the client
// sees EOF before any answer. That is not a dead server, and the turn must not fall back for
// it: the request is sent again on a new connection. This server answers the first request on
// a connection, then reads the next one and hangs up without a word.
func TestClosedKeptAliveConnectionIsRetried(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const reply = `data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}

data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

data: [DONE]

`
	conns := 0
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns++
			go func(c net.Conn) {
				defer c.Close()
				r := bufio.NewReader(c)
				for i := 0; ; i++ {
					req, err := http.ReadRequest(r)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					if i > 0 {
						return // the second request on this connection: hang up
					}
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n%s", len(reply), reply)
				}
			}(c)
		}
	}()
	c := newTestClient(t, "http://"+l.Addr().String()+"/v1", Options{Name: "edge-1"})
	ch := c.NewChat("")
	for turn := 1; turn <= 3; turn++ {
		rep, err := ch.Send(context.Background(), "Hi", nil, func(string) error { return nil })
		if err != nil || strings.TrimSpace(rep.Text) != "Hello" {
			t.Fatalf("turn %d: %q, %v: want the reply, sent again on a new connection", turn, rep.Text, err)
		}
	}
	if conns < 2 {
		t.Errorf("%d connections: the server's hang-up was never met", conns)
	}
}
