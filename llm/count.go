package llm

import "context"

// CountTokens is the number of tokens text takes as plain content (no special tokens parsed,
// none added): what a message of that text costs in the context, markup aside. It takes its
// turn like a request (so Close cannot free the vocabulary under it).
func (m *Model) CountTokens(text string) (int, error) {
	if err := m.acquire(context.Background()); err != nil {
		return 0, err
	}
	defer m.release()
	t, err := m.voc.tokenize(text, false, false)
	return len(t), err
}
