package wyoming

import (
	"context"
	"encoding/json"

	"hark/audio"
)

// Transcriber turns 16 kHz mono speech into text. It is called from many connections at once.
type Transcriber interface {
	Transcribe(ctx context.Context, pcm []float32, language string) (Transcript, error)
}

// Synthesizer speaks text. It is called from many connections at once.
type Synthesizer interface {
	Synthesize(ctx context.Context, text string, v Voice) (audio.PCM, error)
}

// Handler answers what a person said (the conversation "handle" service): Home Assistant
// sends it the transcript and speaks the answer. It is called from many connections at once.
type Handler interface {
	Handle(ctx context.Context, req HandleRequest) (HandleResult, error)
}

// HandleRequest is one transcript to answer.
type HandleRequest struct {
	Text     string
	Language string // "" = unknown
	// Conversation keeps follow-up questions together: the client's conversation_id (in the
	// transcript's context) when it sends one, else its connection.
	Conversation string
}

// HandleResult is the answer: Handled is false when the assistant could not help (the text
// then says why), which the client may take as a cue to try another agent.
type HandleResult struct {
	Text    string
	Handled bool
}

// TranscriptIn is the data of a transcript sent to the handle service.
type TranscriptIn struct {
	Text     string          `json:"text"`
	Language string          `json:"language,omitempty"`
	Context  json.RawMessage `json:"context,omitempty"`
}

// HandledData is the data of handled and not-handled; Context is the request's, returned so
// the client can carry on the same conversation.
type HandledData struct {
	Text    string          `json:"text,omitempty"`
	Context json.RawMessage `json:"context,omitempty"`
}

// AudioFormat is the data of audio-start and audio-chunk.
type AudioFormat struct {
	Rate      int    `json:"rate"`
	Width     int    `json:"width"`
	Channels  int    `json:"channels"`
	Timestamp *int64 `json:"timestamp,omitempty"`
}

// Transcribe is the data of a transcribe request.
type Transcribe struct {
	Name     string `json:"name,omitempty"`
	Language string `json:"language,omitempty"`
}

// Transcript is the data of a transcript reply.
type Transcript struct {
	Text     string `json:"text"`
	Language string `json:"language,omitempty"`
}

// Voice selects a voice in synthesize and synthesize-start.
type Voice struct {
	Name     string `json:"name,omitempty"`
	Language string `json:"language,omitempty"`
	Speaker  string `json:"speaker,omitempty"`
}

// Synthesize is the data of synthesize and synthesize-start (which has no text).
type Synthesize struct {
	Text  string `json:"text,omitempty"`
	Voice *Voice `json:"voice,omitempty"`
}

// SynthesizeChunk is the data of synthesize-chunk.
type SynthesizeChunk struct {
	Text string `json:"text"`
}

// Error is the data of an error event.
type Error struct {
	Text string `json:"text"`
	Code string `json:"code,omitempty"`
}

// Error codes Hark sends, so clients can tell the cases apart without parsing the text.
const (
	CodeProtocol    = "protocol"     // malformed or oversized event; the connection closes
	CodeAudioFormat = "audio-format" // rate, width or channels Hark cannot read
	CodeTooLong     = "too-long"     // utterance or text over the server's cap
	CodeBusy        = "busy"         // too many clients
	CodeUnsupported = "unsupported"  // no such service here
	CodeFailed      = "failed"       // the engine failed
	CodeBadRequest  = "bad-request"  // event out of order or with bad data
)

// Attribution names who made a program or model.
type Attribution struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Model is one speech recognition model, or one voice, in info.
type Model struct {
	Name        string      `json:"name"`
	Attribution Attribution `json:"attribution"`
	Installed   bool        `json:"installed"`
	Description string      `json:"description,omitempty"`
	Version     string      `json:"version,omitempty"`
	Languages   []string    `json:"languages"`
}

// ASRProgram describes a speech recognition service in info.
type ASRProgram struct {
	Name        string      `json:"name"`
	Attribution Attribution `json:"attribution"`
	Installed   bool        `json:"installed"`
	Description string      `json:"description,omitempty"`
	Version     string      `json:"version,omitempty"`
	Models      []Model     `json:"models"`
}

// TTSProgram describes a speech output service in info.
type TTSProgram struct {
	Name        string      `json:"name"`
	Attribution Attribution `json:"attribution"`
	Installed   bool        `json:"installed"`
	Description string      `json:"description,omitempty"`
	Version     string      `json:"version,omitempty"`
	Voices      []Model     `json:"voices"`
	// SupportsStreaming says the server reads synthesize-start/-chunk/-stop.
	SupportsStreaming bool `json:"supports_synthesize_streaming"`
}

// HandleProgram describes a conversation (handle) service in info.
type HandleProgram struct {
	Name        string      `json:"name"`
	Attribution Attribution `json:"attribution"`
	Installed   bool        `json:"installed"`
	Description string      `json:"description,omitempty"`
	Version     string      `json:"version,omitempty"`
	Models      []Model     `json:"models"`
}

// Info is the data of the info reply to describe.
type Info struct {
	ASR    []ASRProgram    `json:"asr"`
	TTS    []TTSProgram    `json:"tts"`
	Handle []HandleProgram `json:"handle"`
}
