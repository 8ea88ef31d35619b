package intent

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/pelletier/go-toml/v2"
)

// File is one template file as written.
type File struct {
	Language string             `toml:"language"`
	Intents  map[string][]Group `toml:"intents"`
	Lists    map[string]List    `toml:"lists"`
	// Rules are expansion rules: <name> in a sentence stands for the rule's text.
	Rules map[string]string `toml:"expansion_rules"`
}

// Group is a set of sentences for an intent, with slot values they imply ("turn it up" sets
// step = 10).
type Group struct {
	Sentences []string       `toml:"sentences"`
	Slots     map[string]any `toml:"slots"`
}

// List is what a {slot} may hold: listed values, a number range, or any text.
type List struct {
	// Values are the accepted phrases: a string, or a table {in = "spoken", out = value}
	// (out may be a number or a string).
	Values   []any  `toml:"values"`
	Range    *Range `toml:"range"`
	Wildcard bool   `toml:"wildcard"`
	// Dynamic lists take their values at run time, from a resolver given to [Set.SetResolver]
	// (the devices a connector knows change without a restart); without one nothing matches.
	Dynamic bool `toml:"dynamic"`
}

// Resolver says whether text (normalized) is a value of a dynamic list, and which.
type Resolver func(lang, text string) (value any, ok bool)

// Range accepts whole numbers from From to To; with Decimals, "2.5" too.
type Range struct {
	From     float64 `toml:"from"`
	To       float64 `toml:"to"`
	Decimals bool    `toml:"decimals"`
}

// Set is a compiled collection of templates, for any number of languages.
type Set struct {
	byLang map[string][]*template
	lists  map[string]map[string]*compiledList // language → list name
	rules  map[string]map[string]string        // language → rule name → text
	count  int

	mu        sync.RWMutex
	resolvers map[string]Resolver // dynamic list name → its resolver
}

// SetResolver gives the dynamic list name its values; nil removes them. It may be called at
// any time, from any goroutine.
func (s *Set) SetResolver(name string, r Resolver) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.resolvers == nil {
		s.resolvers = map[string]Resolver{}
	}
	if r == nil {
		delete(s.resolvers, name)
		return
	}
	s.resolvers[name] = r
}

func (s *Set) resolver(name string) Resolver {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.resolvers[name]
}

// template is one sentence compiled to a regular expression.
type template struct {
	intent  string
	lang    string
	source  string
	re      *regexp.Regexp
	fixed   map[string]any
	slots   []slotRef // in the order of the expression's groups
	literal int       // runes of literal text: a tie-breaker for more specific sentences
}

type slotRef struct {
	group string // the expression's group name
	slot  string
	list  *compiledList
}

type compiledList struct {
	name     string
	pattern  string
	values   map[string]any // normalized spoken form → value
	rng      *Range
	wildcard bool
	dynamic  bool
	unspaced bool // the language is written without spaces: wildcard text loses the ones Normalize put in
}

// ParseError says which file and sentence a template problem is in.
type ParseError struct {
	File, Sentence string
	Err            error
}

func (e *ParseError) Error() string {
	if e.Sentence != "" {
		return fmt.Sprintf("intent templates %s: %q: %v", e.File, e.Sentence, e.Err)
	}
	return fmt.Sprintf("intent templates %s: %v", e.File, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Decode reads a template file.
func Decode(name string, data []byte) (File, error) {
	var f File
	if err := toml.Unmarshal(data, &f); err != nil {
		return f, &ParseError{File: name, Err: err}
	}
	if f.Language == "" {
		return f, &ParseError{File: name, Err: errors.New("missing language = \"..\" (e.g. \"en\")")}
	}
	return f, nil
}

// LoadFS reads every *.toml file in dir of fsys, in name order.
func LoadFS(fsys fs.FS, dir string) ([]NamedFile, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []NamedFile
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".toml") {
			continue
		}
		p := path.Join(dir, e.Name())
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		f, err := Decode(p, data)
		if err != nil {
			return nil, err
		}
		out = append(out, NamedFile{Name: p, File: f})
	}
	return out, nil
}

// NamedFile is a decoded file and where it came from (for error messages).
type NamedFile struct {
	Name string
	File File
}

// Compile builds a Set. Lists are shared by all files of a language; a later file's list of
// the same name replaces an earlier one, and a later file's intents add sentences.
func Compile(files []NamedFile) (*Set, error) {
	s := &Set{byLang: map[string][]*template{}, lists: map[string]map[string]*compiledList{}, rules: map[string]map[string]string{}}
	for _, nf := range files {
		lang := nf.File.Language
		if s.lists[lang] == nil {
			s.lists[lang] = map[string]*compiledList{}
			s.rules[lang] = map[string]string{}
		}
		for name, r := range nf.File.Rules {
			s.rules[lang][name] = r
		}
		for name, l := range nf.File.Lists {
			cl, err := compileList(lang, name, l)
			if err != nil {
				return nil, &ParseError{File: nf.Name, Err: fmt.Errorf("list %s: %w", name, err)}
			}
			s.lists[lang][name] = cl
		}
	}
	for _, nf := range files {
		lang := nf.File.Language
		names := make([]string, 0, len(nf.File.Intents))
		for n := range nf.File.Intents {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			for _, g := range nf.File.Intents[name] {
				for _, sent := range g.Sentences {
					t, err := s.compileSentence(lang, name, sent, g.Slots)
					if err != nil {
						return nil, &ParseError{File: nf.Name, Sentence: sent, Err: err}
					}
					s.byLang[lang] = append(s.byLang[lang], t)
					s.count++
				}
			}
		}
	}
	return s, nil
}

// Len is the number of sentences compiled.
func (s *Set) Len() int { return s.count }

// Languages lists the languages that have templates.
func (s *Set) Languages() []string {
	var out []string
	for l := range s.byLang {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

func compileList(lang, name string, l List) (*compiledList, error) {
	cl := &compiledList{name: name, unspaced: unspaced[lang]}
	n := 0
	if len(l.Values) > 0 {
		n++
	}
	if l.Range != nil {
		n++
	}
	if l.Wildcard {
		n++
	}
	if l.Dynamic {
		n++
	}
	if n != 1 {
		return nil, errors.New("give exactly one of values, range, wildcard or dynamic")
	}
	switch {
	case l.Dynamic:
		cl.dynamic, cl.pattern = true, `.+?`
	case l.Wildcard:
		cl.wildcard, cl.pattern = true, `.+?`
	case l.Range != nil:
		if l.Range.To < l.Range.From {
			return nil, errors.New("range: to is below from")
		}
		cl.rng = l.Range
		cl.pattern = `\d+`
		if l.Range.Decimals {
			cl.pattern = `\d+(?:\.\d+)?`
		}
	default:
		cl.values = map[string]any{}
		var alts []string
		for _, v := range l.Values {
			var in string
			var out any
			switch x := v.(type) {
			case string:
				in, out = x, x
			case map[string]any:
				s, ok := x["in"].(string)
				if !ok {
					return nil, fmt.Errorf("value %v: needs in = \"spoken form\"", x)
				}
				in, out = s, x["out"]
				if out == nil {
					out = s
				}
			default:
				return nil, fmt.Errorf("value %v: a string or {in, out}", v)
			}
			norm := Normalize(lang, in)
			if norm == "" {
				return nil, fmt.Errorf("value %q is empty after normalisation", in)
			}
			if _, dup := cl.values[norm]; !dup {
				alts = append(alts, norm)
			}
			cl.values[norm] = out
		}
		// Longest first, so "kilometres per hour" wins over "kilometres".
		sort.SliceStable(alts, func(i, j int) bool { return len(alts[i]) > len(alts[j]) })
		for i, a := range alts {
			alts[i] = spaced(regexp.QuoteMeta(a))
		}
		cl.pattern = "(?:" + strings.Join(alts, "|") + ")"
	}
	return cl, nil
}

// unspaced are the languages written without spaces between words.
var unspaced = map[string]bool{"zh": true, "ja": true, "th": true, "lo": true, "km": true, "my": true, "yue": true, "wuu": true}

// spaced lets any space be left out, for languages written without them and for
// recognisers that split or join words differently.
func spaced(s string) string { return strings.ReplaceAll(s, " ", " *") }

// compileSentence turns one template into an anchored expression.
func (s *Set) compileSentence(lang, intent, src string, fixed map[string]any) (*template, error) {
	t := &template{intent: intent, lang: lang, source: src, fixed: fixed}
	expanded, err := s.expand(lang, src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: []rune(expanded), set: s, lang: lang, t: t}
	body, err := p.seq(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.src) {
		return nil, fmt.Errorf("unexpected %q at %d", p.src[p.pos], p.pos)
	}
	re, err := regexp.Compile("^ *" + body + " *$")
	if err != nil {
		return nil, err
	}
	t.re = re
	return t, nil
}

var ruleRef = regexp.MustCompile(`<([A-Za-z0-9_]+)>`)

// expand replaces each <rule> with its text in brackets, rules inside rules too.
func (s *Set) expand(lang, src string) (string, error) {
	for range 10 {
		var missing string
		out := ruleRef.ReplaceAllStringFunc(src, func(m string) string {
			name := m[1 : len(m)-1]
			r, ok := s.rules[lang][name]
			if !ok {
				missing = name
				return m
			}
			return "(" + r + ")"
		})
		if missing != "" {
			return "", fmt.Errorf("no expansion rule <%s>", missing)
		}
		if out == src {
			return out, nil
		}
		src = out
	}
	return "", errors.New("expansion rules nest more than 10 deep (a rule refers to itself?)")
}

// sep is what a space in a template stands for. In languages written with spaces it is one
// or more spaces, or none where a word ends anyway (next to an optional part that was not
// said), so "set an egg timer" never reads as "set a" + "n egg timer". Elsewhere spaces are
// simply optional.
func (p *parser) sep() string {
	if unspaced[p.lang] {
		return " *"
	}
	return `(?: +|\b)`
}

type parser struct {
	src  []rune
	pos  int
	set  *Set
	lang string
	t    *template
	n    int
}

// seq parses until one of the closing characters of the enclosing construct.
func (p *parser) seq(depth int) (string, error) {
	var out strings.Builder
	var lit strings.Builder
	flush := func() {
		if lit.Len() == 0 {
			return
		}
		raw := lit.String()
		lit.Reset()
		norm := Normalize(p.lang, raw)
		// Keep the spaces around a literal piece: they separate it from its neighbours.
		if strings.HasPrefix(raw, " ") {
			out.WriteString(p.sep())
		}
		if norm != "" {
			out.WriteString(strings.ReplaceAll(regexp.QuoteMeta(norm), " ", p.sep()))
			p.t.literal += len([]rune(strings.ReplaceAll(norm, " ", "")))
			if strings.HasSuffix(raw, " ") {
				out.WriteString(p.sep())
			}
		}
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '(', '[':
			flush()
			p.pos++
			close := ')'
			if c == '[' {
				close = ']'
			}
			var alts []string
			for {
				a, err := p.seq(depth + 1)
				if err != nil {
					return "", err
				}
				alts = append(alts, a)
				if p.pos >= len(p.src) {
					return "", fmt.Errorf("missing %q", close)
				}
				if p.src[p.pos] == '|' {
					p.pos++
					continue
				}
				if p.src[p.pos] != close {
					return "", fmt.Errorf("%q closed by %q", c, p.src[p.pos])
				}
				p.pos++
				break
			}
			out.WriteString("(?:" + strings.Join(alts, "|") + ")")
			if c == '[' {
				out.WriteString("?")
			}
		case ')', ']', '|':
			if depth == 0 {
				return "", fmt.Errorf("unexpected %q", c)
			}
			flush()
			return out.String(), nil
		case '{':
			flush()
			end := p.pos + 1
			for end < len(p.src) && p.src[end] != '}' {
				end++
			}
			if end >= len(p.src) {
				return "", errors.New("missing }")
			}
			ref := strings.TrimSpace(string(p.src[p.pos+1 : end]))
			p.pos = end + 1
			slot, list, _ := strings.Cut(ref, ":")
			if list == "" {
				list = slot
			}
			cl := p.set.lists[p.lang][list]
			if cl == nil {
				return "", fmt.Errorf("no list %q for {%s}", list, ref)
			}
			if !validName(slot) {
				return "", fmt.Errorf("slot name %q: letters, digits and _ only", slot)
			}
			p.n++
			g := fmt.Sprintf("s%d", p.n)
			p.t.slots = append(p.t.slots, slotRef{group: g, slot: slot, list: cl})
			out.WriteString("(?P<" + g + ">" + cl.pattern + ")")
		default:
			lit.WriteRune(c)
			p.pos++
		}
	}
	if depth > 0 {
		return "", errors.New("missing closing bracket")
	}
	flush()
	return out.String(), nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// slotValue converts a matched slot text to its value; ok is false when it is out of range.
func (cl *compiledList) slotValue(text string) (any, bool) {
	switch {
	case cl.wildcard:
		text = strings.TrimSpace(text)
		if cl.unspaced {
			text = joinUnspaced(text)
		}
		return text, text != ""
	case cl.rng != nil:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || f < cl.rng.From || f > cl.rng.To {
			return nil, false
		}
		if f == math.Trunc(f) && !strings.Contains(text, ".") {
			return int(f), true
		}
		return f, true
	default:
		v, ok := cl.values[strings.ReplaceAll(text, " ", "")]
		if !ok {
			// Values are stored normalized with their spaces; the input may have dropped them.
			for k, val := range cl.values {
				if strings.ReplaceAll(k, " ", "") == strings.ReplaceAll(text, " ", "") {
					return val, true
				}
			}
		}
		return v, ok
	}
}

// joinUnspaced drops the spaces of a text in a language written without them ("买 3 瓶牛奶" →
// "买3瓶牛奶"), keeping one between two Latin words or numbers ("iphone 15").
func joinUnspaced(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if r == ' ' && i > 0 && i+1 < len(rs) && latin(rs[i-1]) && latin(rs[i+1]) {
			b.WriteRune(r)
			continue
		}
		if r != ' ' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func latin(r rune) bool { return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) }
