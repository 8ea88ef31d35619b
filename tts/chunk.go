package tts

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ChunkerConfig sets where a Chunker may cut a stream that has no sentence end yet.
type ChunkerConfig struct {
	// FirstClause is the length (in characters; a Chinese character counts three) after which the first chunk may end at a clause
	// boundary (comma, semicolon, colon, dash): a short first chunk starts the voice sooner.
	FirstClause int
	// Clause is the same for the chunks after the first.
	Clause int
	// Max is the length after which a chunk with no boundary at all is cut at the last space
	// (or, in Chinese or Japanese, after the last character).
	Max int
}

// DefaultChunkerConfig returns the limits the Speaker uses.
func DefaultChunkerConfig() ChunkerConfig {
	return ChunkerConfig{FirstClause: 24, Clause: 80, Max: 220}
}

// Chunker cuts a stream of text pieces (LLM tokens) into chunks worth synthesizing on their
// own: complete sentences, lines (headings, list items), or clauses once a chunk is long.
// It never cuts inside "e.g.", "3.5", "Dr. Smith" or "J. R. R. Tolkien", and it drops fenced
// code blocks as they stream by. A Chunker is used by one goroutine.
type Chunker struct {
	cfg       ChunkerConfig
	raw       string // text not yet past the code-fence filter (an undecided line start)
	lineStart bool
	inFence   bool
	pending   string // filtered text not yet emitted
	emitted   int    // chunks emitted so far
}

// NewChunker returns a Chunker with the given limits (zero fields take the defaults).
func NewChunker(cfg ChunkerConfig) *Chunker {
	def := DefaultChunkerConfig()
	if cfg.FirstClause <= 0 {
		cfg.FirstClause = def.FirstClause
	}
	if cfg.Clause <= 0 {
		cfg.Clause = def.Clause
	}
	if cfg.Max <= 0 {
		cfg.Max = def.Max
	}
	return &Chunker{cfg: cfg, lineStart: true}
}

// Push adds a piece of the stream and returns the chunks it completed, in order.
func (c *Chunker) Push(piece string) []string {
	c.pending += c.filter(piece, false)
	return c.cut(false)
}

// Flush ends the stream and returns what is left, as zero or more chunks.
func (c *Chunker) Flush() []string {
	c.pending += c.filter("", true)
	chunks := c.cut(true)
	c.lineStart, c.inFence = true, false
	return chunks
}

// filter passes text through, except fenced code blocks; it holds back a line start until it
// knows whether the line opens or closes a fence. A block boundary is kept as a newline.
func (c *Chunker) filter(piece string, final bool) string {
	c.raw += piece
	var out strings.Builder
	for c.raw != "" {
		if c.lineStart {
			t := strings.TrimLeft(c.raw, " ")
			indent := len(c.raw) - len(t)
			nl := strings.IndexByte(c.raw, '\n')
			if indent <= 3 && (strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")) {
				if nl < 0 && !final {
					return out.String() // wait for the end of the fence line
				}
				c.inFence = !c.inFence
				out.WriteByte('\n')
				if nl < 0 {
					c.raw = ""
				} else {
					c.raw = c.raw[nl+1:]
				}
				continue
			}
			if indent <= 3 && nl < 0 && !final && len(t) < 3 &&
				(strings.HasPrefix("```", t) || strings.HasPrefix("~~~", t)) {
				return out.String() // could still become a fence
			}
			c.lineStart = false
		}
		line := c.raw
		if nl := strings.IndexByte(c.raw, '\n'); nl >= 0 {
			line = c.raw[:nl+1]
			c.lineStart = true
		}
		c.raw = c.raw[len(line):]
		if !c.inFence {
			out.WriteString(line)
		}
	}
	return out.String()
}

// cut takes the complete chunks off the front of c.pending.
func (c *Chunker) cut(final bool) []string {
	var chunks []string
	for {
		end, ok := c.boundary(final)
		if !ok {
			break
		}
		chunks = c.emit(chunks, c.pending[:end])
		c.pending = strings.TrimLeft(c.pending[end:], " \t\n")
	}
	if final {
		chunks = c.emit(chunks, c.pending)
		c.pending = ""
	}
	return chunks
}

func (c *Chunker) emit(chunks []string, chunk string) []string {
	if chunk = strings.TrimSpace(chunk); chunk != "" && hasSpeakable(chunk) {
		chunks = append(chunks, chunk)
		c.emitted++
	}
	return chunks
}

// decision is what a boundary scan learnt about a punctuation mark.
type decision int

const (
	noBoundary decision = iota
	isBoundary
	needMore // the text that follows decides, and it has not arrived yet
)

// boundary finds the end of the first complete chunk in c.pending. Chunks are short (Max
// characters), so it rescans from the start each time.
func (c *Chunker) boundary(final bool) (int, bool) {
	p := c.pending
	clause := c.cfg.Clause
	if c.emitted == 0 {
		clause = c.cfg.FirstClause
	}
	lastSpace, lastWide, runes := -1, -1, 0
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRuneInString(p[i:])
		if r == utf8.RuneError && !utf8.FullRuneInString(p[i:]) && !final {
			return 0, false // a piece ended inside a character
		}
		next := i + size
		runes += width(r)
		d := noBoundary
		end := next
		switch {
		case r == '\n':
			if strings.TrimSpace(p[:i]) != "" {
				d = isBoundary
			}
		case r == '。' || r == '！' || r == '？':
			d, end = isBoundary, skipClosers(p, next) // no space after these
		case r == '.' || r == '!' || r == '?' || r == '…':
			end = skipClosers(p, next)
			switch {
			case end == len(p) && !final:
				d = needMore
			case end < len(p) && !isSpace(p, end):
				d = noBoundary // "3.5", "e.g", "example.com"
			case r == '.':
				d = sentenceEndsAt(p, i, end, final)
			default:
				d = isBoundary
			}
		case r == '，' || r == '；' || r == '：' || r == '、':
			// Chinese clause marks take no space after them.
			if runes >= clause {
				d, end = isBoundary, skipClosers(p, next)
			}
		case r == ',' || r == ';' || r == ':' || r == '—' || r == '–':
			if runes >= clause {
				switch {
				case next == len(p) && !final:
					d = needMore
				case next == len(p) || isSpace(p, next):
					d = isBoundary
				}
			}
		case unicode.IsSpace(r):
			lastSpace = i
		}
		if wide(r) {
			lastWide = next // Chinese and Japanese may be cut after any character
		}
		switch d {
		case isBoundary:
			return end, true
		case needMore:
			return 0, false
		}
		if runes >= c.cfg.Max {
			if cut := max(lastSpace, lastWide); cut > 0 {
				return cut, true
			}
		}
		i = next
	}
	return 0, false
}

// wide reports whether r is a character of a script written without spaces (Han, kana,
// Hangul syllables) or their full-width punctuation.
func wide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFF60)
}

// width is how much r counts towards a chunk's length limits: a Chinese character carries a
// syllable, about what three Latin letters do, so clause limits fit both.
func width(r rune) int {
	if wide(r) {
		return 3
	}
	return 1
}

// skipClosers returns the index after any closing quotes or brackets at i.
func skipClosers(p string, i int) int {
	for i < len(p) {
		r, size := utf8.DecodeRuneInString(p[i:])
		if !strings.ContainsRune(`"')]}’”»`, r) {
			break
		}
		i += size
	}
	return i
}

func isSpace(p string, i int) bool {
	r, _ := utf8.DecodeRuneInString(p[i:])
	return unicode.IsSpace(r)
}

// neverFinal are abbreviations always followed by more of the same sentence.
var neverFinal = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "st": true, "mt": true,
	"jr": true, "sr": true, "vs": true, "e.g": true, "i.e": true, "cf": true, "approx": true,
	"fig": true, "figs": true, "vol": true, "pp": true, "ca": true, "esp": true, "incl": true,
	"dept": true, "sgt": true, "capt": true, "lt": true, "gen": true, "ave": true, "blvd": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true, "aug": true,
	"sep": true, "sept": true, "oct": true, "nov": true, "dec": true, "a.k.a": true,
}

// sentenceEndsAt decides whether the full stop at p[dot] ends a sentence; end is the index
// past it and any closing quotes: a space, or the end of p.
func sentenceEndsAt(p string, dot, end int, final bool) decision {
	start := dot
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(p[:start])
		if unicode.IsSpace(r) || strings.ContainsRune(`("'[“‘`, r) {
			break
		}
		start -= size
	}
	word := p[start:dot]
	lower := strings.ToLower(word)
	switch {
	case neverFinal[lower]:
		return noBoundary
	case utf8.RuneCountInString(word) == 1 && unicode.IsUpper([]rune(word)[0]):
		return noBoundary // an initial: "J. R. R. Tolkien"
	case isDigits(word) && start == 0:
		return noBoundary // a list number: "1. Open the app"
	}
	// "No. 5" but "I said no."; "U.S.", "a.m." and "etc." end a sentence only before a capital.
	if lower == "no" || lower == "etc" || strings.Contains(word, ".") {
		rest := strings.TrimLeft(p[end:], " \t")
		if rest == "" {
			if final {
				return isBoundary
			}
			return needMore
		}
		r, _ := utf8.DecodeRuneInString(rest)
		if lower == "no" {
			if unicode.IsDigit(r) {
				return noBoundary
			}
			return isBoundary
		}
		if unicode.IsUpper(r) || r == '\n' {
			return isBoundary
		}
		return noBoundary
	}
	return isBoundary
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
