package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"hark/internal/testenv"
)

func TestMatchWake(t *testing.T) {
	tests := []struct {
		name, transcript, phrase string
		ok                       bool
		rest                     string
	}{
		{"exact", "hey hark", "hey hark", true, ""},
		{"punctuation and case", "Hey, Hark!", "hey hark", true, ""},
		{"with a question", "Hey Hark, what time is it?", "hey hark", true, "what time is it?"},
		{"misheard consonant", "hey hart will it rain", "hey hark", true, "will it rain"},
		{"joined words", "heyhark turn it up", "hey hark", true, "turn it up"},
		{"after a filler word", "Okay, hey Hark. Play music.", "hey hark", true, "Play music."},
		{"split differently", "hey har k what now", "hey hark", true, "what now"},
		{"other speech", "what time is it", "hey hark", false, ""},
		{"only half the phrase", "hey", "hey hark", false, ""},
		{"similar word later", "the weather in hartford today", "hey hark", false, ""},
		{"too late in the sentence", "so I said to him hey hark", "hey hark", false, ""},
		{"no phrase configured", "  anything  ", "", true, "anything"},
		{"one-word phrase", "Computer, lights on", "computer", true, "lights on"},
		{"empty transcript", "", "hey hark", false, ""},
		// Chinese has no spaces: characters are compared by their toneless pinyin.
		{"chinese alone", "你好哈克", "你好哈克", true, ""},
		{"chinese other characters, same sound", "你好哈客。", "你好哈克", true, ""},
		{"chinese in one breath", "你好哈克，今天天气怎么样？", "你好哈克", true, "今天天气怎么样？"},
		{"chinese homophones and a question", "你好哈客今天天气怎么样", "你好哈克", true, "今天天气怎么样"},
		{"chinese after a filler", "嗯，你好哈克，开灯", "你好哈克", true, "开灯"},
		{"chinese two-character phrase", "哈克，几点了", "哈克", true, "几点了"},
		{"chinese other speech", "今天天气怎么样", "你好哈克", false, ""},
		{"chinese half the phrase", "你好", "你好哈克", false, ""},
		{"chinese phrase too late", "我说你好哈克", "你好哈克", false, ""},
		{"chinese phrase, the name in latin letters", "你好 Hark，开灯", "你好哈克", true, "开灯"},
		{"pinyin phrase, chinese speech", "ni hao ha ke 开灯", "你好哈克", true, "开灯"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rest := MatchWake(tt.transcript, tt.phrase, 0.7)
			if ok != tt.ok || rest != tt.rest {
				t.Errorf("MatchWake(%q, %q) = %v, %q; want %v, %q", tt.transcript, tt.phrase, ok, rest, tt.ok, tt.rest)
			}
		})
	}
}

func TestNonSpeech(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"[BLANK_AUDIO]", true}, {"(music)", true}, {"[ Silence ]", true}, {"*coughs*", true}, {"...", true},
		{"hello", false}, {"(laughs) hello", false}, {"42", false},
	}
	for _, tt := range tests {
		if got := nonSpeech(tt.text); got != tt.want {
			t.Errorf("nonSpeech(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestEventJSON(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		e    Event
		want map[string]any
	}{
		{"state", Event{Kind: EventState, At: at, State: StateThinking},
			map[string]any{"event": "state", "time": "2025-06-01T12:00:00Z", "state": "thinking"}},
		{"empty token keeps its text", Event{Kind: EventToken, At: at, Turn: 3, Text: ""},
			map[string]any{"event": "token", "time": "2025-06-01T12:00:00Z", "turn": 3.0, "text": ""}},
		{"level", Event{Kind: EventLevel, At: at, Level: Level{RMS: -20, Peak: -3}},
			map[string]any{"event": "level", "time": "2025-06-01T12:00:00Z", "rms_dbfs": -20.0, "peak_dbfs": -3.0}},
		{"error with hint", Event{Kind: EventError, At: at, Turn: 1, Err: Explain(errors.New("boom"), "It failed", "Try again"), Hint: "Try again"},
			map[string]any{"event": "error", "time": "2025-06-01T12:00:00Z", "turn": 1.0, "error": "It failed: boom", "hint": "Try again"}},
		{"loading progress", Event{Kind: EventComponent, At: at, Component: ComponentLLM, Phase: PhaseLoading, Progress: 0.5},
			map[string]any{"event": "component", "time": "2025-06-01T12:00:00Z", "component": "llm", "phase": "loading", "progress": 0.5}},
		{"turn done", Event{Kind: EventTurnDone, At: at, Turn: 2, Interrupted: true, Timings: &Timings{Total: 1500 * time.Microsecond, Tokens: 4}},
			map[string]any{"event": "turn_done", "time": "2025-06-01T12:00:00Z", "turn": 2.0, "interrupted": true,
				"timings_ms": map[string]any{"speech": 0.0, "transcribe": 0.0, "first_token": 0.0, "generate": 0.0, "total": 1.5,
					"spoken": 0.0, "asr_compute": 0.0, "llm_compute": 0.0, "overhead": 0.0, "tokens": 4.0}}},
		{"reply with sources and retrieval", Event{Kind: EventReply, At: at, Turn: 4, Text: "Across the street.",
			Sources: []Passage{{Source: "guide.md › Pharmacy", Text: "The pharmacy is across the street.", Score: 2.5}}},
			map[string]any{"event": "reply", "time": "2025-06-01T12:00:00Z", "turn": 4.0, "text": "Across the street.",
				"sources": []any{map[string]any{"source": "guide.md › Pharmacy", "text": "The pharmacy is across the street.", "score": 2.5}}}},
		{"turn done with retrieval", Event{Kind: EventTurnDone, At: at, Turn: 5, Timings: &Timings{Retrieve: 3250 * time.Microsecond}},
			map[string]any{"event": "turn_done", "time": "2025-06-01T12:00:00Z", "turn": 5.0,
				"timings_ms": map[string]any{"speech": 0.0, "transcribe": 0.0, "first_token": 0.0, "generate": 0.0, "total": 0.0,
					"spoken": 0.0, "asr_compute": 0.0, "llm_compute": 0.0, "overhead": 0.0, "tokens": 0.0, "retrieve": 3.25}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.e)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tt.want)
			if !bytes.Equal(gb, wb) {
				t.Errorf("JSON = %s\nwant   %s", gb, wb)
			}
		})
	}
}

func TestJSONSinkOneLinePerEvent(t *testing.T) {
	var b bytes.Buffer
	s := NewJSONSink(&b, false)
	s.Publish(Event{Kind: EventState, State: StateIdle})
	s.Publish(Event{Kind: EventLevel})
	s.Publish(Event{Kind: EventToken, Text: "a\nb"})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 (levels left out):\n%s", len(lines), b.String())
	}
}

func TestPieceQueueKeepsOrderAndNeverBlocksTheProducer(t *testing.T) {
	testenv.Deadline(t, 2*time.Minute) // a producer that blocks hangs here
	q := newPieceQueue()
	var want []string
	for i := range 1000 { // far more than the channel holds, with nobody reading yet
		p := strings.Repeat("x", i%7)
		want = append(want, p)
		q.push(p)
	}
	q.closeIn()
	var got []string
	for p := range q.out {
		got = append(got, p)
	}
	if !slices.Equal(got, want) {
		t.Errorf("pieces came out changed (%d of %d)", len(got), len(want))
	}
	q.stop()
	q.stop()
}

func TestPieceQueueStopUnblocksEverything(t *testing.T) {
	testenv.Deadline(t, 2*time.Minute) // a regression here hangs
	q := newPieceQueue()
	q.push("a")
	q.stop()
	want := []string{"a"}
	for range 500 {
		q.push("more") // must not block after stop
		want = append(want, "more")
	}
	q.closeIn()
	// After stop the speaker's channel closes (the range ends) without waiting for a reader.
	// What the queue had taken before it noticed the stop may still come out (the select
	// that notices it is random), but only in order: a prefix of what was pushed.
	var got []string
	for p := range q.out {
		got = append(got, p)
	}
	if len(got) > len(want) || !slices.Equal(got, want[:len(got)]) {
		t.Errorf("after stop the queue gave %d pieces, not a prefix of what was pushed: %q", len(got), got[:min(len(got), 5)])
	}
	// The channel stays closed: a speaker reading again gets nothing, at once.
	if p, ok := <-q.out; ok {
		t.Errorf("a read after the close got %q", p)
	}
}
