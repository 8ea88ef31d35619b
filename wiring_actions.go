package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync/atomic"

	"hark/action"
	"hark/app"
	"hark/app/history"
	"hark/audio"
	"hark/home"
	"hark/llm"
	"hark/tts"
)

// This file wires package action (tools, skills, templates, timers) to the assistant: the
// adapter to app.Actor, the configuration's choice of tools, timer rings, the volume control
// and the audit trail in the history.

// actions is an open action layer: the actor and its store.
type actions struct {
	act     *action.Actor
	store   *action.Store
	hub     *home.Hub // the home connectors (wiring_home.go); nil: none configured
	homeErr error     // a connector that could not be set up (the others, and everything else, work)
}

func (x *actions) Close() {
	if x == nil {
		return
	}
	x.act.Close()
	_ = x.store.Close()
	closeHome(x.hub)
}

// openActions opens the timers-and-notes store and builds the actor the configuration asks
// for; nil when actions are off.
func openActions(s *setup) (*actions, error) {
	if !s.cfg.Actions.Enabled {
		return nil, nil
	}
	path, err := s.cfg.ActionsStorePath()
	if err != nil {
		return nil, err
	}
	st, err := action.OpenStore(path)
	if err != nil {
		return nil, app.Explain(err, "The timers and notes store cannot be opened", "Check actions.store, or the free space in ~/.local/share/hark.")
	}
	tdir, err := s.cfg.TemplatesDir()
	if err != nil {
		st.Close()
		return nil, err
	}
	lang := s.cfg.Assistant.Language
	if lang == "auto" {
		lang = ""
	}
	opts := action.Options{Store: st, Hour12: action.Hour12For(localeName()), Language: lang,
		TemplateDirs: []string{tdir}, Enabled: s.enabledTools()}
	hub, homeErr := openHome(s)
	if err := homeActions(hub, &opts); err != nil {
		hub, homeErr = nil, err
		opts.Tools, opts.Templates = nil, nil
	}
	a, err := action.New(opts)
	if err != nil {
		st.Close()
		return nil, app.Explain(err, "Hark's commands could not be set up", "Check actions.tools (`hark tools` lists the tools) and your template files (actions.templates).")
	}
	if hub != nil {
		hub.Attach(a.Templates())
	}
	return &actions{act: a, store: st, hub: hub, homeErr: homeErr}, nil
}

// localeName is the locale the time is told in: LC_ALL, LC_TIME or LANG.
func localeName() string {
	for _, v := range []string{"LC_ALL", "LC_TIME", "LANG"} {
		if l := os.Getenv(v); l != "" {
			return l
		}
	}
	return ""
}

// enabledTools is actions.tools: nil enables every tool. By default a kiosk, used by strangers
// one after another, keeps no notes.
func (s *setup) enabledTools() []string {
	switch t := strings.TrimSpace(s.cfg.Actions.Tools); t {
	case "all":
		return nil
	case "":
		if s.mode() != modeKiosk {
			return nil
		}
		return []string{action.ToolTime, action.ToolDate, action.ToolTimerStart, action.ToolAlarmSet, action.ToolTimerStatus,
			action.ToolTimerCancel, action.ToolTimerPause, action.ToolTimerResume, action.ToolCalculate, action.ToolConvert,
			action.ToolStop, action.ToolVolume, action.ToolMute, action.ToolUnmute, action.ToolNewChat, action.ToolHelp}
	default:
		var out []string
		for _, n := range strings.Split(t, ",") {
			if n = strings.TrimSpace(n); n != "" {
				out = append(out, n)
			}
		}
		return out
	}
}

// appActor adapts *action.Actor to app.Actor.
type appActor struct {
	a          *action.Actor
	modelTools bool
	hub        *home.Hub // nil: no home connectors
}

func (x appActor) Match(sentence string) app.Intent {
	m := x.a.Match("", sentence)
	if x.hub != nil && m.Tool != home.ToolChoose && m.Kind != action.Yes && m.Kind != action.No {
		x.hub.Forget() // a "Which one?" is answered by a name, or by nothing
	}
	in := app.Intent{Template: m.Template, Question: m.Question, Language: m.Language}
	switch m.Kind {
	case action.Matched:
		in.Kind, in.Call = app.IntentTool, app.ToolCall{Name: m.Tool, Arguments: m.Args}
	case action.Ambiguous:
		in.Kind = app.IntentAmbiguous
	case action.Yes:
		in.Kind = app.IntentYes
	case action.No:
		in.Kind = app.IntentNo
	}
	return in
}

func (x appActor) Tools() []app.Tool {
	if !x.modelTools {
		return nil
	}
	var out []app.Tool
	for _, t := range x.a.Tools() {
		out = append(out, app.Tool{Name: t.Name, Description: t.Description, Parameters: t.Parameters, Confirm: t.Risk == action.Confirm})
	}
	return out
}

func (x appActor) Check(ctx context.Context, c app.ToolCall) (bool, string, error) {
	risk, q, err := x.a.Check(ctx, c.Name, c.Arguments)
	return risk == action.Confirm, q, err
}

func (x appActor) Run(ctx context.Context, c app.ToolCall) (app.ActionResult, error) {
	res, err := x.a.Run(ctx, c.Name, c.Arguments)
	out := app.ActionResult{Done: res.Done, Say: res.Say, Level: res.Level}
	if res.Data != nil {
		out.Data, _ = json.Marshal(res.Data)
	}
	switch res.Control {
	case action.ControlStop:
		out.Control = app.ControlStop
	case action.ControlNewChat:
		out.Control = app.ControlNewChat
	case action.ControlVolume:
		out.Control = app.ControlVolume
	case action.ControlMute:
		out.Control = app.ControlMute
	case action.ControlUnmute:
		out.Control = app.ControlUnmute
	}
	return out, err
}

// attach gives the assistant the actor and makes due timers ring through it.
func (x *actions) attach(o *app.Options, s *setup) func(*app.Assistant) {
	if x == nil {
		return func(*app.Assistant) {}
	}
	o.Actor = appActor{a: x.act, modelTools: s.cfg.Actions.ModelTools, hub: x.hub}
	if x.homeErr != nil && o.Logf != nil {
		o.Logf("home connectors: %v", x.homeErr)
	}
	startHome(x.hub, o.Logf)
	return func(a *app.Assistant) {
		x.act.Timers().SetRing(func(r action.Ring) {
			data, _ := json.Marshal(r.Timer)
			a.Alert(app.Alert{Name: r.Timer.Name, Say: r.Say(), Language: r.Timer.Language, Missed: r.Missed, Late: r.Late, Data: data})
		})
	}
}

// ---- Volume ----

// volume is the speech and earcon volume, 0..100, that "set the volume to 40" changes.
type volume struct{ level atomic.Int32 }

func newVolume() *volume {
	v := &volume{}
	v.level.Store(100)
	return v
}

// apply scales pcm by the volume (a copy; pcm may be shared, as the earcons are).
func (v *volume) apply(pcm audio.PCM) audio.PCM {
	if v == nil {
		return pcm
	}
	l := v.level.Load()
	if l >= 100 {
		return pcm
	}
	g := float32(l) / 100
	out := make([]float32, len(pcm.Samples))
	for i, s := range pcm.Samples {
		out[i] = s * g
	}
	return audio.PCM{Rate: pcm.Rate, Samples: out}
}

// withVolume applies volume controls from action events, then passes each event on.
func (s *setup) withVolume(next app.Sink) app.Sink {
	return app.SinkFunc(func(e app.Event) {
		if e.Kind == app.EventAction && e.Action != nil && e.Action.Control == app.ControlVolume.String() && e.Action.Done {
			var d struct{ Level *int32 }
			if json.Unmarshal(e.Action.Data, &d) == nil && d.Level != nil {
				s.echo.vol.level.Store(max(0, min(100, *d.Level)))
			}
		}
		next.Publish(e)
	})
}

// ---- Audit ----

// Action records an action in the history's audit trail.
func (h *historyLog) Action(ctx context.Context, r app.ActionRecord) error {
	args := string(r.Args)
	if args == "" {
		args = "{}"
	}
	_, err := h.st.AddAction(ctx, history.Action{Conversation: h.convs[r.Conversation], At: r.At, Input: r.Input, Tool: r.Tool,
		Args: args, Source: string(r.Source), Confirmed: string(r.Confirmed), Done: r.Done, Result: r.Result, Error: r.Err, Duration: r.Duration})
	return err
}

var _ app.ActionAuditor = (*historyLog)(nil)

// earconForAlert: a due timer rings.
func earconForAlert(e app.Event) (tts.Earcon, bool) {
	if e.Kind == app.EventAlert {
		return tts.EarconTimer, true
	}
	return 0, false
}

// ---- The language model's tools ----

// toolChat is a chat whose model has a chat template: llama.cpp's chat layer renders the
// offered tools in the model family's format and constrains a call with a grammar built from
// their schemas. The assistant still checks every call's arguments before anything runs.
type toolChat struct{ *chat }

var _ app.ToolChat = toolChat{}

func llmTools(tools []app.Tool) []llm.Tool {
	out := make([]llm.Tool, len(tools))
	for i, t := range tools {
		out[i] = llm.Tool{Name: t.Name, Description: t.Description, Parameters: t.Parameters}
	}
	return out
}

func (c toolChat) SendTools(ctx context.Context, user string, tools []app.Tool, emit func(string) error) (app.Reply, error) {
	g := c.gen
	g.Tools = llmTools(tools)
	return c.run(ctx, emit, func(emit func(string) error) (llm.Reply, error) { return c.c.Send(ctx, user, g, emit) })
}

func (c toolChat) SendToolResults(ctx context.Context, results []app.ToolResult, tools []app.Tool, emit func(string) error) (app.Reply, error) {
	g := c.gen
	g.Tools = llmTools(tools)
	g.RequireTool = false // a required call is the turn's first; with the results the model may answer
	rs := make([]llm.ToolResult, len(results))
	for i, r := range results {
		rs[i] = llm.ToolResult{CallID: r.CallID, Name: r.Name, Content: r.Content}
	}
	return c.run(ctx, emit, func(emit func(string) error) (llm.Reply, error) { return c.c.SendToolResults(ctx, rs, g, emit) })
}
