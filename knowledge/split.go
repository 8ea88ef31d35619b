package knowledge

import (
	"strings"
	"unicode/utf8"
)

// passageRunes is the size passages are packed to: about a paragraph or two, small enough that
// three of them fit a small model's prompt, large enough to carry an answer with its context.
const passageRunes = 700

// split packs a section's paragraphs into passages of at most passageRunes; a longer paragraph
// is cut at sentence ends, and a sentence longer still is cut hard.
func split(text string) []string {
	var pieces []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		para = strings.Join(strings.Fields(para), " ")
		if para == "" {
			continue
		}
		if utf8.RuneCountInString(para) <= passageRunes {
			pieces = append(pieces, para)
			continue
		}
		for _, s := range sentences(para) {
			for utf8.RuneCountInString(s) > passageRunes {
				head := truncateRunes(s, passageRunes)
				pieces = append(pieces, head)
				s = strings.TrimSpace(s[len(head):])
			}
			if s != "" {
				pieces = append(pieces, s)
			}
		}
	}
	var out []string
	var cur strings.Builder
	n := 0
	for _, p := range pieces {
		pn := utf8.RuneCountInString(p)
		if n > 0 && n+1+pn > passageRunes {
			out = append(out, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteString("\n")
			n++
		}
		cur.WriteString(p)
		n += pn
	}
	if n > 0 {
		out = append(out, cur.String())
	}
	return out
}

// sentences cuts after ". ", "! ", "? " and the Chinese full stops.
func sentences(s string) []string {
	var out []string
	start := 0
	rs := []rune(s)
	for i, r := range rs {
		end := false
		switch r {
		case '。', '！', '？', '；':
			end = true
		case '.', '!', '?':
			end = i+1 < len(rs) && rs[i+1] == ' '
		}
		if end {
			out = append(out, strings.TrimSpace(string(rs[start:i+1])))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(string(rs[start:])); rest != "" {
		out = append(out, rest)
	}
	return out
}

// truncateRunes keeps at most n runes, cutting at a space when one is near the end.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			s = s[:k]
			break
		}
		i++
	}
	if sp := strings.LastIndexByte(s, ' '); sp > len(s)*3/4 {
		s = s[:sp]
	}
	return s
}
