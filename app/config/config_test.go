package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no file there
	t.Setenv("HARK_CONFIG", "")
	c, err := Load(Options{Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Assistant.Mode != "desktop" || c.Audio.TrailingSilence != 600*time.Millisecond || c.Speech.Rate != 175 ||
		!c.History.Enabled || c.History.StoreAudio || c.Assistant.SystemPrompt != DefaultSystemPrompt || c.DeviceClass() != "laptop" {
		t.Errorf("defaults: %+v", c)
	}
	for _, k := range Keys() {
		if o := c.Origin(k); o.Source != FromDefault {
			t.Errorf("%s comes from %v, want default", k, o)
		}
	}
	if !strings.HasSuffix(c.Path(), filepath.Join("hark", "config.toml")) {
		t.Errorf("Path() = %s", c.Path())
	}
}

func TestPrecedence(t *testing.T) {
	path := writeConfig(t, `# my settings
[assistant]
mode = "kiosk"
language = "de"

[speech]
rate = 200

[audio]
pre_roll = "200ms"
`)
	env := []string{"HARK_ASSISTANT_MODE=car", "HARK_SPEECH_RATE=150", "HARK_TESTENV=/tmp/x", "PATH=/bin"}
	flags := []Override{{Key: "assistant.mode", Value: "desktop", Flag: "--mode"}}
	c, err := Load(Options{Path: path, Env: env, Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, value string
		origin     Origin
	}{
		{"assistant.mode", `"desktop"`, Origin{FromFlag, "--mode"}},
		{"speech.rate", "150", Origin{FromEnv, "HARK_SPEECH_RATE"}},
		{"assistant.language", `"de"`, Origin{FromFile, path + ":4"}},
		{"audio.pre_roll", `"200ms"`, Origin{FromFile, path + ":10"}},
		{"audio.trailing_silence", `"600ms"`, Origin{FromDefault, ""}},
	}
	for _, tt := range tests {
		got, _ := c.Get(tt.key)
		if got != tt.value || c.Origin(tt.key) != tt.origin {
			t.Errorf("%s = %s from %v, want %s from %v", tt.key, got, c.Origin(tt.key), tt.value, tt.origin)
		}
	}
	if c.Audio.PreRoll != 200*time.Millisecond || c.Speech.Rate != 150 {
		t.Errorf("typed values: %+v %+v", c.Audio, c.Speech)
	}
	// HARK_CONFIG names the file when no path is given.
	c, err = Load(Options{Env: []string{"HARK_CONFIG=" + path}})
	if err != nil || c.Assistant.Mode != "kiosk" {
		t.Errorf("HARK_CONFIG: mode %q, %v", c.Assistant.Mode, err)
	}
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  []string
		flag []Override
		want []string // each must appear, in order, one per problem
	}{
		{"syntax", "[audio]\npre_roll = \"300ms\nx = 1\n", nil, nil, []string{`:2: TOML syntax error`}},
		{"unknown section", "[audoi]\ninput_device = \"x\"\n", nil, nil, []string{`:1: unknown section [audoi]; did you mean [audio]? Sections are models, audio`}},
		{"unknown key", "[assistant]\nmdoe = \"kiosk\"\n", nil, nil, []string{`:2: unknown key "mdoe" in [assistant]; did you mean "mode"? Keys in [assistant] are mode, hands_free`}},
		{"key in the wrong section", "[audio]\nmode = \"kiosk\"\n", nil, nil, []string{`:2: unknown key "mode" in [audio]: it belongs in [assistant] (assistant.mode)`}},
		{"key outside any section", "mode = \"kiosk\"\n", nil, nil, []string{`:1: unknown key "mode": it belongs in a section, as assistant.mode`}},
		{"dotted key under another section", "[ui]\nmodels.asr = \"x\"\n", nil, nil, []string{`:2: "models.asr" under [ui] is read as ui.models.asr: move it above the first [section] line, or into [models] as asr`}},
		{"bad choice", "[assistant]\nmode = \"kisok\"\n", nil, nil, []string{`:2: assistant.mode = "kisok": must be one of desktop, kiosk, car; did you mean "kiosk"?`}},
		{"bad language", "[assistant]\nlanguage = \"english\"\n", nil, nil, []string{`assistant.language = "english": must be auto or a whisper language code`}},
		{"string for a number", "[speech]\nrate = \"fast\"\n", nil, nil, []string{`:2: speech.rate = "fast": must be a whole number between 80 and 450 (without quotes)`}},
		{"number out of range", "[speech]\nrate = 1000\n", nil, nil, []string{`:2: speech.rate = 1000: must be between 80 and 450`}},
		{"float for an int", "[speech]\npitch = 4.5\n", nil, nil, []string{`speech.pitch = 4.5: must be a whole number`}},
		{"number for a duration", "[audio]\ntrailing_silence = 600\n", nil, nil, []string{`:2: audio.trailing_silence = 600: must be a duration in quotes with a unit, like "600ms"`}},
		{"bad duration", "[audio]\ntrailing_silence = \"6 seconds\"\n", nil, nil, []string{`must be a duration with a unit`}},
		{"duration out of range", "[audio]\ntrailing_silence = \"10s\"\n", nil, nil, []string{`audio.trailing_silence = "10s": must be between 100ms and 5s`}},
		{"quoted bool", "[history]\nenabled = \"yes\"\n", nil, nil, []string{`history.enabled = "yes": must be true or false (without quotes)`}},
		{"bad chord", "[kiosk]\nadmin_chord = \"ctrl+hyper+a\"\n", nil, nil, []string{`"hyper" is not a modifier`}},
		{"chord without modifier", "[kiosk]\nadmin_chord = \"a\"\n", nil, nil, []string{`at least one modifier and a key`}},
		{"duplicate key", "[ui]\ntheme = \"dark\"\ntheme = \"light\"\n", nil, nil, []string{`:3: ui.theme is set twice (first on line 2)`}},
		{"duplicate section", "[ui]\ntheme = \"dark\"\n[ui]\ntext_size = \"large\"\n", nil, nil, []string{`:3: section [ui] appears twice (first on line 1)`}},
		{"list value", "[ui]\ntheme = [\"dark\"]\n", nil, nil, []string{`ui.theme: lists ([...]) are not used`}},
		{"date value", "[ui]\ntheme = 2024-01-01\n", nil, nil, []string{`ui.theme: dates are not used`}},
		{"array of tables", "[[ui]]\ntheme = \"dark\"\n", nil, nil, []string{`:1: arrays of tables`}},
		{"bad mirror", "[models]\nmirror = \"ftp://x\"\n", nil, nil, []string{`models.mirror = "ftp://x": must be empty or an http(s) address`}},
		{"bad environment", "", []string{"HARK_ASSISTANT_MODE=boat"}, nil, []string{`HARK_ASSISTANT_MODE: assistant.mode = "boat": must be one of desktop, kiosk, car`}},
		{"bad environment number", "", []string{"HARK_PERFORMANCE_THREADS=many"}, nil, []string{`HARK_PERFORMANCE_THREADS: performance.threads = "many": must be a whole number between 0 and 256`}},
		{"bad flag", "", nil, []Override{{"assistant.temperature", "hot", "--set assistant.temperature"}}, []string{`--set assistant.temperature: assistant.temperature = "hot": must be a number between 0 and 2`}},
		{"several problems", "[assistant]\nmode = \"x\"\nmax_tokens = 0\n[ui]\ntheme = \"dark\"\n", nil, nil,
			[]string{`:2: assistant.mode = "x"`, `:3: assistant.max_tokens = 0: must be between 16 and 8192`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.file)
			c, err := Load(Options{Path: path, Env: tt.env, Flags: tt.flag})
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load = %v, want *config.Error", err)
			}
			if len(ce.Problems) != len(tt.want) {
				t.Fatalf("%d problems, want %d:\n%v", len(ce.Problems), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.Contains(ce.Problems[i].String(), w) {
					t.Errorf("problem %d = %q, want %q", i, ce.Problems[i], w)
				}
			}
			if c == nil {
				t.Fatal("no usable Config returned with the error")
			}
		})
	}
	// With problems, the valid settings still apply and the invalid ones keep their defaults.
	c, err := Load(Options{Path: writeConfig(t, "[assistant]\nmode = \"x\"\n[ui]\ntheme = \"dark\"\n"), Env: []string{}})
	if err == nil || c.Assistant.Mode != "desktop" || c.UI.Theme != "dark" {
		t.Errorf("partial load: mode %q theme %q err %v", c.Assistant.Mode, c.UI.Theme, err)
	}
	// A file named explicitly must exist.
	_, err = Load(Options{Path: filepath.Join(t.TempDir(), "nope.toml"), Env: []string{}})
	if !errors.Is(err, ErrFileMissing) {
		t.Errorf("missing explicit file: %v", err)
	}
}

func TestTOMLForms(t *testing.T) {
	// The loader takes every way TOML can spell these keys.
	path := writeConfig(t, `assistant.mode = "car"   # dotted key before any section
performance = { threads = 2 }
[speech]
rate = 1_50
enabled = false
[assistant]
system_prompt = """
Be brief."""
temperature = 1
wake_phrase = 'hey hark'
`)
	c, err := Load(Options{Path: path, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Assistant.Mode != "car" || c.Performance.Threads != 2 || c.Speech.Rate != 150 || c.Speech.Enabled ||
		c.Assistant.SystemPrompt != "Be brief." || c.Assistant.Temperature != 1 || c.Assistant.WakePhrase != "hey hark" {
		t.Errorf("got %+v %+v %+v", c.Assistant, c.Performance, c.Speech)
	}
}

const roundTripFile = `# Hark settings for the hall kiosk.
# Keep this comment.
models.asr = "whisper-base.en"

[assistant]
mode    =   "kiosk"   # the lobby
system_prompt = """
You are the hall's assistant.
Be brief."""

# Audio is fine as it is.
[audio]
pre_roll = "250ms"

[ui] # look
theme = "dark"
# trailing comment in ui
`

func TestEditKeepsTheRest(t *testing.T) {
	path := writeConfig(t, roundTripFile)
	steps := []struct {
		name string
		do   func() error
	}{
		{"replace a value with an inline comment", func() error { return Set(path, "assistant.mode", "car") }},
		{"replace a multi-line string", func() error { return Set(path, "assistant.system_prompt", "Say \"hi\".\nThen stop.") }},
		{"add a key to an existing section", func() error { return Set(path, "ui.text_size", "large") }},
		{"add a key to a new section", func() error { return Set(path, "history.retention_days", "7") }},
		{"add a second key to that section", func() error { return Set(path, "history.store_audio", "true") }},
		{"remove a key", func() error { return Unset(path, "audio.pre_roll") }},
		{"remove a key that is not there", func() error { return Unset(path, "speech.voice") }},
		{"add a key beside a dotted one", func() error { return Set(path, "models.llm", "~/models/my model.gguf") }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	got, _ := os.ReadFile(path)
	want := `# Hark settings for the hall kiosk.
# Keep this comment.
models.asr = "whisper-base.en"
models.llm = "~/models/my model.gguf"

[assistant]
mode    =   "car"   # the lobby
system_prompt = "Say \"hi\".\nThen stop."

# Audio is fine as it is.
[audio]

[ui] # look
theme = "dark"
text_size = "large"
# trailing comment in ui

[history]
retention_days = 7
store_audio = true
`
	if string(got) != want {
		t.Fatalf("edited file:\n%s\nwant:\n%s", got, want)
	}
	c, err := Load(Options{Path: path, Env: []string{}})
	if err != nil || c.Models.LLM != "~/models/my model.gguf" || c.Assistant.SystemPrompt != "Say \"hi\".\nThen stop." {
		t.Errorf("edited file loads as %+v %+v, %v", c.Models, c.Assistant, err)
	}
}

func TestSaveForTheGUI(t *testing.T) {
	path := writeConfig(t, "# mine\n[ui]\ntheme = \"dark\" # I like it dark\n\n[kiosk]\nidle_wipe = \"5m\"\n")
	c, err := Load(Options{Path: path, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	c.UI.Theme = "light"
	c.Speech.Rate = 190
	c.Audio.TrailingSilence = 1500 * time.Millisecond
	if err := Save(path, c, "ui.theme", "speech.rate", "audio.trailing_silence"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "# mine\n[ui]\ntheme = \"light\" # I like it dark\n\n[kiosk]\nidle_wipe = \"5m\"\n\n[audio]\ntrailing_silence = \"1.5s\"\n\n[speech]\nrate = 190\n"
	if string(got) != want {
		t.Fatalf("saved file:\n%q\nwant:\n%q", got, want)
	}
	again, err := Load(Options{Path: path, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	again.origins, c.origins = nil, nil
	again.path, c.path = "", ""
	if !reflect.DeepEqual(again, c) {
		t.Errorf("round trip changed values:\n%+v\n%+v", again, c)
	}
	// An invalid value is refused and the file is left alone.
	c.Speech.Rate = 5
	if err := Save(path, c, "speech.rate"); err == nil {
		t.Error("Save accepted speech.rate = 5")
	}
	if after, _ := os.ReadFile(path); string(after) != want {
		t.Error("a refused Save changed the file")
	}
}

func TestEditRefusals(t *testing.T) {
	path := writeConfig(t, "[ui]\nthem = \"dark\"\n")
	if err := Set(path, "ui.theme", "dark"); err == nil || !strings.Contains(err.Error(), "must be fixed before") || !strings.Contains(err.Error(), `did you mean "theme"`) {
		t.Errorf("Set on a broken file: %v", err)
	}
	good := writeConfig(t, "[ui]\ntheme = \"dark\"\n")
	for _, tc := range []struct{ key, value, want string }{
		{"ui.theme", "purple", "must be one of system, light, dark"},
		{"ui.colour", "dark", `unknown key "colour" in [ui]`},
		{"assistant.max_tokens", "lots", "must be a whole number"},
	} {
		if err := Set(good, tc.key, tc.value); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Set(%s, %s) = %v, want %q", tc.key, tc.value, err, tc.want)
		}
	}
	inline := writeConfig(t, "ui = { theme = \"dark\" }\n")
	if err := Unset(inline, "ui.theme"); err == nil || !strings.Contains(err.Error(), "inline table") {
		t.Errorf("Unset in an inline table: %v", err)
	}
	if err := Set(inline, "ui.theme", "light"); err != nil {
		t.Errorf("Set in an inline table: %v", err)
	} else if b, _ := os.ReadFile(inline); string(b) != "ui = { theme = \"light\" }\n" {
		t.Errorf("inline edit: %q", b)
	}
	// A new file is created with a header comment.
	fresh := filepath.Join(t.TempDir(), "sub", "config.toml")
	if err := Set(fresh, "assistant.mode", "car"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(fresh); !strings.HasPrefix(string(b), "# Hark configuration.") || !strings.HasSuffix(string(b), "\n[assistant]\nmode = \"car\"\n") {
		t.Errorf("new file:\n%s", b)
	}
}

// TestReferenceIsValid: the example file loads as is (all commented out), and with every key
// uncommented it loads to exactly the defaults, so the documented defaults are the real ones.
func TestReferenceIsValid(t *testing.T) {
	ref := Reference()
	c, err := Load(Options{Path: writeConfig(t, ref), Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	uncommented := regexp.MustCompile(`(?m)^# ([a-z_]+ = .*)$`).ReplaceAllString(ref, "$1")
	c2, err := Load(Options{Path: writeConfig(t, uncommented), Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		if c2.Origin(k).Source != FromFile {
			t.Errorf("the reference does not set %s when uncommented", k)
		}
		a, _ := c.Get(k)
		b, _ := c2.Get(k)
		if a != b {
			t.Errorf("%s: documented default %s, real default %s", k, b, a)
		}
	}
}

func TestShowIsValidConfig(t *testing.T) {
	path := writeConfig(t, "[assistant]\nmode = \"car\"\n")
	c, err := Load(Options{Path: path, Env: []string{"HARK_SPEECH_RATE=160"}, Flags: []Override{{"ui.theme", "dark", "--set ui.theme"}}})
	if err != nil {
		t.Fatal(err)
	}
	out := c.Show()
	for _, w := range []string{`mode = "car"`, "# file " + path + ":2", "rate = 160", "# environment HARK_SPEECH_RATE", `theme = "dark"`, "# flag --set ui.theme", "# default"} {
		if !strings.Contains(out, w) {
			t.Errorf("show lacks %q:\n%s", w, out)
		}
	}
	back, err := Load(Options{Path: writeConfig(t, out), Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		a, _ := c.Get(k)
		b, _ := back.Get(k)
		if a != b {
			t.Errorf("show round trip: %s = %s, then %s", k, a, b)
		}
	}
}

func TestFlags(t *testing.T) {
	fs := flag.NewFlagSet("hark", flag.ContinueOnError)
	f := NewFlags(fs)
	f.Bind("mode", "assistant.mode")
	f.Bind("asr-model", "models.asr")
	path := writeConfig(t, "[assistant]\nmode = \"kiosk\"\n")
	if err := fs.Parse([]string{"--config", path, "--mode", "car", "--set", "ui.theme=dark", "--set", "speech.rate=200"}); err != nil {
		t.Fatal(err)
	}
	opts := f.Options()
	want := []Override{{"assistant.mode", "car", "--mode"}, {"ui.theme", "dark", "--set ui.theme"}, {"speech.rate", "200", "--set speech.rate"}}
	if opts.Path != path || !reflect.DeepEqual(opts.Flags, want) {
		t.Fatalf("Options = %+v", opts)
	}
	c, err := Load(opts)
	if err != nil || c.Assistant.Mode != "car" || c.UI.Theme != "dark" || c.Models.ASR != "" {
		t.Errorf("Load(flags) = %+v, %v", c.Assistant, err)
	}
	fs2 := flag.NewFlagSet("hark", flag.ContinueOnError)
	fs2.SetOutput(new(strings.Builder))
	NewFlags(fs2)
	if err := fs2.Parse([]string{"--set", "ui.colour=dark"}); err == nil || !strings.Contains(err.Error(), `unknown key "colour"`) {
		t.Errorf("--set with an unknown key: %v", err)
	}
}

func TestDocsUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "config.md")
	if *update {
		if err := os.WriteFile(path, []byte(Markdown()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with go test ./app/config -run TestDocsUpToDate -update)", err)
	}
	if string(got) != Markdown() {
		t.Fatal("docs/config.md is out of date: go test ./app/config -run TestDocsUpToDate -update")
	}
}

var update = flag.Bool("update", false, "rewrite docs/config.md")

// TestKnowledgeSettings: the [knowledge] section is read and checked, and knowledge.guess
// decides per mode whether a question the documents do not cover gets "I don't know".
func TestKnowledgeSettings(t *testing.T) {
	for _, tc := range []struct {
		file       string
		wantErr    string
		neverGuess bool
	}{
		{"", "", false},
		{"[assistant]\nmode = \"kiosk\"\n", "", true},
		{"[assistant]\nmode = \"kiosk\"\n[knowledge]\nguess = \"allowed\"\n", "", false},
		{"[knowledge]\nguess = \"never\"\nmin_coverage = 0.6\nmax_tokens = 800\npassages = 5\nwatch = false\n", "", true},
		{"[knowledge]\nmin_coverage = 1.5\n", "knowledge.min_coverage = 1.5", false},
		{"[knowledge]\nmax_tokens = 10\n", "knowledge.max_tokens = 10", false},
		{"[knowledge]\nguess = \"sometimes\"\n", "knowledge.guess", false},
	} {
		c, err := Load(Options{Path: writeConfig(t, tc.file), Env: []string{}})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want one naming %q", tc.file, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.file, err)
		}
		if got := c.NeverGuess(); got != tc.neverGuess {
			t.Errorf("%q: NeverGuess %v, want %v", tc.file, got, tc.neverGuess)
		}
		if strings.Contains(tc.file, "max_tokens") {
			if k := c.Knowledge; k.MinCoverage != 0.6 || k.MaxTokens != 800 || k.Passages != 5 || k.Watch {
				t.Errorf("read %+v", k)
			}
		} else if k := c.Knowledge; k.MinCoverage != 0.45 || k.MaxTokens != 400 || k.Passages != 3 || !k.Watch {
			t.Errorf("defaults %+v", k)
		}
	}
}
