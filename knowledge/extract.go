package knowledge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// section is a run of text under one heading path (and, for PDF, on one page).
type section struct {
	heading []string
	page    int
	text    string
}

// Kind is a document's format.
type Kind string

// Document kinds.
const (
	Markdown Kind = "markdown"
	Text     Kind = "text"
	HTML     Kind = "html"
	PDF      Kind = "pdf"
)

// kindOf says which format a file name is, or "" for one Hark does not index.
func kindOf(path string) Kind {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".md", ".markdown":
		return Markdown
	case ".txt", ".text":
		return Text
	case ".html", ".htm":
		return HTML
	case ".pdf":
		return PDF
	}
	return ""
}

// skipError is a reason to leave a file out of the index; the rest is indexed.
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

func skip(format string, a ...any) error { return &skipError{fmt.Sprintf(format, a...)} }

// extract reads a document's sections.
func extract(ctx context.Context, path string, kind Kind, data []byte) ([]section, error) {
	if kind == PDF {
		return extractPDF(ctx, path)
	}
	if !utf8.Valid(data) || bytes.IndexByte(data[:min(len(data), 8192)], 0) >= 0 {
		return nil, skip("binary or not UTF-8 text")
	}
	switch kind {
	case Markdown:
		return extractMarkdown(string(data)), nil
	case HTML:
		return extractHTML(data)
	default:
		return []section{{text: string(data)}}, nil
	}
}

// extractMarkdown cuts at ATX headings ("# Title"), keeping the path of enclosing headings.
// Fenced code is kept as text and its lines are never taken for headings.
func extractMarkdown(s string) []section {
	var out []section
	var path []string
	var buf strings.Builder
	flush := func() {
		if t := strings.TrimSpace(buf.String()); t != "" {
			out = append(out, section{heading: append([]string(nil), path...), text: t})
		}
		buf.Reset()
	}
	fenced := false
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "```") || strings.HasPrefix(trim, "~~~") {
			fenced = !fenced
		}
		if !fenced {
			if level, title, ok := atxHeading(trim); ok {
				flush()
				if level-1 < len(path) {
					path = path[:level-1]
				}
				for len(path) < level-1 {
					path = append(path, "")
				}
				path = append(path, title)
				continue
			}
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
	}
	flush()
	for i := range out {
		out[i].heading = compact(out[i].heading)
	}
	return out
}

func atxHeading(line string) (level int, title string, ok bool) {
	for level < len(line) && line[level] == '#' {
		level++
	}
	if level == 0 || level > 6 || (level < len(line) && line[level] != ' ') {
		return 0, "", false
	}
	title = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(line[level:]), "#"))
	return level, title, title != ""
}

func compact(p []string) []string {
	out := p[:0]
	for _, s := range p {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// extractHTML walks the parsed page: h1–h6 open sections, block elements end lines, and
// scripts, styles and navigation are left out.
func extractHTML(data []byte) ([]section, error) {
	doc, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, skip("unreadable HTML: %v", err)
	}
	var out []section
	var path []string
	var buf strings.Builder
	flush := func() {
		if t := strings.TrimSpace(buf.String()); t != "" {
			out = append(out, section{heading: compact(append([]string(nil), path...)), text: t})
		}
		buf.Reset()
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "style", "noscript", "nav", "template", "head":
				return
			case "h1", "h2", "h3", "h4", "h5", "h6":
				flush()
				level := int(n.Data[1] - '0')
				if level-1 < len(path) {
					path = path[:level-1]
				}
				for len(path) < level-1 {
					path = append(path, "")
				}
				path = append(path, strings.Join(strings.Fields(textOf(n)), " "))
				return
			}
		}
		if n.Type == html.TextNode {
			buf.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if n.Type == html.ElementNode {
			switch n.Data {
			case "p", "div", "li", "tr", "br", "section", "article", "dd", "dt", "table", "ul", "ol", "pre":
				buf.WriteString("\n\n")
			case "td", "th":
				buf.WriteString(" ")
			}
		}
	}
	walk(doc)
	flush()
	return out, nil
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

// pdftotext is Debian's poppler-utils extractor; a variable so tests can point elsewhere.
var pdftotext = "pdftotext"

// extractPDF runs pdftotext and keeps page numbers (pages end with a form feed).
func extractPDF(ctx context.Context, path string) ([]section, error) {
	bin, err := exec.LookPath(pdftotext)
	if err != nil {
		return nil, skip("PDF needs pdftotext (Debian package poppler-utils), which is not installed")
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-enc", "UTF-8", path, "-")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) && strings.Contains(strings.ToLower(msg), "password") {
			return nil, skip("encrypted PDF (needs a password)")
		}
		return nil, skip("unreadable PDF: %s", firstLine(msg, err))
	}
	var secs []section
	for i, page := range strings.Split(string(out), "\f") {
		if t := strings.TrimSpace(page); t != "" {
			secs = append(secs, section{page: i + 1, text: t})
		}
	}
	return secs, nil
}

func firstLine(msg string, err error) string {
	if msg == "" {
		return err.Error()
	}
	line, _, _ := strings.Cut(msg, "\n")
	return line
}
