package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"hark/app"
	"hark/audio"
	"hark/ui"
)

func TestEngineFlagsOverrideOnlyWhatIsGiven(t *testing.T) {
	fs := newFlags("x", "", &strings.Builder{})
	var f engineFlags
	f.register(fs, true)
	if err := parseFlags(fs, []string{"--llm-model", "/m/b.gguf", "--device", "USB"}); err != nil {
		t.Fatal(err)
	}
	f.visit(fs)
	saved := ui.DefaultSettings(ui.ModeDesktop)
	saved.ASRModel, saved.LLMModel, saved.WakePhrase = "/m/a.bin", "/m/old.gguf", "hey hark"
	got := f.apply(saved)
	want := saved
	want.LLMModel, want.Microphone = "/m/b.gguf", "USB"
	if got != want {
		t.Errorf("apply = %+v\nwant    %+v", got, want)
	}
}

func TestFlagOverridesAreNotSaved(t *testing.T) {
	a := test.NewTempApp(t)
	store := ui.PreferencesStore{P: a.Preferences()}
	saved := ui.DefaultSettings(ui.ModeDesktop)
	saved.LLMModel, saved.ASRModel = "/saved.gguf", "/saved.bin"
	if err := store.Save(saved); err != nil {
		t.Fatal(err)
	}
	started := saved
	started.LLMModel = "/from-flag.gguf"
	s := flagAwareStore{store, saved, started}
	edited := started
	edited.ASRModel, edited.TextSize = "/picked.bin", "large" // what the person changed in the dialog
	if err := s.Save(edited); err != nil {
		t.Fatal(err)
	}
	got, _ := store.Load(ui.ModeDesktop)
	if got.LLMModel != "/saved.gguf" || got.ASRModel != "/picked.bin" || got.TextSize != "large" {
		t.Errorf("saved %+v: the flag's model must not be saved, the edits must", got)
	}
}

func TestChangedLoaders(t *testing.T) {
	old := ui.DefaultSettings(ui.ModeDesktop)
	tests := []struct {
		name                 string
		edit                 func(*ui.Settings)
		asr, llm, vad, micro bool
	}{
		{"nothing", func(*ui.Settings) {}, false, false, false, false},
		{"wake phrase only", func(s *ui.Settings) { s.WakePhrase = "hey" }, false, false, false, false},
		{"speech model", func(s *ui.Settings) { s.ASRModel = "/x.bin" }, true, false, false, false},
		{"language", func(s *ui.Settings) { s.Language = "de" }, true, false, false, false},
		{"language model", func(s *ui.Settings) { s.LLMModel = "/x.gguf" }, false, true, false, false},
		{"trailing silence", func(s *ui.Settings) { s.TrailingSilence = time.Second }, false, false, true, false},
		{"microphone", func(s *ui.Settings) { s.Microphone = "USB" }, false, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := old
			tt.edit(&n)
			l := changedLoaders(old, n)
			if (l.Transcriber != nil) != tt.asr || (l.Brain != nil) != tt.llm || (l.Segmenter != nil) != tt.vad || (l.Microphone != nil) != tt.micro {
				t.Errorf("changedLoaders: asr %v llm %v vad %v mic %v; want %v %v %v %v", l.Transcriber != nil, l.Brain != nil,
					l.Segmenter != nil, l.Microphone != nil, tt.asr, tt.llm, tt.vad, tt.micro)
			}
		})
	}
}

func TestModelFileErrorsSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "m.bin")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path, msg string }{
		{"none chosen", "", "No speech model is chosen"},
		{"missing", filepath.Join(dir, "nope.bin"), "The speech model file is missing"},
		{"a folder", dir, "The speech model path is a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := modelFile(tt.path, "speech model", "asr-model", "whisper .bin")
			if err == nil || !strings.HasPrefix(app.Message(err), tt.msg) || app.Hint(err) == "" {
				t.Errorf("modelFile(%q) = %v (hint %q), want %q with a hint", tt.path, err, app.Hint(err), tt.msg)
			}
		})
	}
	if err := modelFile(file, "speech model", "asr-model", "whisper .bin"); err != nil {
		t.Errorf("an existing file: %v", err)
	}
}

func TestBrokenModelFilesKeepTheAssistantUsable(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.gguf")
	if err := os.WriteFile(junk, []byte("this is not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := loadBrain(junk, 1)(context.Background(), nil)
	if err == nil || app.Hint(err) == "" {
		t.Errorf("loading a junk GGUF: %v (hint %q), want an explained error", err, app.Hint(err))
	}
	_, err = loadTranscriber(junk, "en", 1)(context.Background(), nil)
	if err == nil || app.Hint(err) == "" {
		t.Errorf("loading a junk whisper model: %v (hint %q), want an explained error", err, app.Hint(err))
	}
}

func TestAssistantConfigPerMode(t *testing.T) {
	k := assistantConfig(ui.DefaultSettings(ui.ModeKiosk))
	if !k.HandsFree || k.IdleWipe != time.Minute || !k.WipeHistory {
		t.Errorf("kiosk config = %+v", k)
	}
	c := assistantConfig(ui.DefaultSettings(ui.ModeCar))
	if !c.HandsFree || !c.Speak || c.IdleWipe != 0 {
		t.Errorf("car config = %+v", c)
	}
	d := assistantConfig(ui.DefaultSettings(ui.ModeDesktop))
	if d.HandsFree || d.Speak || d.SystemPrompt != app.DefaultSystemPrompt {
		t.Errorf("desktop config = %+v", d)
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
			Transcriber: func(context.Context, func(float64)) (app.Transcriber, error) { return sleepyASR{20 * time.Millisecond}, nil },
			Brain:       func(context.Context, func(float64)) (app.Brain, error) { return sleepyBrain{30 * time.Millisecond}, nil },
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
