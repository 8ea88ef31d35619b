package wyoming

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ProtocolVersion is the Wyoming version Hark's events follow (the version field of headers).
const ProtocolVersion = "1.7.2"

// Event types Hark reads and writes.
const (
	TypeDescribe         = "describe"
	TypeInfo             = "info"
	TypeTranscribe       = "transcribe"
	TypeAudioStart       = "audio-start"
	TypeAudioChunk       = "audio-chunk"
	TypeAudioStop        = "audio-stop"
	TypeTranscript       = "transcript"
	TypeSynthesize       = "synthesize"
	TypeSynthesizeStart  = "synthesize-start"
	TypeSynthesizeChunk  = "synthesize-chunk"
	TypeSynthesizeStop   = "synthesize-stop"
	TypeSynthesizeStoppd = "synthesize-stopped"
	TypeHandled          = "handled"
	TypeNotHandled       = "not-handled"
	TypeError            = "error"
	TypePing             = "ping"
	TypePong             = "pong"
)

// Event is one Wyoming message: its type, its data (a JSON object, nil if none) and its
// binary payload (PCM for audio-chunk).
type Event struct {
	Type    string
	Data    json.RawMessage
	Payload []byte
}

// header is the first line of an event on the wire.
type header struct {
	Type          string          `json:"type"`
	Version       string          `json:"version,omitempty"`
	Data          json.RawMessage `json:"data,omitempty"`
	DataLength    int64           `json:"data_length,omitempty"`
	PayloadLength int64           `json:"payload_length,omitempty"`
}

// Limits bound what one event may make the server read.
type Limits struct {
	// Header is the longest header line, in bytes (the line is buffered whole).
	Header int
	// Data is the most bytes of additional data an event may declare.
	Data int64
	// Payload is the most payload bytes an event may declare (one audio chunk).
	Payload int64
}

// DefaultLimits fit every event Home Assistant and the Wyoming satellites send (audio chunks
// are a few kilobytes) with a wide margin.
func DefaultLimits() Limits {
	return Limits{Header: 64 << 10, Data: 1 << 20, Payload: 1 << 20}
}

// ProtocolError is a framing error: the stream cannot be read further, so the server reports
// it to the client and closes the connection.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "wyoming: " + e.Msg }

func protocolErr(format string, a ...any) error {
	return &ProtocolError{Msg: fmt.Sprintf(format, a...)}
}

// NewReader returns a reader sized for ReadEvent with lim.
func NewReader(r io.Reader, lim Limits) *bufio.Reader {
	return bufio.NewReaderSize(r, lim.Header)
}

// ReadEvent reads one event. A malformed or oversized event is a *ProtocolError; io.EOF means
// the peer closed the connection between events (io.ErrUnexpectedEOF: inside one).
func ReadEvent(r *bufio.Reader, lim Limits) (Event, error) {
	line, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return Event{}, protocolErr("header line longer than %d bytes", lim.Header)
	case err == io.EOF && len(line) > 0:
		return Event{}, io.ErrUnexpectedEOF
	case err != nil:
		return Event{}, err
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return ReadEvent(r, lim) // tolerate blank lines between events
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		return Event{}, protocolErr("header is not a JSON object: %v", err)
	}
	switch {
	case h.Type == "":
		return Event{}, protocolErr("header has no type")
	case h.DataLength < 0 || h.DataLength > lim.Data:
		return Event{}, protocolErr("%s: data_length %d is outside 0..%d", h.Type, h.DataLength, lim.Data)
	case h.PayloadLength < 0 || h.PayloadLength > lim.Payload:
		return Event{}, protocolErr("%s: payload_length %d is outside 0..%d", h.Type, h.PayloadLength, lim.Payload)
	}
	if len(h.Data) > 0 && !isObject(h.Data) {
		return Event{}, protocolErr("%s: data is not a JSON object", h.Type)
	}
	e := Event{Type: h.Type, Data: h.Data}
	if h.DataLength > 0 {
		extra := make([]byte, h.DataLength)
		if _, err := io.ReadFull(r, extra); err != nil {
			return Event{}, unexpected(err)
		}
		if !isObject(extra) {
			return Event{}, protocolErr("%s: additional data is not a JSON object", h.Type)
		}
		if e.Data, err = merge(e.Data, extra); err != nil {
			return Event{}, protocolErr("%s: additional data: %v", h.Type, err)
		}
	}
	if h.PayloadLength > 0 {
		e.Payload = make([]byte, h.PayloadLength)
		if _, err := io.ReadFull(r, e.Payload); err != nil {
			return Event{}, unexpected(err)
		}
	}
	return e, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func isObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// merge lays the additional data's fields over the header's data, as the protocol defines.
func merge(base, extra json.RawMessage) (json.RawMessage, error) {
	if len(base) == 0 {
		return extra, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(base, &m); err != nil {
		return nil, err
	}
	var add map[string]json.RawMessage
	if err := json.Unmarshal(extra, &add); err != nil {
		return nil, err
	}
	for k, v := range add {
		m[k] = v
	}
	return json.Marshal(m)
}

// WriteEvent writes e: its data goes in the header line's data field, which every client
// reads (Wyoming 1.x readers also accept data_length; Hark reads both).
func WriteEvent(w io.Writer, e Event) error {
	h := header{Type: e.Type, Version: ProtocolVersion, Data: e.Data, PayloadLength: int64(len(e.Payload))}
	line, err := json.Marshal(h)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, len(line)+1+len(e.Payload))
	buf = append(append(append(buf, line...), '\n'), e.Payload...)
	_, err = w.Write(buf)
	return err
}

// NewEvent builds an event whose data is v marshalled to JSON (nil: no data).
func NewEvent(typ string, v any, payload []byte) Event {
	e := Event{Type: typ, Payload: payload}
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("wyoming: %s data does not marshal: %v", typ, err)) // our own types always do
		}
		e.Data = b
	}
	return e
}

// Decode unmarshals the event's data into v (an event without data leaves v as it is).
func (e Event) Decode(v any) error {
	if len(e.Data) == 0 {
		return nil
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("%s: bad data: %w", e.Type, err)
	}
	return nil
}
