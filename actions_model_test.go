package main

import (
	"context"
	"io"
	"log"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hark/action"
	"hark/app"
	"hark/internal/testmodels"
	"hark/llm"
)

// recordingBrain is the real brain (llm through main's adapters); it keeps the chats it makes
// so the test can read the conversation the model saw.
type recordingBrain struct {
	*brain
	mu    sync.Mutex
	chats []*chat
}

// Close keeps the model open: the test's turns share it.
func (b *recordingBrain) Close() error { return nil }

func (b *recordingBrain) NewChat(system string) (app.Chat, error) {
	c, err := b.brain.NewChat(system)
	if tc, ok := c.(toolChat); ok {
		b.mu.Lock()
		b.chats = append(b.chats, tc.chat)
		b.mu.Unlock()
	}
	return c, err
}

// spokenText is a speaker that keeps what it is given to say.
type spokenText struct {
	mu   sync.Mutex
	said []string
}

func (s *spokenText) Speak(ctx context.Context, pieces <-chan string) error {
	var b strings.Builder
	for p := range pieces {
		b.WriteString(p)
	}
	s.mu.Lock()
	s.said = append(s.said, b.String())
	s.mu.Unlock()
	return ctx.Err()
}

// TestModelCallsAToolThroughTheAssistant: a question no template matches goes to a real
// random-weight model (llama.cpp, a Hermes tool template, the chat layer's tool grammar, the
// call forced as tool_choice "required"); the assistant checks the call against the tool's
// schema, runs the real built-in tool, writes the audit row to the real history database,
// hands the tool's result back to the model, and speaks the reply the model writes after it.
// The question is Chinese, so the tool answers in Chinese.
func TestModelCallsAToolThroughTheAssistant(t *testing.T) {
	modelPath := testmodels.Llama(t, testmodels.HermesToolsLlama())
	m, err := llm.Load(modelPath, llm.Options{ContextSize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for seed := uint32(1); seed <= 4; seed++ {
		if modelToolTurn(t, m, seed) {
			return
		}
	}
	t.Fatal("no seed made a tool call within the token limit")
}

// modelToolTurn runs one turn with the model sampling from seed; false when the model made no
// call within its token limit (a random model may keep writing blanks inside the grammar).
func modelToolTurn(t *testing.T, m *llm.Model, seed uint32) bool {
	dir := t.TempDir()
	s := testSetup(t, "[history]\npath = \""+filepath.Join(dir, "h.db")+"\"\n")
	hist, closeHist := openTurnHistory(s, log.New(io.Discard, "", 0))
	defer closeHist()
	st, err := action.OpenStore(filepath.Join(dir, "actions.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// One tool offered, so a random model's forced call is to it; its schema allows only {}.
	// A fixed clock: the tool's result, and so what the model writes after it, is the same on
	// every run (at this time, seed 2 calls the tool 11 times in 2 rounds).
	at := time.Date(2026, 12, 5, 4, 37, 0, 0, time.UTC)
	act, err := action.New(action.Options{Store: st, Enabled: []string{action.ToolTime}, Now: func() time.Time { return at }, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	defer act.Close()
	b := &recordingBrain{brain: &brain{m: m, gen: llm.GenOptions{RequireTool: true, MaxTokens: 600, Temperature: 1, Seed: seed}}}
	spk := &spokenText{}
	events := make(chan app.Event, 256)
	a := app.New(app.Options{
		Config:  app.Config{Speak: true, Language: "auto"},
		Loaders: app.Loaders{Brain: func(context.Context, func(float64)) (app.Brain, error) { return b, nil }, Speaker: func(context.Context) (app.Speaker, error) { return spk, nil }},
		Actor:   appActor{a: act, modelTools: true},
		History: hist,
		Sink:    app.SinkFunc(func(e app.Event) { events <- e }),
	})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { _ = a.Run(ctx); close(ran) }()
	defer func() { cancel(); <-ran }()

	wait := func(what string, ok func(app.Event) bool) app.Event {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for {
			select {
			case e := <-events:
				if e.Kind == app.EventError {
					t.Fatalf("error event: %v", e.Err)
				}
				if ok(e) {
					return e
				}
			case <-deadline:
				t.Fatalf("no %s within 60 s", what)
			}
		}
	}
	wait("language model", func(e app.Event) bool {
		return e.Kind == app.EventComponent && e.Component == app.ComponentLLM && e.Phase == app.PhaseReady
	})
	const question = "讲个笑话" // no template matches it: the model answers
	a.Ask(question)
	var action *app.Action
	var reply string
	wait("turn end", func(e app.Event) bool {
		switch e.Kind {
		case app.EventAction:
			action = e.Action
		case app.EventReply:
			reply = e.Text
		}
		return e.Kind == app.EventTurnDone
	})
	if action == nil {
		t.Logf("seed %d: no tool call (reply %.80q)", seed, reply)
		return false
	}
	if action.Tool != "clock_time" || action.Source != app.SourceModel || !action.Done || action.Error != "" {
		t.Fatalf("seed %d: action %+v", seed, action)
	}
	if action.Say != "现在是凌晨四点三十七分。" {
		t.Errorf("seed %d: the tool answered %q, want 现在是凌晨四点三十七分。", seed, action.Say)
	}

	// The model saw the tool's result, and what was spoken is the reply it wrote after it.
	b.mu.Lock()
	c := b.chats[len(b.chats)-1]
	b.mu.Unlock()
	msgs := c.c.Messages()
	var roles []string
	for _, m := range msgs {
		roles = append(roles, m.Role)
	}
	n := len(msgs)
	// The user's question; then rounds of an assistant message with k calls (a model may make
	// several at once) and the k results; then the answer. After MaxToolRounds rounds a model
	// that still calls is cut short with an apology.
	if len(msgs) < 2 || !strings.HasPrefix(msgs[0].Content, question) {
		t.Fatalf("seed %d: the conversation's roles are %v", seed, roles)
	}
	calls, rounds, i, k := 0, 0, 1, 0
	var words []string // the model's words, round by round
	for i < n && msgs[i].Role == llm.RoleAssistant && len(msgs[i].ToolCalls) > 0 {
		k = len(msgs[i].ToolCalls)
		words = append(words, msgs[i].Content)
		if rounds == app.MaxToolRounds {
			break
		}
		for j := i + 1; j <= i+k; j++ {
			if j >= n || msgs[j].Role != llm.RoleTool || !strings.HasPrefix(msgs[j].Content, "现在是") {
				t.Fatalf("seed %d: the results of round %d: roles %v", seed, rounds+1, roles)
			}
		}
		calls, rounds, i = calls+k, rounds+1, i+1+k
	}
	var want string
	switch {
	case rounds == app.MaxToolRounds && i < n:
		want = "抱歉，我没能完成。" // still calling: cut short
	case i == n-1 && msgs[i].Role == llm.RoleAssistant:
		words = append(words, msgs[i].Content)
		if strings.TrimSpace(msgs[i].Content) == "" {
			for range k { // the model wrote nothing: the tools' own words
				words = append(words, action.Say)
			}
		}
		want = strings.Join(words, " ")
	default:
		t.Fatalf("seed %d: the conversation's roles are %v", seed, roles)
	}
	// What the model wrote around its calls and after the results is the reply, and what was
	// spoken (whitespace aside: the pieces are cut into clauses for the voice).
	if squash(reply) != squash(want) {
		t.Errorf("seed %d: reply %q, want %q", seed, reply, want)
	}
	cancel()
	<-ran
	spk.mu.Lock()
	said := strings.Join(spk.said, "")
	spk.mu.Unlock()
	if squash(said) != squash(reply) {
		t.Errorf("seed %d: spoken %q, want the reply %q", seed, said, reply)
	}

	// The audit row is in the history database.
	closeHist()
	hs, closeHist2 := openTurnHistory(s, log.New(io.Discard, "", 0))
	defer closeHist2()
	rows, err := hs.(*historyLog).st.Actions(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != calls {
		t.Errorf("seed %d: %d audit rows for %d calls", seed, len(rows), calls)
	}
	for _, r := range rows {
		if r.Tool != "clock_time" || r.Source != "model" || !r.Done || r.Input != question || !strings.HasPrefix(r.Result, "现在是") || squash(r.Args) != "{}" {
			t.Errorf("seed %d: audit row %+v", seed, r)
		}
	}
	t.Logf("seed %d: %d call(s) of %s %s in %d round(s) → %q; the model then said %.60q", seed, calls, action.Tool, action.Args, rounds, action.Say, reply)
	return true
}

// squash drops the white space from s.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }
