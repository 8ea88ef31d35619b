package app

import (
	"context"
	"errors"
	"time"

	"hark/audio"
)

// The interfaces below are what the assistant needs from the engines. Package main adapts the
// concrete engines (asr, llm, audio/device, audio's endpointer, tts) to them; tests use fakes.

// Transcriber turns one utterance (16 kHz mono) into text. It must return soon after ctx is
// done, with ctx's error.
type Transcriber interface {
	Transcribe(ctx context.Context, pcm audio.PCM) (Transcript, error)
}

// Transcript is what a [Transcriber] heard.
type Transcript struct {
	Text     string
	Compute  time.Duration // the engine's own time for this call (0: unknown, the call's wall time is used)
	Dropped  string        // why the engine discarded its text (hallucination guard), "" if kept
	Language string        // the language heard (whisper's code; detected when listening for any), "" if unknown
}

// Brain starts conversations with a language model.
type Brain interface {
	NewChat(system string) (Chat, error)
}

// Chat is one conversation with a language model; it remembers the turns it was sent.
type Chat interface {
	// Send adds the user's message and streams the reply's pieces to emit. When emit returns an
	// error, or ctx is done, generation stops and Send returns what was generated so far with
	// Interrupted set.
	Send(ctx context.Context, user string, emit func(piece string) error) (Reply, error)
	// Reset forgets the conversation (same system prompt). The assistant calls it right after
	// cancelling the turn in progress, whose Send may not have returned yet: Reset must not
	// wait for it, and the next Send must start from the empty conversation.
	Reset()
}

// Reply is a finished (or interrupted) answer.
type Reply struct {
	Text        string
	Tokens      int
	Compute     time.Duration // prompt evaluation + generation as the engine measured it (0: unknown)
	Interrupted bool
	// PromptTokens is the length of the conversation the reply was written after; ReusedTokens
	// of them were already evaluated (a language model's prefix cache), the rest were computed
	// for this reply. Zero when the engine does not say.
	PromptTokens, ReusedTokens int
	// ToolCalls are the tools the model asked to run (ToolChat only); the assistant runs
	// them and hands the results back.
	ToolCalls []ToolCall
	// Origin is where the reply was computed (zero: on this device). Fallback, when not nil,
	// is why the configured server did not answer and this device did (Origin says which
	// server).
	Origin   Origin
	Fallback error
}

// Speaker speaks a reply while it is still being generated: pieces are the reply's tokens, in
// order, and the channel is closed when generation ends. Speak returns when everything has been
// spoken, or soon after ctx is done (playback stops at once).
type Speaker interface {
	Speak(ctx context.Context, pieces <-chan string) error
}

// speakText says one whole text (an answer, an alert, a notice) through sp.
func speakText(ctx context.Context, sp Speaker, text string) error {
	ch := make(chan string, 1)
	ch <- text
	close(ch)
	return sp.Speak(ctx, ch)
}

// Source is the microphone: 16 kHz mono samples as they are captured.
type Source interface {
	// Read blocks until samples are available or ctx is done and copies up to len(p) into p.
	// An error other than ctx's means the device is gone; the assistant closes it and opens a
	// new one.
	Read(ctx context.Context, p []float32) (int, error)
	Close() error
}

// DeviceChanged is the error a Source's Read returns (wrapped or not) when the system's
// default microphone changed while the source was open on the default (a headset plugged in
// and chosen): the assistant opens the microphone again at once, which takes the new default,
// and says so once (EventDevice) instead of reporting a lost microphone.
type DeviceChanged struct {
	Name string // the new default microphone, for people
	Err  error  // the device layer's error
}

func (e *DeviceChanged) Error() string { return "the default microphone is now " + e.Name }
func (e *DeviceChanged) Unwrap() error { return e.Err }

// Segmenter cuts a stream of 16 kHz mono samples into utterances (a voice activity detector and
// an endpointer; audio.Endpointer, adapted).
type Segmenter interface {
	// Push feeds samples (any chunk size) and returns the boundaries found in them.
	Push(samples []float32) ([]Boundary, error)
	// Current is the audio of the utterance in progress (empty when none), for partial transcripts.
	Current() audio.PCM
	// Reset forgets the stream (an open utterance is dropped).
	Reset()
}

// Boundary is the start or the end of an utterance.
type Boundary struct {
	End       bool      // false: speech started (unless Paused or Resumed); true: speech ended
	Utterance audio.PCM // End and Paused: the whole utterance
	// Paused: a short silence after speech; the utterance ends if it lasts (a segmenter that
	// reports pauses makes speculative end of turn possible). Utterance is the utterance as it
	// will end then. Resumed: speech went on after a pause.
	Paused, Resumed bool
}

// History stores the turns (app/history adapted). Begin is called when a question is known
// (the transcript, or the typed text), Finish when its turn ends, so a crash in between keeps
// the question. Calls run on a goroutine of their own, one at a time, in order.
type History interface {
	Begin(ctx context.Context, t TurnRecord) error
	Finish(ctx context.Context, t TurnRecord) error
}

// HistoryWiper is a [History] that can forget a conversation (kiosk idle wipe).
type HistoryWiper interface {
	Wipe(ctx context.Context, conversation string) error
}

// HistoryNotice is a [History] that may have something to tell the person once, when the
// assistant starts (a damaged history file was moved aside and a new one begun).
type HistoryNotice interface {
	StartNotice() error
}

// TurnRecord is a turn as the history stores it; Begin gets the fields known by then.
type TurnRecord struct {
	Conversation string
	Turn         int
	Input        Input
	Started      time.Time // the person began speaking (voice) or sent the question (typed)
	Ended        time.Time // Finish only
	Transcript   string    // what the person said or typed
	Reply        string    // what the assistant answered, possibly cut short
	Interrupted  bool
	Err          string // why the turn failed, "" if it did not
	Origin       Origin // where the reply was computed (Finish only; On is "" when none was)
	Timings      Timings
	// Audio is what the person said (voice turns, Finish only); the history keeps it only
	// when the person asked it to (history.store_audio).
	Audio audio.PCM
}

// Loaders load the engines. Each runs on a goroutine of its own when [Assistant.Run] starts (or
// when [Assistant.Replace] is called) and may take long; progress, when it can be measured,
// goes from 0 to 1. A nil loader means the engine is not used (no speech output, say). Values
// that implement io.Closer are closed when they are replaced and when Run returns, never while
// a worker still uses them.
type Loaders struct {
	Transcriber func(ctx context.Context, progress func(float64)) (Transcriber, error)
	Brain       func(ctx context.Context, progress func(float64)) (Brain, error)
	Segmenter   func(ctx context.Context) (Segmenter, error)
	Microphone  func(ctx context.Context) (Source, error)
	Speaker     func(ctx context.Context) (Speaker, error)
}

// UserError is an error worded for the person in front of the screen, with what to do about it.
// The cause stays in the chain for logs (errors.Unwrap).
type UserError struct {
	Msg  string // what is wrong, e.g. "The speech model file is missing"
	Hint string // how to fix it, e.g. "Choose a whisper model in Settings → Models"
	Err  error
}

func (e *UserError) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *UserError) Unwrap() error { return e.Err }

// Explain wraps err as a [UserError]; it returns nil for a nil err.
func Explain(err error, msg, hint string) error {
	if err == nil {
		return nil
	}
	return &UserError{Msg: msg, Hint: hint, Err: err}
}

// Hint returns the advice attached to err by [Explain], or "".
func Hint(err error) string {
	var ue *UserError
	if errors.As(err, &ue) {
		return ue.Hint
	}
	return ""
}

// Message returns the user-facing wording of err: a [UserError]'s message, else err's text.
func Message(err error) string {
	if err == nil {
		return ""
	}
	var ue *UserError
	if errors.As(err, &ue) {
		return ue.Msg
	}
	return err.Error()
}
