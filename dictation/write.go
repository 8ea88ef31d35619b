package dictation

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Format is an output format of a transcript.
type Format int

const (
	TXT  Format = iota + 1 // one segment per line
	SRT                    // SubRip subtitles
	VTT                    // WebVTT subtitles
	JSON                   // Hark's JSON layout (JSONTranscript)
)

// Ext is the format's usual file extension, with the dot.
func (f Format) Ext() string {
	switch f {
	case TXT:
		return ".txt"
	case SRT:
		return ".srt"
	case VTT:
		return ".vtt"
	case JSON:
		return ".json"
	}
	return ""
}

func (f Format) String() string {
	if e := f.Ext(); e != "" {
		return e[1:]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Write writes segs in format f; language is the transcript's language code ("" if unknown),
// used by JSON only.
func Write(w io.Writer, f Format, segs []Segment, language string) error {
	switch f {
	case TXT:
		return WriteTXT(w, segs)
	case SRT:
		return WriteSRT(w, segs)
	case VTT:
		return WriteVTT(w, segs)
	case JSON:
		return WriteJSON(w, segs, language)
	}
	return fmt.Errorf("dictation: unknown output format %d", int(f))
}

// cueText makes text safe inside a subtitle cue: one line (a blank line would end the cue),
// and no "-->" (which a WebVTT parser takes for a timing line). Spaces between words are
// kept, and dropped between Chinese characters ([Join]).
func cueText(s string) string {
	t := ""
	for _, f := range strings.Fields(s) {
		t = Join(t, f)
	}
	return strings.ReplaceAll(t, "-->", "->")
}

// stamp formats d as HH:MM:SS<sep>mmm, as SRT (',') and WebVTT ('.') want it.
func stamp(d time.Duration, sep byte) string {
	d = max(d, 0)
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d%c%03d", ms/3600000, ms/60000%60, ms/1000%60, sep, ms%1000)
}

// WriteTXT writes one segment per line, as whisper-cli --output-txt does.
func WriteTXT(w io.Writer, segs []Segment) error {
	b := bufio.NewWriter(w)
	for _, s := range segs {
		b.WriteString(cueText(s.Text))
		b.WriteByte('\n')
	}
	return b.Flush()
}

// WriteSRT writes SubRip cues numbered from 1.
func WriteSRT(w io.Writer, segs []Segment) error {
	b := bufio.NewWriter(w)
	for i, s := range segs {
		fmt.Fprintf(b, "%d\n%s --> %s\n%s\n\n", i+1, stamp(s.Start, ','), stamp(s.End, ','), cueText(s.Text))
	}
	return b.Flush()
}

// WriteVTT writes a WebVTT file.
func WriteVTT(w io.Writer, segs []Segment) error {
	b := bufio.NewWriter(w)
	b.WriteString("WEBVTT\n\n")
	for _, s := range segs {
		fmt.Fprintf(b, "%s --> %s\n%s\n\n", stamp(s.Start, '.'), stamp(s.End, '.'), cueText(s.Text))
	}
	return b.Flush()
}

// JSONTranscript is Hark's one JSON layout of a transcript: `hark dictate --json`, --out
// FILE.json, and the core of `hark transcribe --json` (which adds the engine's figures beside
// these keys and in each segment). Times are in seconds.
type JSONTranscript struct {
	Text     string        `json:"text"` // the segments as running text ([Text])
	Language string        `json:"language"`
	Segments []JSONSegment `json:"segments"`
}

// JSONSegment is one segment of a [JSONTranscript].
type JSONSegment struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Text  string  `json:"text"`
}

// WriteJSON writes the transcript as a [JSONTranscript].
func WriteJSON(w io.Writer, segs []Segment, language string) error {
	t := JSONTranscript{Text: Text(segs), Language: language, Segments: make([]JSONSegment, 0, len(segs))}
	for _, s := range segs {
		t.Segments = append(t.Segments, JSONSegment{Start: s.Start.Seconds(), End: s.End.Seconds(), Text: s.Text})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(t)
}
