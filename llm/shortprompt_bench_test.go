package llm

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// BenchmarkShortPrompt measures prompt evaluation the way a spoken turn does it: a conversation
// (a 40-token system prompt) is already in the cache and a few new tokens are evaluated after
// it, the last one with its logits (what a reply starts from). Tokens per second by the number
// of new tokens, with the whole batch on the threads Hark uses. The model is
// $HARK_BENCH_MODEL (e.g. the 0.5B Q4_K_M that BenchmarkLatencyAtDevices writes into
// $HARK_TEST_CACHE), else the 100M Q4_0 test model:
//
//	HARK_BENCH_MODEL=/tmp/hark-testmodels/hark-chat-500m-…-Q4_K_M.gguf go test ./llm -run '^$' -bench ShortPrompt -benchtime 20x
func BenchmarkShortPrompt(b *testing.B) {
	path := os.Getenv("HARK_BENCH_MODEL")
	if path == "" {
		path = benchModels(b)["q4_0-100M"]
	}
	m := benchLoad(b, path)
	sys := randomTokens(m, 40, 99)
	for _, n := range []int{1, 8, 16, 33, 77, 128} {
		b.Run(fmt.Sprintf("new=%d", n), func(b *testing.B) {
			var took time.Duration
			for i := range b.N {
				want := append(append([]token(nil), sys...), randomTokens(m, n+1, uint64(i+7))[1:]...)
				m.exclusive(func() {
					m.truncateKV(0)
					if _, err := m.syncKV(context.Background(), sys); err != nil {
						b.Fatal(err)
					}
					start := time.Now()
					if _, err := m.syncKV(context.Background(), want); err != nil {
						b.Fatal(err)
					}
					took += time.Since(start)
				})
			}
			b.ReportMetric(float64(n*b.N)/took.Seconds(), "tok/s")
			b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "ms/eval")
		})
	}
}
