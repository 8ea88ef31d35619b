package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"hark/action"
	"hark/app"
	"hark/audio"
)

// TestVolumeControl: "set the volume to 40" (an action event with the volume control) scales
// what the speaker plays from then on.
func TestVolumeControl(t *testing.T) {
	s := &setup{echo: &echoLink{vol: newVolume()}}
	var passed int
	sink := s.withVolume(app.SinkFunc(func(app.Event) { passed++ }))
	pcm := audio.PCM{Rate: audio.SampleRate, Samples: []float32{0.5, -0.5}}
	if got := s.echo.vol.apply(pcm).Samples; got[0] != 0.5 {
		t.Fatalf("at full volume: %v", got)
	}
	sink.Publish(app.Event{Kind: app.EventAction, Action: &app.Action{Tool: "hark_volume", Done: true,
		Control: app.ControlVolume.String(), Data: json.RawMessage(`{"level":40}`)}})
	if got := s.echo.vol.apply(pcm).Samples; got[0] != 0.2 || got[1] != -0.2 || pcm.Samples[0] != 0.5 {
		t.Errorf("at volume 40: %v (input now %v)", got, pcm.Samples)
	}
	if passed != 1 {
		t.Errorf("%d events passed on, want 1", passed)
	}
}

// TestActionsAuditedWithTheirConversation: an action audited during a turn is stored with its
// conversation, listed by `hark history show`, and goes when the kiosk wipes the conversation.
func TestActionsAuditedWithTheirConversation(t *testing.T) {
	dir := t.TempDir()
	cfg := "[history]\npath = \"" + filepath.Join(dir, "h.db") + "\"\n"
	s := testSetup(t, cfg)
	h, closeHist := openTurnHistory(s, log.New(io.Discard, "", 0))
	defer closeHist()
	hl := h.(*historyLog)
	ctx := context.Background()
	if err := hl.Begin(ctx, app.TurnRecord{Conversation: "c1", Turn: 1, Transcript: "clear my notes"}); err != nil {
		t.Fatal(err)
	}
	if err := hl.Action(ctx, app.ActionRecord{Conversation: "c1", Turn: 1, At: time.Now(), Input: "clear my notes", Tool: "note_clear",
		Args: json.RawMessage(`{}`), Source: app.SourceIntent, Confirmed: app.ConfirmNo, Result: "not run"}); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cliStep{[]string{"history", "show", "--config", cfgPath, strconv.FormatInt(hl.convs["c1"], 10)}, 0,
		[]string{"Actions:", "note_clear {} (intent", "not run (confirmation: no)"}, nil}.check(t)
	if err := hl.Wipe(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if acts, err := hl.st.Actions(ctx, 0, 0); err != nil || len(acts) != 0 {
		t.Errorf("after the wipe: %v, %v", acts, err)
	}
}

func TestEnabledToolsByDeviceClass(t *testing.T) {
	for _, c := range []struct {
		conf      string
		wantNotes bool
		wantAll   bool
	}{
		{"", true, true},
		{"[assistant]\nmode = \"kiosk\"\n", false, false},
		{"[assistant]\nmode = \"kiosk\"\n[actions]\ntools = \"all\"\n", true, true},
		{"[actions]\ntools = \"clock_time, note_add\"\n", true, false},
	} {
		got := testSetup(t, c.conf).enabledTools()
		if (got == nil) != c.wantAll || (got != nil && slices.Contains(got, "note_add") != c.wantNotes) {
			t.Errorf("%q: enabled tools %v", c.conf, got)
		}
	}
}

// TestTurnLanguageReachesTheActor: the language the assistant puts in a turn's context
// (app.WithLanguage) is the one the skills answer in, with nothing handing it over between
// the two: app and action share one context key.
func TestTurnLanguageReachesTheActor(t *testing.T) {
	st, err := action.OpenStore(filepath.Join(t.TempDir(), "actions.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, err := action.New(action.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	x := appActor{a: a}
	for lang, want := range map[string]string{"zh": "没有可删除的笔记。", "en": "There are no notes to delete.", "": "There are no notes to delete."} {
		ctx := app.WithLanguage(context.Background(), lang)
		res, err := x.Run(ctx, app.ToolCall{Name: action.ToolNoteClear, Arguments: json.RawMessage(`{}`)})
		if err != nil || res.Say != want {
			t.Errorf("in %q: %q, %v; want %q", lang, res.Say, err, want)
		}
		if got := action.LanguageOf(ctx); got != lang {
			t.Errorf("action.LanguageOf(app.WithLanguage(%q)) = %q", lang, got)
		}
		if got := app.LanguageOf(action.WithLanguage(context.Background(), lang)); got != lang {
			t.Errorf("app.LanguageOf(action.WithLanguage(%q)) = %q", lang, got)
		}
	}
}
