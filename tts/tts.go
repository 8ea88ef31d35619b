package tts

import (
	"context"
	"errors"

	"hark/audio"
)

// Voice selects how text is spoken. The zero value is the engine's default voice.
type Voice struct {
	// Name is the engine's voice name or identifier (espeak-ng: "en-us", "en-gb+f3",
	// "English (America)"); empty picks the best voice for Language.
	Name string
	// Language is a BCP 47-style tag ("en", "en-us", "de"). It also selects the text clean-up
	// rules (Clean); empty means English.
	Language string
	// Rate is the speaking rate in words per minute (80–450); 0 is the engine's default (175).
	Rate int
	// Pitch is the base pitch, 1–100 (50 is normal); 0 is the engine's default.
	Pitch int
}

// Synthesizer turns text into speech. Implementations are safe for concurrent use (they may
// serialize calls) and return promptly with ctx.Err() when ctx is done.
type Synthesizer interface {
	Synthesize(ctx context.Context, text string, v Voice) (audio.PCM, error)
}

// VoiceInfo describes one installed voice.
type VoiceInfo struct {
	Name      string   // human name, e.g. "English (America)"
	ID        string   // what Voice.Name accepts, e.g. "gmw/en-US"
	Languages []string // languages the voice speaks, preferred first, e.g. ["en-us", "en"]
	Gender    string   // "male", "female" or ""
	Variant   bool     // a variant (espeak-ng "+f3" etc.) that modifies another voice: Voice.Name "en-us+f3"
}

// ErrVoiceNotFound is returned (wrapped) when Voice names a voice the engine does not have.
var ErrVoiceNotFound = errors.New("voice not found")
