package app

import (
	"encoding/json"
	"io"
	"math"
	"sync"
	"time"

	"hark/audio"
)

// State is what the assistant is doing, as a front end shows it.
type State int

const (
	StateLoading      State = iota // engines are loading; nothing can be asked yet
	StateIdle                      // ready; waiting for a button, a key or a typed question
	StateListening                 // hands-free: the microphone is open, nobody is speaking
	StateHearing                   // someone is speaking (or push-to-talk is held)
	StateTranscribing              // turning the utterance into text
	StateThinking                  // the language model is answering
	StateSpeaking                  // the answer is being spoken
	StateError                     // nothing can be asked: an engine the assistant needs failed
	StateConfirming                // a question ("Delete all notes?") waits for a yes or a no
)

var stateNames = [...]string{"loading", "idle", "listening", "hearing", "transcribing", "thinking", "speaking", "error", "confirming"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Busy reports whether a turn is under way in s (Stop has something to cancel).
func (s State) Busy() bool {
	return s == StateTranscribing || s == StateThinking || s == StateSpeaking
}

// EventKind names an [Event]; the names are also the "event" field of the JSON lines.
type EventKind string

const (
	EventState      EventKind = "state"      // State (and Text: why) changed
	EventLevel      EventKind = "level"      // the microphone's Level, a few times a second
	EventComponent  EventKind = "component"  // an engine's Component, Phase, Progress, Err, Hint
	EventReadiness  EventKind = "readiness"  // what can be asked now: Readiness
	EventSpeech     EventKind = "speech"     // hands-free: someone started speaking
	EventPartial    EventKind = "partial"    // Text: a live transcript of the utterance so far
	EventWake       EventKind = "wake"       // the wake phrase was heard: the next utterance is a question
	EventIgnored    EventKind = "ignored"    // an utterance was not a question; Text: what was heard, Reason: why
	EventTranscript EventKind = "transcript" // Text: the question (heard or typed); starts the reply
	EventToken      EventKind = "token"      // Text: the next piece of the reply
	EventReply      EventKind = "reply"      // Text: the whole reply; Interrupted when cut short
	EventTurnDone   EventKind = "turn_done"  // the turn is over (spoken too); Timings, Interrupted
	EventError      EventKind = "error"      // Err (and Hint): something failed; the assistant carries on
	EventCleared    EventKind = "cleared"    // the conversation was wiped; Reason: "new", "idle", "restart"
	EventAction     EventKind = "action"     // Action: a tool ran (or was refused: Action.Error); Text: what was said
	EventConfirm    EventKind = "confirm"    // Action: a question waits for a yes (Confirmed "pending"), or was answered
	EventAlert      EventKind = "alert"      // Alert: a timer or alarm came due; Text: what is said
	EventDevice     EventKind = "device"     // Component (the microphone) moved to the new default device; Text: its name
	EventNotice     EventKind = "notice"     // Text: a notice said aloud outside a turn (notice.go), once said; Interrupted when cut short
)

// Ignored says why an utterance was not taken as a question (EventIgnored, and the
// EventTurnDone of a turn that was dropped). Front ends switch on it; Reason keeps the words.
type Ignored string

const (
	IgnoredNothing   Ignored = "nothing was heard" // silence, or only an annotation such as [BLANK_AUDIO]
	IgnoredNotSpeech Ignored = "not speech"        // the hallucination guard dropped it (Reason says what)
	IgnoredTooShort  Ignored = "too short"         // push-to-talk released too soon
	IgnoredNoWake    Ignored = "no wake phrase"    // hands-free speech without the wake phrase
	IgnoredWakeOnly  Ignored = "wake phrase"       // the wake phrase alone: the next utterance is the question
	IgnoredNotReady  Ignored = "not ready"         // an engine was not loaded (Reason says which)
)

// Misheard reports whether the person spoke but was not understood (worth a "didn't catch
// that"), as opposed to speech that was deliberately not for the assistant.
func (r Ignored) Misheard() bool {
	return r == IgnoredNothing || r == IgnoredNotSpeech || r == IgnoredTooShort
}

// Component names one of the engines the assistant loads.
type Component string

const (
	ComponentASR        Component = "asr"        // speech recognition
	ComponentLLM        Component = "llm"        // language model
	ComponentVAD        Component = "vad"        // voice activity detection (hands-free)
	ComponentMicrophone Component = "microphone" // the capture device
	ComponentSpeech     Component = "speech"     // speech output
)

// Title is the component's name for people.
func (c Component) Title() string {
	switch c {
	case ComponentASR:
		return "Speech recognition"
	case ComponentLLM:
		return "Language model"
	case ComponentVAD:
		return "Voice detection"
	case ComponentMicrophone:
		return "Microphone"
	case ComponentSpeech:
		return "Speech output"
	}
	return string(c)
}

// Phase is where a component's loading stands.
type Phase string

const (
	PhaseOff     Phase = "off" // not configured
	PhaseLoading Phase = "loading"
	PhaseReady   Phase = "ready"
	PhaseFailed  Phase = "failed"
)

// Input says how a question was asked.
type Input string

const (
	InputVoice Input = "voice"
	InputTyped Input = "typed"
)

// Level is the microphone's loudness in dBFS (0 is full scale; silence is audio.SilenceDB).
type Level = audio.Level

// Readiness says what the person can do now, and why not.
type Readiness struct {
	Type        bool   `json:"type"`                   // typed questions can be answered
	Voice       bool   `json:"voice"`                  // spoken questions can be answered
	TypeReason  string `json:"type_reason,omitempty"`  // why not, for the text entry's placeholder
	VoiceReason string `json:"voice_reason,omitempty"` // why not, for the microphone button
}

// Timings are one turn's latencies. Durations that did not happen (no speech for a typed
// question, no speech output) are zero.
type Timings struct {
	Speech     time.Duration // length of the utterance
	Transcribe time.Duration // end of speech → final transcript
	FirstToken time.Duration // final transcript → first token of the reply
	Generate   time.Duration // final transcript → last token
	Total      time.Duration // end of speech (or the typed question) → last token
	Spoken     time.Duration // last token → end of speech output
	ASRCompute time.Duration // what the engines themselves spent
	LLMCompute time.Duration
	Tokens     int
	// PromptTokens is the conversation the reply was written after, ReusedTokens the part of
	// it the language model had kept from earlier turns (its prefix cache).
	PromptTokens, ReusedTokens int
	// Retrieve is the time spent finding passages in the operator's documents (knowledge),
	// part of FirstToken; zero without knowledge.
	Retrieve time.Duration
	// Overhead is what the pipeline added: Total minus the engines' compute.
	Overhead time.Duration
}

// Event is something that happened in the assistant. Kind says which fields mean something.
type Event struct {
	Kind        EventKind
	At          time.Time
	Turn        int // the turn it belongs to (0: none); front ends drop tokens of turns they dropped
	State       State
	Text        string
	Reason      string  // why, in words (EventIgnored, EventTurnDone of an ignored turn, EventCleared)
	Ignored     Ignored // EventIgnored, and EventTurnDone of an ignored turn: why, typed ("" otherwise)
	Input       Input
	Level       Level
	Component   Component
	Phase       Phase
	Progress    float64 // 0..1, or -1 when it cannot be measured
	Err         error
	Hint        string
	Interrupted bool
	Readiness   Readiness
	Timings     *Timings
	Action      *Action   // EventAction, EventConfirm
	Alert       *Alert    // EventAlert
	Sources     []Passage // on a reply: the passages (document › heading, page) the answer came from
	Origin      Origin    // EventReply: where the reply was computed
	// Unhandled, on EventReply: the reply only says that the request cannot be done ("I can't
	// do that yet": no template matched and no language model is there to try), so that a
	// front end with somewhere else to ask (Wyoming: Home Assistant's own agent) can go there.
	Unhandled bool
}

// Sink receives the assistant's events. Publish is called for one event at a time, in order,
// possibly from different goroutines, and must not block.
type Sink interface {
	Publish(Event)
}

// SinkFunc adapts a function to [Sink].
type SinkFunc func(Event)

// Publish calls f(e).
func (f SinkFunc) Publish(e Event) { f(e) }

// Tee returns a Sink that hands every event to each of sinks, in order (nil sinks are skipped).
func Tee(sinks ...Sink) Sink {
	var s []Sink
	for _, k := range sinks {
		if k != nil {
			s = append(s, k)
		}
	}
	return SinkFunc(func(e Event) {
		for _, k := range s {
			k.Publish(e)
		}
	})
}

// JSONSink writes each event as one line of JSON to w (`hark listen`, the window's --events log).
// Level events are left out unless levels is true: they come several times a second.
type JSONSink struct {
	mu     sync.Mutex
	enc    *json.Encoder
	levels bool
	err    error
}

// NewJSONSink returns a sink writing JSON lines to w.
func NewJSONSink(w io.Writer, levels bool) *JSONSink {
	return &JSONSink{enc: json.NewEncoder(w), levels: levels}
}

// Publish writes e as a line; after a write error it stops writing (Err reports the error).
func (s *JSONSink) Publish(e Event) {
	if e.Kind == EventLevel && !s.levels {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = s.enc.Encode(e)
	}
}

// Err is the first write error, if any.
func (s *JSONSink) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// jsonEvent is an Event's JSON line: only the fields its kind uses, durations in milliseconds.
type jsonEvent struct {
	Event       EventKind    `json:"event"`
	Time        string       `json:"time"`
	Turn        int          `json:"turn,omitempty"`
	State       string       `json:"state,omitempty"`
	Text        *string      `json:"text,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	Input       Input        `json:"input,omitempty"`
	RMS         *float64     `json:"rms_dbfs,omitempty"`
	Peak        *float64     `json:"peak_dbfs,omitempty"`
	Component   Component    `json:"component,omitempty"`
	Phase       Phase        `json:"phase,omitempty"`
	Progress    *float64     `json:"progress,omitempty"`
	Error       string       `json:"error,omitempty"`
	Hint        string       `json:"hint,omitempty"`
	Interrupted bool         `json:"interrupted,omitempty"`
	Readiness   *Readiness   `json:"readiness,omitempty"`
	Timings     *jsonTimings `json:"timings_ms,omitempty"`
	Action      *jsonAction  `json:"action,omitempty"`
	Alert       *Alert       `json:"alert,omitempty"`
	ComputedOn  Computed     `json:"computed_on,omitempty"` // reply: device, server or fallback
	Server      string       `json:"server,omitempty"`      // reply: the edge server that answered, or did not
	Fallback    string       `json:"fallback,omitempty"`    // reply: why the edge server did not answer
	Sources     []Passage    `json:"sources,omitempty"`
	Unhandled   bool         `json:"unhandled,omitempty"` // reply: the request cannot be done
}

type jsonAction struct {
	*Action
	DurationMS float64 `json:"duration_ms,omitempty"`
	Deadline   string  `json:"deadline,omitempty"`
}

type jsonTimings struct {
	Speech     float64 `json:"speech"`
	Transcribe float64 `json:"transcribe"`
	FirstToken float64 `json:"first_token"`
	Generate   float64 `json:"generate"`
	Total      float64 `json:"total"`
	Spoken     float64 `json:"spoken"`
	ASRCompute float64 `json:"asr_compute"`
	LLMCompute float64 `json:"llm_compute"`
	Overhead   float64 `json:"overhead"`
	Tokens     int     `json:"tokens"`
	Prompt     int     `json:"prompt_tokens,omitempty"`
	Reused     int     `json:"reused_tokens,omitempty"`
	Retrieve   float64 `json:"retrieve,omitempty"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }

// MarshalJSON writes the event as the JSON object `hark listen` prints.
func (e Event) MarshalJSON() ([]byte, error) {
	j := jsonEvent{Event: e.Kind, Time: e.At.Format(time.RFC3339Nano), Turn: e.Turn, Reason: e.Reason,
		Input: e.Input, Component: e.Component, Phase: e.Phase, Hint: e.Hint, Interrupted: e.Interrupted, Unhandled: e.Unhandled}
	switch e.Kind {
	case EventState:
		j.State = e.State.String()
	case EventLevel:
		r, p := e.Level.RMS, e.Level.Peak
		j.RMS, j.Peak = &r, &p
	case EventComponent:
		if e.Phase == PhaseLoading {
			p := e.Progress
			j.Progress = &p
		}
	case EventReadiness:
		r := e.Readiness
		j.Readiness = &r
	}
	if e.Text != "" || e.Kind == EventToken || e.Kind == EventTranscript || e.Kind == EventReply {
		t := e.Text
		j.Text = &t
	}
	if e.Err != nil {
		j.Error = e.Err.Error()
	}
	if e.Action != nil {
		j.Action = &jsonAction{Action: e.Action, DurationMS: ms(e.Action.Duration)}
		if !e.Action.Deadline.IsZero() {
			j.Action.Deadline = e.Action.Deadline.Format(time.RFC3339Nano)
		}
	}
	j.Alert = e.Alert
	j.ComputedOn, j.Server, j.Fallback = e.Origin.On, e.Origin.Server, e.Origin.Why
	j.Sources = e.Sources
	if t := e.Timings; t != nil {
		j.Timings = &jsonTimings{ms(t.Speech), ms(t.Transcribe), ms(t.FirstToken), ms(t.Generate), ms(t.Total),
			ms(t.Spoken), ms(t.ASRCompute), ms(t.LLMCompute), ms(t.Overhead), t.Tokens, t.PromptTokens, t.ReusedTokens, ms(t.Retrieve)}
	}
	return json.Marshal(j)
}
