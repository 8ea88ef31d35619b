package app

import (
	"errors"
	"strings"
	"testing"
)

// TestHistoryFailureWarnsOnce: while the history cannot be written (a full disk) answers go on
// and the person is told once, not on every turn; after writing worked again, a new failure
// warns again.
func TestHistoryFailureWarnsOnce(t *testing.T) {
	r := newRig(t)
	i := r.ready(t)
	calls := 0
	full := errors.New("history: start turn: database or disk is full")
	ask := func(q string) {
		t.Helper()
		r.a.Ask(q)
		var e Event
		e, i = r.rec.next(t, i, EventTurnDone)
		if e.Err != nil || e.Interrupted {
			t.Fatalf("%q: turn_done %+v", q, e)
		}
		r.rec.state(t, i, StateIdle)
		calls += 2 // the question's save and the turn's
		waitUntil(t, "the history writes of "+q, func() bool { return r.hist.callCount() >= calls })
	}
	historyErrors := func() int {
		n := 0
		for _, e := range r.rec.all() {
			if e.Kind == EventError && e.Err != nil && strings.Contains(e.Err.Error(), "history") {
				n++
			}
		}
		return n
	}
	r.hist.failing(full)
	for _, q := range []string{"one", "two", "three"} {
		ask(q)
	}
	r.hist.failing(nil)
	ask("four")
	waitUntil(t, "the first warning", func() bool { return historyErrors() >= 1 })
	if n := historyErrors(); n != 1 {
		t.Fatalf("three turns on a full disk gave %d history warnings, want 1", n)
	}
	if recs := r.hist.records(); len(recs) != 1 || recs[0].Transcript != "four" {
		t.Fatalf("history after space returned = %+v, want the fourth turn", recs)
	}
	r.hist.failing(full)
	ask("five")
	waitUntil(t, "a new warning", func() bool { return historyErrors() >= 2 })
	r.hist.failing(nil)
	ask("six")
	if n := historyErrors(); n != 2 {
		t.Fatalf("%d history warnings, want 2 (one per failing stretch)", n)
	}
}

func TestHistoryStartNotice(t *testing.T) {
	note := Explain(errors.New("moved"), "The history was damaged", "")
	rr := newRig(t, func(r *rig, o *Options) { r.hist.note = note })
	rr.rec.waitFor(t, 0, "the history's notice", func(e Event) bool {
		return e.Kind == EventError && errors.Is(e.Err, note)
	})
}
