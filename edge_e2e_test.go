package main

import (
	"context"
	"encoding/json"
	"image"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hark/app"
	"hark/internal/testenv"
	"hark/internal/testmodels"
	"hark/internal/testserver"
)

// The whole assistant on a real llama-server: the first answer is computed on the server;
// the server is killed in the middle of the second, which this device then answers; each
// reply says where it was computed, and `hark history show` prints it.
func TestEdgeServerKilledMidSession(t *testing.T) {
	srv := testserver.Start(t)
	dir := t.TempDir()
	hist := filepath.Join(dir, "history.db")
	cfg := `[llm]
backend = "openai"
endpoint = "` + srv.Endpoint + `"
name = "edge-1"
first_token_timeout = "20s"
[models]
llm = "` + testmodels.Shared(t, "stories260K.gguf") + `"
[assistant]
max_tokens = 60
temperature = 0
[history]
path = "` + hist + `"
`
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := testSetup(t, cfg)
	h, closeHist := openTurnHistory(s, log.New(io.Discard, "", 0))
	if h == nil {
		t.Fatal("no history")
	}
	defer closeHist()

	evs := newSpeechEvents()
	var once sync.Once
	tokens := 0
	sink := app.SinkFunc(func(e app.Event) {
		// The second question's reply is streaming from the server: kill it now. (The sink runs
		// on the generating goroutine, so the stream waits for the kill.)
		if e.Kind == app.EventToken && e.Turn == 2 {
			if tokens++; tokens == 2 {
				once.Do(srv.Stop)
			}
		}
		evs.Publish(e)
	})
	a := app.New(app.Options{Config: s.assistantConfig(), Loaders: app.Loaders{Brain: s.loadBrain()}, History: h, Sink: sink})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	evs.wait(t, "readiness", 60*time.Second, func(e app.Event) bool { return e.Kind == app.EventReadiness && e.Readiness.Type })

	reply := func(turn int) app.Event {
		return evs.wait(t, "reply", 60*time.Second, func(e app.Event) bool { return e.Kind == app.EventReply && e.Turn == turn })
	}
	turnDone := func(turn int) {
		evs.wait(t, "turn_done", 60*time.Second, func(e app.Event) bool { return e.Kind == app.EventTurnDone && e.Turn == turn })
	}
	a.Ask("Once upon a time")
	if r := reply(1); r.Origin != (app.Origin{On: app.ComputedServer, Server: "edge-1"}) || r.Text == "" {
		t.Errorf("first reply %q computed %+v: want it on edge-1", r.Text, r.Origin)
	}
	turnDone(1)
	a.Ask("Tell me a long story about a cat")
	r := reply(2)
	if r.Origin.On != app.ComputedFallback || r.Origin.Server != "edge-1" || r.Origin.Why == "" || r.Text == "" {
		t.Errorf("reply after the server was killed: %q computed %+v: want a fallback to this device", r.Text, r.Origin)
	}
	if j, err := json.Marshal(r); err != nil || !strings.Contains(string(j), `"computed_on":"fallback","server":"edge-1","fallback":"`) {
		t.Errorf("the reply's JSON line (hark listen, --events): %s, %v", j, err)
	}
	turnDone(2)
	if tokens < 2 {
		t.Fatalf("the server was not killed mid-reply (%d tokens streamed)", tokens)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	closeHist()
	out := cliStep{[]string{"history", "show", "--config", cfgPath, "1"}, 0,
		[]string{"computed on edge-1", "computed on this device: fell back, edge-1 did not answer ("}, nil}.check(t)
	t.Logf("hark history show 1:\n%s", out)
}

// The real window under the virtual display, on a real llama-server: the first reply says it
// was computed on edge-1; with the server killed, the next says it fell back to this device.
// The screenshots (artifact folder e2e-edge-*) show the notes under the replies.
func TestE2EEdgeOriginShown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		entry [2]int
		chat  image.Rectangle
		args  []string
	}{
		{"desktop", [2]int{200, 697}, replyDesktop, nil},
		{"kiosk", [2]int{600, 777}, chatKiosk, []string{"--mode", "kiosk", "--no-supervise"}},
		// The car has no entry: the questions are spoken, hands-free.
		{"car", [2]int{}, image.Rect(0, 60, 800, 290), []string{"--mode", "car"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testserver.Start(t)
			env := []string{"HARK_LLM_BACKEND=openai", "HARK_LLM_ENDPOINT=" + srv.Endpoint, "HARK_LLM_NAME=edge-1",
				"HARK_ASSISTANT_MAX_TOKENS=24"}
			ask := func(w *harkWindow, q string) { w.typeQuestion(tc.entry[0], tc.entry[1], q) }
			args := append(tc.args, "--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"),
				"--llm-model", testmodels.Shared(t, "stories260K.gguf"))
			if tc.name == "car" {
				testenv.LockAudio(t)
				wav := spokenQuestion(t)
				ask = func(*harkWindow, string) { say(t, wav) }
				args = append(tc.args, voiceModels(t, testmodels.Shared(t, "stories260K.gguf"))...)
			}
			w := startWindowEnv(t, "edge-"+tc.name, env, args...)
			if tc.name == "kiosk" {
				w.click(640, 400) // a tap dismisses the attract screen
			}
			i := w.ready(90 * time.Second)
			if tc.name == "car" {
				_, i = w.events.waitFor(t, i, 60*time.Second, "listening", isState("listening"))
			}
			before := w.shot("1-ready")
			ask(w, "Once upon a time")
			r, i := w.events.waitFor(t, i, 60*time.Second, "reply", isKind("reply"))
			if r.str("computed_on") != "server" || r.str("server") != "edge-1" {
				t.Errorf("first reply: %v; want it computed on edge-1", r)
			}
			_, i = w.events.waitFor(t, i, 60*time.Second, "turn_done", isKind("turn_done"))
			onServer := w.shot("2-on-edge-1")
			chatChanged(t, before, onServer, tc.chat)
			srv.Stop()
			if tc.name == "car" {
				_, i = w.events.waitFor(t, i, 60*time.Second, "listening", isState("listening"))
			}
			ask(w, "Tell me about the cat")
			r, i = w.events.waitFor(t, i, 60*time.Second, "reply", isKind("reply"))
			if r.str("computed_on") != "fallback" || r.str("server") != "edge-1" || r.str("fallback") == "" {
				t.Errorf("reply with the server gone: %v; want a fallback to this device", r)
			}
			w.events.waitFor(t, i, 60*time.Second, "turn_done", isKind("turn_done"))
			chatChanged(t, onServer, w.shot("3-fell-back"), tc.chat)
		})
	}
}
