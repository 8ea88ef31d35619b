package main

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"hark/app"
	"hark/audio"
	"hark/internal/testmodels"
)

// Fake engines for the bench: each call takes a fixed time, so the measured compute is known.
type sleepyASR struct{ d time.Duration }

func (s sleepyASR) Transcribe(ctx context.Context, _ audio.PCM) (app.Transcript, error) {
	time.Sleep(s.d)
	return app.Transcript{Text: "hello", Compute: s.d}, nil
}

type sleepyBrain struct{ d time.Duration }

func (b sleepyBrain) NewChat(string) (app.Chat, error) { return sleepyChat(b), nil }

type sleepyChat struct{ d time.Duration }

func (c sleepyChat) Send(ctx context.Context, _ string, emit func(string) error) (app.Reply, error) {
	for _, p := range []string{"a", "b", "c"} {
		time.Sleep(c.d / 3)
		if err := emit(p); err != nil {
			return app.Reply{Interrupted: true}, err
		}
	}
	return app.Reply{Text: "abc", Tokens: 3, Compute: c.d}, nil
}

func (sleepyChat) Reset() {}

func TestBenchMeasuresStagesAndOverhead(t *testing.T) {
	res, err := bench(context.Background(), benchSetup{
		loaders: app.Loaders{
			Transcriber: func(context.Context, func(float64)) (app.Transcriber, error) {
				return sleepyASR{20 * time.Millisecond}, nil
			},
			Brain: func(context.Context, func(float64)) (app.Brain, error) {
				return sleepyBrain{30 * time.Millisecond}, nil
			},
		},
		turns:  3,
		submit: func(a *app.Assistant) { a.Submit(audio.PCM{Rate: audio.SampleRate, Samples: make([]float32, 16000)}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Turns != 3 {
		t.Errorf("turns = %d", res.Turns)
	}
	// Three turns' medians may come from different turns; one turn's figures add up exactly.
	one, err := bench(context.Background(), benchSetup{
		loaders: app.Loaders{
			Transcriber: func(context.Context, func(float64)) (app.Transcriber, error) {
				return sleepyASR{20 * time.Millisecond}, nil
			},
			Brain: func(context.Context, func(float64)) (app.Brain, error) {
				return sleepyBrain{30 * time.Millisecond}, nil
			},
		},
		turns:  1,
		submit: func(a *app.Assistant) { a.Submit(audio.PCM{Rate: audio.SampleRate, Samples: make([]float32, 16000)}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	checkOverhead(t, one.Stages)
	if s := one.Stages["llm compute"]; s.Median != 30 {
		t.Errorf("llm compute = %+v, want the engine's reported 30 ms", s)
	}
	for _, stage := range []string{"end of speech → transcript", "transcript → first token", "end of speech → last token",
		"asr compute", "llm compute", "pipeline overhead (total − compute)"} {
		if _, ok := res.Stages[stage]; !ok {
			t.Errorf("no stage %q in %v", stage, res.Stages)
		}
	}
	if s := res.Stages["asr compute"]; s.Median != 20 {
		t.Errorf("asr compute = %+v, want the engine's reported 20 ms", s)
	}
	if s := res.Stages["speech (audio length)"]; s.Median != 1000 {
		t.Errorf("speech = %+v, want 1000 ms", s)
	}
	var out strings.Builder
	res.print(&out)
	if !strings.Contains(out.String(), "pipeline overhead") || !strings.Contains(out.String(), "30 ms goal") {
		t.Errorf("printed:\n%s", out.String())
	}
}

func TestBenchReportsEngineFailure(t *testing.T) {
	_, err := bench(context.Background(), benchSetup{
		loaders: app.Loaders{
			Transcriber: func(context.Context, func(float64)) (app.Transcriber, error) { return nil, errors.New("bad model") },
			Brain:       func(context.Context, func(float64)) (app.Brain, error) { return sleepyBrain{}, nil },
		},
		turns:  1,
		submit: func(a *app.Assistant) {},
	})
	if err == nil || !strings.Contains(err.Error(), "bad model") {
		t.Errorf("bench with a broken model: %v", err)
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{5, 1, 4, 2, 3}
	if p := percentile(v, 0.5); p != 3 {
		t.Errorf("median = %v", p)
	}
	if p := percentile(v, 0.9); p != 5 {
		t.Errorf("p90 = %v", p)
	}
	if p := percentile(nil, 0.5); p != 0 {
		t.Errorf("empty = %v", p)
	}
}

// TestBenchCommand runs `hark bench` on jfk.wav with the shared test models: every stage is
// measured and the overhead is reported.
func TestBenchCommand(t *testing.T) {
	var out, errOut strings.Builder
	// One turn: its medians are that turn's figures, which must add up (checkOverhead).
	args := []string{"bench", "--json", "--turns", "1", "--no-guard", "--wav", testmodels.JFK(t),
		"--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"), "--llm-model", testmodels.Shared(t, "stories260K.gguf"),
		"--set", "history.enabled=false", "--models-dir", t.TempDir()}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if code := run(context.Background(), args, &out, &errOut); code != 0 {
		t.Fatalf("hark bench: exit %d\n%s", code, errOut.String())
	}
	var res struct {
		Turns  int                   `json:"turns"`
		Stages map[string]benchStats `json:"stages_ms"`
	}
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out.String())
	}
	if res.Turns != 1 || res.Stages["speech (audio length)"].Median != 11000 ||
		res.Stages["asr compute"].Median <= 0 || res.Stages["llm compute"].Median <= 0 {
		t.Errorf("bench result = %+v", res)
	}
	checkOverhead(t, res.Stages)
}

// checkOverhead checks one turn's bench figures add up: the turn took at least the engines'
// compute, and the overhead is what is left of it.
func checkOverhead(t *testing.T, stages map[string]benchStats) {
	t.Helper()
	total, asr, llm := stages["end of speech → last token"], stages["asr compute"], stages["llm compute"]
	over, ok := stages["pipeline overhead (total − compute)"]
	if !ok {
		t.Fatalf("no overhead in %+v", stages)
	}
	if total.Median < asr.Median+llm.Median {
		t.Errorf("total %.3f ms < asr %.3f ms + llm %.3f ms compute", total.Median, asr.Median, llm.Median)
	}
	if want := total.Median - asr.Median - llm.Median; math.Abs(over.Median-want) > 1e-6 || over.Median < 0 {
		t.Errorf("overhead %.6f ms, want total − asr − llm = %.6f ms (≥ 0)", over.Median, want)
	}
}
