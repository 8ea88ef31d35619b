package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/app"
	"hark/app/config"
	"hark/app/history"
	"hark/audio"
	"hark/internal/testmodels"
	"hark/models"
)

// testSetup loads a setup from a configuration file with the given content (and flags), with
// an empty models folder.
func testSetup(t *testing.T, file string, flags ...config.Override) *setup {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	flags = append([]config.Override{{Key: "models.dir", Value: filepath.Join(dir, "models"), Flag: "--models-dir"}}, flags...)
	s, err := newSetup(config.Options{Path: path, Env: []string{}, Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	if s.problems != nil {
		t.Fatal(s.problems)
	}
	return s
}

func TestSettingsFromTheConfiguration(t *testing.T) {
	tests := []struct {
		name            string
		file            string
		handsFree, talk bool
	}{
		{"desktop defaults", "", false, true},
		{"desktop hands-free", "[assistant]\nhands_free = true\n[speech]\nenabled = false\n", true, false},
		{"kiosk listens by default", "[assistant]\nmode = \"kiosk\"\n", true, true},
		{"kiosk told not to", "[assistant]\nmode = \"kiosk\"\nhands_free = false\n", false, true},
		{"the car always listens and speaks", "[assistant]\nmode = \"car\"\nhands_free = false\n[speech]\nenabled = false\n", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSetup(t, tt.file)
			got := s.settings()
			if got.HandsFree != tt.handsFree || got.Speak != tt.talk {
				t.Errorf("hands-free %v speak %v, want %v %v", got.HandsFree, got.Speak, tt.handsFree, tt.talk)
			}
			c := s.assistantConfig()
			if c.HandsFree != tt.handsFree || c.Speak != tt.talk {
				t.Errorf("assistant config hands-free %v speak %v, want %v %v", c.HandsFree, c.Speak, tt.handsFree, tt.talk)
			}
		})
	}
	k := testSetup(t, "[assistant]\nmode = \"kiosk\"\n[kiosk]\nidle_wipe = \"45s\"\n").assistantConfig()
	if k.IdleWipe != 45*time.Second || !k.WipeHistory {
		t.Errorf("kiosk config = %+v", k)
	}
}

func TestSavingSettingsKeepsTheFileAndTheFlags(t *testing.T) {
	file := "# my settings\n[assistant]\nwake_phrase = \"computer\" # short\n"
	s := testSetup(t, file, config.Override{Key: "models.llm", Value: "/from/flag.gguf", Flag: "--llm-model"})
	var applied []*setup
	store := &configStore{cur: s, apply: func(old, new *setup) { applied = append(applied, old, new) }}
	old := s.settings()
	n := old
	n.ASRModel, n.TextSize = "/picked.bin", "large" // what the person changed in the dialog
	if err := store.save(old, n); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(s.cfg.Path())
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{"# my settings", `wake_phrase = "computer" # short`, `asr = "/picked.bin"`, `text_size = "large"`} {
		if !strings.Contains(got, want) {
			t.Errorf("config file lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "flag.gguf") {
		t.Errorf("the --llm-model flag was saved:\n%s", got)
	}
	if len(applied) != 2 || applied[1].cfg.Models.ASR != "/picked.bin" || applied[1].cfg.Models.LLM != "/from/flag.gguf" {
		t.Errorf("applied %v", applied)
	}
	if l := changedLoaders(applied[0], applied[1]); l.Transcriber == nil || l.Brain != nil {
		t.Errorf("changed loaders: asr %v llm %v, want only asr", l.Transcriber != nil, l.Brain != nil)
	}
}

func TestChangedLoaders(t *testing.T) {
	old := testSetup(t, "")
	tests := []struct {
		name                 string
		edit                 func(*config.Config)
		asr, llm, vad, micro bool
	}{
		{"nothing", func(*config.Config) {}, false, false, false, false},
		{"wake phrase only", func(c *config.Config) { c.Assistant.WakePhrase = "hey" }, false, false, false, false},
		{"speech model", func(c *config.Config) { c.Models.ASR = "/x.bin" }, true, false, false, false},
		{"language", func(c *config.Config) { c.Assistant.Language = "de" }, true, false, false, false},
		{"language model", func(c *config.Config) { c.Models.LLM = "/x.gguf" }, false, true, false, false},
		{"trailing silence", func(c *config.Config) { c.Audio.TrailingSilence = time.Second }, false, false, true, false},
		{"microphone", func(c *config.Config) { c.Audio.InputDevice = "USB" }, false, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := *old
			n.cfg = old.cfg.Clone()
			tt.edit(n.cfg)
			l := changedLoaders(old, &n)
			if (l.Transcriber != nil) != tt.asr || (l.Brain != nil) != tt.llm || (l.Segmenter != nil) != tt.vad || (l.Microphone != nil) != tt.micro {
				t.Errorf("changedLoaders: asr %v llm %v vad %v mic %v; want %v %v %v %v", l.Transcriber != nil, l.Brain != nil,
					l.Segmenter != nil, l.Microphone != nil, tt.asr, tt.llm, tt.vad, tt.micro)
			}
		})
	}
}

func TestModelErrorsSayWhatToDo(t *testing.T) {
	s := testSetup(t, "")
	_, err := s.modelPath(models.ASR, "") // the laptop's default, not downloaded
	if err == nil || !strings.Contains(app.Message(err), "is not downloaded yet") || !strings.Contains(app.Hint(err), "hark models pull") {
		t.Errorf("default model not downloaded: %v (hint %q)", err, app.Hint(err))
	}
	_, err = s.modelPath(models.LLM, filepath.Join(t.TempDir(), "nope.gguf"))
	if err == nil || app.Message(err) != "The language model file is missing" || app.Hint(err) == "" {
		t.Errorf("missing file: %v (hint %q)", err, app.Hint(err))
	}
	_, err = s.modelPath(models.LLM, "no-such-model")
	if err == nil || app.Hint(err) == "" {
		t.Errorf("unknown name: %v (hint %q)", err, app.Hint(err))
	}
	m := testmodels.Shared(t, "stories260K.gguf")
	if p, err := s.modelPath(models.LLM, m); err != nil || p != m {
		t.Errorf("a local file: %q, %v", p, err)
	}
	// The first-run screen lists what is missing and can be downloaded.
	missing := firstRun{s: s}.Missing()
	if len(missing) != 2 || !missing[0].CanDownload || missing[0].Size == 0 || missing[0].What != "Speech recognition" {
		t.Errorf("first-run list = %+v", missing)
	}
}

func TestBrokenModelFilesKeepTheAssistantUsable(t *testing.T) {
	junk := filepath.Join(t.TempDir(), "junk.gguf")
	if err := os.WriteFile(junk, []byte("this is not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := testSetup(t, "", config.Override{Key: "models.llm", Value: junk, Flag: "--llm-model"},
		config.Override{Key: "models.asr", Value: junk, Flag: "--asr-model"})
	if _, err := s.loadBrain()(context.Background(), nil); err == nil || app.Hint(err) == "" {
		t.Errorf("loading a junk GGUF: %v (hint %q), want an explained error", err, app.Hint(err))
	}
	if _, err := s.loadTranscriber()(context.Background(), nil); err == nil || app.Hint(err) == "" {
		t.Errorf("loading a junk whisper model: %v (hint %q), want an explained error", err, app.Hint(err))
	}
}

func TestHistoryRecordsTurns(t *testing.T) {
	dir := t.TempDir()
	s := testSetup(t, "[history]\npath = \""+filepath.Join(dir, "h.db")+"\"\n")
	h, closeHist := openTurnHistory(s, log.New(io.Discard, "", 0))
	if h == nil {
		t.Fatal("no history")
	}
	ctx := context.Background()
	r := app.TurnRecord{Conversation: "c1", Turn: 1, Input: app.InputVoice, Transcript: "what time is it"}
	if err := h.Begin(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Reply, r.Interrupted, r.Timings = "It is", true, app.Timings{Transcribe: 300 * time.Millisecond, Total: time.Second}
	if err := h.Finish(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := h.Begin(ctx, app.TurnRecord{Conversation: "c2", Turn: 2, Transcript: "second"}); err != nil {
		t.Fatal(err)
	}
	closeHist()
	st, err := history.Open(filepath.Join(dir, "h.db"), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	convs, err := st.Conversations(ctx, history.ListOptions{})
	if err != nil || len(convs) != 2 {
		t.Fatalf("conversations = %+v, %v", convs, err)
	}
	var first history.Conversation
	for _, c := range convs {
		if c.Preview == "what time is it" {
			first, _ = st.Conversation(ctx, c.ID)
		}
	}
	if len(first.Turns) != 1 || first.Turns[0].Reply != "It is" || !first.Turns[0].Interrupted() || first.Turns[0].Timings.ASR != 300 {
		t.Errorf("stored turn = %+v", first.Turns)
	}
	// The kiosk's idle wipe removes a conversation.
	h2, close2 := openTurnHistory(s, log.New(io.Discard, "", 0))
	defer close2()
	hl := h2.(*historyLog)
	if err := hl.Begin(ctx, app.TurnRecord{Conversation: "c3", Turn: 1, Transcript: "private"}); err != nil {
		t.Fatal(err)
	}
	if err := hl.Wipe(ctx, "c3"); err != nil {
		t.Fatal(err)
	}
	convs, _ = st.Conversations(ctx, history.ListOptions{})
	for _, c := range convs {
		if c.Preview == "private" {
			t.Errorf("the wiped conversation is still there")
		}
	}
}

// TestHistoryAudioOnlyWhenAsked: the utterance reaches the history file only with
// history.store_audio on.
func TestHistoryAudioOnlyWhenAsked(t *testing.T) {
	for _, store := range []bool{false, true} {
		dir := t.TempDir()
		s := testSetup(t, fmt.Sprintf("[history]\npath = %q\nstore_audio = %v\n", filepath.Join(dir, "h.db"), store))
		h, closeHist := openTurnHistory(s, log.New(io.Discard, "", 0))
		if h == nil {
			t.Fatal("no history")
		}
		ctx := context.Background()
		r := app.TurnRecord{Conversation: "c", Turn: 1, Input: app.InputVoice, Transcript: "hello"}
		if err := h.Begin(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Reply, r.Audio = "Hi.", audio.PCM{Rate: 16000, Samples: make([]float32, 8000)}
		if err := h.Finish(ctx, r); err != nil {
			t.Fatal(err)
		}
		closeHist()
		st, err := history.Open(filepath.Join(dir, "h.db"), history.Options{})
		if err != nil {
			t.Fatal(err)
		}
		convs, err := st.Conversations(ctx, history.ListOptions{})
		if err != nil || len(convs) != 1 {
			t.Fatalf("conversations = %+v, %v", convs, err)
		}
		c, err := st.Conversation(ctx, convs[0].ID)
		st.Close()
		if err != nil || len(c.Turns) != 1 {
			t.Fatalf("conversation = %+v, %v", c, err)
		}
		want := 0
		if store {
			want = 8000
		}
		if got := len(c.Turns[0].Audio); got != want {
			t.Errorf("store_audio = %v: %d samples stored, want %d", store, got, want)
		}
	}
}

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
