package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hark/app/history"
	"hark/internal/testmodels"
	"hark/models"
)

// isolate gives the commands a fresh home: configuration, models and history of their own.
func isolate(t *testing.T) (home string) {
	home = t.TempDir()
	for k, v := range map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"),
		"XDG_DATA_HOME": filepath.Join(home, "data"), "HARK_CONFIG": ""} {
		t.Setenv(k, v)
	}
	return home
}

func runSteps(t *testing.T, steps []cliStep) {
	t.Helper()
	for _, s := range steps {
		s.check(t)
	}
}

// TestModelsCommands pulls the real Silero VAD from a local mirror (models.mirror) that drops
// the first connection halfway, then lists, verifies and removes it, as a person would.
func TestModelsCommands(t *testing.T) {
	home := isolate(t)
	vad, err := os.ReadFile(testmodels.Shared(t, "ggml-silero-v6.2.0.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ggml-org/whisper-vad/resolve/main/ggml-silero-v6.2.0.bin" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		if hits.Add(1) == 1 { // the first connection breaks halfway
			w.Header().Set("Content-Length", strconv.Itoa(len(vad)))
			w.Write(vad[:len(vad)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(vad))
	}))
	defer mirror.Close()
	set := "models.mirror=" + mirror.URL
	dir := filepath.Join(home, "data", "hark", "models")
	runSteps(t, []cliStep{
		{[]string{"models", "path"}, 0, []string{dir}, nil},
		{[]string{"models", "path", "--models-dir", "/srv/models"}, 0, []string{"/srv/models"}, nil},
		{[]string{"models", "list", "--set", "assistant.mode=car"}, 0,
			[]string{"Device class: car", "* whisper-base.en-q5_1", "* qwen2.5-0.5b-instruct", "* silero-vad", "unknown"}, nil},
		{[]string{"models", "pull", "--set", set, "silero-vad"}, 0,
			[]string{"silero-vad: installed at " + filepath.Join(dir, "ggml-silero-v6.2.0.bin"), "matches the published SHA-256"},
			[]string{"the connection broke", "resuming (attempt 2)", "silero-vad [", "100%", "done"}},
		{[]string{"models", "pull", "--set", set, "silero-vad"}, 0, []string{"already installed"}, nil},
		{[]string{"models", "list", "--json"}, 0, []string{`"name": "silero-vad"`, `"installed": true`}, nil},
		{[]string{"models", "verify"}, 0, []string{"ok    silero-vad: Silero voice activity detector v6.2.0", "matches the published SHA-256"}, nil},
		{[]string{"models", "pull", "whisper-bse.en"}, 2, nil, []string{`no model named "whisper-bse.en"`, "did you mean whisper-base.en"}},
		{[]string{"models", "path", "whisper-base.en"}, 1, []string{filepath.Join(dir, "ggml-base.en.bin")}, []string{"not downloaded yet"}},
		{[]string{"models", "frob"}, 2, nil, []string{"usage: hark models list"}},
	})
	if hits.Load() != 2 {
		t.Errorf("the mirror saw %d requests, want 2 (one broken, one resumed)", hits.Load())
	}

	// A damaged file fails verify; rm deletes it and says it was in use.
	p := filepath.Join(dir, "ggml-silero-v6.2.0.bin")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, b[:len(b)-10], 0o644)
	local := filepath.Join(t.TempDir(), "ggml-base.en.bin")
	gguf, _ := os.ReadFile(testmodels.Llama(t, testmodels.TinyLlama()))
	os.WriteFile(local, gguf, 0o644)
	runSteps(t, []cliStep{
		{[]string{"models", "verify"}, 1, []string{"FAIL  silero-vad:", "is truncated"}, nil},
		{[]string{"models", "verify", "--no-hash", local}, 1, []string{"is named like a speech recognition model but holds a language model"}, nil},
		{[]string{"models", "rm", "silero-vad"}, 0, []string{"silero-vad: deleted"}, []string{"was the active voice activity detector (the laptop default)"}},
		{[]string{"models", "rm", "silero-vad"}, 1, nil, []string{"model not installed"}},
	})
}

func TestProgressLine(t *testing.T) {
	tests := []struct {
		p    models.Progress
		want string
	}{
		{models.Progress{Model: "m", Phase: models.PhaseDownloading, Done: 50e6, Total: 200e6, Speed: 5e6, ETA: 30 * time.Second},
			"m [#####...............]  25%  50.0 MB / 200.0 MB  5.0 MB/s  ETA 0:30"},
		{models.Progress{Model: "m", Phase: models.PhaseDownloading, Done: 3e6, ETA: -1}, "m 3.0 MB"},
		{models.Progress{Model: "m", Phase: models.PhaseVerifying, Done: 200e6, Total: 200e6}, "m [####################] 100%  200.0 MB / 200.0 MB  verifying"},
		{models.Progress{Model: "m", Phase: models.PhaseDownloading, Done: 1, Total: 2, Speed: 1, ETA: 2*time.Hour + 3*time.Second}, "ETA 2:00:03"},
	}
	for _, tt := range tests {
		if got := progressLine(tt.p, 20); !strings.Contains(got, tt.want) {
			t.Errorf("progressLine(%+v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestConfigCommands(t *testing.T) {
	home := isolate(t)
	path := filepath.Join(home, "config", "hark", "config.toml")
	runSteps(t, []cliStep{
		{[]string{"config", "path"}, 0, []string{path}, []string{"does not exist yet"}},
		{[]string{"config", "show"}, 0, []string{`mode = "desktop"`, "# default"}, nil},
		{[]string{"config", "set", "assistant.mode", "kisok"}, 1, nil, []string{`must be one of desktop, kiosk, car; did you mean "kiosk"?`}},
		{[]string{"config", "set", "assistant.mode", "kiosk"}, 0, []string{`assistant.mode = "kiosk"`}, nil},
		{[]string{"config", "set", "kiosk.idle_wipe", "90s"}, 0, []string{`kiosk.idle_wipe = "1m30s"`}, nil},
		{[]string{"config", "show", "--set", "ui.theme=dark"}, 0, []string{`mode = "kiosk"`, "# file " + path + ":5", `theme = "dark"`, "# flag --set ui.theme"}, nil},
		{[]string{"config", "check"}, 0, []string{path + ": ok"}, nil},
		{[]string{"config", "unset", "kiosk.idle_wipe"}, 0, []string{"removed"}, nil},
		{[]string{"config", "example"}, 0, []string{"# mode = \"desktop\"", "HARK_ASSISTANT_MODE"}, nil},
		{[]string{"config", "init"}, 1, nil, []string{"exists already"}},
		{[]string{"config", "frob"}, 2, nil, []string{"usage: hark config show"}},
	})
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "[assistant]\nmode = \"kiosk\"\n") || strings.Contains(string(b), "idle_wipe") {
		t.Errorf("config file after set/unset:\n%s", b)
	}
	// A typo in the file: check fails naming the line; show still shows, and fails.
	os.WriteFile(path, append(b, []byte("[ui]\ntheem = \"dark\"\n")...), 0o644)
	runSteps(t, []cliStep{
		{[]string{"config", "check"}, 1, nil, []string{path + `:9: unknown key "theem" in [ui]; did you mean "theme"?`}},
		{[]string{"config", "show"}, 1, []string{`mode = "kiosk"`}, []string{`did you mean "theme"?`}},
		{[]string{"models", "path"}, 0, nil, []string{`warning: config:`}}, // other commands warn and go on
	})
	var js struct {
		File    string
		Entries []struct{ Key, Value, Origin string }
	}
	code, out, _ := runCLI(t, "config", "show", "--json", "--config", writeTemp(t, "[speech]\nrate = 200\n"))
	if code != 0 || json.Unmarshal([]byte(out), &js) != nil || !strings.Contains(out, `"Value": "200"`) {
		t.Errorf("config show --json: exit %d\n%s", code, out)
	}
	fresh := filepath.Join(t.TempDir(), "c.toml")
	runSteps(t, []cliStep{{[]string{"config", "init", "--config", fresh}, 0, []string{"wrote " + fresh}, nil}})
	if b, _ := os.ReadFile(fresh); !strings.Contains(string(b), "# trailing_silence = \"600ms\"") {
		t.Errorf("init wrote:\n%s", b)
	}
}

func writeTemp(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(p, []byte(text), 0o644)
	return p
}

func TestHistoryCommands(t *testing.T) {
	home := isolate(t)
	runSteps(t, []cliStep{
		{[]string{"history", "list"}, 0, []string{"no history yet"}, nil},
		{[]string{"history", "wipe", "--yes"}, 0, []string{"no history yet"}, nil},
	})
	path := filepath.Join(home, "data", "hark", "history.db")
	s, err := history.Open(path, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conv, _ := s.StartConversation(ctx, "kiosk")
	id, _ := s.StartTurn(ctx, conv, history.TurnStart{})
	s.SetTranscript(ctx, id, "where is the library")
	s.FinishTurn(ctx, id, history.TurnEnd{Reply: "On the second floor.", Timings: history.Timings{ASR: 310 * time.Millisecond, Total: 900 * time.Millisecond}})
	id2, _ := s.StartTurn(ctx, conv, history.TurnStart{})
	s.SetTranscript(ctx, id2, "and the toilets")
	s.FinishTurn(ctx, id2, history.TurnEnd{Reply: "Next to", Interrupted: true})
	s.Close()
	out := filepath.Join(t.TempDir(), "export.json")
	c := strconv.FormatInt(conv, 10)
	runSteps(t, []cliStep{
		{[]string{"history", "path"}, 0, []string{path}, nil},
		{[]string{"history", "list"}, 0, []string{c + "  ", "kiosk", "2 turns", "“where is the library”"}, nil},
		{[]string{"history", "show", c}, 0, []string{"you:  where is the library", "hark: On the second floor.", "speech recognition 310 ms", "interrupted"}, nil},
		{[]string{"history", "show", "999"}, 1, nil, []string{"conversation 999: history: not found"}},
		{[]string{"history", "export", "--out", out}, 0, nil, []string{"wrote " + out}},
		{[]string{"history", "wipe"}, 2, nil, []string{"nothing deleted; add --yes"}},
		{[]string{"history", "list"}, 0, []string{"where is the library"}, nil},
		{[]string{"history", "wipe", "--yes"}, 0, []string{"Deleted 1 conversations"}, nil},
		{[]string{"history", "list"}, 0, []string{"The history is empty."}, nil},
		{[]string{"history", "list", "--set", "history.enabled=false"}, 0, []string{"recording is off"}, nil},
	})
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), `"transcript": "and the toilets"`) || !strings.Contains(string(b), `"status": "interrupted"`) {
		t.Errorf("export: %v\n%s", err, b)
	}
}
