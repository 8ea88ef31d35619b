package app

import (
	"slices"
	"strings"
	"testing"
)

func TestCheckQuestion(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		ok   bool
	}{
		{"short", "what time is it", true},
		{"at the limit", strings.Repeat("a", MaxQuestionRunes), true},
		{"at the limit in Chinese (3 bytes a character)", strings.Repeat("我", MaxQuestionRunes), true},
		{"one over", strings.Repeat("a", MaxQuestionRunes+1), false},
		{"10 MB", strings.Repeat("x", 10<<20), false},
	} {
		err := CheckQuestion(tc.text)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err != nil && (!strings.Contains(Message(err), "too long") || !strings.Contains(Hint(err), "4000 characters")) {
			t.Errorf("%s: message %q hint %q", tc.name, Message(err), Hint(err))
		}
	}
}

// TestTooLongQuestionRefused: 10 MB typed reaches neither the language model nor the history,
// the person is told why, and the next question is answered.
func TestTooLongQuestionRefused(t *testing.T) {
	r := newRig(t)
	i := r.ready(t)
	r.a.Ask(strings.Repeat("x", 10<<20))
	e, _ := r.rec.next(t, i, EventError)
	if !strings.Contains(Message(e.Err), "too long") {
		t.Errorf("error %v", e.Err)
	}
	r.a.Ask("what is two and two")
	r.rec.next(t, i, EventTurnDone)
	if asked := r.brain.chat(0).askedList(); !slices.Equal(asked, []string{"what is two and two"}) {
		t.Errorf("chat was asked %d questions", len(asked))
	}
	r.stop()
	if recs := r.hist.records(); len(recs) != 1 {
		t.Errorf("%d turns in the history, want 1", len(recs))
	}
}
