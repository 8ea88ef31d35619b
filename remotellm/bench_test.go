package remotellm

import (
	"context"
	"testing"
	"time"
)

// BenchmarkFirstTokenOverhead: time to the first piece through llama-server on loopback minus
// the server's own prompt evaluation (its "timings"): what the HTTP round trip, the server's
// scheduling and this client add. The question varies so that the server's prompt cache does
// not hide the prompt time. Reported as overhead-ms (median of the iterations).
func BenchmarkFirstTokenOverhead(b *testing.B) {
	srv := startLlamaServer(b)
	c := newTestClient(b, srv.Endpoint, Options{MaxTokens: 1, Temperature: 0})
	var over []time.Duration
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		ch := c.NewChat("You are a storyteller.")
		rep, err := ch.Send(ctx, "Once upon a time there was a cat number "+string(rune('a'+i%26)), nil, func(string) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		if rep.Server.Prompt == 0 && rep.Server.PromptTokens == 0 {
			b.Fatal("llama-server sent no timings")
		}
		over = append(over, rep.FirstPiece-rep.Server.Prompt)
	}
	if len(over) > 0 {
		b.ReportMetric(float64(median(over))/float64(time.Millisecond), "overhead-ms")
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

// BenchmarkCancel: from cancelling a turn's context (a stop or barge-in) mid-reply to Send's
// return, with the connection closed. Reported as cancel-ms (median); the issue asks ≤ 100 ms.
func BenchmarkCancel(b *testing.B) {
	srv := startLlamaServer(b)
	c := newTestClient(b, srv.Endpoint, Options{MaxTokens: 1500})
	var took []time.Duration
	for b.Loop() {
		ch := c.NewChat("")
		ctx, cancel := context.WithCancel(context.Background())
		var at time.Time
		n := 0
		_, err := ch.Send(ctx, "Tell a long story", nil, func(string) error {
			if n++; n == 3 {
				at = time.Now()
				go cancel()
			}
			return nil
		})
		if err == nil {
			b.Fatal("the reply ended before the cancel")
		}
		took = append(took, time.Since(at))
		cancel()
	}
	if len(took) > 0 {
		b.ReportMetric(float64(median(took))/float64(time.Millisecond), "cancel-ms")
	}
}
