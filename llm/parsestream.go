package llm

import (
	"encoding/json"
	"strings"
)

// Parsing a streamed reply. The chat layer's parser takes the whole reply, so parsing it
// again for every piece costs time in proportion to the reply's length, for every piece: the
// square of the length in all. In a format whose tool calls (and any other markup the parser
// takes out) begin with fixed words — the lazy grammar's word triggers, such as Hermes'
// <tool_call> — the reply is all content until one of those words appears. plainScan watches
// for them, looking at each piece and the few characters before it only, and until one
// appears the content is the text itself, without the parser. From the first marker on, and
// at the end of the reply, the parser decides as before.

// plainScan tells whether the reply so far can only be content.
type plainScan struct {
	ok       bool     // the format allows it, and no marker has appeared yet
	triggers []string // the words that start a tool call
	markers  []string // those, and the format's other markup (the parser decides from there)
	longest  int      // the longest marker's length
	scanned  int      // raw[:scanned] has been searched
}

// newPlainScan is the scan for a format: off unless every way out of plain content is a word.
func newPlainScan(cr *chatRender) plainScan {
	if !cr.GrammarLazy || cr.SupportsThinking || len(cr.Triggers) == 0 {
		return plainScan{}
	}
	s := plainScan{ok: true}
	for _, t := range cr.Triggers {
		if t.Type != 1 || t.Value == "" { // a token or a pattern: not a word to look for
			return plainScan{}
		}
		s.triggers = append(s.triggers, t.Value)
	}
	s.markers = append(s.markers, s.triggers...)
	for _, p := range cr.PreservedTokens {
		if p != "" {
			s.markers = append(s.markers, p)
		}
	}
	for _, m := range s.markers {
		s.longest = max(s.longest, len(m))
	}
	return s
}

// plain reports whether raw (the reply so far: the text scanned before, and more) is still
// all content, and how many bytes at its end must wait because they may begin a tool call
// (the parser holds those back too).
func (s *plainScan) plain(raw string) (ok bool, hold int) {
	if !s.ok {
		return false, 0
	}
	from := max(0, s.scanned-s.longest+1)
	for _, m := range s.markers {
		if strings.Contains(raw[from:], m) {
			s.ok = false
			return false, 0
		}
	}
	s.scanned = len(raw)
	for _, m := range s.triggers {
		for k := min(len(m)-1, len(raw)); k > hold; k-- {
			if strings.HasSuffix(raw, m[:k]) {
				hold = k
				break
			}
		}
	}
	return true, hold
}

// contentDelta feeds the reply's text to the chat layer's parser and returns the content that
// has not been emitted yet. Text that does not parse (a model that writes a broken call) is
// content: the reply is never lost.
func (r *run) contentDelta(show string, partial bool) string {
	r.rawB.WriteString(show)
	r.raw = r.rawB.String()
	if partial {
		if ok, hold := r.scan.plain(r.raw); ok {
			// The parser's content does not start with (ASCII) white space. It extends what
			// was emitted (the text only grows), so the two need no comparing.
			content := strings.TrimLeft(r.raw[:len(r.raw)-hold], " \t\n\r\v\f")
			if len(content) < len(r.emitted) {
				return ""
			}
			return r.emitTail(content[len(r.emitted):], true)
		}
	}
	p, err := r.chat.parse(r.raw, partial)
	if err != nil {
		if partial {
			return "" // wait for more text
		}
		p = parsedReply{Content: r.raw}
	}
	r.reasoning = p.Reasoning
	if !partial {
		r.calls = nil
		for _, c := range p.ToolCalls {
			args := json.RawMessage(c.Arguments)
			if !json.Valid(args) {
				args, _ = json.Marshal(c.Arguments)
			}
			r.calls = append(r.calls, ToolCall{ID: c.ID, Name: c.Name, Arguments: args})
		}
	}
	return r.emitContent(p.Content, partial)
}

// emitContent returns what of content (the reply's content so far) has not been emitted, and
// counts it as emitted.
func (r *run) emitContent(content string, partial bool) string {
	if !strings.HasPrefix(content, r.emitted) {
		return "" // the parser changed its mind about text already shown; keep what was shown
	}
	return r.emitTail(content[len(r.emitted):], partial)
}

// emitTail counts d, the content after what was emitted, as emitted and returns it.
func (r *run) emitTail(d string, partial bool) string {
	if partial {
		// Trailing whitespace may turn out to precede a tool call; hold it back.
		d = strings.TrimRight(d, " \n\t")
	}
	r.emittedB.WriteString(d)
	r.emitted = r.emittedB.String()
	return d
}
