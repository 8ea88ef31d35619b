package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"hark/internal/atomicfile"
)

// newFileHeader starts a configuration file that Set or Save create.
const newFileHeader = "# Hark configuration. `hark config example` prints every key with its default and\n# documentation; `hark config show` prints the values in effect and where they come from.\n"

// Set writes one key into the configuration file at path, creating the file if needed. The
// value is given as text, the way an environment variable or flag gives it ("kiosk", "600ms",
// "true"), and is checked like any other. Everything else in the file is kept byte for byte.
func Set(path, key, value string) error {
	s, ok := lookup(key)
	if !ok {
		return fmt.Errorf("config: %w", unknownKeyError(key))
	}
	v, err := s.parseText(value)
	if err == nil {
		err = s.check(v)
	}
	if err != nil {
		return fmt.Errorf("config: %s = %q: %w", key, value, err)
	}
	lit := literalOf(v)
	return edit(path, map[string]*string{key: &lit})
}

// Unset removes keys from the configuration file, so their defaults apply again. Keys that are
// not in the file are ignored.
func Unset(path string, keys ...string) error {
	changes := map[string]*string{}
	for _, k := range keys {
		if _, ok := lookup(k); !ok {
			return fmt.Errorf("config: %w", unknownKeyError(k))
		}
		changes[k] = nil
	}
	return edit(path, changes)
}

// Save writes the given keys' values from c into the configuration file at path (the GUI's
// settings call it with the keys a person changed). A key whose value equals its default is
// still written, so the choice survives a change of defaults.
func Save(path string, c *Config, keys ...string) error {
	changes := map[string]*string{}
	for _, k := range keys {
		s, ok := lookup(k)
		if !ok {
			return fmt.Errorf("config: %w", unknownKeyError(k))
		}
		v := s.value(c)
		if err := s.check(v); err != nil {
			return fmt.Errorf("config: %s = %s: %w", k, literalOf(v), err)
		}
		lit := literalOf(v)
		changes[k] = &lit
	}
	return edit(path, changes)
}

type splice struct {
	start, end int
	text       string
	order      int // keeps inserts at one offset in schema order
}

// edit applies changes (a TOML literal, or nil to remove the key) to the file, keeping every
// other byte, and replaces the file atomically.
func edit(path string, changes map[string]*string) error {
	path, err := expandHome(path)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	mode := fs.FileMode(0o644)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		data = []byte(newFileHeader)
	case err != nil:
		return fmt.Errorf("config: %w", err)
	default:
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	if _, probs := parseFile(path, data); len(probs) > 0 {
		return fmt.Errorf("config: %s must be fixed before it can be changed: %w", path, &Error{Problems: probs})
	}
	d, err := parseDoc(data)
	if err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}

	var splices []splice
	inserts := map[string][]string{} // section -> "name = literal" lines, in schema order
	for i, s := range schema() {
		lit, ok := changes[s.key]
		if !ok {
			continue
		}
		idx := slices.IndexFunc(d.keys, func(k docKey) bool { return k.key == s.key })
		switch {
		case idx >= 0 && lit != nil:
			k := d.keys[idx]
			splices = append(splices, splice{k.valStart, k.valEnd, *lit, i})
		case idx >= 0:
			k := d.keys[idx]
			if k.inline {
				return fmt.Errorf("config: %s:%d: %s is inside an inline table ({...}); remove it by hand", path, k.line, s.key)
			}
			splices = append(splices, splice{k.start, k.end, "", i})
		case lit != nil:
			inserts[s.section()] = append(inserts[s.section()], s.name()+" = "+*lit)
		}
	}
	order := len(schema())
	for _, section := range Sections() {
		lines := inserts[section]
		if len(lines) == 0 {
			continue
		}
		order++
		if t := slices.IndexFunc(d.tables, func(t docTable) bool { return t.name == section }); t >= 0 {
			at := d.tables[t].lastEnd
			splices = append(splices, splice{at, at, newline(data, at) + strings.Join(lines, "\n") + "\n", order})
			continue
		}
		// Keys of the section written as dotted keys (section.key = ...) outside a [section]
		// header: add the new ones beside them, in the same style.
		last := -1
		for i, k := range d.keys {
			if strings.HasPrefix(k.key, section+".") {
				last = i
			}
		}
		if last >= 0 {
			if d.keys[last].inline {
				return fmt.Errorf("config: %s:%d: [%s] is an inline table ({...}); add %s to it by hand", path, d.keys[last].line, section, lines[0])
			}
			for i := range lines {
				lines[i] = section + "." + lines[i]
			}
			at := d.keys[last].end
			splices = append(splices, splice{at, at, newline(data, at) + strings.Join(lines, "\n") + "\n", order})
			continue
		}
		at := len(data)
		text := newline(data, at)
		if at > 0 {
			text += "\n"
		}
		splices = append(splices, splice{at, at, text + "[" + section + "]\n" + strings.Join(lines, "\n") + "\n", order})
	}

	// Apply from the end of the file so earlier offsets stay valid.
	sort.SliceStable(splices, func(i, j int) bool {
		if splices[i].start != splices[j].start {
			return splices[i].start > splices[j].start
		}
		return splices[i].order > splices[j].order
	})
	out := append([]byte(nil), data...)
	for _, sp := range splices {
		out = append(out[:sp.start], append([]byte(sp.text), out[sp.end:]...)...)
	}
	if _, probs := parseFile(path, out); len(probs) > 0 {
		return fmt.Errorf("config: internal error: the edited file would not load: %w", &Error{Problems: probs})
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return notWritable(path, fmt.Errorf("config: %w", err))
	}
	if err := atomicfile.WriteFile(path, out, mode); err != nil {
		return notWritable(path, fmt.Errorf("config: write %s: %w", path, err))
	}
	return nil
}

// ReadOnlyError says the configuration cannot be saved because its file or folder cannot be
// written (a read-only file system, a locked-down kiosk image, another user's folder).
type ReadOnlyError struct {
	Path string
	Err  error
}

func (e *ReadOnlyError) Error() string {
	cause := e.Err
	for u := errors.Unwrap(cause); u != nil; u = errors.Unwrap(cause) {
		cause = u
	}
	return fmt.Sprintf("the configuration file %s cannot be written (%v)", e.Path, cause)
}

func (e *ReadOnlyError) Unwrap() error { return e.Err }

// notWritable turns a permission or read-only file system error into a ReadOnlyError (err is
// the wrapped error of a write: its innermost cause is what the message shows).
func notWritable(path string, err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return &ReadOnlyError{Path: path, Err: err}
	}
	return err
}

// newline is "\n" when the text before offset at does not end a line.
func newline(data []byte, at int) string {
	if at > 0 && data[at-1] != '\n' {
		return "\n"
	}
	return ""
}
