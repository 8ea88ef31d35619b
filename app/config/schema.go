package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"hark/internal/textdist"
)

// valueKind is the type of a key's value.
type valueKind int

const (
	kindString valueKind = iota
	kindChoice           // one of spec.choices
	kindBool
	kindInt
	kindFloat
	kindDuration
	kindChord // a key chord such as ctrl+alt+shift+a
	kindURL   // "" or an http(s) URL
)

// spec describes one configuration key: everything Load, Set, `config show` and the reference
// documentation need.
type spec struct {
	key     string // "section.name"
	kind    valueKind
	def     any // default: string, bool, int64, float64 or time.Duration
	doc     string
	choices []string
	min     float64 // range for numbers; for durations in seconds
	max     float64
	field   func(c *Config) any // pointer to the Config field
}

func (s spec) section() string { return s.key[:strings.IndexByte(s.key, '.')] }
func (s spec) name() string    { return s.key[strings.IndexByte(s.key, '.')+1:] }

// envName is the environment variable that sets the key: HARK_SECTION_NAME.
func (s spec) envName() string {
	return "HARK_" + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))
}

// whisperLanguages are the language codes whisper.cpp knows (its g_lang table).
var whisperLanguages = strings.Fields("en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su yue")

// DefaultSystemPrompt is the default assistant.system_prompt.
const DefaultSystemPrompt = "You are Hark, a helpful voice assistant that runs entirely on this device. " +
	"Your replies are read aloud, so answer in one to three short, plain sentences: no lists, no markdown, no emoji. " +
	"If you do not know something, say so briefly."

// schema lists every key, in the order of the file and the documentation.
func schema() []spec {
	specs := []spec{
		{key: "models.dir", kind: kindString, def: "", field: func(c *Config) any { return &c.Models.Dir },
			doc: "Folder that holds downloaded models. Empty: ~/.local/share/hark/models ($XDG_DATA_HOME/hark/models)."},
		{key: "models.mirror", kind: kindURL, def: "", field: func(c *Config) any { return &c.Models.Mirror },
			doc: "Download models from this mirror instead of https://huggingface.co (e.g. a server that serves a copy for a fleet of kiosks). Checksums are verified the same way. Only `hark models pull` uses it."},
		{key: "models.device_class", kind: kindChoice, def: "auto", choices: []string{"auto", "laptop", "kiosk", "car"},
			field: func(c *Config) any { return &c.Models.DeviceClass },
			doc:   "Kind of device, which picks the default models (`hark models list` shows each class's pair). auto: follow assistant.mode (desktop is a laptop)."},
		{key: "models.asr", kind: kindString, def: "", field: func(c *Config) any { return &c.Models.ASR },
			doc: "Speech recognition model: a name from `hark models list` (e.g. whisper-base.en) or the path of a whisper.cpp ggml .bin file. Empty: the device class's default."},
		{key: "models.llm", kind: kindString, def: "", field: func(c *Config) any { return &c.Models.LLM },
			doc: "Language model: a name from `hark models list` (e.g. qwen2.5-1.5b-instruct) or the path of a .gguf file. Empty: the device class's default."},
		{key: "models.vad", kind: kindString, def: "", field: func(c *Config) any { return &c.Models.VAD },
			doc: "Voice activity detector: a name from `hark models list` (silero-vad) or the path of a Silero ggml .bin file. Empty: the device class's default; if it is not downloaded Hark falls back to an energy detector."},

		{key: "audio.input_device", kind: kindString, def: "", field: func(c *Config) any { return &c.Audio.InputDevice },
			doc: "Microphone, by name or ID as `hark devices` lists them. Empty: the system default."},
		{key: "audio.output_device", kind: kindString, def: "", field: func(c *Config) any { return &c.Audio.OutputDevice },
			doc: "Speaker, by name or ID as `hark devices` lists them. Empty: the system default."},
		{key: "audio.trailing_silence", kind: kindDuration, def: 600 * time.Millisecond, min: 0.1, max: 5,
			field: func(c *Config) any { return &c.Audio.TrailingSilence },
			doc:   "Silence that ends an utterance. Shorter answers sooner; longer lets people pause mid-sentence."},
		{key: "audio.speculative_silence", kind: kindDuration, def: 200 * time.Millisecond, min: 0, max: 5,
			field: func(c *Config) any { return &c.Audio.SpeculativeSilence },
			doc: "Hands-free: after this much silence Hark starts on the answer (transcript and prompt) while the rest of trailing_silence elapses, " +
				"and drops that work if you go on speaking; nothing is said before the silence is complete. 0 (or not shorter than trailing_silence): off."},
		{key: "audio.pre_roll", kind: kindDuration, def: 300 * time.Millisecond, min: 0, max: 2,
			field: func(c *Config) any { return &c.Audio.PreRoll },
			doc:   "Audio kept from just before speech was detected, so the first syllable is not cut off."},
		{key: "audio.max_utterance", kind: kindDuration, def: 30 * time.Second, min: 1, max: 600,
			field: func(c *Config) any { return &c.Audio.MaxUtterance },
			doc:   "Longest single utterance; longer speech is split at its quietest point."},
		{key: "audio.vad_threshold", kind: kindFloat, def: 0.5, min: 0.05, max: 0.95,
			field: func(c *Config) any { return &c.Audio.VADThreshold },
			doc:   "Speech probability above which audio counts as speech. Raise it in noisy places (a car), lower it for quiet voices."},

		{key: "assistant.mode", kind: kindChoice, def: "desktop", choices: []string{"desktop", "kiosk", "car"},
			field: func(c *Config) any { return &c.Assistant.Mode },
			doc:   "desktop: a window on your computer. kiosk: fullscreen and locked down, wipes the conversation when idle. car: hands-free, big touch targets, every reply spoken."},
		{key: "assistant.hands_free", kind: kindBool, def: false, field: func(c *Config) any { return &c.Assistant.HandsFree },
			doc: "Listen all the time (with the wake phrase, if set) instead of waiting for the talk button. Car mode is always hands-free."},
		{key: "assistant.wake_phrase", kind: kindString, def: "", field: func(c *Config) any { return &c.Assistant.WakePhrase },
			doc: "Phrase that must start a request when listening hands-free, e.g. \"hey hark\". Empty: any speech is a request."},
		{key: "assistant.follow_up", kind: kindDuration, def: 8 * time.Second, min: 0, max: 120,
			field: func(c *Config) any { return &c.Assistant.FollowUp },
			doc:   "After a reply, how long Hark keeps listening for a follow-up without the wake phrase. 0s: never."},
		{key: "assistant.system_prompt", kind: kindString, def: DefaultSystemPrompt,
			field: func(c *Config) any { return &c.Assistant.SystemPrompt },
			doc:   "Instructions the language model gets before every conversation."},
		{key: "assistant.language", kind: kindChoice, def: "en", choices: append([]string{"auto"}, whisperLanguages...),
			field: func(c *Config) any { return &c.Assistant.Language },
			doc:   "Language spoken to Hark, as a whisper language code (en, de, fr, ...), or auto to detect it. English-only models (*.en) need en."},
		{key: "assistant.chinese", kind: kindChoice, def: "simplified", choices: []string{"simplified", "traditional"},
			field: func(c *Config) any { return &c.Assistant.Chinese },
			doc:   "How heard Chinese is written: simplified (whisper is prompted in Simplified, and Traditional characters it writes anyway are converted) or traditional (as whisper writes it)."},
		{key: "assistant.max_tokens", kind: kindInt, def: int64(256), min: 16, max: 8192,
			field: func(c *Config) any { return &c.Assistant.MaxTokens },
			doc:   "Longest reply, in tokens (about 3/4 of a word each)."},
		{key: "assistant.temperature", kind: kindFloat, def: 0.7, min: 0, max: 2,
			field: func(c *Config) any { return &c.Assistant.Temperature },
			doc:   "Randomness of replies: 0 always picks the likeliest words, 1 and above gets creative."},

		{key: "speech.enabled", kind: kindBool, def: true, field: func(c *Config) any { return &c.Speech.Enabled },
			doc: "Speak replies aloud. (Car mode speaks them regardless.)"},
		{key: "speech.voice", kind: kindString, def: "", field: func(c *Config) any { return &c.Speech.Voice },
			doc: "Voice to speak with, as `hark voices` lists them. Empty: the default voice for assistant.language."},
		{key: "speech.rate", kind: kindInt, def: int64(175), min: 80, max: 450,
			field: func(c *Config) any { return &c.Speech.Rate },
			doc:   "Speaking rate in words per minute."},
		{key: "speech.pitch", kind: kindInt, def: int64(50), min: 0, max: 99,
			field: func(c *Config) any { return &c.Speech.Pitch },
			doc:   "Voice pitch, 0 (low) to 99 (high)."},

		{key: "ui.text_size", kind: kindChoice, def: "medium", choices: []string{"small", "medium", "large", "huge"},
			field: func(c *Config) any { return &c.UI.TextSize },
			doc:   "Size of text in the window. Car mode uses at least large."},
		{key: "ui.theme", kind: kindChoice, def: "system", choices: []string{"system", "light", "dark"},
			field: func(c *Config) any { return &c.UI.Theme },
			doc:   "Colour theme; system follows the desktop's setting."},
		{key: "ui.language", kind: kindChoice, def: "system", choices: []string{"system", "en", "zh"},
			field: func(c *Config) any { return &c.UI.Language },
			doc:   "Language of the window's own words: system follows the system locale (LANGUAGE, LC_MESSAGES, LANG); en is English, zh Simplified Chinese."},

		{key: "kiosk.idle_wipe", kind: kindDuration, def: 2 * time.Minute, min: 0, max: 86400,
			field: func(c *Config) any { return &c.Kiosk.IdleWipe },
			doc:   "In kiosk mode, forget the conversation (screen and history) after this long without anyone speaking. 0s: never."},
		{key: "kiosk.admin_chord", kind: kindChord, def: "ctrl+alt+shift+a",
			field: func(c *Config) any { return &c.Kiosk.AdminChord },
			doc:   "Key chord that leaves kiosk mode: modifiers (ctrl, alt, shift, super) and one key, joined by +."},

		{key: "history.enabled", kind: kindBool, def: true, field: func(c *Config) any { return &c.History.Enabled },
			doc: "Keep a history of conversations in a database on this device (never anywhere else). false: store nothing."},
		{key: "history.retention_days", kind: kindInt, def: int64(30), min: 0, max: 36500,
			field: func(c *Config) any { return &c.History.RetentionDays },
			doc:   "Delete turns older than this many days. 0: keep them until you wipe the history (`hark history wipe`)."},
		{key: "history.store_audio", kind: kindBool, def: false, field: func(c *Config) any { return &c.History.StoreAudio },
			doc: "Also keep the recorded audio of each turn. Off unless you turn it on."},
		{key: "history.path", kind: kindString, def: "", field: func(c *Config) any { return &c.History.Path },
			doc: "History database file. Empty: ~/.local/share/hark/history.db ($XDG_DATA_HOME/hark/history.db)."},

		{key: "dictation.templates", kind: kindString, def: "", field: func(c *Config) any { return &c.Dictation.Templates },
			doc: "Folder of your own note templates (NAME.toml), used by `hark note --template NAME`. Empty: ~/.config/hark/notes."},
		{key: "dictation.store", kind: kindString, def: "", field: func(c *Config) any { return &c.Dictation.Store },
			doc: "Folder where dictations and notes are kept when you ask for it (`hark dictate --save`). Empty: ~/.local/share/hark/dictations."},
		{key: "dictation.retention_days", kind: kindInt, def: int64(30), min: 0, max: 36500,
			field: func(c *Config) any { return &c.Dictation.RetentionDays },
			doc:   "Delete kept dictations and notes older than this many days. 0: keep them until you wipe them (`hark history wipe`)."},
		{key: "dictation.carry_prompt", kind: kindBool, def: true, field: func(c *Config) any { return &c.Dictation.CarryPrompt },
			doc: "Give whisper the last words heard before each dictation window as its prompt, so that a sentence running across a border reads on. false: each window is heard alone (for a model that garbles text after a prompt, such as a small fine-tuned one)."},

		{key: "actions.enabled", kind: kindBool, def: true, field: func(c *Config) any { return &c.Actions.Enabled },
			doc: "Run commands such as timers, alarms, sums, unit conversions and notes on this device, matched by sentence templates without the language model. false: Hark only talks."},
		{key: "actions.tools", kind: kindString, def: "", field: func(c *Config) any { return &c.Actions.Tools },
			doc: "Tools to enable, comma-separated as `hark tools` lists them. Empty: the device class's set (a car leaves out notes); all: every tool."},
		{key: "actions.model_tools", kind: kindBool, def: true, field: func(c *Config) any { return &c.Actions.ModelTools },
			doc: "When no template matches, offer the enabled tools to the language model (if it supports tool calls). Arguments are checked against each tool's schema before anything runs."},
		{key: "actions.confirm_timeout", kind: kindDuration, def: 15 * time.Second, min: 3, max: 300,
			field: func(c *Config) any { return &c.Actions.ConfirmTimeout },
			doc:   "How long a confirmation question (\"Delete all 4 notes?\") waits for a spoken or tapped yes; then nothing is done."},
		{key: "actions.templates", kind: kindString, def: "", field: func(c *Config) any { return &c.Actions.Templates },
			doc: "Folder of your own sentence templates (*.toml, see README). Empty: ~/.config/hark/intents."},
		{key: "actions.store", kind: kindString, def: "", field: func(c *Config) any { return &c.Actions.Store },
			doc: "Timers, alarms and notes database. Empty: ~/.local/share/hark/actions.db."},

		{key: "performance.threads", kind: kindInt, def: int64(0), min: 0, max: 256,
			field: func(c *Config) any { return &c.Performance.Threads },
			doc:   "CPU threads for speech recognition and the language model. 0: choose from the number of cores."},
		{key: "performance.context_size", kind: kindInt, def: int64(4096), min: 512, max: 131072,
			field: func(c *Config) any { return &c.Performance.ContextSize },
			doc:   "Language model context in tokens: how much of the conversation it remembers. More needs more memory."},

		{key: "llm.backend", kind: kindChoice, def: "local", choices: []string{"local", "openai"},
			field: func(c *Config) any { return &c.LLM.Backend },
			doc:   "Where replies are computed. local: the language model on this device (models.llm). openai: a server with the OpenAI-compatible chat API on the local network (llama.cpp's llama-server, vLLM, ollama); when it is unreachable or slow the local model answers, if one is installed."},
		{key: "llm.endpoint", kind: kindURL, def: "", field: func(c *Config) any { return &c.LLM.Endpoint },
			doc: "Base URL of the server's API, e.g. http://192.168.1.20:8080/v1. Only loopback and private LAN addresses are accepted unless allow_internet is true."},
		{key: "llm.model", kind: kindString, def: "", field: func(c *Config) any { return &c.LLM.Model },
			doc: "Model name the server knows (llama-server ignores it; vLLM and ollama need it)."},
		{key: "llm.name", kind: kindString, def: "", field: func(c *Config) any { return &c.LLM.Name },
			doc: "Name shown for answers computed on the server, e.g. edge-1. Empty: the endpoint's host."},
		{key: "llm.api_key_file", kind: kindString, def: "", field: func(c *Config) any { return &c.LLM.APIKeyFile },
			doc: "File whose first line is the server's API key. It must not be readable by others (chmod 600). The key itself is never written to the configuration, logs or `hark config show`. Empty: no key."},
		{key: "llm.first_token_timeout", kind: kindDuration, def: 4 * time.Second, min: 0.1, max: 120,
			field: func(c *Config) any { return &c.LLM.FirstToken },
			doc:   "Longest wait for the first piece of a reply (and for each next one) before the local model answers instead. Hark tries the server again later."},
		{key: "llm.allow_internet", kind: kindBool, def: false, field: func(c *Config) any { return &c.LLM.AllowInternet },
			doc: "Accept an endpoint outside loopback and the private LAN ranges. Conversations then leave the building."},
		{key: "llm.ca_file", kind: kindString, def: "", field: func(c *Config) any { return &c.LLM.CAFile },
			doc: "PEM file of certificate authorities trusted for an https endpoint, besides the system's (a server with its own CA)."},

		{key: "knowledge.min_coverage", kind: kindFloat, def: 0.45, min: 0.05, max: 1,
			field: func(c *Config) any { return &c.Knowledge.MinCoverage },
			doc:   "Relevance threshold for answers from your documents: the share of the question (its words weighted by how rare they are in the documents) a passage must contain to be used. Higher: fewer, surer answers and more \"I don't know\"; lower: more answers from loosely matching passages. `hark knowledge search` shows each passage's coverage."},
		{key: "knowledge.max_tokens", kind: kindInt, def: int64(400), min: 50, max: 8000,
			field: func(c *Config) any { return &c.Knowledge.MaxTokens },
			doc:   "Most prompt tokens the passages take together (estimated: about 4 letters or 0.7 Chinese characters a token); longer passages are cut. More gives the model more to answer from but makes the first word come later."},
		{key: "knowledge.passages", kind: kindInt, def: int64(3), min: 1, max: 10,
			field: func(c *Config) any { return &c.Knowledge.Passages },
			doc:   "Most passages put into the prompt for one question (within max_tokens)."},
		{key: "knowledge.guess", kind: kindChoice, def: "auto", choices: []string{"auto", "never", "allowed"},
			field: func(c *Config) any { return &c.Knowledge.Guess },
			doc:   "When the documents do not cover a question: never: answer \"I don't know\" without asking the model; allowed: the model answers from what it knows; auto: never in kiosk mode, allowed otherwise."},
		{key: "knowledge.watch", kind: kindBool, def: true, field: func(c *Config) any { return &c.Knowledge.Watch },
			doc: "In kiosk mode, watch the folders added with `hark knowledge add` and re-index a document as soon as it is added, changed or removed, without a restart."},
		{key: "knowledge.embedding_model", kind: kindString, def: "", field: func(c *Config) any { return &c.Knowledge.EmbeddingModel },
			doc: "Embedding model for hybrid ranking: a manifest name (`hark models list`, kind embed) or a .gguf file. Each passage then also gets a vector, and passages are ranked by their words (BM25) and by meaning (cosine of the vectors) together, by reciprocal rank fusion. Vectors are computed by `hark knowledge add`/`rebuild` and, for what is missing, when Hark starts; changing the model computes them all again. Empty: ranking by words only."},
		{key: "knowledge.min_similarity", kind: kindFloat, def: 0.0, min: 0, max: 1,
			field: func(c *Config) any { return &c.Knowledge.MinSimilarity },
			doc:   "With an embedding model: a passage whose cosine with the question reaches this is relevant even when it holds too few of the question's words (a paraphrase). Each model has its own scale: read the similarities `hark knowledge search` shows before setting it. 0: embeddings only reorder, relevance is min_coverage's alone."},
	}
	specs = append(specs, homeAssistantSpecs()...)
	specs = append(specs, mqttSchema()...)
	return specs
}

func lookup(key string) (spec, bool) {
	for _, s := range schema() {
		if s.key == key {
			return s, true
		}
	}
	return spec{}, false
}

// Sections lists the sections in file order.
func Sections() []string {
	var out []string
	for _, s := range schema() {
		if !slices.Contains(out, s.section()) {
			out = append(out, s.section())
		}
	}
	return out
}

// Keys lists every key ("section.name") in file order.
func Keys() []string {
	var out []string
	for _, s := range schema() {
		out = append(out, s.key)
	}
	return out
}

func keysIn(section string) []string {
	var out []string
	for _, s := range schema() {
		if s.section() == section {
			out = append(out, s.name())
		}
	}
	return out
}

// unknownKeyError explains an unknown key, suggesting the closest real one.
func unknownKeyError(key string) error {
	section, name, dotted := strings.Cut(key, ".")
	if !dotted {
		if slices.Contains(Sections(), key) {
			return fmt.Errorf("%q is a section; give a key inside it, like %s.%s", key, key, keysIn(key)[0])
		}
		for _, s := range schema() {
			if s.name() == key {
				return fmt.Errorf("unknown key %q: it belongs in a section, as %s", key, s.key)
			}
		}
		return fmt.Errorf("unknown key %q; sections are %s", key, strings.Join(Sections(), ", "))
	}
	if !slices.Contains(Sections(), section) {
		msg := fmt.Sprintf("unknown section [%s]", section)
		if s := closest(section, Sections()); s != "" {
			msg += fmt.Sprintf("; did you mean [%s]?", s)
		}
		if !strings.HasSuffix(msg, "?") {
			msg += "."
		}
		return errors.New(msg + " Sections are " + strings.Join(Sections(), ", "))
	}
	if first, rest, ok := strings.Cut(name, "."); ok {
		if _, found := lookup(first + "." + rest); found {
			return fmt.Errorf("%q under [%s] is read as %s: move it above the first [section] line, or into [%s] as %s", name, section, key, first, rest)
		}
	}
	for _, s := range schema() { // the key exists in another section
		if s.name() == name {
			return fmt.Errorf("unknown key %q in [%s]: it belongs in [%s] (%s)", name, section, s.section(), s.key)
		}
	}
	msg := fmt.Sprintf("unknown key %q in [%s]", name, section)
	if s := closest(name, keysIn(section)); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	if !strings.HasSuffix(msg, "?") {
		msg += "."
	}
	return errors.New(msg + " Keys in [" + section + "] are " + strings.Join(keysIn(section), ", "))
}

// closest returns the candidate nearest to s, if it is near enough to be a typo.
func closest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := textdist.Levenshtein([]byte(s), []byte(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(s)/3) {
		return best
	}
	return ""
}

// parseText converts a value given as text (environment, flag, `config set`).
func (s spec) parseText(t string) (any, error) {
	switch s.kind {
	case kindBool:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true", "yes", "on", "1":
			return true, nil
		case "false", "no", "off", "0":
			return false, nil
		}
		return nil, errors.New("must be true or false")
	case kindInt:
		n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("must be a whole number between %s", s.rangeText())
		}
		return n, nil
	case kindFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("must be a number between %s", s.rangeText())
		}
		return f, nil
	case kindDuration:
		return parseDuration(t)
	}
	return t, nil
}

// fromTOML converts a value read from the file, which must have the key's TOML type.
func (s spec) fromTOML(v any) (any, error) {
	switch s.kind {
	case kindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, errors.New("must be true or false (without quotes)")
	case kindInt:
		if n, ok := v.(int64); ok {
			return n, nil
		}
		return nil, fmt.Errorf("must be a whole number between %s (without quotes)", s.rangeText())
	case kindFloat:
		switch n := v.(type) {
		case float64:
			if math.IsNaN(n) || math.IsInf(n, 0) {
				return nil, fmt.Errorf("must be a number between %s", s.rangeText())
			}
			return n, nil
		case int64:
			return float64(n), nil
		}
		return nil, fmt.Errorf("must be a number between %s (without quotes)", s.rangeText())
	case kindDuration:
		if str, ok := v.(string); ok {
			return parseDuration(str)
		}
		return nil, errors.New(`must be a duration in quotes with a unit, like "600ms", "8s" or "2m"`)
	}
	if str, ok := v.(string); ok {
		return str, nil
	}
	return nil, errors.New("must be text in quotes")
}

func parseDuration(t string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(t))
	if err != nil {
		return 0, errors.New(`must be a duration with a unit, like "600ms", "8s" or "2m"`)
	}
	return d, nil
}

// check validates a parsed value against the key's choices and range.
func (s spec) check(v any) error {
	var x float64
	switch n := v.(type) {
	case int64:
		x = float64(n)
	case float64:
		x = n
	case time.Duration:
		x = n.Seconds()
	case string:
		switch s.kind {
		case kindChoice:
			if !slices.Contains(s.choices, n) {
				msg := "must be one of " + strings.Join(s.choices, ", ")
				if len(s.choices) > 12 {
					msg = "must be auto or a whisper language code (en, de, fr, es, zh, ...)"
				}
				if c := closest(strings.ToLower(n), s.choices); c != "" && c != n {
					msg += fmt.Sprintf("; did you mean %q?", c)
				}
				return errors.New(msg)
			}
		case kindChord:
			return checkChord(n)
		case kindURL:
			if n == "" {
				return nil
			}
			u, err := url.Parse(n)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New(`must be empty or an http(s) address, like "http://mirror.local:8080"`)
			}
		}
		return nil
	default:
		return nil
	}
	if x < s.min || x > s.max {
		return fmt.Errorf("must be between %s", s.rangeText())
	}
	return nil
}

func (s spec) rangeText() string {
	if s.kind == kindDuration {
		return formatDuration(time.Duration(s.min*float64(time.Second))) + " and " + formatDuration(time.Duration(s.max*float64(time.Second)))
	}
	return strconv.FormatFloat(s.min, 'g', -1, 64) + " and " + strconv.FormatFloat(s.max, 'g', -1, 64)
}

// checkChord accepts modifiers and one key joined by "+": ctrl+alt+shift+a, super+f12.
func checkChord(s string) error {
	parts := strings.Split(strings.ToLower(s), "+")
	if len(parts) < 2 {
		return errors.New(`must be at least one modifier and a key, like "ctrl+alt+shift+a"`)
	}
	seen := map[string]bool{}
	for _, m := range parts[:len(parts)-1] {
		if !slices.Contains([]string{"ctrl", "alt", "shift", "super"}, m) || seen[m] {
			return fmt.Errorf("%q is not a modifier: use ctrl, alt, shift and super, each once", m)
		}
		seen[m] = true
	}
	k := parts[len(parts)-1]
	valid := len(k) == 1 && (k[0] >= 'a' && k[0] <= 'z' || k[0] >= '0' && k[0] <= '9') ||
		slices.Contains([]string{"escape", "return", "space", "tab", "backspace", "delete", "home", "end"}, k)
	if n, err := strconv.Atoi(strings.TrimPrefix(k, "f")); err == nil && strings.HasPrefix(k, "f") && n >= 1 && n <= 12 {
		valid = true
	}
	if !valid {
		return fmt.Errorf("%q is not a key: use a letter, a digit, f1-f12, escape, return, space, tab, backspace, delete, home or end", k)
	}
	return nil
}

// assign stores a checked value in the Config field.
func (s spec) assign(c *Config, v any) error {
	switch p := s.field(c).(type) {
	case *string:
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("internal: %s wants text", s.key)
		}
		*p = str
	case *bool:
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("internal: %s wants a bool", s.key)
		}
		*p = b
	case *int:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("internal: %s wants an integer", s.key)
		}
		*p = int(n)
	case *float64:
		f, ok := v.(float64)
		if !ok {
			return fmt.Errorf("internal: %s wants a number", s.key)
		}
		*p = f
	case *time.Duration:
		d, ok := v.(time.Duration)
		if !ok {
			return fmt.Errorf("internal: %s wants a duration", s.key)
		}
		*p = d
	}
	return nil
}

// value reads the key's current value from c, in the types parseText returns.
func (s spec) value(c *Config) any {
	switch p := s.field(c).(type) {
	case *string:
		return *p
	case *bool:
		return *p
	case *int:
		return int64(*p)
	case *float64:
		return *p
	case *time.Duration:
		return *p
	}
	return nil
}

// literal is the key's current value in c as a TOML literal.
func (s spec) literal(c *Config) string { return literalOf(s.value(c)) }

// literalOf writes a value as a TOML literal (durations as quoted strings).
func literalOf(v any) string {
	switch x := v.(type) {
	case string:
		return quote(x)
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return s
	case time.Duration:
		return quote(formatDuration(x))
	}
	return fmt.Sprint(v)
}

// formatDuration writes d the way people do: "600ms", "8s", "2m", "1m30s".
func formatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0 && d < time.Minute:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d%time.Millisecond == 0 && d < time.Second:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	}
	return d.String()
}

// quote writes a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
