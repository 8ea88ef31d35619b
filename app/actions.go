package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Actor is what the assistant can do besides talking (package action, adapted by main):
// local intents first, tools for the language model second.
type Actor interface {
	// Match compares a sentence with the local intent templates.
	Match(sentence string) Intent
	// Tools lists the tools that may be offered to the language model.
	Tools() []Tool
	// Check validates a call's arguments against the tool's schema without running it, and
	// says whether it must be confirmed first (with the question to ask, in the language of
	// ctx: LanguageOf).
	Check(ctx context.Context, call ToolCall) (confirm bool, question string, err error)
	// Run validates and runs a call under the tool's timeout; the result is said in the
	// language of ctx (LanguageOf). It never asks for confirmation: the assistant does that
	// before calling it.
	Run(ctx context.Context, call ToolCall) (ActionResult, error)
}

// IntentKind says what a sentence turned out to be.
type IntentKind int

const (
	IntentNone      IntentKind = iota // no template fits
	IntentTool                        // Call is ready to check and run
	IntentAmbiguous                   // several fit equally well: Question asks which
	IntentYes                         // an answer to a confirmation question
	IntentNo
)

// Intent is a sentence matched by a local template.
type Intent struct {
	Kind     IntentKind
	Call     ToolCall
	Template string // the template that matched, for the audit and `hark intents test`
	Question string // IntentAmbiguous
	Language string // the template's language (whisper's code, "en", "zh"): the reply's
}

// Tool is a tool as offered to the language model (the shape of llm.Tool).
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage // JSON schema of the arguments
	Confirm     bool            // runs only after a yes
}

// ToolCall is a request to run a tool (the shape of llm.ToolCall).
type ToolCall struct {
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// ToolResult is a call's outcome handed back to the language model (the shape of
// llm.ToolResult).
type ToolResult struct {
	CallID, Name, Content string
}

// ToolChat is a [Chat] whose language model can call tools (package llm's tool calls,
// adapted by main). The assistant offers tools only through it.
type ToolChat interface {
	Chat
	// SendTools is Send with tools offered: the reply may hold ToolCalls instead of (or as
	// well as) text.
	SendTools(ctx context.Context, user string, tools []Tool, emit func(piece string) error) (Reply, error)
	// SendToolResults hands the calls' results back and continues the reply.
	SendToolResults(ctx context.Context, results []ToolResult, tools []Tool, emit func(piece string) error) (Reply, error)
}

// Control is one of the assistant's own controls an action asks for.
type Control int

const (
	ControlNone    Control = iota
	ControlStop            // stop talking
	ControlNewChat         // forget the conversation
	ControlVolume          // ActionResult.Level is the new speech volume, 0..100 (main applies it)
	ControlMute            // stop speaking replies
	ControlUnmute          // speak replies again
)

var controlNames = [...]string{"", "stop", "new_conversation", "volume", "mute", "unmute"}

func (c Control) String() string {
	if int(c) < len(controlNames) {
		return controlNames[c]
	}
	return "unknown"
}

// ActionResult is what a tool did.
type ActionResult struct {
	Done    bool            // it happened (false: Say says why not)
	Say     string          // for the person
	Data    json.RawMessage // structured detail (timers: their state) for the front ends and the model
	Control Control
	Level   int // ControlVolume
}

// ActionSource says who asked for an action.
type ActionSource string

const (
	SourceIntent ActionSource = "intent" // a local template matched
	SourceModel  ActionSource = "model"  // the language model called the tool
	SourceTap    ActionSource = "tap"    // a button on screen (a timer card's Cancel)
)

// Confirmation is how a confirmation question was answered.
type Confirmation string

const (
	NotAsked       Confirmation = ""        // a safe tool: nobody was asked
	ConfirmPending Confirmation = "pending" // asked, waiting (confirm events only)
	ConfirmYes     Confirmation = "yes"
	ConfirmNo      Confirmation = "no"
	ConfirmTimeout Confirmation = "timeout" // nobody answered in time
	ConfirmDropped Confirmation = "dropped" // something else was asked instead
)

// Action is one action event's detail: EventConfirm carries the question (and later its
// answer), EventAction what was done.
type Action struct {
	Tool      string          `json:"tool"`
	Args      json.RawMessage `json:"args,omitempty"`
	Source    ActionSource    `json:"source"`
	Template  string          `json:"template,omitempty"`
	Question  string          `json:"question,omitempty"`
	Confirmed Confirmation    `json:"confirmed,omitempty"`
	Done      bool            `json:"done"`
	Say       string          `json:"say,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	Control   string          `json:"control,omitempty"`
	Error     string          `json:"error,omitempty"`
	Duration  time.Duration   `json:"-"`
	Deadline  time.Time       `json:"-"` // confirm: when the question lapses
}

// Alert is a timer or alarm that came due (or came due while Hark was not running).
type Alert struct {
	Name string `json:"name"`
	Say  string `json:"say,omitempty"` // what to say, in the timer's language ("": "Your <name> is done.")
	// Language is the timer's language (whisper's code, "" English): the voice that says it.
	Language string          `json:"language,omitempty"`
	Missed   bool            `json:"missed,omitempty"`
	Late     time.Duration   `json:"-"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// ActionRecord is an audit row: every call the assistant ran, refused or was told not to run.
type ActionRecord struct {
	Conversation string
	Turn         int
	At           time.Time
	Input        string // what the person said or typed
	Tool         string
	Args         json.RawMessage
	Source       ActionSource
	Confirmed    Confirmation
	Done         bool
	Result       string // what was said
	Err          string
	Duration     time.Duration
}

// ActionAuditor is a [History] that keeps the audit trail of actions.
type ActionAuditor interface {
	Action(ctx context.Context, r ActionRecord) error
}

// DefaultConfirmTimeout is how long a confirmation question waits for a yes.
const DefaultConfirmTimeout = 15 * time.Second

// MaxToolRounds is how many times the language model may call tools in one turn.
const MaxToolRounds = 3

// pendingConfirm is a call waiting for a yes.
type pendingConfirm struct {
	call     ToolCall
	action   Action
	input    string
	lang     string // the language the question was asked in
	deadline time.Time
}

// Confirm answers the confirmation question on screen (a tap on Yes or No).
func (a *Assistant) Confirm(yes bool) {
	a.send(func() {
		a.touch()
		if a.pending == nil {
			return
		}
		if yes {
			a.confirmed(nil)
		} else {
			a.declined(nil, ConfirmNo)
		}
	})
}

// Tap runs a tool the person tapped on screen (a timer card's Cancel) as a turn of its own,
// with label as its question: checked, confirmed and audited like a spoken command.
func (a *Assistant) Tap(call ToolCall, label string) {
	a.send(func() {
		a.touch()
		if a.closing || a.actor == nil {
			return
		}
		a.cancelTurn()
		if a.pending != nil {
			a.declined(nil, ConfirmDropped)
		}
		t := a.newTurn(InputTyped)
		now := a.now()
		t.heardAt, t.endAt, t.transcribedAt, t.transcript = now, now, now, label
		a.publish(Event{Kind: EventTranscript, Turn: t.id, Text: label, Input: InputTyped})
		a.startAction(t, call, SourceTap, "")
	})
}

// Alert tells the person that a timer or alarm came due: an alert event (front ends show it,
// main plays the ring) and, when nothing else is being said, the name spoken.
func (a *Assistant) Alert(al Alert) { a.send(func() { a.alert(al) }) }

// releaseAlerts gives the alerts held back while speech output loaded (a timer that came due
// while Hark was down rings at start-up, before the speaker is open).
func (a *Assistant) releaseAlerts() {
	held := a.held
	a.held = nil
	for _, al := range held {
		a.alert(al)
	}
}

func (a *Assistant) alert(al Alert) {
	if c := a.comps[ComponentSpeech]; a.loaders.Speaker != nil && (c.phase == PhaseLoading || c.phase == PhaseOff) && !a.closing {
		a.held = append(a.held, al)
		return
	}
	text := al.Say
	if text == "" {
		text = fmt.Sprintf(msgDone.say(""), al.Name)
	}
	a.publish(Event{Kind: EventAlert, Text: text, Alert: &al})
	if a.turn != nil || a.closing {
		return
	}
	if a.cfg.Speak && a.comps[ComponentSpeech].cur != nil {
		s := alertSpeech{text: text, lang: al.Language}
		if a.noticeStop != nil {
			// A timer matters more than a notice about Hark itself: the notice stops (and is
			// said again after), and the alert is said once it has, not over it.
			a.alertsSay = append(a.alertsSay, s)
			a.cutNotice()
			return
		}
		a.sayAlert(s)
	}
}

// alertSpeech is an alert's words waiting to be said.
type alertSpeech struct{ text, lang string }

// sayAlert says s; a notice waits until it has been said.
func (a *Assistant) sayAlert(s alertSpeech) {
	spk := a.comps[ComponentSpeech].cur
	if spk == nil || a.closing {
		return
	}
	sp := spk.val.(Speaker)
	ctx, cancel := context.WithTimeout(WithLanguage(a.ctx, s.lang), 30*time.Second)
	a.alerting++
	done := func() { a.alerting--; a.sayNotice() }
	a.spawn([]*held{spk}, func() func() {
		defer cancel()
		_ = speakText(ctx, sp, s.text)
		return done
	}, func(error) func() { cancel(); return done })
}

// act handles t's transcript with the local intents; it reports false when the language
// model should answer instead.
func (a *Assistant) act(t *turn) bool {
	m := a.actor.Match(t.transcript)
	if m.Language != "" {
		t.lang = m.Language // the reply is in the language the sentence was understood in
	}
	if p := a.pending; p != nil {
		switch m.Kind {
		case IntentYes:
			a.confirmed(t)
			return true
		case IntentNo:
			a.declined(t, ConfirmNo)
			return true
		}
		a.declined(nil, ConfirmDropped) // a new request replaces the question
	}
	switch m.Kind {
	case IntentTool:
		a.startAction(t, m.Call, SourceIntent, m.Template)
		return true
	case IntentAmbiguous:
		a.convActive = true
		a.beginHistory(t)
		a.answer(t, m.Question)
		return true
	}
	if llm := a.comps[ComponentLLM]; llm.cur == nil || a.chat == nil {
		a.convActive = true
		a.beginHistory(t)
		msg := msgCantDo
		if llm.phase == PhaseLoading {
			msg = msgCantDoLoading
		}
		t.unhandled = true
		a.answer(t, msg.say(a.actionLang(t)))
		return true
	}
	return false
}

// startAction checks a call and runs it, or asks first when it must be confirmed.
func (a *Assistant) startAction(t *turn, call ToolCall, src ActionSource, template string) {
	a.convActive = true
	a.beginHistory(t)
	act := Action{Tool: call.Name, Args: call.Arguments, Source: src, Template: template}
	lang := a.actionLang(t)
	confirm, question, err := a.actor.Check(WithLanguage(t.ctx, lang), call)
	if err != nil {
		act.Error = err.Error()
		a.publish(Event{Kind: EventAction, Turn: t.id, Action: &act})
		a.audit(t, act)
		a.answer(t, msgCouldNot.say(lang))
		return
	}
	if confirm {
		act.Question, act.Confirmed = question, ConfirmPending
		act.Deadline = a.now().Add(a.confirmTimeout())
		a.pending = &pendingConfirm{call: call, action: act, input: t.transcript, lang: lang, deadline: act.Deadline}
		a.publish(Event{Kind: EventConfirm, Turn: t.id, Text: question, Action: &act})
		a.answer(t, question)
		return
	}
	a.runAction(t, call, act)
}

func (a *Assistant) confirmTimeout() time.Duration {
	if a.cfg.ConfirmTimeout > 0 {
		return a.cfg.ConfirmTimeout
	}
	return DefaultConfirmTimeout
}

// confirmed runs the pending call after a yes (spoken in t, or tapped when t is nil).
func (a *Assistant) confirmed(t *turn) {
	p := a.pending
	a.pending = nil
	p.action.Confirmed = ConfirmYes
	a.publish(Event{Kind: EventConfirm, Text: p.action.Question, Action: &p.action})
	if t == nil {
		a.cancelTurn()
		t = a.newTurn(InputTyped)
		now := a.now()
		t.heardAt, t.endAt, t.transcribedAt, t.transcript = now, now, now, "Yes"
		a.publish(Event{Kind: EventTranscript, Turn: t.id, Text: t.transcript, Input: InputTyped})
	}
	a.convActive = true
	a.beginHistory(t)
	t.lang = p.lang // "yes" is answered in the language of the question
	a.runAction(t, p.call, p.action)
}

// declined drops the pending call: no, a timeout, or another request.
func (a *Assistant) declined(t *turn, why Confirmation) {
	p := a.pending
	a.pending = nil
	p.action.Confirmed = why
	a.publish(Event{Kind: EventConfirm, Text: p.action.Question, Action: &p.action})
	rec := p.action
	a.auditRecord(ActionRecord{Conversation: a.convID, At: a.now(), Input: p.input, Tool: rec.Tool, Args: rec.Args,
		Source: rec.Source, Confirmed: why, Result: "not run"})
	if t != nil {
		a.convActive = true
		a.beginHistory(t)
		a.answer(t, msgWont.say(p.lang))
	} else {
		a.refresh()
	}
}

// runAction runs a checked call on a worker and then says what happened.
func (a *Assistant) runAction(t *turn, call ToolCall, act Action) {
	a.setState(StateThinking, "")
	ctx := WithLanguage(t.ctx, a.actionLang(t))
	a.spawn(nil, func() func() {
		start := a.now()
		res, err := a.actor.Run(ctx, call)
		act.Duration = a.now().Sub(start)
		return func() { a.actionDone(t, act, res, err) }
	}, func(err error) func() { return func() { a.actionDone(t, act, ActionResult{}, err) } })
}

func (a *Assistant) actionDone(t *turn, act Action, res ActionResult, err error) {
	act.Done, act.Say, act.Data, act.Control = res.Done && err == nil, res.Say, res.Data, res.Control.String()
	if err != nil {
		act.Error = err.Error()
	}
	a.publish(Event{Kind: EventAction, Turn: t.id, Action: &act, Text: res.Say})
	a.audit(t, act)
	if t.ctx.Err() != nil {
		a.finish(t)
		return
	}
	say := res.Say
	if err != nil {
		msg := msgFailed
		if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "too long") {
			msg = msgTooLong
		}
		say = msg.say(a.actionLang(t))
	}
	switch res.Control {
	case ControlStop:
		a.finish(t)
		return
	case ControlMute:
		a.answer(t, say) // the last thing said: "Muted."
		a.cfg.Speak = false
		return
	case ControlUnmute:
		a.cfg.Speak = true
	case ControlNewChat:
		a.answer(t, say)
		a.clear("new")
		return
	}
	a.answer(t, say)
}

// answer gives text as t's whole reply (no language model), spoken when speech is on.
func (a *Assistant) answer(t *turn, text string) {
	now := a.now()
	t.firstAt, t.lastAt = now, now
	if spk := a.comps[ComponentSpeech].cur; a.cfg.Speak && spk != nil && text != "" && t.ctx.Err() == nil {
		t.speaking = true
		a.setState(StateSpeaking, "")
		sp := spk.val.(Speaker)
		ctx := WithLanguage(t.ctx, a.actionLang(t)) // the voice of the answer's language
		a.spawn([]*held{spk}, func() func() {
			err := speakText(ctx, sp, text)
			end := a.now()
			return func() { a.spoken(t, err, end) }
		}, func(err error) func() { return func() { a.spoken(t, err, a.now()) } })
	}
	a.generated(t, Reply{Text: text}, nil, now, now)
}

// audit records act (run in turn t) in the history's audit trail.
func (a *Assistant) audit(t *turn, act Action) {
	r := ActionRecord{Conversation: t.conv, Turn: t.id, At: a.now(), Input: t.transcript, Tool: act.Tool, Args: act.Args,
		Source: act.Source, Confirmed: act.Confirmed, Done: act.Done, Result: act.Say, Err: act.Error, Duration: act.Duration}
	a.auditRecord(r)
}

func (a *Assistant) auditRecord(r ActionRecord) {
	au, ok := a.hist.(ActionAuditor)
	if !ok {
		return
	}
	a.enqueueHistory(func(ctx context.Context) {
		if err := au.Action(ctx, r); err != nil {
			a.publish(Event{Kind: EventError, Err: Explain(err, "Could not record the action in the history", "")})
		}
	})
}

// checkConfirmTimeout drops a confirmation question nobody answered.
func (a *Assistant) checkConfirmTimeout(now time.Time) {
	if a.pending != nil && !now.Before(a.pending.deadline) {
		a.declined(nil, ConfirmTimeout)
	}
}

// offeredTools are the tools for the language model, as llm wants them.
func (a *Assistant) offeredTools() []Tool {
	if a.actor == nil {
		return nil
	}
	return a.actor.Tools()
}

// sendWithTools is the model's turn when it can call tools: at most MaxToolRounds rounds of
// calls, each checked against its schema before anything runs. A call to a confirm tool ends
// the rounds and asks (the answer comes in the next turn); an invalid call runs nothing, and
// the reply is an apology. It runs on the generating worker.
// The tools answer in lang (actionLang, worked out on the loop).
func (a *Assistant) sendWithTools(ctx context.Context, t *turn, tc ToolChat, tools []Tool, question, lang string, emit func(string) error) (Reply, error) {
	actx := WithLanguage(t.ctx, lang)
	rep, err := tc.SendTools(ctx, question, tools, emit)
	total := rep
	for round := 0; err == nil && len(rep.ToolCalls) > 0; round++ {
		if round >= MaxToolRounds {
			sorry := msgUnfinished.say(lang)
			_ = emit(sorry)
			total.Text = sorry
			break
		}
		var results []ToolResult
		var says []string // the tools' own words, said when the model adds none
		for _, call := range rep.ToolCalls {
			confirm, _, cerr := a.actor.Check(actx, call)
			act := Action{Tool: call.Name, Args: call.Arguments, Source: SourceModel}
			if cerr != nil {
				act.Error = cerr.Error()
				a.publish(Event{Kind: EventAction, Turn: t.id, Action: &act})
				a.audit(t, act)
				sorry := msgCouldNot.say(lang)
				_ = emit(sorry)
				total.Text, total.ToolCalls = sorry, nil
				return total, nil
			}
			if confirm {
				// Ask on the loop; nothing runs without a yes.
				done := make(chan string, 1)
				if !a.send(func() { done <- a.startModelConfirm(t, call) }) {
					return total, context.Canceled
				}
				q := <-done
				_ = emit(q)
				total.Text, total.ToolCalls = q, nil
				return total, nil
			}
			start := a.now()
			res, rerr := a.actor.Run(actx, call)
			act.Duration = a.now().Sub(start)
			act.Done, act.Say, act.Data, act.Control = res.Done && rerr == nil, res.Say, res.Data, res.Control.String()
			content := res.Say
			if len(res.Data) > 0 {
				content = fmt.Sprintf("%s\n%s", res.Say, res.Data)
			}
			if rerr != nil {
				act.Error = rerr.Error()
				content = "error: " + rerr.Error()
			}
			a.publish(Event{Kind: EventAction, Turn: t.id, Action: &act, Text: res.Say})
			a.audit(t, act)
			results = append(results, ToolResult{CallID: call.ID, Name: call.Name, Content: content})
			if res.Say != "" && rerr == nil {
				says = append(says, res.Say)
			}
		}
		rep, err = tc.SendToolResults(ctx, results, tools, emit)
		if err == nil && len(rep.ToolCalls) == 0 && strings.TrimSpace(rep.Text) == "" && len(says) > 0 {
			// A small model often ends its turn at once after a result: the person still hears
			// what was done, in the tools' own words (already in the turn's language).
			rep.Text = strings.Join(says, " ")
			_ = emit(rep.Text)
		}
		total.Text = strings.TrimSpace(total.Text + " " + rep.Text)
		total.Tokens += rep.Tokens
		total.Compute += rep.Compute
		total.Interrupted = rep.Interrupted
		total.PromptTokens, total.ReusedTokens = rep.PromptTokens, rep.ReusedTokens
		if rep.Fallback != nil && total.Fallback == nil { // the server failed between rounds
			total.Origin, total.Fallback = rep.Origin, rep.Fallback
		}
	}
	total.ToolCalls = nil
	return total, err
}

// startModelConfirm asks to confirm a call the model made (loop goroutine) and returns the
// question.
func (a *Assistant) startModelConfirm(t *turn, call ToolCall) string {
	lang := a.actionLang(t)
	_, question, _ := a.actor.Check(WithLanguage(t.ctx, lang), call)
	act := Action{Tool: call.Name, Args: call.Arguments, Source: SourceModel, Question: question, Confirmed: ConfirmPending,
		Deadline: a.now().Add(a.confirmTimeout())}
	a.pending = &pendingConfirm{call: call, action: act, input: t.transcript, lang: lang, deadline: act.Deadline}
	a.publish(Event{Kind: EventConfirm, Turn: t.id, Text: question, Action: &act})
	return question
}
