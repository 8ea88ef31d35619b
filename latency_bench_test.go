package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hark/app"
	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// BenchmarkLatencyAtDevices times what a person feels after asking a question hands-free: from
// the last voiced sample of the question at the (virtual) microphone to the first sound of the
// reply at the (virtual) speaker, both timed on the sound server's monitors, through the real
// path: capture, Silero and the endpointer, whisper, the language model, espeak-ng and the
// player. The models have real size and random weights: whisper base.en's shape, decoding
// capped at 12 tokens (a short command's transcript; random weights would write to the limit),
// and a 0.5B chat model (Qwen2.5-0.5B's shape, llama architecture) quantized to Q4_K_M by
// llama.cpp's own llama-quantize. Each run is a new conversation; the reply is stopped once
// its first sound is heard. Needs the test sound server:
//
//	go test -run '^$' -bench LatencyAtDevices -benchtime 5x .
//
// HARK_BENCH_SPECULATE=0s turns speculative end of turn off (audio.speculative_silence; its
// default is 200ms), HARK_BENCH_FIRST_CLAUSE=80 lets the first spoken chunk end at a comma only
// as late as the later ones do (its default is 24 characters), and HARK_BENCH_FRESH_START=1
// plays a sound that follows silence on a new stream (device.PlayerOptions.FreshStart), for
// comparison.
func BenchmarkLatencyAtDevices(b *testing.B) {
	testenv.Require(b)
	testenv.LockAudio(b)
	testenv.Deadline(b, 20*time.Minute)
	asr := testmodels.WhisperCached(b, testmodels.BaseWhisper())
	llm := quantized(b, testmodels.LlamaCached(b, testmodels.Chat500M()), "Q4_K_M")
	question := sayWAV(b, "What is the weather like in Paris tomorrow?", "en-us")
	sets := []string{
		"models.asr", asr, "models.llm", llm,
		"assistant.system_prompt", "You are Hark, a helpful voice assistant. Answer in one or two short sentences.",
		"assistant.temperature", "0.8", // greedy decoding of random weights repeats one word: no clauses
		"assistant.max_tokens", "64",
		"performance.context_size", "2048",
		// The plain chat path: with tools offered, the prompt carries their schemas.
		"actions.enabled", "false",
	}
	if v := os.Getenv("HARK_BENCH_SPECULATE"); v != "" {
		sets = append(sets, "audio.speculative_silence", v)
	}
	firstClause, _ := strconv.Atoi(os.Getenv("HARK_BENCH_FIRST_CLAUSE"))
	fresh := os.Getenv("HARK_BENCH_FRESH_START") == "1"
	a, log, s, stop := launchAssistantWith(b, func(s *setup) {
		s.asrMaxTokens, s.firstClause, s.freshStart = 12, firstClause, fresh
	}, nil, sets...)
	defer stop()
	spk := recordSource(b, "vspeaker.monitor")
	mic := recordSource(b, "vmic_in.monitor")
	stages := map[string][]float64{}
	var order []string
	add := func(name string, d time.Duration) {
		if _, ok := stages[name]; !ok {
			order = append(order, name)
		}
		stages[name] = append(stages[name], float64(d)/1e6)
	}
	turn := 0
	for i := 0; i <= b.N; i++ { // the first run warms the engines up
		// A new conversation with a system prompt of its own: the cache holds that prompt (as
		// it would, evaluated when the conversation began) and nothing of the previous run,
		// whose question (random whisper hears the same each time) it would otherwise reuse.
		cfg := s.assistantConfig()
		cfg.SystemPrompt += fmt.Sprintf(" This is conversation %d.", i+1)
		since := time.Now()
		a.Configure(cfg)
		log.wait(b, "the new conversation", 60*time.Second, func(e app.Event) bool {
			return e.Kind == app.EventReadiness && e.Readiness.Voice && e.At.After(since)
		})
		time.Sleep(time.Second) // the previous reply's tail has left the devices
		asked := time.Now()
		if out, err := exec.Command("paplay", "-d", "vmic_in", question).CombinedOutput(); err != nil {
			b.Fatalf("paplay: %v\n%s", err, out)
		}
		tr := log.wait(b, "the transcript", 60*time.Second, func(e app.Event) bool {
			return e.Kind == app.EventTranscript && e.Turn > turn && e.Input == app.InputVoice
		})
		turn = tr.Turn
		tok := log.wait(b, "the first token", 60*time.Second, func(e app.Event) bool { return e.Kind == app.EventToken && e.Turn == turn })
		var heard time.Time
		for deadline := time.Now().Add(30 * time.Second); heard.IsZero() && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
			heard, _ = spk.soundSpan(tok.At.Add(-50*time.Millisecond), -50)
		}
		a.Stop()
		done := log.wait(b, "the end of the turn", 30*time.Second, func(e app.Event) bool { return e.Kind == app.EventTurnDone && e.Turn == turn })
		_, last := mic.soundSpan(asked, -50)
		if heard.IsZero() || last.IsZero() {
			b.Fatalf("run %d: no reply heard at the speaker (%v) or no question at the microphone (%v):\n%s", i, heard, last, log.dump())
		}
		last = last.Add(10 * time.Millisecond) // the end of the last 10 ms frame with sound
		var committed time.Time                // the endpointer's decision: the utterance is over
		for _, e := range log.all() {
			if e.Kind == app.EventState && e.State == app.StateTranscribing && e.At.After(asked) && committed.IsZero() {
				committed = e.At
			}
		}
		if committed.IsZero() {
			b.Fatalf("run %d: no transcribing state:\n%s", i, log.dump())
		}
		st := s.echo.lastSpoken()
		if i == 0 {
			continue
		}
		tm := done.Timings
		add("last voiced sample → first reply audio at the speaker", heard.Sub(last))
		add("endpoint wait (last voiced sample → end of turn decided)", committed.Sub(last))
		add("speech recognition (decided → transcript)", tr.At.Sub(committed))
		add("prompt evaluation (transcript → first token)", tok.At.Sub(tr.At))
		add("first chunk's text (first token → first clause or sentence)", st.FirstText)
		add("speech synthesis of the first chunk", st.FirstSynth)
		add("player (handed to the player → heard at the speaker)", heard.Sub(st.FirstAudioAt))
		add("asr compute", tm.ASRCompute)
		add("pipeline overhead (total − compute; without speculation only)", tm.Overhead)
		b.Logf("run %d: %v; %d prompt tokens (%d reused), transcript %q, first chunk after %v", i,
			heard.Sub(last).Round(time.Millisecond), tm.PromptTokens, tm.ReusedTokens, tr.Text, st.FirstText.Round(time.Millisecond))
	}
	b.StopTimer()
	var table strings.Builder
	fmt.Fprintf(&table, "%-66s %9s %9s\n", "stage", "median ms", "p90 ms")
	for _, name := range order {
		v := stages[name]
		fmt.Fprintf(&table, "%-66s %9.0f %9.0f\n", name, percentile(v, 0.5), percentile(v, 0.9))
	}
	b.Logf("%d runs, speculation %q, first clause %q, fresh start %v:\n%s", b.N, os.Getenv("HARK_BENCH_SPECULATE"),
		os.Getenv("HARK_BENCH_FIRST_CLAUSE"), fresh, table.String())
	b.ReportMetric(percentile(stages[order[0]], 0.5), "voice-to-audio-ms-median")
	b.ReportMetric(percentile(stages[order[0]], 0.9), "voice-to-audio-ms-p90")
}

// quantized returns src quantized to typ by llama.cpp's llama-quantize (built from Hark's own
// llama.cpp tree by scripts/native.sh), cached beside src.
func quantized(t testing.TB, src, typ string) string {
	t.Helper()
	out := strings.TrimSuffix(src, ".gguf") + "-" + typ + ".gguf"
	if _, err := os.Stat(out); err == nil {
		return out
	}
	root, err := testmodels.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tool, err := exec.Command(filepath.Join(root, "scripts", "native.sh"), "llama-tool", "llama-quantize").Output()
	if err != nil {
		t.Fatalf("building llama-quantize: %v", err)
	}
	tmp := out + ".writing"
	cmd := exec.Command(strings.TrimSpace(string(tool)), "--allow-requantize", src, tmp, typ)
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("llama-quantize: %v\n%s", err, o)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	return out
}
