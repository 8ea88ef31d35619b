package llm

import (
	"context"
	"errors"
	"math"
	"testing"

	"hark/internal/testmodels"
)

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// TestEmbed: a random-weight llama (no pooling of its own: mean) and a real one
// (stories260K) give unit vectors of the model's width; a text always gets the same vector,
// different texts different ones, each pooling its own; cancelled and empty input fail clearly.
func TestEmbed(t *testing.T) {
	tiny := testmodels.Llama(t, testmodels.TinyLlama())
	for _, tc := range []struct {
		name    string
		path    string
		pooling Pooling
		dim     int
	}{
		{"tiny random, mean from the default", tiny, "", 64},
		{"tiny random, last", tiny, PoolingLast, 64},
		// (CLS on a decoder would see only the BOS token: every text the same vector.)
		{"stories260K, mean", testmodels.Shared(t, "stories260K.gguf"), PoolingMean, 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := OpenEmbedder(tc.path, EmbedOptions{Threads: 1, Pooling: tc.pooling})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			want := tc.pooling
			if want == "" {
				want = PoolingMean
			}
			if e.Dim() != tc.dim || e.Pooling() != want {
				t.Errorf("dim %d pooling %q, want %d %q", e.Dim(), e.Pooling(), tc.dim, want)
			}
			ctx := context.Background()
			a1, err := e.Embed(ctx, "hello world")
			if err != nil {
				t.Fatal(err)
			}
			a2, _ := e.Embed(ctx, "hello world")
			b, err := e.Embed(ctx, "turn on the kitchen light")
			if err != nil {
				t.Fatal(err)
			}
			if len(a1) != tc.dim || math.Abs(dot(a1, a1)-1) > 1e-4 || math.Abs(dot(b, b)-1) > 1e-4 {
				t.Errorf("not unit vectors of %d: len %d, |a|² %.5f, |b|² %.5f", tc.dim, len(a1), dot(a1, a1), dot(b, b))
			}
			if d := dot(a1, a2); d < 0.99999 {
				t.Errorf("the same text twice: cosine %.6f", d)
			}
			if d := dot(a1, b); d > 0.9999 {
				t.Errorf("different texts: cosine %.6f", d)
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := e.Embed(cctx, "hello"); !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled: %v", err)
			}
		})
	}
	if _, err := OpenEmbedder(tiny, EmbedOptions{Threads: 1, Pooling: "max"}); err == nil {
		t.Error("an unknown pooling was accepted")
	}
	e, err := OpenEmbedder(tiny, EmbedOptions{Threads: 1, MaxTokens: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	long := ""
	for range 50 {
		long += "hello world "
	}
	if v, err := e.Embed(context.Background(), long); err != nil || len(v) != 64 {
		t.Errorf("a text longer than MaxTokens: %v", err)
	}
}

// BenchmarkEmbed: one passage-sized text (about 100 tokens) through the tiny random llama:
// the cost of the embedding call itself, not of a real model.
//
//	go test ./llm -run X -bench Embed
func BenchmarkEmbed(b *testing.B) {
	e, err := OpenEmbedder(testmodels.Llama(b, testmodels.TinyLlama()), EmbedOptions{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	text := ""
	for range 25 {
		text += "what time is it "
	}
	for b.Loop() {
		if _, err := e.Embed(context.Background(), text); err != nil {
			b.Fatal(err)
		}
	}
}
