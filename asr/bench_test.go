package asr

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hark/internal/testmodels"
)

// Benchmarks. Models: the shared random model (state 64, 1 layer: overhead-dominated), a
// random model of whisper tiny's dimensions (state 384, 6 heads, 4 layers) when
// HARK_BENCH_TINY_DIMS=1, and any real model named by HARK_BENCH_ASR_MODEL. Audio: jfk.wav
// (11 s) and its first 2 s (a short command). Settings as whisper-ref's: English, greedy, no
// temperature fallback, no timestamps, flash attention off, guard off (so no extra decoder
// step), at most 32 tokens (what jfk.wav's real transcript takes; random weights never stop).
//
// HARK_BENCH_THREADS=1 limits the thread counts (on a busy machine two spinning ggml threads
// measure the scheduler, not the code).
//
//	go test ./asr -run '^$' -bench Transcribe -benchtime 5x
//	HARK_WHISPER_REF=/tmp/ref/build/bin/whisper-ref go test ./asr -run '^$' -bench VsWhisperRef -benchtime 1x

const benchMaxTokens = 32

type benchModel struct{ name, path string }

func benchModels(b *testing.B) []benchModel {
	ms := []benchModel{{"random-64x1", sharedModel(b)}}
	if os.Getenv("HARK_BENCH_TINY_DIMS") == "1" {
		o := testmodels.TinyWhisper()
		o.State, o.Heads, o.Layers = 384, 6, 4
		ms = append(ms, benchModel{"random-tiny-dims", testmodels.Whisper(b, o)})
	}
	if p := os.Getenv("HARK_BENCH_ASR_MODEL"); p != "" {
		ms = append(ms, benchModel{filepath.Base(p), p})
	}
	return ms
}

type benchAudio struct {
	name string
	pcm  []float32
}

func benchAudios(b *testing.B) []benchAudio {
	j := jfk(b)
	return []benchAudio{{"jfk-11s", j}, {"command-2s", j[:2*sampleRate]}}
}

// benchThreads are the thread counts benchmarked: HARK_BENCH_THREADS (e.g. "1"), default 1 and 2.
func benchThreads() []int {
	var ts []int
	for _, f := range strings.Split(os.Getenv("HARK_BENCH_THREADS"), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			ts = append(ts, n)
		}
	}
	if len(ts) == 0 {
		ts = []int{1, 2}
	}
	return ts
}

func benchOptions(threads int, trim bool) Options {
	return Options{Language: "en", Threads: threads, TrimAudioCtx: trim, MaxTokens: benchMaxTokens, Guard: &Guard{Off: true}}
}

func BenchmarkTranscribe(b *testing.B) {
	for _, bm := range benchModels(b) {
		b.Run(bm.name, func(b *testing.B) {
			m := load(b, bm.path, LoadOptions{MaxConcurrent: 1})
			for _, a := range benchAudios(b) {
				for _, trim := range []bool{false, true} {
					for _, threads := range benchThreads() {
						b.Run(fmt.Sprintf("%s/trim=%v/threads=%d", a.name, trim, threads), func(b *testing.B) {
							o := benchOptions(threads, trim)
							var tm Timings
							for b.Loop() {
								res, err := m.Transcribe(context.Background(), a.pcm, o)
								if err != nil {
									b.Fatal(err)
								}
								tm.Mel += res.Timings.Mel
								tm.Encode += res.Timings.Encode
								tm.Decode += res.Timings.Decode
							}
							n := float64(b.N)
							b.ReportMetric(float64(tm.Mel.Microseconds())/1e3/n, "mel-ms/op")
							b.ReportMetric(float64(tm.Encode.Microseconds())/1e3/n, "encode-ms/op")
							b.ReportMetric(float64(tm.Decode.Microseconds())/1e3/n, "decode-ms/op")
						})
					}
				}
			}
		})
	}
}

// BenchmarkGuard measures what the default guard adds to a short command: one decoder step for
// the no-speech probability, and the rule itself.
func BenchmarkGuard(b *testing.B) {
	m := load(b, sharedModel(b), LoadOptions{MaxConcurrent: 1})
	pcm := jfk(b)[:2*sampleRate]
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("guard=%v", on), func(b *testing.B) {
			o := benchOptions(1, true)
			if on {
				o.Guard = nil
			}
			for b.Loop() {
				if _, err := m.Transcribe(context.Background(), pcm, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCancelLatency measures, from cancelling a call, the time until Transcribe returns
// and until whisper.cpp has stopped (its state is free again), with the call cancelled while
// encoding (the full 30-second window, the worst case) and while decoding.
func BenchmarkCancelLatency(b *testing.B) {
	for _, bm := range benchModels(b) {
		b.Run(bm.name, func(b *testing.B) {
			m := load(b, bm.path, LoadOptions{MaxConcurrent: 1})
			pcm := jfk(b)
			for _, phase := range []struct {
				name string
				n    int
			}{{"encoding", 1}, {"decoding", 2}} {
				for _, threads := range benchThreads() {
					b.Run(fmt.Sprintf("%s/threads=%d", phase.name, threads), func(b *testing.B) {
						var ret, stop []time.Duration
						for b.Loop() {
							ctx, cancel := context.WithCancel(context.Background())
							done := make(chan struct{})
							var returned time.Time
							go func() {
								o := benchOptions(threads, false)
								o.MaxTokens = 0
								_, _ = m.Transcribe(ctx, pcm, o)
								returned = time.Now()
								close(done)
							}()
							caught := waitPhaseB(m, phase.n, done)
							t0 := time.Now()
							cancel()
							<-done
							stopped := waitIdle(b, m)
							if caught {
								ret = append(ret, returned.Sub(t0))
								stop = append(stop, stopped.Sub(t0))
							}
						}
						if len(ret) == 0 {
							b.Skipf("never caught a call %s", phase.name)
						}
						slices.Sort(ret)
						slices.Sort(stop)
						b.ReportMetric(float64(ret[len(ret)/2].Microseconds())/1e3, "return-ms")
						b.ReportMetric(float64(stop[len(stop)/2].Microseconds())/1e3, "stop-ms")
						b.ReportMetric(float64(stop[len(stop)-1].Microseconds())/1e3, "max-stop-ms")
					})
				}
			}
		})
	}
}

func waitPhaseB(m *Model, phase int, done <-chan struct{}) bool {
	for {
		if slices.Contains(m.phases(), phase) {
			return true
		}
		select {
		case <-done:
			return false
		case <-time.After(200 * time.Microsecond):
		}
	}
}

var refFull = regexp.MustCompile(`whisper-ref: run=\d+ full_ms=([0-9.]+)`)

// BenchmarkVsWhisperRef compares Hark's Transcribe with whisper.cpp's engine alone (whisper-ref,
// built by ../shared/bench/build-whisper-ref.sh from the same sources and flags) on the same
// model, audio and settings. Each round runs whisper-ref (two runs in one process) and then Hark
// (two runs), and keeps each side's faster run, so that both meet the same load on a shared
// machine. Reported: each side's best time over all rounds and their ratio (Hark/whisper-ref),
// and the median of the per-round ratios (robust to load that changes between rounds).
func BenchmarkVsWhisperRef(b *testing.B) {
	ref := os.Getenv("HARK_WHISPER_REF")
	if ref == "" {
		b.Skip("set HARK_WHISPER_REF to the whisper-ref binary (../shared/bench/build-whisper-ref.sh)")
	}
	rounds := 7
	if v, err := strconv.Atoi(os.Getenv("HARK_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	const runs = 2
	dir := b.TempDir()
	for _, bm := range benchModels(b) {
		b.Run(bm.name, func(b *testing.B) {
			m := load(b, bm.path, LoadOptions{MaxConcurrent: 1})
			for _, a := range benchAudios(b) {
				wav := filepath.Join(dir, a.name+".wav")
				writeWAV16(b, wav, a.pcm)
				pcm := readWAV(b, wav) // the 16-bit samples whisper-ref reads
				for _, trim := range []bool{false, true} {
					for _, threads := range benchThreads() {
						b.Run(fmt.Sprintf("%s/trim=%v/threads=%d", a.name, trim, threads), func(b *testing.B) {
							o := benchOptions(threads, trim)
							ac := 0
							if trim {
								ac = TrimmedAudioCtx(len(pcm), m.Info().AudioCtx)
							}
							harkBest, refBest := time.Duration(1<<62), time.Duration(1<<62)
							var ratios []float64
							for b.Loop() {
								for range rounds {
									out, err := exec.Command(ref, "-m", bm.path, "-f", wav, "-t", strconv.Itoa(threads), "-l", "en",
										"-ac", strconv.Itoa(ac), "-mt", strconv.Itoa(benchMaxTokens), "-nfa", "-r", strconv.Itoa(runs)).Output()
									if err != nil {
										b.Fatalf("whisper-ref: %v", err)
									}
									r := time.Duration(1 << 62)
									for _, mm := range refFull.FindAllStringSubmatch(string(out), -1) {
										ms, _ := strconv.ParseFloat(mm[1], 64)
										r = min(r, time.Duration(ms*float64(time.Millisecond)))
									}
									h := time.Duration(1 << 62)
									for range runs {
										t0 := time.Now()
										if _, err := m.Transcribe(context.Background(), pcm, o); err != nil {
											b.Fatal(err)
										}
										h = min(h, time.Since(t0))
									}
									harkBest, refBest = min(harkBest, h), min(refBest, r)
									ratios = append(ratios, float64(h)/float64(r))
								}
							}
							slices.Sort(ratios)
							b.ReportMetric(float64(harkBest.Microseconds())/1e3, "hark-ms")
							b.ReportMetric(float64(refBest.Microseconds())/1e3, "ref-ms")
							b.ReportMetric(float64(harkBest)/float64(refBest), "ratio")
							b.ReportMetric(ratios[len(ratios)/2], "ratio-median")
						})
					}
				}
			}
		})
	}
}
