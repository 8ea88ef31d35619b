package app

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeActor knows a few sentences. Tool "wipe" must be confirmed; arguments containing "bad"
// are invalid; "hang" is cut off by its timeout.
type fakeActor struct {
	mu    sync.Mutex
	ran   []ToolCall
	langs []string // LanguageOf the contexts of Check and Run, in order
}

func (f *fakeActor) sawLang(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.langs = append(f.langs, LanguageOf(ctx))
}

func (f *fakeActor) langList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.langs)
}

func (f *fakeActor) Match(s string) Intent {
	call := func(name, args string) Intent {
		return Intent{Kind: IntentTool, Call: ToolCall{Name: name, Arguments: json.RawMessage(args)}, Template: "t:" + s}
	}
	switch strings.ToLower(strings.Trim(s, ".!? ")) {
	case "set a timer for 5 seconds":
		return call("timer_start", `{"seconds":5}`)
	case "wipe everything":
		return call("wipe", `{}`)
	case "new conversation":
		return call("new_chat", `{}`)
	case "mute":
		return call("mute", `{}`)
	case "open the door":
		return Intent{Kind: IntentAmbiguous, Question: "Which door?"}
	case "设置一个五秒的计时器":
		in := call("timer_start", `{"seconds":5}`)
		in.Language = "zh"
		return in
	case "全部清除":
		in := call("wipe", `{}`)
		in.Language = "zh"
		return in
	case "不":
		return Intent{Kind: IntentNo, Language: "zh"}
	case "yes":
		return Intent{Kind: IntentYes}
	case "no":
		return Intent{Kind: IntentNo}
	}
	return Intent{}
}

func (f *fakeActor) Tools() []Tool {
	return []Tool{{Name: "timer_start", Description: "Start a timer.", Parameters: json.RawMessage(`{"type":"object"}`)},
		{Name: "wipe", Description: "Wipe everything.", Confirm: true}}
}

func (f *fakeActor) Check(ctx context.Context, c ToolCall) (bool, string, error) {
	f.sawLang(ctx)
	if strings.Contains(string(c.Arguments), "bad") {
		return false, "", errors.New("invalid arguments for " + c.Name)
	}
	if c.Name == "wipe" {
		if LanguageOf(ctx) == "zh" {
			return true, "全部清除吗？", nil
		}
		return true, "Wipe everything?", nil
	}
	return false, "", nil
}

func (f *fakeActor) Run(ctx context.Context, c ToolCall) (ActionResult, error) {
	f.sawLang(ctx)
	if strings.Contains(string(c.Arguments), "bad") {
		return ActionResult{}, errors.New("Run called with invalid arguments")
	}
	f.mu.Lock()
	f.ran = append(f.ran, c)
	f.mu.Unlock()
	switch c.Name {
	case "new_chat":
		return ActionResult{Done: true, Say: "Starting a new conversation.", Control: ControlNewChat}, nil
	case "mute":
		return ActionResult{Done: true, Say: "Muted.", Control: ControlMute}, nil
	case "wipe":
		return ActionResult{Done: true, Say: "Wiped."}, nil
	}
	if LanguageOf(ctx) == "zh" {
		return ActionResult{Done: true, Say: "好的，五秒的计时器开始了。", Data: json.RawMessage(`{"id":1}`)}, nil
	}
	return ActionResult{Done: true, Say: "Timer set for 5 seconds.", Data: json.RawMessage(`{"id":1}`)}, nil
}

func (f *fakeActor) runs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.ran {
		out = append(out, c.Name)
	}
	return out
}

// auditHist is the memory history with an audit trail.
type auditHist struct {
	*memHistory
	amu  sync.Mutex
	acts []ActionRecord
}

func (h *auditHist) Action(_ context.Context, r ActionRecord) error {
	h.amu.Lock()
	defer h.amu.Unlock()
	h.acts = append(h.acts, r)
	return nil
}

func (h *auditHist) audit() []ActionRecord {
	h.amu.Lock()
	defer h.amu.Unlock()
	return append([]ActionRecord(nil), h.acts...)
}

// readyModel waits, beyond ready, for the language model: with an actor, typed questions are
// taken before it has loaded.
func (r *rig) readyModel(t *testing.T) int {
	t.Helper()
	r.ready(t)
	_, i := r.rec.waitFor(t, 0, "llm ready", func(e Event) bool {
		return e.Kind == EventComponent && e.Component == ComponentLLM && e.Phase == PhaseReady
	})
	r.sync(t)
	return max(i, len(r.rec.all()))
}

func withActor(f *fakeActor, h **auditHist) rigOption {
	return func(r *rig, o *Options) {
		o.Actor = f
		ah := &auditHist{memHistory: r.hist}
		o.History = ah
		*h = ah
	}
}

func TestIntentRunsWithoutTheModel(t *testing.T) {
	act := &fakeActor{}
	var h *auditHist
	r := newRig(t, withActor(act, &h))
	i := r.ready(t)
	r.a.Ask("Set a timer for 5 seconds.")
	_, j := r.rec.next(t, i, EventTurnDone)
	got := kinds(r.rec.all()[i:j])
	want := []string{"transcript", "state:thinking", "action", "reply", "turn_done"}
	if !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	e, _ := r.rec.next(t, i, EventAction)
	if e.Action == nil || e.Action.Tool != "timer_start" || !e.Action.Done || e.Action.Source != SourceIntent || string(e.Action.Data) != `{"id":1}` {
		t.Errorf("action event = %+v", e.Action)
	}
	if rep, _ := r.rec.next(t, i, EventReply); rep.Text != "Timer set for 5 seconds." {
		t.Errorf("reply = %q", rep.Text)
	}
	if asked := r.brain.chat(0).askedList(); len(asked) != 0 {
		t.Errorf("the language model was asked %q", asked)
	}
	r.stop()
	au := h.audit()
	if len(au) != 1 || au[0].Tool != "timer_start" || !au[0].Done || au[0].Input != "Set a timer for 5 seconds." || au[0].Confirmed != NotAsked {
		t.Errorf("audit = %+v", au)
	}
	if recs := r.hist.records(); len(recs) != 1 || recs[0].Reply != "Timer set for 5 seconds." {
		t.Errorf("history = %+v", recs)
	}
}

func TestConfirmation(t *testing.T) {
	act := &fakeActor{}
	var h *auditHist
	r := newRig(t, withActor(act, &h), withClock())
	i := r.ready(t)

	// No: nothing runs.
	r.a.Ask("wipe everything")
	e, i := r.rec.next(t, i, EventConfirm)
	if e.Action.Confirmed != ConfirmPending || e.Text != "Wipe everything?" {
		t.Fatalf("confirm = %+v", e.Action)
	}
	i = r.rec.state(t, i, StateConfirming)
	r.a.Ask("no")
	e, i = r.rec.next(t, i, EventConfirm)
	if e.Action.Confirmed != ConfirmNo {
		t.Errorf("answer = %q, want no", e.Action.Confirmed)
	}
	if rep, _ := r.rec.next(t, i, EventReply); rep.Text != "Okay, I won't." {
		t.Errorf("reply = %q", rep.Text)
	}

	// Nobody answers: nothing runs.
	r.a.Ask("wipe everything")
	_, i = r.rec.next(t, i, EventConfirm)
	r.sync(t)
	r.clock.advance(DefaultConfirmTimeout + time.Second)
	e, i = r.rec.next(t, i, EventConfirm)
	if e.Action.Confirmed != ConfirmTimeout {
		t.Errorf("answer = %q, want timeout", e.Action.Confirmed)
	}

	// Something else is asked: the question is dropped.
	r.a.Ask("wipe everything")
	_, i = r.rec.next(t, i, EventConfirm)
	r.a.Ask("set a timer for 5 seconds")
	e, i = r.rec.next(t, i, EventConfirm)
	if e.Action.Confirmed != ConfirmDropped {
		t.Errorf("answer = %q, want dropped", e.Action.Confirmed)
	}
	_, i = r.rec.next(t, i, EventTurnDone)
	if got := act.runs(); !slices.Equal(got, []string{"timer_start"}) {
		t.Fatalf("ran %v before any yes", got)
	}

	// Spoken yes, then a tapped one.
	r.a.Ask("wipe everything")
	_, i = r.rec.next(t, i, EventConfirm)
	r.a.Ask("yes")
	e, i = r.rec.next(t, i, EventAction)
	if e.Action.Tool != "wipe" || e.Action.Confirmed != ConfirmYes || !e.Action.Done {
		t.Errorf("action = %+v", e.Action)
	}
	r.a.Ask("wipe everything")
	_, i = r.rec.next(t, i, EventConfirm)
	r.sync(t)
	r.a.Confirm(true)
	e, _ = r.rec.next(t, i, EventAction)
	if e.Action.Confirmed != ConfirmYes {
		t.Errorf("tapped yes: %+v", e.Action)
	}
	r.stop()
	var confirmed []Confirmation
	for _, a := range h.audit() {
		if a.Tool == "wipe" {
			confirmed = append(confirmed, a.Confirmed)
		}
	}
	if want := []Confirmation{ConfirmNo, ConfirmTimeout, ConfirmDropped, ConfirmYes, ConfirmYes}; !slices.Equal(confirmed, want) {
		t.Errorf("audit of wipe = %v, want %v", confirmed, want)
	}
}

func TestAmbiguousAndUnknown(t *testing.T) {
	act := &fakeActor{}
	var h *auditHist
	r := newRig(t, withActor(act, &h), func(_ *rig, o *Options) { o.Loaders.Brain = nil })
	r.rec.waitFor(t, 0, "asr ready", func(e Event) bool {
		return e.Kind == EventComponent && e.Component == ComponentASR && e.Phase == PhaseReady
	})
	r.sync(t)
	i := len(r.rec.all())
	r.a.Ask("open the door")
	if rep, j := r.rec.next(t, i, EventReply); rep.Text != "Which door?" || rep.Unhandled {
		t.Errorf("ambiguous: reply %q (unhandled %v)", rep.Text, rep.Unhandled)
	} else {
		i = j
	}
	r.a.Ask("bake me a cake")
	if rep, _ := r.rec.next(t, i, EventReply); rep.Text != "I can't do that yet." || !rep.Unhandled {
		t.Errorf("unknown without a model: reply %q (unhandled %v); want it marked unhandled", rep.Text, rep.Unhandled)
	}
	if got := act.runs(); len(got) != 0 {
		t.Errorf("ran %v", got)
	}
}

func TestControls(t *testing.T) {
	act := &fakeActor{}
	var h *auditHist
	r := newRig(t, withActor(act, &h), withSpeaker(false))
	i := r.ready(t)
	r.a.Ask("mute")
	_, i = r.rec.next(t, i, EventTurnDone)
	r.a.Ask("set a timer for 5 seconds")
	_, i = r.rec.next(t, i, EventTurnDone)
	if said := r.spk.saidList(); !slices.Equal(said, []string{"Muted."}) {
		t.Errorf("spoken after mute: %q", said)
	}
	r.a.Ask("new conversation")
	if e, _ := r.rec.next(t, i, EventCleared); e.Reason != "new" {
		t.Errorf("cleared = %q", e.Reason)
	}
}

// toolChat is a fake model that answers with scripted tool calls, one round per entry.
type toolChat struct {
	*fakeChat
	mu      sync.Mutex
	rounds  [][]ToolCall
	results [][]ToolResult
	offered []string
	silent  bool // after the last round the model writes nothing
}

func (c *toolChat) SendTools(ctx context.Context, user string, tools []Tool, emit func(string) error) (Reply, error) {
	c.mu.Lock()
	for _, t := range tools {
		c.offered = append(c.offered, t.Name)
	}
	c.mu.Unlock()
	return c.next(emit)
}

func (c *toolChat) SendToolResults(ctx context.Context, results []ToolResult, tools []Tool, emit func(string) error) (Reply, error) {
	c.mu.Lock()
	c.results = append(c.results, results)
	c.mu.Unlock()
	return c.next(emit)
}

func (c *toolChat) next(emit func(string) error) (Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.rounds) == 0 && c.silent {
		return Reply{}, nil
	}
	if len(c.rounds) == 0 {
		_ = emit("Done.")
		return Reply{Text: "Done.", Tokens: 1}, nil
	}
	calls := c.rounds[0]
	c.rounds = c.rounds[1:]
	return Reply{ToolCalls: calls}, nil
}

type toolBrain struct{ chat *toolChat }

func (b *toolBrain) NewChat(string) (Chat, error) { return b.chat, nil }

func withToolModel(c *toolChat) rigOption {
	return func(r *rig, o *Options) {
		c.fakeChat = &fakeChat{brain: r.brain}
		o.Loaders.Brain = func(context.Context, func(float64)) (Brain, error) { return &toolBrain{c}, nil }
	}
}

func TestModelToolCalls(t *testing.T) {
	call := func(id, name, args string) ToolCall {
		return ToolCall{ID: id, Name: name, Arguments: json.RawMessage(args)}
	}
	cases := []struct {
		name    string
		rounds  [][]ToolCall
		reply   string
		ran     []string
		results int
		audited int
		ask     string // "": "please do the thing"
		silent  bool
	}{
		{"valid call", [][]ToolCall{{call("1", "timer_start", `{"seconds":5}`)}}, "Done.", []string{"timer_start"}, 1, 1, "", false},
		{"invalid arguments", [][]ToolCall{{call("1", "timer_start", `{"seconds":"bad"}`)}}, "Sorry, I couldn't do that.", nil, 0, 1, "", false},
		{"confirm tool asks", [][]ToolCall{{call("1", "wipe", `{}`)}}, "Wipe everything?", nil, 0, 0, "", false},
		{"at most 3 rounds", [][]ToolCall{{call("1", "timer_start", `{}`)}, {call("2", "timer_start", `{}`)}, {call("3", "timer_start", `{}`)},
			{call("4", "timer_start", `{}`)}}, "Sorry, I couldn't finish that.", []string{"timer_start", "timer_start", "timer_start"}, 3, 3, "", false},
		{"a silent model: the tool's words", [][]ToolCall{{call("1", "timer_start", `{"seconds":5}`)}}, "Timer set for 5 seconds.", []string{"timer_start"}, 1, 1, "", true},
		{"Chinese question: the tool answers in Chinese", [][]ToolCall{{call("1", "timer_start", `{"seconds":5}`)}}, "好的，五秒的计时器开始了。", []string{"timer_start"}, 1, 1, "请帮我计时", true},
		{"Chinese question, invalid call", [][]ToolCall{{call("1", "timer_start", `{"seconds":"bad"}`)}}, "抱歉，这个我做不了。", nil, 0, 1, "请帮我计时", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			act := &fakeActor{}
			var h *auditHist
			tc := &toolChat{rounds: c.rounds, silent: c.silent}
			r := newRig(t, withActor(act, &h), withToolModel(tc))
			i := r.readyModel(t)
			if c.ask == "" {
				c.ask = "please do the thing"
			}
			r.a.Ask(c.ask)
			rep, _ := r.rec.next(t, i, EventReply)
			if rep.Text != c.reply {
				t.Errorf("reply = %q, want %q", rep.Text, c.reply)
			}
			r.stop()
			if got := act.runs(); !slices.Equal(got, c.ran) {
				t.Errorf("ran %v, want %v", got, c.ran)
			}
			if len(tc.results) != c.results {
				t.Errorf("%d result rounds handed back, want %d", len(tc.results), c.results)
			}
			if n := len(h.audit()); n != c.audited {
				t.Errorf("%d audit rows, want %d", n, c.audited)
			}
			if !slices.Contains(tc.offered, "timer_start") {
				t.Errorf("tools offered: %v", tc.offered)
			}
		})
	}
}

func TestActionEventJSON(t *testing.T) {
	e := Event{Kind: EventConfirm, Turn: 3, Text: "Wipe everything?", Action: &Action{Tool: "wipe", Args: json.RawMessage(`{}`),
		Source: SourceIntent, Question: "Wipe everything?", Confirmed: ConfirmPending, Duration: 1500 * time.Microsecond}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	a, _ := got["action"].(map[string]any)
	if got["event"] != "confirm" || a["tool"] != "wipe" || a["confirmed"] != "pending" || a["question"] != "Wipe everything?" || a["duration_ms"] != 1.5 {
		t.Errorf("JSON = %s", b)
	}
}

// TestAlertWaitsForTheSpeaker: a timer that rings while speech output is still loading (at
// start-up) is announced once the speaker is ready, and spoken.
func TestAlertWaitsForTheSpeaker(t *testing.T) {
	act := &fakeActor{}
	var h *auditHist
	release := make(chan struct{})
	spk := &fakeSpeaker{}
	r := newRig(t, withActor(act, &h), func(r *rig, o *Options) {
		o.Config.Speak = true
		o.Loaders.Speaker = func(ctx context.Context) (Speaker, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return spk, nil
		}
	})
	r.a.Alert(Alert{Name: "egg timer"})
	r.ready(t)
	r.sync(t)
	if evs := r.rec.all(); slices.ContainsFunc(evs, func(e Event) bool { return e.Kind == EventAlert }) {
		t.Fatalf("alert published before the speaker was ready")
	}
	close(release)
	e, _ := r.rec.next(t, 0, EventAlert)
	if e.Text != "Your egg timer is done." {
		t.Errorf("alert text = %q", e.Text)
	}
	deadline := time.Now().Add(waitLimit)
	for !slices.Contains(spk.saidList(), "Your egg timer is done.") && time.Now().Before(deadline) {
		r.sync(t)
	}
	if said := spk.saidList(); !slices.Contains(said, "Your egg timer is done.") {
		t.Errorf("spoken: %q", said)
	}
}

// TestTap: a tapped Cancel runs its tool as a turn of its own, audited as a tap.
func TestTap(t *testing.T) {
	act := &fakeActor{}
	var h *auditHist
	r := newRig(t, withActor(act, &h))
	i := r.ready(t)
	r.a.Tap(ToolCall{Name: "timer_start", Arguments: json.RawMessage(`{}`)}, "Start the timer")
	e, _ := r.rec.next(t, i, EventAction)
	if e.Action.Source != SourceTap || !e.Action.Done {
		t.Errorf("action = %+v", e.Action)
	}
	if tr, _ := r.rec.next(t, i, EventTranscript); tr.Text != "Start the timer" {
		t.Errorf("transcript = %q", tr.Text)
	}
}

// TestUnmatchedGoesToAPlainModel: a sentence no template matches goes to a model without tool
// support as a plain question.
func TestUnmatchedGoesToAPlainModel(t *testing.T) {
	act := &fakeActor{}
	var h *auditHist
	r := newRig(t, withActor(act, &h))
	i := r.readyModel(t)
	r.a.Ask("tell me a joke")
	if rep, _ := r.rec.next(t, i, EventReply); rep.Text != "Hi there." {
		t.Errorf("reply = %q", rep.Text)
	}
	if asked := r.brain.chat(0).askedList(); !slices.Equal(asked, []string{"tell me a joke"}) {
		t.Errorf("asked %q", asked)
	}
	if len(act.runs()) != 0 {
		t.Errorf("ran %v", act.runs())
	}
}

// TestActionsInChinese: a sentence matched by a Chinese template is checked and run with the
// turn's language in the context, so the actor answers in Chinese, and the assistant's own
// words (a declined question, an alert without words of its own) follow.
func TestActionsInChinese(t *testing.T) {
	act := &fakeActor{}
	var h *auditHist
	r := newRig(t, withActor(act, &h))
	i := r.ready(t)
	r.a.Ask("设置一个五秒的计时器")
	rep, i := r.rec.next(t, i, EventReply)
	if rep.Text != "好的，五秒的计时器开始了。" {
		t.Errorf("reply = %q", rep.Text)
	}
	r.a.Ask("全部清除")
	e, i := r.rec.next(t, i, EventConfirm)
	if e.Text != "全部清除吗？" {
		t.Errorf("question = %q", e.Text)
	}
	_, i = r.rec.next(t, i, EventTurnDone)
	r.a.Ask("不")
	if rep, i = r.rec.next(t, i, EventReply); rep.Text != "好的，不做了。" {
		t.Errorf("after no: %q", rep.Text)
	}
	_, i = r.rec.next(t, i, EventTurnDone)
	// An English sentence is still answered in English.
	r.a.Ask("set a timer for 5 seconds")
	if rep, i = r.rec.next(t, i, EventReply); rep.Text != "Timer set for 5 seconds." {
		t.Errorf("English after Chinese: %q", rep.Text)
	}
	if got, want := act.langList(), []string{"zh", "zh", "zh", "", ""}; !slices.Equal(got, want) {
		t.Errorf("languages told to the actor = %q, want %q", got, want)
	}
	r.a.Alert(Alert{Name: "五分钟计时器", Say: "五分钟计时器时间到了。"})
	if e, _ := r.rec.next(t, i, EventAlert); e.Text != "五分钟计时器时间到了。" {
		t.Errorf("alert = %q", e.Text)
	}
}

func TestActionMessages(t *testing.T) {
	for _, c := range []struct {
		m          actionMsg
		lang, want string
	}{
		{msgWont, "", "Okay, I won't."}, {msgWont, "en", "Okay, I won't."}, {msgWont, "fr", "Okay, I won't."},
		{msgWont, "zh", "好的，不做了。"}, {msgWont, "yue", "好的，不做了。"}, {msgCantDo, "zh", "这个我还做不到。"},
	} {
		if got := c.m.say(c.lang); got != c.want {
			t.Errorf("%d in %q = %q, want %q", c.m, c.lang, got, c.want)
		}
	}
	for m := msgCantDo; m <= msgDone; m++ {
		if s := actionMsgs[m]; s[0] == "" || s[1] == "" {
			t.Errorf("message %d lacks a form: %q", m, s)
		}
	}
}

// TestChineseActionSpokenInChinese: the answer to a Chinese command and a Chinese timer's ring
// reach the speaker with the language in the context, so the Chinese voice says them.
func TestChineseActionSpokenInChinese(t *testing.T) {
	act := &fakeActor{}
	var h *auditHist
	spk := &fakeSpeaker{}
	r := newRig(t, withActor(act, &h), func(r *rig, o *Options) {
		o.Config.Speak = true
		o.Loaders.Speaker = func(context.Context) (Speaker, error) { return spk, nil }
	})
	i := r.ready(t)
	r.a.Ask("设置一个五秒的计时器")
	_, i = r.rec.next(t, i, EventTurnDone)
	r.a.Alert(Alert{Name: "五秒计时器", Say: "五秒计时器时间到了。", Language: "zh"})
	r.rec.next(t, i, EventAlert)
	deadline := time.Now().Add(waitLimit)
	for len(spk.saidList()) < 2 && time.Now().Before(deadline) {
		r.sync(t)
	}
	spk.mu.Lock()
	said, langs := slices.Clone(spk.said), slices.Clone(spk.langs)
	spk.mu.Unlock()
	if want := []string{"好的，五秒的计时器开始了。", "五秒计时器时间到了。"}; !slices.Equal(said, want) {
		t.Errorf("spoken %q, want %q", said, want)
	}
	if want := []string{"zh", "zh"}; !slices.Equal(langs, want) {
		t.Errorf("spoken in %q, want %q", langs, want)
	}
}
