package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"path/filepath"
	"testing"
	"time"

	"hark/app"
	"hark/app/history"
	"hark/audio"
)

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
