package wyoming

import (
	"context"

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

// Info is the data of the info reply to describe.
type Info struct {
	ASR []ASRProgram `json:"asr"`
	TTS []TTSProgram `json:"tts"`
}
