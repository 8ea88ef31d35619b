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
