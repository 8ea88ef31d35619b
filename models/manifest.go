package models

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"hark/internal/textdist"
)

//go:embed manifest.toml
var manifestTOML []byte

// Entry is one curated model in the manifest.
type Entry struct {
	Name  string `toml:"name" json:"name"`
	Kind  Kind   `toml:"kind" json:"kind"`
	Title string `toml:"title" json:"title"`
	// File is the file's name in the models folder.
	File string `toml:"file" json:"file"`
	URL  string `toml:"url" json:"url"`
	// Size in bytes; 0 when no source gives it.
	Size int64 `toml:"size" json:"size"`
	// SHA256 and SHA1 are lowercase hex; "" when no source publishes them.
	SHA256         string   `toml:"sha256" json:"sha256"`
	SHA1           string   `toml:"sha1" json:"sha1"`
	ChecksumSource string   `toml:"checksum_source" json:"checksum_source"`
	Quant          string   `toml:"quant" json:"quant"`
	Languages      []string `toml:"languages" json:"languages"`
	// RAMMB is the memory needed to run the model, in MB (models/README.md says how it was
	// estimated).
	RAMMB   int      `toml:"ram_mb" json:"ram_mb"`
	License string   `toml:"license" json:"license"`
	Devices []string `toml:"devices" json:"devices"`
	Notes   string   `toml:"notes" json:"notes"`
}

// Class is a kind of device with the models Hark suggests for it.
type Class struct {
	Name        string `toml:"-"`
	Title       string `toml:"title" json:"title"`
	Description string `toml:"description"`
	ASR         string `toml:"asr"`
	LLM         string `toml:"llm"`
	VAD         string `toml:"vad"`
	// ASRMultilingual and LLMMultilingual replace ASR and LLM when the configured language is
	// not English (English-only whisper models cannot hear anything else).
	ASRMultilingual string `toml:"asr_multilingual" json:"asr_multilingual"`
	LLMMultilingual string `toml:"llm_multilingual" json:"llm_multilingual"`
}

// For returns the class's defaults for a spoken language (whisper's code, or "auto"): the
// multilingual models unless the language is English.
func (c Class) For(lang string) Class {
	if lang == "" || lang == "en" {
		return c
	}
	if c.ASRMultilingual != "" {
		c.ASR = c.ASRMultilingual
	}
	if c.LLMMultilingual != "" {
		c.LLM = c.LLMMultilingual
	}
	return c
}

// Speaks reports whether a model handles a language (whisper's code): its languages list it,
// or say "multi". "auto" needs a multilingual model.
func (e Entry) Speaks(lang string) bool {
	for _, l := range e.Languages {
		if l == "multi" || (l == lang && lang != "auto") {
			return true
		}
	}
	return false
}

// Model returns the class's default model name for a kind.
func (c Class) Model(k Kind) string {
	switch k {
	case ASR:
		return c.ASR
	case LLM:
		return c.LLM
	case VAD:
		return c.VAD
	}
	return ""
}

// Manifest is the list of curated models and device classes.
type Manifest struct {
	Models  []Entry          `toml:"model"`
	Classes map[string]Class `toml:"class"`
}

// The device classes, in the order Hark offers them.
const (
	ClassLaptop = "laptop"
	ClassKiosk  = "kiosk"
	ClassCar    = "car"
)

// ClassNames lists the device classes in the order Hark offers them.
func ClassNames() []string { return []string{ClassLaptop, ClassKiosk, ClassCar} }

// LoadManifest returns the manifest built into Hark.
func LoadManifest() (*Manifest, error) { return ParseManifest(manifestTOML) }

// ParseManifest parses and validates a manifest in manifest.toml's format.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) {
			var errs []error
			for _, de := range sm.Errors {
				row, _ := de.Position()
				errs = append(errs, fmt.Errorf("line %d: unknown field %q", row, strings.Join(de.Key(), ".")))
			}
			return nil, fmt.Errorf("models: manifest: %w", errors.Join(errs...))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("models: manifest line %d column %d: %v", row, col, de)
		}
		return nil, fmt.Errorf("models: manifest: %w", err)
	}
	for name, c := range m.Classes {
		c.Name = name
		m.Classes[name] = c
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("models: manifest: %w", err)
	}
	return &m, nil
}

var (
	hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)
	hexSHA1   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	safeName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

func (m *Manifest) validate() error {
	var errs []error
	seen := map[string]bool{}
	files := map[string]bool{}
	for _, e := range m.Models {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("model %q: %s", e.Name, fmt.Sprintf(format, args...)))
		}
		if !safeName.MatchString(e.Name) {
			bad("name must be letters, digits, '.', '_' and '-'")
		}
		if seen[e.Name] {
			bad("listed twice")
		}
		seen[e.Name] = true
		if _, err := ParseKind(string(e.Kind)); err != nil {
			bad("%v", err)
		}
		if !safeName.MatchString(e.File) || files[e.File] {
			bad("file %q must be a plain, unique file name", e.File)
		}
		files[e.File] = true
		want := ".gguf"
		if e.Kind != LLM && e.Kind != Embed {
			want = ".bin"
		}
		if !strings.HasSuffix(e.File, want) {
			bad("a %s's file must end in %s", e.Kind.Describe(), want)
		}
		if !strings.HasPrefix(e.URL, "https://") {
			bad("url must be https")
		}
		if e.SHA256 != "" && !hexSHA256.MatchString(e.SHA256) {
			bad("sha256 must be 64 lowercase hex digits")
		}
		if e.SHA1 != "" && !hexSHA1.MatchString(e.SHA1) {
			bad("sha1 must be 40 lowercase hex digits")
		}
		if e.Size < 0 {
			bad("negative size")
		}
		if e.ChecksumSource == "" {
			bad("checksum_source must say where the checksums come from, or that they are unknown")
		}
		if e.Title == "" || e.License == "" || e.RAMMB <= 0 || len(e.Languages) == 0 {
			bad("title, license, ram_mb and languages are required")
		}
		for _, d := range e.Devices {
			if !slices.Contains(ClassNames(), d) {
				bad("unknown device class %q", d)
			}
		}
	}
	for _, name := range ClassNames() {
		c, ok := m.Classes[name]
		if !ok {
			errs = append(errs, fmt.Errorf("device class %q is missing", name))
			continue
		}
		for _, k := range Kinds() {
			e, ok := m.Lookup(c.Model(k))
			if !ok || e.Kind != k {
				errs = append(errs, fmt.Errorf("device class %q: %s %q is not a %s in the manifest", name, k, c.Model(k), k.Describe()))
			}
			if multi := c.For("zh").Model(k); multi != c.Model(k) {
				if e, ok := m.Lookup(multi); !ok || e.Kind != k || !e.Speaks("zh") {
					errs = append(errs, fmt.Errorf("device class %q: multilingual %s %q is not a multilingual %s in the manifest", name, k, multi, k.Describe()))
				}
			}
		}
	}
	if len(m.Classes) != len(ClassNames()) {
		errs = append(errs, fmt.Errorf("device classes must be exactly %v", ClassNames()))
	}
	return errors.Join(errs...)
}

// Lookup finds a model by name.
func (m *Manifest) Lookup(name string) (Entry, bool) {
	for _, e := range m.Models {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// ByFile finds the model stored under a file name.
func (m *Manifest) ByFile(file string) (Entry, bool) {
	for _, e := range m.Models {
		if e.File == file {
			return e, true
		}
	}
	return Entry{}, false
}

// Class returns a device class by name.
func (m *Manifest) Class(name string) (Class, error) {
	c, ok := m.Classes[name]
	if !ok {
		return Class{}, fmt.Errorf("unknown device class %q: choose %s", name, strings.Join(ClassNames(), ", "))
	}
	return c, nil
}

// Defaults returns the entries of a device class's default models: speech recognition,
// language model and voice activity detector.
func (m *Manifest) Defaults(class string) ([]Entry, error) {
	c, err := m.Class(class)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, k := range Kinds() {
		e, _ := m.Lookup(c.Model(k))
		out = append(out, e)
	}
	return out, nil
}

// Suggest returns manifest names close to a mistyped one, best first.
func (m *Manifest) Suggest(name string) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, e := range m.Models {
		d := textdist.Levenshtein([]byte(strings.ToLower(name)), []byte(strings.ToLower(e.Name)))
		if d <= max(2, len(name)/3) || strings.Contains(e.Name, name) {
			cs = append(cs, cand{e.Name, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i, c := range cs {
		if i == 3 {
			break
		}
		out = append(out, c.name)
	}
	return out
}
