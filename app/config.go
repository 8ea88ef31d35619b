package app

import "time"

// Config is how the assistant behaves. The zero value of a duration or threshold means its
// default (see [DefaultConfig]); switches are taken as given.
type Config struct {
	// HandsFree opens utterances by voice activity; otherwise the person holds (or toggles) a
	// button or key while speaking (push-to-talk).
	HandsFree bool
	// WakePhrase, in hands-free mode, must start a question ("hey hark, ..."), or be said alone to
	// arm the assistant for the next utterance; "" listens to everything.
	WakePhrase string
	// WakeSimilarity is how close (0..1, edit distance) a transcript's first words must be to
	// the wake phrase: recognisers often hear "hey hark" as "hey hart" or "a hark".
	WakeSimilarity float64
	// FollowUp is how long after a reply (or after the wake phrase alone) the next utterance
	// needs no wake phrase. Negative: never.
	FollowUp time.Duration
	// BargeIn lets speech during a reply (hands-free) cancel it and start a new turn. Without
	// it, speech that starts while the assistant is answering is ignored.
	BargeIn bool
	// Language is the spoken language (whisper's code); "auto" answers each question in the
	// language it was asked in (the transcript's, or the typed text's script), telling the
	// language model and the voice through the turn's context (LanguageOf).
	Language string
	// SystemPrompt tells the language model who it is.
	SystemPrompt string
	// Speak says replies aloud when a speech engine is loaded (and notices: notice.go).
	Speak bool
	// Dictating: a dictation records from the microphone, so the assistant says nothing
	// unasked (a spoken notice would be recorded into it).
	Dictating bool
	// PartialEvery is how often a live transcript of the utterance in progress is made; negative
	// turns live transcripts off (they cost speech-recognition time on small machines).
	PartialEvery time.Duration
	// IdleWipe forgets the conversation after this long without anyone using the assistant
	// (kiosk); 0 never does.
	IdleWipe time.Duration
	// WipeHistory erases a wiped conversation from the history too (kiosk privacy).
	WipeHistory bool
	// PreRoll is how much audio from before a push-to-talk press is kept, so a first syllable
	// said while pressing is not lost.
	PreRoll time.Duration
	// MaxUtterance ends a push-to-talk utterance that goes on this long.
	MaxUtterance time.Duration
	// MinUtterance drops push-to-talk utterances shorter than this (a tap on the button).
	MinUtterance time.Duration
	// ConfirmTimeout is how long a confirmation question ("Delete all 4 notes?") waits for a
	// yes; then nothing is done.
	ConfirmTimeout time.Duration
}

// DefaultConfig is the desktop default: push-to-talk, no wake phrase, text replies.
func DefaultConfig() Config {
	return Config{
		WakeSimilarity: 0.7,
		FollowUp:       8 * time.Second,
		BargeIn:        true,
		SystemPrompt:   DefaultSystemPrompt,
		PartialEvery:   time.Second,
		PreRoll:        300 * time.Millisecond,
		MaxUtterance:   30 * time.Second,
		MinUtterance:   250 * time.Millisecond,
	}
}

// DefaultSystemPrompt keeps replies short and speakable.
const DefaultSystemPrompt = "You are Hark, a helpful voice assistant that runs entirely on this device. " +
	"Answer in one to three short sentences of plain text, without lists or markdown, because your answers are read aloud."

// withDefaults fills the zero durations and thresholds in.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.WakeSimilarity <= 0 || c.WakeSimilarity > 1 {
		c.WakeSimilarity = d.WakeSimilarity
	}
	if c.FollowUp == 0 {
		c.FollowUp = d.FollowUp
	}
	if c.PartialEvery == 0 {
		c.PartialEvery = d.PartialEvery
	}
	if c.PreRoll == 0 {
		c.PreRoll = d.PreRoll
	}
	if c.MaxUtterance <= 0 {
		c.MaxUtterance = d.MaxUtterance
	}
	if c.MinUtterance == 0 {
		c.MinUtterance = d.MinUtterance
	}
	return c
}
