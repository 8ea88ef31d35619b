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
	JSON                   // whisper.cpp CLI's --output-json layout
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
// and no "-->" (which a WebVTT parser takes for a timing line).
func cueText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "-->", "->")
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

// jsonTranscript is whisper-cli --output-json's layout (the parts that describe the
// transcript): times as SRT stamps and as milliseconds.
type jsonTranscript struct {
	Result struct {
		Language string `json:"language"`
	} `json:"result"`
	Transcription []jsonSegment `json:"transcription"`
}

type jsonSegment struct {
	Timestamps struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"timestamps"`
	Offsets struct {
		From int64 `json:"from"`
		To   int64 `json:"to"`
	} `json:"offsets"`
	Text string `json:"text"`
}

// WriteJSON writes the transcript in whisper-cli's JSON layout.
func WriteJSON(w io.Writer, segs []Segment, language string) error {
	var t jsonTranscript
	t.Result.Language = language
	t.Transcription = make([]jsonSegment, 0, len(segs))
	for _, s := range segs {
		var j jsonSegment
		j.Timestamps.From, j.Timestamps.To = stamp(s.Start, ','), stamp(s.End, ',')
		j.Offsets.From, j.Offsets.To = s.Start.Milliseconds(), s.End.Milliseconds()
		j.Text = s.Text
		t.Transcription = append(t.Transcription, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(t)
}
