package llm

import (
	"errors"
	"testing"

	"hark/internal/testmodels"
)

// TestCountTokens: the count is the tokens of the text as plain content (special-token text
// is not parsed), and a closed model says so.
func TestCountTokens(t *testing.T) {
	m := load(t, testmodels.Shared(t, "llama-2-tiny-random.gguf"), Options{})
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"Hello world", len(m.testTokens(t, "Hello world", false))},
		{"病人咳嗽三天了", len(m.testTokens(t, "病人咳嗽三天了", false))},
	}
	for _, tt := range tests {
		n, err := m.CountTokens(tt.text)
		if err != nil || n != tt.want {
			t.Errorf("CountTokens(%q) = %d, %v; want %d", tt.text, n, err, tt.want)
		}
	}
	if n, _ := m.CountTokens("</s>"); n < 2 {
		t.Errorf("the text of a control token counted as %d token(s): it must not be parsed", n)
	}
	m.Close()
	if _, err := m.CountTokens("x"); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
