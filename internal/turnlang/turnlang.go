// Package turnlang carries the language of a turn (whisper's code, e.g. "zh") in a context,
// under one key, so that the assistant (app) and the action layer (action), which import
// neither each other nor anything else of Hark's, read and write the same value: a language
// set by the turn loop reaches the skills' replies, and one set by `hark do` reaches the voice.
package turnlang

import "context"

type key struct{}

// With returns ctx carrying lang; ctx itself for "" (no language known).
func With(ctx context.Context, lang string) context.Context {
	if lang == "" {
		return ctx
	}
	return context.WithValue(ctx, key{}, lang)
}

// Of returns the language With put in ctx, "" when none.
func Of(ctx context.Context) string {
	l, _ := ctx.Value(key{}).(string)
	return l
}
