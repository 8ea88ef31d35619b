package llm

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkShortPrompt measures prompt evaluation the way a spoken turn does it: a conversation
// (a system prompt of $HARK_BENCH_PREFIX tokens, default 40) is already in the cache and n new
// tokens are evaluated after it in one batch, the last one with its logits (what a reply starts
// from). For each n it reports wall-clock tokens per second and, since the machine it runs on
// is often busy, the process's CPU time per token (getrusage: what the evaluation cost, which
// other processes' load hardly changes). The model is $HARK_BENCH_MODEL (e.g. the 0.5B Q4_K_M
// that BenchmarkLatencyAtDevices writes into $HARK_TEST_CACHE), else the 100M Q4_0 test model;
// threads $HARK_BENCH_THREADS (Hark's default on a 2-core machine is 1):
//
//	HARK_BENCH_THREADS=1 HARK_BENCH_MODEL=/tmp/hark-testmodels/hark-chat-500m-…-Q4_K_M.gguf go test ./llm -run '^$' -bench ShortPrompt -benchtime 10x
//
// scripts/bench-shortprompt.sh runs it next to llama.cpp's own llama-bench on the same model
// and sizes.
func BenchmarkShortPrompt(b *testing.B) {
	path := os.Getenv("HARK_BENCH_MODEL")
	if path == "" {
		path = benchModels(b)["q4_0-100M"]
	}
	prefix := 40
	if n, err := strconv.Atoi(os.Getenv("HARK_BENCH_PREFIX")); err == nil && n >= 0 {
		prefix = n
	}
	m := benchLoad(b, path)
	fmt.Fprintf(os.Stderr, "load average %s\n", loadAvg())
	sys := randomTokens(m, max(prefix, 1), 99)[:prefix]
	for _, n := range []int{1, 8, 16, 33, 64, 77, 128} {
		b.Run(fmt.Sprintf("new=%d", n), func(b *testing.B) {
			var took, cpu time.Duration
			for i := range b.N {
				want := append(append([]token(nil), sys...), randomTokens(m, n+1, uint64(i+7))[1:]...)
				m.exclusive(func() {
					m.truncateKV(0)
					if prefix > 0 {
						if _, err := m.syncKV(context.Background(), sys); err != nil {
							b.Fatal(err)
						}
					}
					c0, start := processCPU(), time.Now()
					if _, err := m.syncKV(context.Background(), want); err != nil {
						b.Fatal(err)
					}
					took += time.Since(start)
					cpu += processCPU() - c0
				})
			}
			tokens := float64(n * b.N)
			b.ReportMetric(tokens/took.Seconds(), "tok/s")
			b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "ms/eval")
			b.ReportMetric(float64(cpu.Microseconds())/1000/tokens, "cpu-ms/tok")
			b.ReportMetric(tokens/cpu.Seconds(), "tok/cpu-s")
		})
	}
	// The same through Chat.Send, as a spoken turn does it: a new conversation (Reset keeps
	// the system prompt in the cache), a question, a one-token reply. outside-ms is the
	// time Send spends outside llama.cpp's evaluation and the first token (laying out and
	// tokenizing the conversation, the chat layer, the sampler).
	b.Run("send", func(b *testing.B) {
		c, err := m.NewChat("You are Hark, a helpful voice assistant. Answer in one or two short sentences, and say when you do not know.")
		if err != nil {
			b.Fatal(err)
		}
		g := DefaultGenOptions()
		g.MaxTokens = 1
		var took, prompt, outside, cpu time.Duration
		evaluated := 0
		for i := range b.N {
			c.Reset()
			c0, start := processCPU(), time.Now()
			r, err := c.Send(context.Background(), fmt.Sprintf("What is the weather like in Paris on the %dth of May, and will it rain?", i+2), g, nil)
			if err != nil {
				b.Fatal(err)
			}
			d := time.Since(start)
			took += d
			cpu += processCPU() - c0
			prompt += r.Stats.PromptEval
			outside += d - r.Stats.PromptEval - r.Stats.Generation
			evaluated += r.Stats.EvaluatedTokens
		}
		n := float64(b.N)
		b.ReportMetric(float64(evaluated)/n, "evaluated-tok")
		b.ReportMetric(float64(evaluated)/prompt.Seconds(), "tok/s")
		b.ReportMetric(float64(took.Microseconds())/1000/n, "ms/send")
		b.ReportMetric(float64(outside.Microseconds())/1000/n, "outside-ms")
		b.ReportMetric(float64(cpu.Microseconds())/1000/n, "cpu-ms/send")
	})
	fmt.Fprintf(os.Stderr, "load average %s\n", loadAvg())
}

// processCPU is the CPU time (user and system) the process has used so far, every thread.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the 1, 5 and 15-minute load average, for the benchmark's log.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
