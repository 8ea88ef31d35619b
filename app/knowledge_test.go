package app

import (
	"context"
	"slices"
	"strings"
	"testing"
)

type fakeKnowledge map[string][]Passage

func (f fakeKnowledge) Retrieve(_ context.Context, q string) ([]Passage, error) {
	if len(f) == 0 {
		return nil, ErrNoDocuments
	}
	return f[q], nil
}

func withKnowledge(k KnowledgeOptions) rigOption {
	return func(r *rig, o *Options) { o.Knowledge = k }
}

// TestKnowledge: a question the documents cover is sent with the passages and the reply shows
// their source; one they do not cover gets DontKnow without the model when guessing is off,
// and goes to the model as it is when guessing is on.
func TestKnowledge(t *testing.T) {
	docs := fakeKnowledge{"where is the pharmacy": {{Source: "guide.md › Pharmacy", Text: "Across the street.", Score: 9}}}
	for _, tc := range []struct {
		name       string
		neverGuess bool
		question   string
		wantReply  string
		wantSent   func(string) bool
		wantSource []Passage
		docs       fakeKnowledge
	}{
		{"covered", true, "where is the pharmacy", "Hi there.", func(s string) bool {
			return strings.Contains(s, "Across the street.") && strings.Contains(s, "only the passages") && strings.HasSuffix(s, "where is the pharmacy")
		}, docs["where is the pharmacy"], docs},
		{"not covered, kiosk", true, "who won the cup", DontKnow, nil, nil, docs},
		{"not covered, guessing", false, "who won the cup", "Hi there.", func(s string) bool { return s == "who won the cup" }, nil, docs},
		// A kiosk whose documents are not added yet answers as one without knowledge.
		{"no documents yet, kiosk", true, "who won the cup", "Hi there.", func(s string) bool { return s == "who won the cup" }, nil, fakeKnowledge{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, withKnowledge(KnowledgeOptions{Knowledge: tc.docs, NeverGuess: tc.neverGuess}))
			i := r.ready(t)
			r.a.Ask(tc.question)
			e, _ := r.rec.next(t, i, EventReply)
			if e.Text != tc.wantReply || !slices.Equal(e.Sources, tc.wantSource) {
				t.Errorf("reply %q sources %v, want %q %v", e.Text, e.Sources, tc.wantReply, tc.wantSource)
			}
			asked := r.brain.chat(0).askedList()
			if tc.wantSent == nil {
				if len(asked) != 0 {
					t.Errorf("the model was asked %q", asked)
				}
			} else if len(asked) != 1 || !tc.wantSent(asked[0]) {
				t.Errorf("the model was asked %q", asked)
			}
		})
	}
}
