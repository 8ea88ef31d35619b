package dictation

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"hark/audio"
)

// Transcriber is what dictation needs from speech recognition: one window of 16 kHz mono audio
// (at most MaxWindow long) to timed text. prompt is the text heard just before the window (""
// at the start): the engine conditions on it so that a sentence continues across the border.
// Segment times are relative to the window's start. Segments the engine judged not to be
// speech (the hallucination guard) are left out. It must return soon after ctx is done.
type Transcriber interface {
	Transcribe(ctx context.Context, pcm audio.PCM, prompt string) ([]Segment, error)
}

// Segment is one timed piece of the transcript.
type Segment struct {
	Start time.Duration `json:"start"` // from the start of the stream (relative to the window, from a Transcriber)
	End   time.Duration `json:"end"`
	Text  string        `json:"text"`
}

// MaxWindow is the longest window a Transcriber is given: whisper's 30-second window, less a
// second of room for the endpointer's frame granularity.
const MaxWindow = 29 * time.Second

// Options tune a Dictation. The zero value uses the endpointer's defaults.
type Options struct {
	// Endpointer tunes the cutting; MaxUtterance is capped at MaxWindow (its default).
	Endpointer audio.EndpointerConfig
	// PromptChars is how much of the text before a window is carried into it as the prompt
	// (default 200 characters: whisper uses at most half its 448-token context for a prompt,
	// and a long prompt slows the decoder). Negative: no carry-over.
	PromptChars int
}

// Dictation cuts a stream at pauses and transcribes it window by window.
type Dictation struct {
	t       Transcriber
	ep      *audio.Endpointer
	prompt  int
	text    string // the carried-over text: the last PromptChars of what was heard
	windows int
}

// New returns a Dictation that transcribes with t and finds pauses with d (which it resets).
func New(t Transcriber, d audio.Detector, o Options) *Dictation {
	cfg := o.Endpointer
	if cfg.MaxUtterance <= 0 || cfg.MaxUtterance > MaxWindow {
		cfg.MaxUtterance = MaxWindow
	}
	if cfg.Threshold == 0 && cfg.TrailingSilence == 0 && cfg.PreRoll == 0 && cfg.MinSpeech == 0 {
		def := audio.DefaultEndpointerConfig()
		def.MaxUtterance = cfg.MaxUtterance
		cfg = def
	}
	p := o.PromptChars
	if p == 0 {
		p = 200
	}
	return &Dictation{t: t, ep: audio.NewEndpointer(d, cfg), prompt: p}
}

// Windows is how many windows have been transcribed so far.
func (d *Dictation) Windows() int { return d.windows }

// Push feeds 16 kHz mono samples (any chunk size) and returns the segments of the windows
// they completed, in order. A window is transcribed before Push returns, so a caller that
// reads audio from a file gets back-pressure for free. On error the segments found before it
// are returned; the stream can go on.
func (d *Dictation) Push(ctx context.Context, samples []float32) ([]Segment, error) {
	evs, err := d.ep.Push(samples)
	segs, terr := d.transcribe(ctx, evs)
	if terr != nil {
		return segs, terr
	}
	return segs, err
}

// Flush ends the stream: an utterance in progress is closed and transcribed. Stream time then
// starts again at zero.
func (d *Dictation) Flush(ctx context.Context) ([]Segment, error) {
	return d.transcribe(ctx, d.ep.Flush())
}

func (d *Dictation) transcribe(ctx context.Context, evs []audio.EndpointEvent) ([]Segment, error) {
	var out []Segment
	for _, e := range evs {
		if e.Kind != audio.SpeechEnded || len(e.Utterance.Samples) == 0 {
			continue
		}
		segs, err := d.t.Transcribe(ctx, e.Utterance, d.text)
		if err != nil {
			return out, fmt.Errorf("dictation: window at %s: %w", clock(e.UtteranceStart), err)
		}
		d.windows++
		start, end := e.UtteranceStart, e.UtteranceStart+e.Utterance.Duration()
		for _, s := range segs {
			text := strings.TrimSpace(s.Text)
			if text == "" {
				continue
			}
			// Whisper's timestamps can run past the audio it was given (a trimmed encoder
			// window); clamping them into the window keeps the whole transcript monotonic,
			// since windows never overlap.
			a := min(max(start+s.Start, start), end)
			b := min(max(start+s.End, a), end)
			if n := len(out); n > 0 && a < out[n-1].End {
				a = out[n-1].End
				b = max(a, b)
			}
			out = append(out, Segment{Start: a, End: b, Text: text})
			d.carry(text)
		}
	}
	return out, nil
}

// carry appends text to the prompt for the next window, keeping its last PromptChars
// characters, cut at a word boundary.
func (d *Dictation) carry(text string) {
	if d.prompt < 0 {
		return
	}
	t := Join(d.text, text)
	if utf8.RuneCountInString(t) > d.prompt {
		r := []rune(t)
		t = string(r[len(r)-d.prompt:])
		// Cut at a word boundary in scripts that have them; Chinese and Japanese have none.
		first, _ := utf8.DecodeRuneInString(t)
		if !unicode.In(first, unicode.Han, unicode.Hiragana, unicode.Katakana) {
			if i := strings.IndexByte(t, ' '); i >= 0 && i < len(t)-1 {
				t = t[i+1:]
			}
		}
	}
	d.text = t
}

// Prompt is the text the next window will be given as its prompt.
func (d *Dictation) Prompt() string { return d.text }

// Text joins segments into running text (see [Join]).
func Text(segs []Segment) string {
	t := ""
	for _, s := range segs {
		t = Join(t, s.Text)
	}
	return t
}

// Join puts b after a as running text: with a space between words, and without one where
// either side is Chinese or Japanese (written without spaces) or their punctuation.
func Join(a, b string) string {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" || b == "" {
		return a + b
	}
	last, _ := utf8.DecodeLastRuneInString(a)
	first, _ := utf8.DecodeRuneInString(b)
	if unspaced(last) || unspaced(first) {
		return a + b
	}
	return a + " " + b
}

func unspaced(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) ||
		(r >= 0x3000 && r <= 0x303f) || // CJK punctuation: 。、「」
		(r >= 0xff00 && r <= 0xffef) // full-width forms: ，！？
}

func clock(d time.Duration) string {
	d = d.Round(time.Millisecond)
	return fmt.Sprintf("%02d:%02d:%02d.%03d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60, int(d.Milliseconds())%1000)
}
