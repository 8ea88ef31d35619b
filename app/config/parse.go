package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// docKey is one key = value found in a configuration file.
type docKey struct {
	key      string // full dotted key, "assistant.mode"
	line     int
	start    int // offset of the line holding the key (for removal)
	end      int // offset just past the end of the value's line (for removal)
	valStart int // the value literal
	valEnd   int
	value    any   // string, bool, int64 or float64
	valueErr error // a value of a type the configuration never uses
	inline   bool  // inside an inline table: cannot be removed line-wise
}

// docTable is a [table] header.
type docTable struct {
	name    string
	line    int
	lastEnd int // offset just past the header line, or past the last key line under it
}

// doc is the located content of a configuration file.
type doc struct {
	data   []byte
	keys   []docKey
	tables []docTable
}

// syntaxError is a TOML syntax error with its line.
type syntaxError struct {
	line int
	msg  string
}

func (e *syntaxError) Error() string { return e.msg }

// parseDoc locates every key, value and table header in data.
func parseDoc(data []byte) (*doc, error) {
	d := &doc{data: data}
	var p unstable.Parser
	p.Reset(data)
	table := ""
	for p.NextExpression() {
		n := p.Expression()
		switch n.Kind {
		case unstable.Table:
			name, first := keyOf(n.Key())
			line := p.Shape(first.Raw).Start.Line
			end := lineEnd(data, int(first.Raw.Offset+first.Raw.Length))
			table = name
			d.tables = append(d.tables, docTable{name: name, line: line, lastEnd: end})
		case unstable.ArrayTable:
			_, first := keyOf(n.Key())
			return nil, &syntaxError{p.Shape(first.Raw).Start.Line, "arrays of tables ([[...]]) are not used in Hark's configuration"}
		case unstable.KeyValue:
			d.addKeyValue(&p, n, table, false)
			if len(d.tables) > 0 && table != "" {
				d.tables[len(d.tables)-1].lastEnd = d.keys[len(d.keys)-1].end
			}
		}
	}
	if err := p.Error(); err != nil {
		var pe *unstable.ParserError
		line := 0
		if errors.As(err, &pe) && len(pe.Highlight) > 0 {
			line = p.Shape(p.Range(pe.Highlight)).Start.Line
		} else if errors.As(err, &pe) {
			line = strings.Count(string(data), "\n") + 1
		}
		return nil, &syntaxError{line, "TOML syntax error: " + err.Error()}
	}
	return d, nil
}

func keyOf(it unstable.Iterator) (string, *unstable.Node) {
	var parts []string
	var first *unstable.Node
	for it.Next() {
		if first == nil {
			first = it.Node()
		}
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, "."), first
}

func (d *doc) addKeyValue(p *unstable.Parser, n *unstable.Node, prefix string, inline bool) {
	name, first := keyOf(n.Key())
	key := name
	if prefix != "" {
		key = prefix + "." + name
	}
	v := n.Value()
	if v.Kind == unstable.InlineTable {
		it := v.Children()
		for it.Next() {
			if it.Node().Kind == unstable.KeyValue {
				d.addKeyValue(p, it.Node(), key, true)
			}
		}
		return
	}
	start := int(first.Raw.Offset)
	valStart, valEnd := int(v.Raw.Offset), int(v.Raw.Offset+v.Raw.Length)
	if v.Kind == unstable.Array || v.Raw.Length == 0 {
		// Arrays carry no Raw range; take the key-value's end instead.
		valEnd = int(n.Raw.Offset + n.Raw.Length)
		valStart = valEnd
	}
	k := docKey{
		key:      key,
		line:     p.Shape(first.Raw).Start.Line,
		start:    lineStart(d.data, start),
		end:      lineEnd(d.data, max(valEnd, int(n.Raw.Offset+n.Raw.Length))),
		valStart: valStart,
		valEnd:   valEnd,
		inline:   inline,
	}
	k.value, k.valueErr = decodeValue(v)
	d.keys = append(d.keys, k)
}

// decodeValue converts a parsed TOML value to the Go types the configuration uses.
func decodeValue(v *unstable.Node) (any, error) {
	raw := string(v.Data)
	switch v.Kind {
	case unstable.String:
		return raw, nil
	case unstable.Bool:
		return raw == "true", nil
	case unstable.Integer:
		n, err := strconv.ParseInt(strings.ReplaceAll(raw, "_", ""), 0, 64)
		if err != nil {
			return nil, fmt.Errorf("%s is not a number this configuration can hold", raw)
		}
		return n, nil
	case unstable.Float:
		f, err := strconv.ParseFloat(strings.ReplaceAll(raw, "_", ""), 64)
		if err != nil {
			return nil, fmt.Errorf("%s is not a number this configuration can hold", raw)
		}
		return f, nil
	case unstable.Array:
		return nil, errors.New("lists ([...]) are not used in Hark's configuration")
	case unstable.LocalDate, unstable.LocalTime, unstable.LocalDateTime, unstable.DateTime:
		return nil, errors.New("dates are not used in Hark's configuration")
	}
	return nil, fmt.Errorf("values of kind %s are not used in Hark's configuration", v.Kind)
}

// lineStart returns the offset of the start of the line holding off.
func lineStart(b []byte, off int) int {
	for off > 0 && b[off-1] != '\n' {
		off--
	}
	return off
}

// lineEnd returns the offset just past the newline that ends the line holding off (or the
// end of the data).
func lineEnd(b []byte, off int) int {
	for off < len(b) && b[off] != '\n' {
		off++
	}
	if off < len(b) {
		off++
	}
	return off
}

// parseFile reads a configuration file into settings; problems carry the file and line.
func parseFile(path string, data []byte) ([]setting, []Problem) {
	d, err := parseDoc(data)
	if err != nil {
		var se *syntaxError
		if !errors.As(err, &se) {
			return nil, []Problem{{Where: path, Msg: err.Error()}}
		}
		return nil, []Problem{{Where: fmt.Sprintf("%s:%d", path, se.line), Msg: se.msg}}
	}
	var out []setting
	var probs []Problem
	seenTable := map[string]int{}
	badSection := map[string]bool{} // unknown sections are reported once
	for _, t := range d.tables {
		where := fmt.Sprintf("%s:%d", path, t.line)
		if first, ok := seenTable[t.name]; ok {
			probs = append(probs, Problem{Where: where, Msg: fmt.Sprintf("section [%s] appears twice (first on line %d); TOML allows each section once", t.name, first)})
			continue
		}
		seenTable[t.name] = t.line
		if !contains(Sections(), t.name) {
			probs = append(probs, Problem{Where: where, Msg: unknownKeyError(t.name + ".x").Error()})
			badSection[t.name] = true
		}
	}
	seenKey := map[string]int{}
	for _, k := range d.keys {
		where := fmt.Sprintf("%s:%d", path, k.line)
		if first, ok := seenKey[k.key]; ok {
			probs = append(probs, Problem{Where: where, Key: k.key, Msg: fmt.Sprintf("%s is set twice (first on line %d)", k.key, first)})
			continue
		}
		seenKey[k.key] = k.line
		section, _, _ := strings.Cut(k.key, ".")
		if _, ok := lookup(k.key); !ok {
			if !badSection[section] || !strings.Contains(k.key, ".") {
				probs = append(probs, Problem{Where: where, Key: k.key, Msg: unknownKeyError(k.key).Error()})
			}
			if !contains(Sections(), section) {
				badSection[section] = true
			}
			continue
		}
		if k.valueErr != nil {
			probs = append(probs, Problem{Where: where, Key: k.key, Msg: k.key + ": " + k.valueErr.Error()})
			continue
		}
		out = append(out, setting{key: k.key, value: k.value, origin: Origin{FromFile, where}, line: k.line})
	}
	return out, probs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
