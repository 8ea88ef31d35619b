package llm

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// textStream turns the raw bytes of generated token pieces into the text a user sees, as
// pieces that are safe to show at once:
//   - only whole UTF-8 characters (a character split over two tokens waits for its second
//     half; bytes that can never form a character are dropped);
//   - nothing of a stop sequence, even one spread over several tokens (text that might be the
//     start of one is held back until it is clear);
//   - no leading whitespace, and no trailing whitespace at the end of the reply (whitespace
//     inside the text is held back until something follows it).
//
// It also remembers where in the raw bytes the visible text ends, so the caller can trim the
// KV cache to exactly what the conversation keeps.
type textStream struct {
	stops []string

	raw     []byte // every byte of every piece
	rawNext int    // raw[:rawNext] has been decoded into text

	text    []byte  // decoded characters
	rawOff  []int32 // rawOff[i]: offset in raw of text[i]
	emitted int     // text[:emitted] is resolved (shown, or dropped as leading whitespace)
	started bool    // a visible character has been shown

	out        strings.Builder
	visibleRaw int  // raw offset just past the last shown byte
	stopped    bool // a stop sequence was found; nothing more is shown
}

func newTextStream(stops []string) *textStream {
	s := &textStream{}
	for _, st := range stops {
		if st != "" {
			s.stops = append(s.stops, st)
		}
	}
	return s
}

// push adds the bytes of one token and returns the text that is now safe to show ("" if none).
// stop reports that a stop sequence is complete: generation should end.
func (s *textStream) push(piece []byte) (show string, stop bool) {
	if s.stopped {
		return "", true
	}
	s.raw = append(s.raw, piece...)
	s.decode(false)
	return s.resolve(false), s.stopped
}

// finish ends the stream (end of generation) and returns the last text to show: what was held
// back as a possible stop sequence is shown after all, trailing whitespace is not.
func (s *textStream) finish() string {
	if s.stopped {
		return ""
	}
	s.decode(true)
	return s.resolve(true)
}

// decode moves whole characters from raw to text. At the end (final) an incomplete character
// is dropped.
func (s *textStream) decode(final bool) {
	for s.rawNext < len(s.raw) {
		rest := s.raw[s.rawNext:]
		if !utf8.FullRune(rest) {
			if !final {
				return
			}
			s.rawNext = len(s.raw)
			return
		}
		r, n := utf8.DecodeRune(rest)
		if r == utf8.RuneError && n == 1 {
			s.rawNext++ // a byte that starts no character: drop it
			continue
		}
		for i := range n {
			s.text = append(s.text, rest[i])
			s.rawOff = append(s.rawOff, int32(s.rawNext+i))
		}
		s.rawNext += n
	}
}

func (s *textStream) resolve(final bool) string {
	// Leading whitespace is dropped.
	for !s.started && s.emitted < len(s.text) {
		r, n := utf8.DecodeRune(s.text[s.emitted:])
		if !unicode.IsSpace(r) {
			s.started = true
			break
		}
		s.emitted += n
	}
	end := len(s.text)
	pending := string(s.text[s.emitted:])
	if at := s.firstStop(pending); at >= 0 {
		end = s.emitted + at
		s.stopped = true
	} else if !final {
		end -= s.heldForStop(pending)
	}
	// Trailing whitespace waits for what follows it, or is dropped at the end.
	for end > s.emitted {
		r, n := utf8.DecodeLastRune(s.text[s.emitted:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= n
	}
	if end <= s.emitted {
		return ""
	}
	show := string(s.text[s.emitted:end])
	s.out.WriteString(show)
	s.visibleRaw = int(s.rawOff[end-1]) + 1
	s.emitted = end
	return show
}

// firstStop returns the byte index of the earliest stop sequence in text, or -1.
func (s *textStream) firstStop(text string) int {
	at := -1
	for _, st := range s.stops {
		if i := strings.Index(text, st); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	return at
}

// heldForStop returns the length of the longest suffix of text that is the beginning of a stop
// sequence (and so cannot be shown yet).
func (s *textStream) heldForStop(text string) int {
	held := 0
	for _, st := range s.stops {
		for n := min(len(st)-1, len(text)); n > held; n-- {
			if strings.HasSuffix(text, st[:n]) {
				held = n
				break
			}
		}
	}
	return held
}

// text returns everything shown so far.
func (s *textStream) shown() string { return s.out.String() }
