package remotellm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The cases a real server cannot be made to produce on demand: garbage, stalls, a close
// before the end. A tiny HTTP server on loopback plays the broken server.
func TestBrokenServers(t *testing.T) {
	chunk := func(content string) string {
		return fmt.Sprintf(`data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":%q}}]}`+"\n\n", content)
	}
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, stop <-chan struct{})
		pieces  int // pieces emitted before the failure
	}{
		{"not an API", func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>router login</html>")
		}, 0},
		{"garbage event", func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, chunk("Hello"))
			fmt.Fprint(w, "data: {not json\n\n")
		}, 1},
		{"server error", func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
			http.Error(w, `{"error":{"message":"model not loaded"}}`, http.StatusServiceUnavailable)
		}, 0},
		{"silent", func(w http.ResponseWriter, r *http.Request, stop <-chan struct{}) {
			<-stop
		}, 0},
		{"stall mid-stream", func(w http.ResponseWriter, r *http.Request, stop <-chan struct{}) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, chunk("Hello"))
			w.(http.Flusher).Flush()
			<-stop
		}, 1},
		{"closed before the end", func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, chunk("Hello"))
			fmt.Fprint(w, chunk(" world"))
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stop := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				default:
					tt.handler(w, r, stop)
				}
			}))
			defer srv.Close()
			defer close(stop)
			c := newTestClient(t, srv.URL+"/v1", Options{FirstToken: 300 * time.Millisecond})
			ch := c.NewChat("")
			n := 0
			_, err := ch.Send(context.Background(), "Hi", nil, func(string) error { n++; return nil })
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("err %v: want ErrUnavailable", err)
			}
			if n != tt.pieces {
				t.Errorf("%d pieces emitted, want %d", n, tt.pieces)
			}
		})
	}
}

func TestToolCallsPassedThrough(t *testing.T) {
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 1<<16)
		n, _ := r.Body.Read(b)
		body = b[:n]
		w.Header().Set("Content-Type", "text/event-stream")
		for _, d := range []string{
			`{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"set_timer","arguments":""}}]}`,
			`{"tool_calls":[{"index":0,"function":{"arguments":"{\"minutes\":"}}]}`,
			`{"tool_calls":[{"index":0,"function":{"arguments":"5}"}}]}`,
		} {
			fmt.Fprintf(w, `data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":%s}]}`+"\n\n", d)
		}
		fmt.Fprint(w, `data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`+"\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL+"/v1", Options{})
	ch := c.NewChat("")
	tools := []Tool{{Name: "set_timer", Description: "Start a timer", Parameters: []byte(`{"type":"object","properties":{"minutes":{"type":"integer"}}}`)}}
	rep, err := ch.Send(context.Background(), "Timer for five minutes", tools, func(string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.ToolCalls) != 1 || rep.ToolCalls[0].ID != "call_1" || rep.ToolCalls[0].Name != "set_timer" || string(rep.ToolCalls[0].Arguments) != `{"minutes":5}` {
		t.Fatalf("tool calls %+v", rep.ToolCalls)
	}
	if !containsAll(string(body), `"tools"`, `"set_timer"`, `"minutes"`) {
		t.Errorf("request did not offer the tool: %s", body)
	}
	if _, err := ch.SendToolResults(context.Background(), []ToolResult{{CallID: "call_1", Name: "set_timer", Content: "timer started"}}, tools, func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if !containsAll(string(body), `"tool_call_id":"call_1"`, `"timer started"`, `"role":"tool"`, `"id":"call_1"`) {
		t.Errorf("tool result request lacks the call and its result: %s", body)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !contains(s, sub) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestCheckEndpoint(t *testing.T) {
	tests := []struct {
		url      string
		internet bool
		ok       bool
	}{
		{"http://127.0.0.1:8080/v1", false, true},
		{"http://localhost:8080/v1", false, true},
		{"http://192.168.1.20:8080/v1", false, true},
		{"https://10.0.0.5/v1", false, true},
		{"http://172.16.3.4/v1", false, true},
		{"http://[::1]:8080/v1", false, true},
		{"http://[fd00::5]/v1", false, true},
		{"https://8.8.8.8/v1", false, false},
		{"https://172.32.0.1/v1", false, false},
		{"https://8.8.8.8/v1", true, true},
		{"ftp://127.0.0.1/", false, false},
		{"127.0.0.1:8080", false, false},
	}
	for _, tt := range tests {
		_, err := CheckEndpoint(context.Background(), tt.url, tt.internet)
		if (err == nil) != tt.ok {
			t.Errorf("CheckEndpoint(%q, %v) = %v, want ok %v", tt.url, tt.internet, err, tt.ok)
		}
	}
	if _, err := CheckEndpoint(context.Background(), "https://1.1.1.1/", false); !errors.Is(err, ErrInternet) {
		t.Errorf("err %v: want ErrInternet", err)
	}
}

func TestReadKey(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key")
	os.WriteFile(p, []byte("sk-secret\n"), 0o600)
	if k, err := ReadKey(p); err != nil || k != "sk-secret" {
		t.Errorf("ReadKey = %q, %v", k, err)
	}
	os.Chmod(p, 0o644)
	if _, err := ReadKey(p); err == nil {
		t.Error("a world-readable key file was accepted")
	}
	if _, err := ReadKey(filepath.Join(dir, "none")); err == nil {
		t.Error("a missing key file was accepted")
	}
}
