package config

import (
	"fmt"
	"strings"
)

// Entry describes one key and its value in a Config, for `hark config show` and the GUI.
type Entry struct {
	Key     string // "assistant.mode"
	Value   string // TOML literal: "kiosk" (with quotes), 600, true
	Default string // TOML literal of the default
	Origin  Origin
	Env     string // environment variable that sets it
	Doc     string
	Choices []string // for keys with a fixed set of values
}

// Entries lists every key with its value and origin, in file order.
func (c *Config) Entries() []Entry {
	def := Default()
	var out []Entry
	for _, s := range schema() {
		e := Entry{Key: s.key, Value: s.literal(c), Default: s.literal(def), Origin: c.Origin(s.key), Env: s.envName(), Doc: s.doc}
		if s.kind == kindChoice {
			e.Choices = s.choices
		}
		out = append(out, e)
	}
	return out
}

// Show writes the configuration as a TOML file with each value's origin in a comment, so the
// output is itself a valid configuration file.
func (c *Config) Show() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Hark configuration in effect. File: %s\n", c.fileNote())
	b.WriteString("# Each value's comment says where it comes from: default, file:line, environment, flag.\n")
	section := ""
	for _, e := range c.Entries() {
		sec, name, _ := strings.Cut(e.Key, ".")
		if sec != section {
			fmt.Fprintf(&b, "\n[%s]\n", sec)
			section = sec
		}
		line := name + " = " + e.Value
		fmt.Fprintf(&b, "%-40s # %s\n", line, e.Origin)
	}
	b.WriteString(c.MQTT.showDevices())
	return b.String()
}

func (c *Config) fileNote() string {
	if c.path == "" {
		return "none"
	}
	for _, o := range c.origins {
		if o.Source == FromFile {
			return c.path
		}
	}
	return c.path + " (no settings from it: missing or empty)"
}

// Reference returns a configuration file with every key commented out at its default, each
// with its documentation, environment variable and valid values. `hark config example` prints
// it and `hark config init` writes it.
func Reference() string {
	var b strings.Builder
	b.WriteString(`# Hark configuration: ~/.config/hark/config.toml ($XDG_CONFIG_HOME/hark/config.toml, or the
# file named by HARK_CONFIG or --config).
#
# Every key is optional and shown here commented out, at its default. Environment variables
# (HARK_SECTION_KEY) override the file, and command-line flags override both. Durations take a
# unit: "600ms", "8s", "2m". Unknown keys and bad values are errors that name the line.
# ` + "`hark config show`" + ` prints the values in effect and where each comes from.
`)
	section := ""
	for _, s := range schema() {
		if s.section() != section {
			section = s.section()
			fmt.Fprintf(&b, "\n[%s]\n", section)
		}
		b.WriteString("\n")
		for _, line := range wrap(s.doc, 92) {
			b.WriteString("# " + line + "\n")
		}
		extra := "Environment: " + s.envName() + "."
		if s.kind == kindChoice && len(s.choices) <= 12 {
			extra = "One of: " + strings.Join(s.choices, ", ") + ". " + extra
		}
		if s.kind == kindInt || s.kind == kindFloat || s.kind == kindDuration {
			extra = "Range: " + strings.Replace(s.rangeText(), " and ", " to ", 1) + ". " + extra
		}
		b.WriteString("# " + extra + "\n")
		fmt.Fprintf(&b, "# %s = %s\n", s.name(), literalOf(s.def))
	}
	b.WriteString(mqttReference())
	return b.String()
}

// Markdown returns the configuration reference as a Markdown document (docs/config.md).
func Markdown() string {
	var b strings.Builder
	b.WriteString(`# Configuration reference

<!-- Generated from app/config/schema.go by ` + "`go test ./app/config -run TestDocsUpToDate -update`" + `; do not edit. -->

Hark reads one file, ` + "`~/.config/hark/config.toml`" + ` (` + "`$XDG_CONFIG_HOME/hark/config.toml`" + `; another file with
` + "`--config FILE`" + ` or ` + "`HARK_CONFIG`" + `). Every key is optional. Precedence: **flags > environment >
file > defaults**. Each key has an environment variable ` + "`HARK_SECTION_KEY`" + `; the window's flags
(` + "`--mode`" + `, ` + "`--asr-model`" + `, ...) and ` + "`--set KEY=VALUE`" + ` override both.

- ` + "`hark config show`" + ` prints the configuration in effect and where each value came from.
- ` + "`hark config example`" + ` prints a file with every key commented out at its default.
- ` + "`hark config set KEY VALUE`" + ` / ` + "`hark config unset KEY`" + ` change one key and keep the rest of the file
  (comments included) as it was; the window's settings write the file the same way.
- An unknown section or key, a value of the wrong type or outside its range is an error that names
  the file and line (or the variable or flag) and the valid choices; Hark then starts with that
  key at its default and shows the error.

Durations are strings with a unit (` + "`\"600ms\"`, `\"8s\"`, `\"2m\"`" + `). Window state that is not configuration
(size, position) is kept in Fyne's preferences, not in this file.
`)
	section := ""
	for _, s := range schema() {
		if s.section() != section {
			section = s.section()
			fmt.Fprintf(&b, "\n## [%s]\n\n| key | default | values | environment | |\n|---|---|---|---|---|\n", section)
		}
		values := map[valueKind]string{kindString: "text", kindBool: "true, false", kindChord: "key chord", kindURL: "http(s) address"}[s.kind]
		switch s.kind {
		case kindChoice:
			values = strings.Join(s.choices, ", ")
			if len(s.choices) > 12 {
				values = "auto, or a whisper language code"
			}
		case kindInt, kindFloat, kindDuration:
			values = strings.Replace(s.rangeText(), " and ", " to ", 1)
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | `%s` | %s |\n", s.name(), strings.ReplaceAll(literalOf(s.def), "|", `\|`), values, s.envName(), s.doc)
	}
	b.WriteString(mqttMarkdown())
	return b.String()
}

// wrap breaks text into lines of at most width characters.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
