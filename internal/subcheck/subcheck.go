// Package subcheck validates SubRip (SRT) and WebVTT subtitle files for tests: each file is
// read by go-astisub, a subtitle library that players' tool chains use, and also checked
// strictly line by line for what that reader forgives (a missing or wrong cue number, a
// malformed timestamp, a cue not ended by a blank line), and the cues must run in order
// without overlapping.
package subcheck

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/asticode/go-astisub"
)

// Cue is one subtitle: its times and its text lines joined with "\n".
type Cue struct {
	Start, End time.Duration
	Text       string
}

// timing is a cue's timing line: hours (two digits or more), minutes and seconds (two
// digits), milliseconds (three), with sep before the milliseconds.
func timing(sep string) *regexp.Regexp {
	ts := `(\d{2,}):([0-5]\d):([0-5]\d)` + sep + `(\d{3})`
	return regexp.MustCompile(`^` + ts + ` --> ` + ts + `$`)
}

var (
	srtTiming = timing(",")
	vttTiming = timing(`\.`)
)

// SRT validates a SubRip file and returns its cues.
func SRT(data []byte) ([]Cue, error) {
	cues, err := strict(string(data), false)
	if err != nil {
		return nil, err
	}
	subs, err := astisub.ReadFromSRT(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("srt: go-astisub: %w", err)
	}
	return cues, agree(cues, subs)
}

// VTT validates a WebVTT file and returns its cues.
func VTT(data []byte) ([]Cue, error) {
	cues, err := strict(string(data), true)
	if err != nil {
		return nil, err
	}
	subs, err := astisub.ReadFromWebVTT(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("vtt: go-astisub: %w", err)
	}
	return cues, agree(cues, subs)
}

// strict reads the file as Hark and whisper-cli write it: (for SRT) the cue's number counting
// from 1, the timing line, one or more text lines, a blank line; WebVTT starts with its
// header line and a blank line, and its cues have no numbers.
func strict(data string, vtt bool) ([]Cue, error) {
	kind, re := "srt", srtTiming
	if vtt {
		kind, re = "vtt", vttTiming
		if !strings.HasPrefix(data, "WEBVTT\n\n") && data != "WEBVTT\n" {
			return nil, fmt.Errorf("vtt: no \"WEBVTT\" header line followed by a blank line: %q", data[:min(len(data), 20)])
		}
		data = strings.TrimPrefix(strings.TrimPrefix(data, "WEBVTT\n"), "\n")
	}
	if !utf8.ValidString(data) {
		return nil, fmt.Errorf("%s: not UTF-8", kind)
	}
	if data != "" && !strings.HasSuffix(data, "\n\n") {
		return nil, fmt.Errorf("%s: the last cue is not ended by a blank line", kind)
	}
	var cues []Cue
	for n, block := range strings.Split(strings.TrimSuffix(data, "\n\n"), "\n\n") {
		if block == "" && data == "" {
			break
		}
		lines := strings.Split(block, "\n")
		if !vtt {
			if lines[0] != strconv.Itoa(n+1) {
				return nil, fmt.Errorf("srt: cue %d is numbered %q", n+1, lines[0])
			}
			lines = lines[1:]
		}
		if len(lines) < 2 {
			return nil, fmt.Errorf("%s: cue %d has no timing line and text: %q", kind, n+1, block)
		}
		m := re.FindStringSubmatch(lines[0])
		if m == nil {
			return nil, fmt.Errorf("%s: cue %d: malformed timing line %q", kind, n+1, lines[0])
		}
		c := Cue{Start: stamp(m[1:5]), End: stamp(m[5:9]), Text: strings.Join(lines[1:], "\n")}
		for _, l := range lines[1:] {
			if strings.TrimSpace(l) == "" || strings.Contains(l, "-->") {
				return nil, fmt.Errorf("%s: cue %d: bad text line %q", kind, n+1, l)
			}
		}
		if c.End < c.Start {
			return nil, fmt.Errorf("%s: cue %d ends (%v) before it starts (%v)", kind, n+1, c.End, c.Start)
		}
		if n > 0 && c.Start < cues[n-1].End {
			return nil, fmt.Errorf("%s: cue %d starts at %v, before cue %d ends (%v)", kind, n+1, c.Start, n, cues[n-1].End)
		}
		cues = append(cues, c)
	}
	return cues, nil
}

func stamp(hmsm []string) time.Duration {
	var v [4]int
	for i, s := range hmsm {
		v[i], _ = strconv.Atoi(s)
	}
	return time.Duration(v[0])*time.Hour + time.Duration(v[1])*time.Minute +
		time.Duration(v[2])*time.Second + time.Duration(v[3])*time.Millisecond
}

// agree checks that go-astisub read the same cues as the strict reader.
func agree(cues []Cue, subs *astisub.Subtitles) error {
	if len(subs.Items) != len(cues) {
		return fmt.Errorf("go-astisub read %d cues, the strict reader %d", len(subs.Items), len(cues))
	}
	for i, it := range subs.Items {
		var lines []string
		for _, l := range it.Lines {
			lines = append(lines, l.String())
		}
		for len(lines) > 0 && lines[len(lines)-1] == "" { // the blank line that ends the last cue
			lines = lines[:len(lines)-1]
		}
		text := strings.Join(lines, "\n")
		// Markup ("<i>", "&amp;") is go-astisub's to interpret: such text is not compared.
		plain := !strings.ContainsAny(cues[i].Text, "<>&{")
		if it.StartAt != cues[i].Start || it.EndAt != cues[i].End || (plain && text != cues[i].Text) {
			return fmt.Errorf("cue %d: go-astisub read %v --> %v %q, the strict reader %v --> %v %q",
				i+1, it.StartAt, it.EndAt, text, cues[i].Start, cues[i].End, cues[i].Text)
		}
	}
	return nil
}
