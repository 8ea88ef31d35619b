// Package config is Hark's configuration: one TOML file (~/.config/hark/config.toml), with
// every key documented and given a default, overridden by HARK_* environment variables and by
// command-line flags (flags > environment > file > defaults).
//
// Load reads it strictly: an unknown section or key, a value of the wrong type or out of range
// is an error that names the file and line (or the variable or flag) and the valid choices.
// Config.Origin tells where each value came from (`hark config show`). Set, Unset and Save
// change single keys in the file and keep everything else byte for byte: comments, layout,
// blank lines and the sections they do not touch. The GUI's settings use Save; window state
// that is not configuration (size, last page) stays in Fyne's preferences, not in this file.
//
// Reference returns the file with every key, its default and documentation, commented out;
// docs/config.md is generated from the same table.
//
// # Concurrency
//
// A *Config is a plain value: read it from any goroutine, and copy it (Clone) before changing
// it on another. Load, Set, Unset and Save touch only the file they are given; Set, Unset and
// Save replace it atomically, so a reader sees the old or the new file, never half of one.
package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is the effective configuration. Its fields are grouped like the file's sections;
// the toml name of each key is in the comment.
type Config struct {
	Models      Models
	Audio       Audio
	Assistant   Assistant
	Speech      Speech
	UI          UI
	Kiosk       Kiosk
	History     History
	Actions     Actions
	Performance Performance
	LLM         LLM
	MQTT        MQTT

	HomeAssistant HomeAssistant
	Knowledge     Knowledge
	Dictation     Dictation

	path    string
	origins map[string]Origin
}

// Models is the [models] section.
type Models struct {
	Dir         string // dir: where downloaded models live ("" = ~/.local/share/hark/models)
	Mirror      string // mirror: download from this address instead of huggingface.co ("" = none)
	DeviceClass string // device_class: auto | laptop | kiosk | car (picks the default models)
	ASR         string // asr: speech model: manifest name or .bin path ("" = the class default)
	LLM         string // llm: language model: manifest name or .gguf path ("" = the class default)
	VAD         string // vad: voice activity model: manifest name or .bin path ("" = the class default)
}

// Audio is the [audio] section.
type Audio struct {
	InputDevice     string        // input_device: microphone name or ID ("" = system default)
	OutputDevice    string        // output_device: speaker name or ID ("" = system default)
	TrailingSilence time.Duration // trailing_silence: silence that ends an utterance
	PreRoll         time.Duration // pre_roll: audio kept from before speech started
	// speculative_silence: silence after which the answer is started speculatively (0: off)
	SpeculativeSilence time.Duration
	MaxUtterance       time.Duration // max_utterance: longer speech is split
	VADThreshold       float64       // vad_threshold: speech probability that counts as speech
}

// Assistant is the [assistant] section.
type Assistant struct {
	Mode         string        // mode: desktop | kiosk | car
	HandsFree    bool          // hands_free: listen continuously instead of push-to-talk
	WakePhrase   string        // wake_phrase: phrase that starts a request ("" = none)
	FollowUp     time.Duration // follow_up: after a reply, speech without the wake phrase is heard for this long
	SystemPrompt string        // system_prompt: instructions given to the language model
	Language     string        // language: spoken language (whisper code) or "auto"
	Chinese      string        // chinese: how Chinese is written: simplified | traditional
	MaxTokens    int           // max_tokens: longest reply in tokens
	Temperature  float64       // temperature: sampling temperature (0 = always the likeliest word)
}

// Speech is the [speech] section (spoken replies).
type Speech struct {
	Enabled bool   // enabled: speak replies
	Voice   string // voice: voice name ("" = the default voice for the language)
	Rate    int    // rate: words per minute
	Pitch   int    // pitch: 0-99
}

// UI is the [ui] section.
type UI struct {
	TextSize string // text_size: small | medium | large | huge
	Theme    string // theme: system | light | dark
	Language string // language: the window's language: system | en | zh
}

// Kiosk is the [kiosk] section.
type Kiosk struct {
	IdleWipe   time.Duration // idle_wipe: forget the conversation after this long without use (0 = never)
	AdminChord string        // admin_chord: key chord that leaves kiosk mode, e.g. ctrl+alt+shift+a
}

// History is the [history] section.
type History struct {
	Enabled       bool   // enabled: keep a history of conversations on this device
	RetentionDays int    // retention_days: delete turns older than this (0 = keep until wiped)
	StoreAudio    bool   // store_audio: keep the recorded audio of each turn too
	Path          string // path: database file ("" = ~/.local/share/hark/history.db)
}

// Actions is the [actions] section.
type Actions struct {
	Enabled        bool          // enabled: run commands (timers, notes, ...) and offer tools to the language model
	Tools          string        // tools: comma-separated tools to enable ("" = the device class's set, "all")
	ModelTools     bool          // model_tools: let the language model call the enabled tools
	ConfirmTimeout time.Duration // confirm_timeout: how long a confirmation question waits for a yes
	Templates      string        // templates: folder of your own sentence templates ("" = ~/.config/hark/intents)
	Store          string        // store: timers and notes database ("" = ~/.local/share/hark/actions.db)
}

// ActionsStorePath is the timers and notes database: actions.store or
// ~/.local/share/hark/actions.db.
func (c *Config) ActionsStorePath() (string, error) {
	if c.Actions.Store != "" {
		return expandHome(c.Actions.Store)
	}
	d, err := DataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "actions.db"), nil
}

// TemplatesDir is the folder of the person's own sentence templates: actions.templates, or
// intents/ beside the configuration file.
func (c *Config) TemplatesDir() (string, error) {
	if c.Actions.Templates != "" {
		return expandHome(c.Actions.Templates)
	}
	d, err := xdgDir("XDG_CONFIG_HOME", ".config")
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "intents"), nil
}

// Dictation is the [dictation] section: long-form transcription and notes.
type Dictation struct {
	Templates     string // templates: folder of your own note templates ("" = ~/.config/hark/notes)
	Store         string // store: folder of saved dictations and notes ("" = ~/.local/share/hark/dictations)
	RetentionDays int    // retention_days: delete saved dictations older than this (0 = keep until wiped)
	CarryPrompt   bool   // carry_prompt: the words before each window are whisper's prompt for it
}

// NoteTemplatesDir is the folder of the person's own note templates: dictation.templates, or
// notes/ beside the configuration file.
func (c *Config) NoteTemplatesDir() (string, error) {
	if c.Dictation.Templates != "" {
		return expandHome(c.Dictation.Templates)
	}
	d, err := xdgDir("XDG_CONFIG_HOME", ".config")
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "notes"), nil
}

// DictationStore is the folder of saved dictations and notes: dictation.store or
// ~/.local/share/hark/dictations.
func (c *Config) DictationStore() (string, error) {
	if c.Dictation.Store != "" {
		return expandHome(c.Dictation.Store)
	}
	d, err := DataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "dictations"), nil
}

// Performance is the [performance] section.
type Performance struct {
	Threads     int // threads: CPU threads for the engines (0 = choose automatically)
	ContextSize int // context_size: language model context in tokens
}

// LLM is the [llm] section: where replies are computed.
type LLM struct {
	Backend       string        // backend: local | openai
	Endpoint      string        // endpoint: the OpenAI-compatible server's base URL
	Model         string        // model: the model name the server knows
	Name          string        // name: what the window calls the server ("" = the endpoint's host)
	APIKeyFile    string        // api_key_file: file holding the API key ("" = none)
	FirstToken    time.Duration // first_token_timeout: longest wait for the first piece of a reply
	AllowInternet bool          // allow_internet: accept servers outside loopback and the private LAN
	CAFile        string        // ca_file: PEM certificates trusted for https
}

// Source is where a value came from.
type Source int

// Sources, from lowest to highest precedence.
const (
	FromDefault Source = iota
	FromFile
	FromEnv
	FromFlag
)

func (s Source) String() string {
	return [...]string{"default", "file", "environment", "flag"}[s]
}

// Knowledge is the [knowledge] section: answers from the documents `hark knowledge add` indexed.
type Knowledge struct {
	MinCoverage float64 // min_coverage: relevance threshold, the share of the question a passage must hold
	MaxTokens   int     // max_tokens: prompt tokens the passages may take together
	Passages    int     // passages: most passages put into the prompt
	Guess       string  // guess: auto | never | allowed: answer a question the documents do not cover
	Watch       bool    // watch: in kiosk mode, re-index the added folders when their files change
	// embedding_model: manifest name or .gguf path of an embedding model for hybrid ranking ("" = words only)
	EmbeddingModel string
	MinSimilarity  float64 // min_similarity: cosine that makes a passage relevant by meaning alone (0 = off)
}

// NeverGuess reports whether a question the documents do not cover gets "I don't know"
// instead of the model's own answer: knowledge.guess, where auto means only in kiosk mode.
func (c *Config) NeverGuess() bool {
	switch c.Knowledge.Guess {
	case "never":
		return true
	case "allowed":
		return false
	}
	return c.Assistant.Mode == "kiosk"
}

// Origin says where a key's value came from: Where is "config.toml:12", "HARK_AUDIO_PRE_ROLL"
// or "--mode" (empty for defaults).
type Origin struct {
	Source Source
	Where  string
}

func (o Origin) String() string {
	if o.Where == "" {
		return o.Source.String()
	}
	return o.Source.String() + " " + o.Where
}

// Default returns the built-in configuration.
func Default() *Config {
	c := &Config{origins: map[string]Origin{}}
	for _, s := range schema() {
		if err := s.assign(c, s.def); err != nil {
			panic("config: bad default for " + s.key + ": " + err.Error())
		}
		c.origins[s.key] = Origin{Source: FromDefault}
	}
	return c
}

// Clone returns an independent copy.
func (c *Config) Clone() *Config {
	d := *c
	d.origins = maps.Clone(c.origins)
	d.MQTT = c.MQTT.clone()
	return &d
}

// Path is the configuration file Load read, or would have read ("" if none was involved).
func (c *Config) Path() string { return c.path }

// Origin tells where a key's value came from ("assistant.mode").
func (c *Config) Origin(key string) Origin { return c.origins[key] }

// Get returns a key's value as it would be written in the file (a TOML literal).
func (c *Config) Get(key string) (string, error) {
	s, ok := lookup(key)
	if !ok {
		return "", unknownKeyError(key)
	}
	return s.literal(c), nil
}

// DeviceClass is the device class whose default models apply: models.device_class, or for
// "auto" the one matching assistant.mode (desktop → laptop).
func (c *Config) DeviceClass() string {
	if c.Models.DeviceClass != "auto" {
		return c.Models.DeviceClass
	}
	if c.Assistant.Mode == "desktop" {
		return "laptop"
	}
	return c.Assistant.Mode
}

// HistoryPath is the history database file: history.path or ~/.local/share/hark/history.db.
func (c *Config) HistoryPath() (string, error) {
	if c.History.Path != "" {
		return expandHome(c.History.Path)
	}
	d, err := DataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "history.db"), nil
}

// DataDir is Hark's data folder: $XDG_DATA_HOME/hark, by default ~/.local/share/hark.
func DataDir() (string, error) { return xdgDir("XDG_DATA_HOME", ".local/share") }

// DefaultPath is the configuration file used when none is named: $HARK_CONFIG, or
// $XDG_CONFIG_HOME/hark/config.toml, by default ~/.config/hark/config.toml.
func DefaultPath() (string, error) {
	if p := os.Getenv("HARK_CONFIG"); p != "" {
		return expandHome(p)
	}
	d, err := xdgDir("XDG_CONFIG_HOME", ".config")
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "config.toml"), nil
}

func xdgDir(env, fallback string) (string, error) {
	base := os.Getenv(env)
	if base == "" || !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("config: no home folder (set %s): %w", env, err)
		}
		base = filepath.Join(home, fallback)
	}
	return filepath.Join(base, "hark"), nil
}

func expandHome(p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("config: expand %s: %w", p, err)
		}
		p = filepath.Join(home, p[1:])
	}
	return p, nil
}

// Override is a value given on the command line.
type Override struct {
	Key   string // "assistant.mode"
	Value string // as typed: kiosk, 600ms, true
	Flag  string // how it was given, for messages and `config show`: "--mode"
}

// Options says what Load reads.
type Options struct {
	// Path is the configuration file; "" means DefaultPath. A file named here (or by
	// HARK_CONFIG) must exist; the default file may be missing.
	Path string
	// Env holds the HARK_* variables, as os.Environ returns them; nil means os.Environ(). (The
	// XDG_* and HOME variables that locate the default file are read from the process.)
	Env []string
	// Flags are command-line values; they win over everything else.
	Flags []Override
}

// Problem is one thing wrong with the configuration.
type Problem struct {
	Where string // "/home/me/.config/hark/config.toml:12", "HARK_ASSISTANT_MODE", "--mode"
	Key   string // "assistant.mode", if known
	Msg   string
}

func (p Problem) String() string {
	if p.Where == "" {
		return p.Msg
	}
	return p.Where + ": " + p.Msg
}

// Error lists every problem Load found.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "config: " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "config: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// ErrFileMissing is returned (wrapped) when a configuration file named explicitly does not
// exist.
var ErrFileMissing = errors.New("configuration file not found")

// Load builds the configuration from the defaults, the file, the environment and the flags.
// When something is wrong it returns an *Error listing every problem, together with a usable
// Config: each valid setting applied and each invalid one left at its default, so the app can
// start and show the error.
func Load(opts Options) (*Config, error) {
	c := Default()
	env := envMap(opts.Env)
	path, explicit := opts.Path, opts.Path != ""
	if path == "" && env["HARK_CONFIG"] != "" {
		path, explicit = env["HARK_CONFIG"], true
	}
	var err error
	if path == "" {
		dir, err := xdgDir("XDG_CONFIG_HOME", ".config")
		if err != nil {
			return c, err
		}
		path = filepath.Join(dir, "config.toml")
	}
	if path, err = expandHome(path); err != nil {
		return c, err
	}
	c.path = path
	var probs []Problem
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && !explicit:
	case errors.Is(err, os.ErrNotExist):
		return c, fmt.Errorf("config: %s: %w", path, ErrFileMissing)
	case err != nil:
		return c, fmt.Errorf("config: %w", err)
	default:
		settings, devices, ps := parseFile(path, data)
		probs = append(probs, ps...)
		c.MQTT.Devices = devices
		for _, st := range settings {
			if p := c.apply(st); p != nil {
				probs = append(probs, *p)
			}
		}
	}
	for _, s := range schema() {
		name := s.envName()
		v, ok := env[name]
		if !ok {
			continue
		}
		if p := c.apply(setting{key: s.key, text: v, textual: true, origin: Origin{FromEnv, name}}); p != nil {
			probs = append(probs, *p)
		}
	}
	for _, f := range opts.Flags {
		if p := c.apply(setting{key: f.Key, text: f.Value, textual: true, origin: Origin{FromFlag, f.Flag}}); p != nil {
			probs = append(probs, *p)
		}
	}
	probs = append(probs, c.checkMQTT()...)
	if len(probs) > 0 {
		return c, &Error{Problems: probs}
	}
	return c, nil
}

func envMap(env []string) map[string]string {
	if env == nil {
		env = os.Environ()
	}
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "HARK_") {
			m[k] = v
		}
	}
	return m
}

// setting is one value from the file, the environment or a flag, before validation.
type setting struct {
	key     string
	value   any    // from the file: string, bool, int64, float64 (TOML types)
	text    string // from the environment or a flag
	textual bool
	origin  Origin
	line    int
}

// apply validates a setting and stores it, or returns the problem.
func (c *Config) apply(st setting) *Problem {
	where := st.origin.Where
	s, ok := lookup(st.key)
	if !ok {
		return &Problem{Where: where, Key: st.key, Msg: unknownKeyError(st.key).Error()}
	}
	var v any
	var err error
	if st.textual {
		v, err = s.parseText(st.text)
	} else {
		v, err = s.fromTOML(st.value)
	}
	if err == nil {
		err = s.check(v)
	}
	if err == nil {
		err = s.assign(c, v)
	}
	if err != nil {
		shown := st.text
		if !st.textual {
			shown = literalOf(st.value)
		} else {
			shown = fmt.Sprintf("%q", shown)
		}
		if strings.HasPrefix(where, "--") && !strings.HasPrefix(where, "--set ") {
			// A flag such as --max-tokens: name the flag the person typed, not the key.
			return &Problem{Where: where, Key: s.key, Msg: fmt.Sprintf("%v (got %s)", err, shown)}
		}
		return &Problem{Where: where, Key: s.key, Msg: fmt.Sprintf("%s = %s: %v", s.key, shown, err)}
	}
	c.origins[s.key] = st.origin
	return nil
}
