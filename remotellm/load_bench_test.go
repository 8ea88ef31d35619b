package remotellm

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"hark/internal/testmodels"
	"hark/internal/testserver"
)

// BenchmarkLoad: 1, 2, 4 and 8 Hark clients at once against one llama-server with 4 parallel
// slots (the edge box serving a building's devices). Each client is its own Client (its own
// connections) and asks its own question; every iteration starts them together. Reported:
// median and p95 time to the first piece (ms), the median tokens/s one client sees (its
// pieces after the first over the time they took), the server's total tokens/s and the
// pieces per reply (a random model may end a reply early). The model is a random-weight ~90M-parameter
// llama (Q4_0), slow enough on a CPU thread that the slots contend, as a real model's do.
//
//	go test -run XXX -bench BenchmarkLoad -benchtime 3x ./remotellm
func BenchmarkLoad(b *testing.B) {
	o := testmodels.TinyLlama()
	o.Embd, o.FF, o.Layers, o.Heads, o.HeadsKV, o.ContextLength = 768, 3072, 10, 12, 12, 4096
	o.WeightType, o.MinVocab, o.Name = testmodels.TypeQ4_0, 8000, "hark-load-random"
	model := filepath.Join(b.TempDir(), "load.gguf")
	if err := testmodels.WriteLlama(model, o); err != nil {
		b.Fatal(err)
	}
	// 4 slots of 512 tokens; enough HTTP threads that 8 streams do not queue before a slot.
	srv := testserver.StartModel(b, model, "--parallel", "4", "-c", "2048", "--threads-http", "10")
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			clients := make([]*Client, n)
			for i := range clients {
				clients[i] = newTestClient(b, srv.Endpoint, Options{MaxTokens: 48, FirstToken: 2 * time.Minute})
			}
			var first []time.Duration
			var rates []float64
			var mu sync.Mutex
			tokens, wall := 0, time.Duration(0)
			for it := 0; b.Loop(); it++ {
				var wg sync.WaitGroup
				errs := make(chan error, n)
				began := time.Now()
				for i, c := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						start := time.Now()
						rep, err := c.NewChat("").Send(context.Background(), fmt.Sprintf("Tell story %d of client %d", it, i), nil, func(string) error { return nil })
						if err != nil {
							errs <- err
							return
						}
						total := time.Since(start)
						mu.Lock()
						defer mu.Unlock()
						first = append(first, rep.FirstPiece)
						tokens += rep.Tokens
						if rep.Tokens > 1 && total > rep.FirstPiece {
							rates = append(rates, float64(rep.Tokens-1)/(total-rep.FirstPiece).Seconds())
						}
					}()
				}
				wg.Wait()
				wall += time.Since(began)
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
			}
			slices.Sort(first)
			slices.Sort(rates)
			if len(first) > 0 {
				b.ReportMetric(ms(first[len(first)/2]), "first-median-ms")
				b.ReportMetric(ms(first[min(len(first)-1, len(first)*95/100)]), "first-p95-ms")
			}
			if len(rates) > 0 {
				b.ReportMetric(rates[len(rates)/2], "tok/s/client")
			}
			if wall > 0 {
				b.ReportMetric(float64(tokens)/wall.Seconds(), "tok/s-total")
				b.ReportMetric(float64(tokens)/float64(len(first)), "tokens/reply")
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
