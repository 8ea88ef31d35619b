package llm

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"hark/internal/testmodels"
)

// The benchmarks mirror llama.cpp's llama-bench: pp512 (a 512-token prompt of random tokens in
// one batch) and tg128 (128 tokens generated one at a time from an empty context), on
// stories260K and a ~100M-parameter Q4_0 model (testmodels.Bench100M, written once into
// $HARK_TEST_CACHE). Threads: $HARK_BENCH_THREADS, default all CPUs; batch 512; flash
// attention $HARK_BENCH_FA (on, off, auto; default auto, as Hark and llama-bench run). Compare with
//
//	llama-bench -m FILE -t THREADS -p 512 -n 128 -b 512 -ub 512 -fa on|off|auto
//
// (scripts/bench-llm.sh does, interleaving the two).
//
// Hark's generation figure includes what llama-bench leaves out: sampling each token,
// turning it into text and streaming it. The loop-us/token metric is that overhead: wall
// time per token minus llama.cpp's own decode time per token (its perf counters).

func benchModels(b *testing.B) map[string]string {
	m := map[string]string{
		"stories260K": testmodels.Shared(b, "stories260K.gguf"),
		"q4_0-100M":   testmodels.LlamaCached(b, testmodels.Bench100M()),
	}
	if p := benchQ4KM(b); p != "" {
		m["q4_K_M-100M"] = p
	}
	return m
}

// benchQ4KM returns Bench100M quantized to Q4_K_M by llama.cpp's own llama-quantize (named by
// $HARK_LLAMA_QUANTIZE; the test writer writes only Q4_0, Q8_0 and float weights) from an F16
// file of the same model (whose embeddings and output, Q8_0, are requantized), kept next to it
// in the cache; "" when the variable is unset.
func benchQ4KM(b *testing.B) string {
	quantize := os.Getenv("HARK_LLAMA_QUANTIZE")
	if quantize == "" {
		return ""
	}
	o := testmodels.Bench100M()
	o.WeightType, o.Name = testmodels.TypeF16, "hark-bench-100m-f16"
	f16 := testmodels.LlamaCached(b, o)
	out := strings.TrimSuffix(f16, ".gguf") + "-q4_k_m.gguf"
	if _, err := os.Stat(out); err == nil {
		return out
	}
	if msg, err := exec.Command(quantize, "--allow-requantize", f16, out+".tmp", "Q4_K_M").CombinedOutput(); err != nil {
		b.Fatalf("%s: %v\n%s", quantize, err, msg)
	}
	if err := os.Rename(out+".tmp", out); err != nil {
		b.Fatal(err)
	}
	return out
}

func benchThreads() int {
	if n, err := strconv.Atoi(os.Getenv("HARK_BENCH_THREADS")); err == nil && n > 0 {
		return n
	}
	return runtime.NumCPU()
}

// benchFlash reads $HARK_BENCH_FA (on, off, auto; default auto, Hark's default) to match
// llama-bench's -fa.
func benchFlash() FlashAttention {
	switch os.Getenv("HARK_BENCH_FA") {
	case "on", "1":
		return FlashAttentionOn
	case "off", "0":
		return FlashAttentionOff
	}
	return FlashAttentionAuto
}

func benchLoad(b *testing.B, path string) *Model {
	m := load(b, path, Options{Threads: benchThreads(), ContextSize: 1024, BatchSize: 512, FlashAttention: benchFlash()})
	b.Logf("%s: %s, %d threads, context %d, batch %d", path, m.Info().Description, m.Info().Threads, m.Info().ContextSize, m.Info().BatchSize)
	return m
}

// randomTokens returns n tokens like llama-bench's: BOS first (when the model adds one), then
// random ids, here avoiding control tokens.
func randomTokens(m *Model, n int, seed uint64) []token {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]token, 0, n)
	if m.voc.addsBOS() {
		out = append(out, m.voc.bos())
	}
	for len(out) < n {
		t := token(rng.IntN(m.voc.size()))
		if !m.voc.isControl(t) {
			out = append(out, t)
		}
	}
	return out
}

func BenchmarkPromptEval(b *testing.B) {
	for name, path := range benchModels(b) {
		b.Run(name, func(b *testing.B) {
			m := benchLoad(b, path)
			run := func(seed uint64) Stats {
				var st Stats
				m.exclusive(func() {
					m.truncateKV(0)
					r := &run{m: m, g: GenOptions{MaxTokens: 1}}
					if err := r.prepare(); err != nil {
						b.Fatal(err)
					}
					defer r.s.free()
					res := r.generate(context.Background(), randomTokens(m, 512, seed), nil)
					if res.err != nil {
						b.Fatal(res.err)
					}
					st = res.reply.Stats
				})
				return st
			}
			run(0) // warm-up, as llama-bench does
			var tokens int
			var took time.Duration
			b.ResetTimer()
			for i := range b.N {
				st := run(uint64(i + 1))
				tokens += st.EvaluatedTokens
				took += st.PromptEval
			}
			b.ReportMetric(float64(tokens)/took.Seconds(), "prompt-tok/s")
		})
	}
}

func BenchmarkGeneration(b *testing.B) {
	for name, path := range benchModels(b) {
		b.Run(name, func(b *testing.B) {
			m := benchLoad(b, path)
			const n = 128
			// Two tokens, so that llama.cpp counts the prompt as a prompt (a single-token decode
			// would land in the generation counters).
			prompt := randomTokens(m, 2, 0)
			gen := func() (Stats, perfCounters) {
				var st Stats
				var p perfCounters
				m.exclusive(func() {
					m.truncateKV(0)
					m.x.resetPerf()
					r := &run{m: m, g: GenOptions{MaxTokens: n, IgnoreEOS: true}, emit: func(string) error { return nil }}
					if err := r.prepare(); err != nil {
						b.Fatal(err)
					}
					defer r.s.free()
					res := r.generate(context.Background(), prompt, nil)
					if res.err != nil || res.reply.Stats.GeneratedTokens != n {
						b.Fatalf("%v, %+v", res.err, res.reply.Stats)
					}
					st, p = res.reply.Stats, m.x.perf()
				})
				return st, p
			}
			gen()
			var tokens, decoded int
			var took time.Duration
			var decodeMs float64
			b.ResetTimer()
			for range b.N {
				st, p := gen()
				tokens += st.GeneratedTokens
				took += st.Generation
				decoded += p.GenTokens
				decodeMs += p.GenMs
			}
			b.ReportMetric(float64(tokens)/took.Seconds(), "gen-tok/s")
			b.ReportMetric(float64(decoded)/(decodeMs/1000), "decode-only-tok/s")
			// Wall time per generated token minus llama.cpp's decode time per decoded token (the
			// last token of a reply is sampled but not decoded).
			b.ReportMetric(took.Seconds()*1e6/float64(tokens)-decodeMs*1e3/float64(decoded), "loop-us/token")
		})
	}
}

// BenchmarkSample measures one sampling step (copying the logits, the sampler chain, picking)
// on its own: greedy and with the full default chain.
func BenchmarkSample(b *testing.B) {
	m := benchLoad(b, testmodels.LlamaCached(b, testmodels.Bench100M()))
	for name, g := range map[string]GenOptions{"greedy": {}, "default-chain": DefaultGenOptions()} {
		b.Run(name, func(b *testing.B) {
			m.exclusive(func() {
				m.truncateKV(0)
				if err := m.x.decode(randomTokens(m, 8, 1), 0); err != nil {
					b.Fatal(err)
				}
				r := &run{m: m, g: g}
				if err := r.prepare(); err != nil {
					b.Fatal(err)
				}
				defer r.s.free()
				b.ResetTimer()
				for range b.N {
					if _, err := m.x.sample(r.s); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkRawDecode runs llama-bench's own loops (no sampling, no text) through the same
// context Hark uses: the engine's speed in this build, to tell Hark's loop overhead apart from
// differences between this llama.cpp build and the reference one.
func BenchmarkRawDecode(b *testing.B) {
	for name, path := range benchModels(b) {
		b.Run(name+"/pp512", func(b *testing.B) {
			m := benchLoad(b, path)
			toks := randomTokens(m, 512, 1)
			m.exclusive(func() {
				b.ResetTimer()
				for range b.N {
					m.truncateKV(0)
					if err := m.x.decode(toks, 0); err != nil {
						b.Fatal(err)
					}
					m.x.perf() // synchronize
				}
				b.ReportMetric(float64(512*b.N)/b.Elapsed().Seconds(), "tok/s")
			})
		})
		b.Run(name+"/tg128", func(b *testing.B) {
			m := benchLoad(b, path)
			toks := randomTokens(m, 128, 2)
			m.exclusive(func() {
				b.ResetTimer()
				sw := voluntarySwitches()
				for range b.N {
					m.truncateKV(0)
					for i, t := range toks {
						if err := m.x.decode([]token{t}, i); err != nil {
							b.Fatal(err)
						}
						m.x.perf()
					}
				}
				b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "tok/s")
				// A few per token (the hand-off to the compute thread); ~150 when OpenMP's
				// threads sleep at every barrier (compute.go).
				b.ReportMetric(float64(voluntarySwitches()-sw)/float64(128*b.N), "switches/token")
			})
		})
	}
}
