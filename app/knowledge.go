package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Knowledge finds passages of the operator's documents (a kiosk's FAQ, a workshop's manuals)
// for a question. Package knowledge implements it; main adapts it.
type Knowledge interface {
	// Retrieve returns the relevant passages, best first, already cut to the prompt budget;
	// none when the documents do not say.
	Retrieve(ctx context.Context, question string) ([]Passage, error)
}

// ErrNoDocuments is what a Knowledge returns while it holds no documents (a kiosk whose
// documents are not added yet): questions then go to the model as they would without one,
// whatever NeverGuess says, rather than every one getting DontKnow.
var ErrNoDocuments = errors.New("no documents indexed")

// Passage is a piece of a document put into the prompt.
type Passage struct {
	Source string  `json:"source"` // document › heading (p. N), shown under the reply
	Text   string  `json:"text"`   // what the model was given, shown when the source is opened
	Score  float64 `json:"score"`  // the retriever's relevance, higher is better
}

// KnowledgeOptions say how the assistant uses a [Knowledge].
type KnowledgeOptions struct {
	Knowledge Knowledge // nil: questions go to the model as they are
	// NeverGuess answers DontKnow, without asking the model, when no passage is relevant
	// (kiosk mode); otherwise the model answers from what it knows.
	NeverGuess bool
}

// DontKnow is the reply when the documents do not cover a question and guessing is off.
const DontKnow = "I don't know. The documents I have here do not say."

// KnowledgePrompt wraps the question with the passages and the instruction to answer only
// from them, briefly, since the answer is spoken.
func KnowledgePrompt(question string, ps []Passage) string {
	var b strings.Builder
	b.WriteString("Answer the question using only the passages below, in one or two short sentences. " +
		"If they do not contain the answer, say you don't know.\n\n")
	for i, p := range ps {
		fmt.Fprintf(&b, "[%d] %s\n%s\n\n", i+1, p.Source, p.Text)
	}
	b.WriteString("Question: ")
	b.WriteString(question)
	return b.String()
}

// consult runs on a worker: it retrieves passages for what was said (query) and returns the prompt to
// send (the question itself when there is no knowledge or it failed), the passages (shown as
// the reply's sources), and whether to answer DontKnow without asking the model.
func (a *Assistant) consult(ctx context.Context, query, question string) (prompt string, sources []Passage, dontKnow bool) {
	k := a.know
	if k.Knowledge == nil {
		return question, nil, false
	}
	ps, err := k.Knowledge.Retrieve(ctx, query)
	if errors.Is(err, ErrNoDocuments) {
		return question, nil, false
	}
	if err != nil {
		// The documents are an aid: a broken index must not stop the assistant answering.
		if a.logf != nil {
			a.logf("knowledge: %v", err)
		}
		return question, nil, k.NeverGuess
	}
	if len(ps) == 0 {
		return question, nil, k.NeverGuess
	}
	return KnowledgePrompt(question, ps), ps, false
}
