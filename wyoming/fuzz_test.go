package wyoming

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReadEvent feeds arbitrary bytes to the event reader, as a hostile or broken client on the
// network would: every outcome is an event, io.EOF, io.ErrUnexpectedEOF or a *ProtocolError,
// never a panic, and nothing is allocated beyond the limits.
func FuzzReadEvent(f *testing.F) {
	f.Add([]byte(`{"type":"describe"}` + "\n"))
	f.Add([]byte(`{"type":"audio-chunk","data":{"rate":16000,"width":2,"channels":1},"payload_length":4}` + "\n\x00\x01\x02\x03"))
	f.Add([]byte(`{"type":"transcribe","data_length":17}` + "\n" + `{"language":"en"}`))
	f.Add([]byte(`{"type":"x","payload_length":99999999999}` + "\n"))
	f.Add([]byte("\n\n{\"type\":\"ping\"}\n"))
	f.Add([]byte(`{"type":"x","data":[1,2]}` + "\n"))
	lim := Limits{Header: 512, Data: 1024, Payload: 4096}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b), lim)
		for i := 0; i < 64; i++ {
			e, err := ReadEvent(r, lim)
			if err != nil {
				var pe *ProtocolError
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.As(err, &pe) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				return
			}
			if e.Type == "" || int64(len(e.Payload)) > lim.Payload || int64(len(e.Data)) > lim.Data+int64(lim.Header) {
				t.Fatalf("event outside the limits: type %q, %d data bytes, %d payload bytes", e.Type, len(e.Data), len(e.Payload))
			}
			if len(e.Data) > 0 {
				var v map[string]any
				if err := e.Decode(&v); err != nil {
					t.Fatalf("event data that is not an object got through: %s (%v)", e.Data, err)
				}
			}
		}
	})
}
