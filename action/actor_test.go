package action

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hark/intent"
)

// fakeClock is a settable clock for the skills (timers still run on real time.AfterFunc).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func newActor(t *testing.T, path string, now func() time.Time, ring func(Ring)) *Actor {
	t.Helper()
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, err := New(Options{Store: st, Now: now, Location: time.UTC, Language: "en", Ring: ring})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// TestPhrasings checks that at least five phrasings reach each built-in skill, with the
// right arguments.
func TestPhrasings(t *testing.T) {
	a := newActor(t, filepath.Join(t.TempDir(), "a.db"), nil, nil)
	cases := []struct {
		say  string
		tool string
		args string // the expected arguments as JSON ("" to skip)
	}{
		{"What time is it?", ToolTime, "{}"},
		{"what's the time", ToolTime, ""},
		{"Tell me the time, please.", ToolTime, ""},
		{"can you tell me what the time is", ToolTime, ""},
		{"time please", ToolTime, ""},
		{"What's the date today?", ToolDate, ""},
		{"what day is it", ToolDate, ""},
		{"what is today's date", ToolDate, ""},
		{"tell me the date", ToolDate, ""},
		{"which day is it today", ToolDate, ""},
		{"Set a timer for 5 seconds", ToolTimerStart, `{"seconds":5}`},
		{"set a timer for five minutes", ToolTimerStart, `{"minutes":5}`},
		{"start a pasta timer for twelve minutes", ToolTimerStart, `{"minutes":12,"name":"pasta"}`},
		{"set a 10 minute timer", ToolTimerStart, `{"minutes":10}`},
		{"timer for 1 hour and 30 minutes", ToolTimerStart, `{"hours":1,"minutes":30}`},
		{"count down from twenty five seconds", ToolTimerStart, `{"seconds":25}`},
		{"set a timer for a minute", ToolTimerStart, `{"minutes":1}`},
		{"set a timer called eggs for 3 minutes", ToolTimerStart, `{"minutes":3,"name":"eggs"}`},
		{"Set an alarm for 7:30 am", ToolAlarmSet, `{"hour":7,"minute":30,"period":"am"}`},
		{"wake me up at 6", ToolAlarmSet, `{"hour":6}`},
		{"alarm at 18:45", ToolAlarmSet, `{"hour":18,"minute":45}`},
		{"set an alarm for seven o'clock in the morning", ToolAlarmSet, `{"hour":7,"period":"am"}`},
		{"set a gym alarm for 5 pm", ToolAlarmSet, `{"hour":5,"period":"pm","name":"gym"}`},
		{"how long is left", ToolTimerStatus, "{}"},
		{"how much time is left on the pasta timer", ToolTimerStatus, `{"name":"pasta"}`},
		{"what's left on the timer", ToolTimerStatus, ""},
		{"show my timers", ToolTimerStatus, ""},
		{"how long until the egg timer goes off", ToolTimerStatus, `{"name":"egg"}`},
		{"cancel the timer", ToolTimerCancel, "{}"},
		{"stop the pasta timer", ToolTimerCancel, `{"name":"pasta"}`},
		{"delete the alarm", ToolTimerCancel, ""},
		{"cancel all timers", ToolTimerCancel, `{"all":true}`},
		{"turn off the timer", ToolTimerCancel, ""},
		{"pause the timer", ToolTimerPause, ""},
		{"pause the pasta timer", ToolTimerPause, `{"name":"pasta"}`},
		{"hold the timer", ToolTimerPause, ""},
		{"put the timer on hold", ToolTimerPause, ""},
		{"freeze the timer", ToolTimerPause, ""},
		{"resume the timer", ToolTimerResume, ""},
		{"continue the pasta timer", ToolTimerResume, `{"name":"pasta"}`},
		{"start the timer again", ToolTimerResume, ""},
		{"unpause the timer", ToolTimerResume, ""},
		{"carry on with the timer", ToolTimerResume, ""},
		{"What is 12 times 7?", ToolCalculate, `{"expression":"12 times 7"}`},
		{"what's two plus two", ToolCalculate, `{"expression":"2 plus 2"}`},
		{"calculate 15 percent of 80", ToolCalculate, ""},
		{"how much is 2 to the power of 10", ToolCalculate, ""},
		{"work out 100 divided by 8", ToolCalculate, ""},
		{"solve 3 * (4 + 5)", ToolCalculate, ""},
		{"convert 5 miles to kilometres", ToolConvert, `{"from":"mile","to":"kilometre","value":5}`},
		{"how many grams are in 2 pounds", ToolConvert, `{"from":"pound","to":"gram","value":2}`},
		{"what is 100 degrees fahrenheit in celsius", ToolConvert, `{"from":"fahrenheit","to":"celsius","value":100}`},
		{"2.5 litres in cups", ToolConvert, `{"from":"litre","to":"cup","value":2.5}`},
		{"60 miles per hour to km/h", ToolConvert, `{"from":"mph","to":"kmh","value":60}`},
		{"note that the plumber comes on Friday", ToolNoteAdd, `{"text":"the plumber comes on friday"}`},
		{"remind me to buy milk", ToolNoteAdd, `{"text":"buy milk"}`},
		{"add eggs to my shopping list", ToolNoteAdd, `{"text":"eggs"}`},
		{"write down call mum", ToolNoteAdd, ""},
		{"take a note the gate code is 4512", ToolNoteAdd, ""},
		{"read my notes", ToolNoteList, ""},
		{"what's on my list", ToolNoteList, ""},
		{"what reminders do i have", ToolNoteList, ""},
		{"show the list", ToolNoteList, ""},
		{"do i have any notes", ToolNoteList, ""},
		{"clear my notes", ToolNoteClear, ""},
		{"delete all notes", ToolNoteClear, ""},
		{"delete everything on my list", ToolNoteClear, ""},
		{"forget all my notes", ToolNoteClear, ""},
		{"erase the list", ToolNoteClear, ""},
		{"Stop!", ToolStop, ""},
		{"be quiet", ToolStop, ""},
		{"stop talking", ToolStop, ""},
		{"that's enough", ToolStop, ""},
		{"shut up", ToolStop, ""},
		{"set the volume to 40", ToolVolume, `{"level":40}`},
		{"volume fifty percent", ToolVolume, `{"level":50}`},
		{"turn it up", ToolVolume, `{"change":"up"}`},
		{"louder please", ToolVolume, `{"change":"up"}`},
		{"quieter", ToolVolume, `{"change":"down"}`},
		{"mute", ToolMute, ""},
		{"mute yourself", ToolMute, ""},
		{"turn off your voice", ToolMute, ""},
		{"don't speak", ToolMute, ""},
		{"no more talking", ToolMute, ""},
		{"unmute", ToolUnmute, ""},
		{"turn on your voice", ToolUnmute, ""},
		{"speak again", ToolUnmute, ""},
		{"you can talk again", ToolUnmute, ""},
		{"talk to me again", ToolUnmute, ""},
		{"new conversation", ToolNewChat, ""},
		{"start a new conversation", ToolNewChat, ""},
		{"forget this conversation", ToolNewChat, ""},
		{"let's start over", ToolNewChat, ""},
		{"clear the conversation", ToolNewChat, ""},
		{"What can you do?", ToolHelp, ""},
		{"help", ToolHelp, ""},
		{"what skills do you have", ToolHelp, ""},
		{"how can you help me", ToolHelp, ""},
		{"what are you able to do", ToolHelp, ""},
	}
	for _, c := range cases {
		m := a.Match("en", c.say)
		if m.Kind != Matched || m.Tool != c.tool {
			t.Errorf("Match(%q) = %v %s (template %q), want %s", c.say, m.Kind, m.Tool, m.Template, c.tool)
			continue
		}
		if g, w, ok := sameJSON(m.Args, c.args); c.args != "" && !ok {
			t.Errorf("Match(%q) args = %s, want %s", c.say, g, w)
		}
	}
	tools := make([]string, len(cases))
	for i, c := range cases {
		tools[i] = c.tool
	}
	checkFivePerTool(t, a, tools, "")
}

// sameJSON compares two JSON documents by value (key order and spacing aside), and returns
// both in one canonical form for the message.
func sameJSON(got json.RawMessage, want string) (g, w string, ok bool) {
	var gv, wv any
	json.Unmarshal(got, &gv)
	json.Unmarshal([]byte(want), &wv)
	gb, _ := json.Marshal(gv)
	wb, _ := json.Marshal(wv)
	return string(gb), string(wb), string(gb) == string(wb)
}

// checkFivePerTool fails for each built-in tool that fewer than five of the tested phrasings
// (one tool name per phrasing) reach; kind names the phrasings in the message ("Chinese ").
func checkFivePerTool(t *testing.T, a *Actor, tools []string, kind string) {
	t.Helper()
	perTool := map[string]int{}
	for _, tool := range tools {
		perTool[tool]++
	}
	for _, tool := range a.Tools() {
		if perTool[tool.Name] < 5 {
			t.Errorf("tool %s: %d %sphrasings tested, want at least 5", tool.Name, perTool[tool.Name], kind)
		}
	}
}

// TestNoMatch: things that are not commands must go to the language model, not act.
func TestNoMatch(t *testing.T) {
	a := newActor(t, filepath.Join(t.TempDir(), "a.db"), nil, nil)
	for _, s := range []string{
		"what is the capital of France", "tell me a joke", "why is the sky blue", "set the table for dinner",
		"how are you", "what is love", "", "...", "timer", "set a timer for zero seconds",
	} {
		if m := a.Match("en", s); m.Kind == Matched {
			t.Errorf("Match(%q) = %s (template %q), want no match", s, m.Tool, m.Template)
		}
	}
	for _, s := range []string{"yes", "Yes please.", "go ahead", "okay"} {
		if m := a.Match("en", s); m.Kind != Yes {
			t.Errorf("Match(%q) = %v, want yes", s, m.Kind)
		}
	}
	for _, s := range []string{"no", "No thanks", "cancel", "never mind"} {
		if m := a.Match("en", s); m.Kind != No {
			t.Errorf("Match(%q) = %v, want no", s, m.Kind)
		}
	}
}

func run(t *testing.T, a *Actor, say string) Result {
	t.Helper()
	m := a.Match("en", say)
	if m.Kind != Matched {
		t.Fatalf("Match(%q) = %v", say, m.Kind)
	}
	res, err := a.Run(context.Background(), m.Tool, m.Args)
	if err != nil {
		t.Fatalf("Run(%q): %v", say, err)
	}
	return res
}

func TestSkills(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 5, 14, 7, 0, 0, time.UTC)}
	a := newActor(t, filepath.Join(t.TempDir(), "a.db"), clk.now, nil)
	cases := []struct{ say, want string }{
		{"what time is it", "It's 14:07."},
		{"what's the date", "Today is Saturday, 5 December 2026."},
		{"what is 12 times 7", "That's 84."},
		{"what's 2 to the power of 10", "That's 1024."},
		{"calculate 15 percent of 80", "That's 12."},
		{"what is 1 divided by 3", "That's 0.333333."},
		{"what's 3 * (4 + 5) - 2", "That's 25."},
		{"what is the square root of 81", "That's 9."},
		{"convert 100 fahrenheit to celsius", "100 degrees Fahrenheit is 37.78 degrees Celsius."},
		{"convert 5 miles to kilometres", "5 miles is 8.047 kilometres."},
		{"how many grams are in 1 pound", "1 pound is 453.6 grams."},
		{"convert 5 kg to miles", "I can't convert that: kilograms and miles measure different things."},
		{"what's on my list", "Your list is empty."},
		{"remind me to buy milk", "Noted: buy milk."},
		{"add eggs to my list", "Noted: eggs."},
		{"read my notes", "You have 2 notes: buy milk; eggs."},
		{"set a pasta timer for 10 minutes", "Timer set for 10 minutes."},
		{"set a timer for 1 hour and 5 seconds", "Timer set for 1 hour."},
		{"how long is left on the pasta timer", "The pasta timer has 10 minutes left."},
		{"cancel the timer", "Which one? The pasta timer has 10 minutes left; the 1 hour timer has 1 hour left."},
		{"pause the pasta timer", "Paused the pasta timer with 10 minutes left."},
		{"how long is left", "The pasta timer has 10 minutes left (paused); the 1 hour timer has 1 hour left."},
		{"resume the pasta timer", "Resumed the pasta timer."},
		{"cancel all timers", "Cancelled 2 timers."},
		{"how long is left", "There are no timers running."},
		{"set an alarm for 7 am", "Alarm set for 07:00 tomorrow."},
		{"set an alarm for 6 pm", "Alarm set for 18:00 today."},
		{"set the volume to 40", "Volume 40."},
		{"turn it up", "Volume 50."},
	}
	for _, c := range cases {
		if got := run(t, a, c.say).Say; got != c.want {
			t.Errorf("%q → %q, want %q", c.say, got, c.want)
		}
	}
	a.clock.hour12 = true
	if got := run(t, a, "what time is it").Say; got != "It's 2:07 PM." {
		t.Errorf("12-hour clock: %q", got)
	}
}

func TestValidation(t *testing.T) {
	a := newActor(t, filepath.Join(t.TempDir(), "a.db"), nil, nil)
	for _, c := range []struct{ tool, args string }{
		{ToolTimerStart, `{"minutes":"five"}`},
		{ToolTimerStart, `{"minutes":-3}`},
		{ToolTimerStart, `{"minutes":5,"rm":"-rf /"}`},
		{ToolConvert, `{"value":1,"from":"parsec","to":"metre"}`},
		{ToolCalculate, `{}`},
		{ToolCalculate, `not json`},
	} {
		if _, err := a.Run(context.Background(), c.tool, json.RawMessage(c.args)); !errors.Is(err, ErrInvalidArgs) {
			t.Errorf("Run(%s, %s) = %v, want ErrInvalidArgs", c.tool, c.args, err)
		}
	}
	if _, err := a.Run(context.Background(), "shell_exec", json.RawMessage(`{}`)); !errors.Is(err, ErrUnknownTool) {
		t.Errorf("unknown tool: %v", err)
	}
	a.Registry().Enable([]string{ToolTime})
	if _, err := a.Run(context.Background(), ToolCalculate, json.RawMessage(`{"expression":"1+1"}`)); !errors.Is(err, ErrUnknownTool) {
		t.Errorf("disabled tool ran: %v", err)
	}
	if m := a.Match("en", "what is 1 plus 1"); m.Kind == Matched {
		t.Errorf("a disabled tool's template matched: %s", m.Tool)
	}
}

func TestUnknownEnabledTool(t *testing.T) {
	st, err := OpenStore(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := New(Options{Store: st, Enabled: []string{ToolTime, "timer_strat"}}); err == nil || !strings.Contains(err.Error(), "timer_strat") {
		t.Errorf("New with a misspelt tool = %v", err)
	}
}

func TestHangingToolIsCutOff(t *testing.T) {
	r := NewRegistry()
	block := make(chan struct{})
	defer close(block)
	if err := r.Register(Tool{Name: "hang", Timeout: 50 * time.Millisecond, Handler: func(context.Context, Args) (Result, error) {
		<-block // ignores its context
		return Result{Done: true}, nil
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(context.Background(), "hang", nil); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Run = %v, want ErrTimeout", err)
	}
}

func TestConfirmCheck(t *testing.T) {
	a := newActor(t, filepath.Join(t.TempDir(), "a.db"), nil, nil)
	// Nothing on the list: no "Delete all 0 notes?", just the news that there is nothing.
	for _, lang := range []string{"en", "zh"} {
		ctx := WithLanguage(context.Background(), lang)
		if risk, q, err := a.Check(ctx, ToolNoteClear, json.RawMessage(`{}`)); err != nil || risk != Safe || q != "" {
			t.Fatalf("%s, empty list: Check(note_clear) = %v, %q, %v", lang, risk, q, err)
		}
		res, err := a.Run(ctx, ToolNoteClear, nil)
		if want := map[string]string{"en": "There are no notes to delete.", "zh": "没有可删除的笔记。"}[lang]; err != nil || res.Say != want {
			t.Fatalf("%s, empty list: %q, %v; want %q", lang, res.Say, err, want)
		}
	}
	run(t, a, "remind me to call the dentist")
	risk, q, err := a.Check(context.Background(), ToolNoteClear, json.RawMessage(`{}`))
	if err != nil || risk != Confirm || q != "Delete all 1 note?" {
		t.Fatalf("Check(note_clear) = %v, %q, %v", risk, q, err)
	}
	if risk, _, _ := a.Check(context.Background(), ToolTime, nil); risk != Safe {
		t.Fatalf("clock_time risk = %v", risk)
	}
}

// TestTimersSurviveRestart: a timer set before the actor goes away rings after it is rebuilt
// on the same store, and one that came due long ago is reported as missed.
func TestTimersSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	a := newActor(t, path, nil, nil)
	run(t, a, "set an egg timer for 1 second")
	run(t, a, "set a tea timer for 5 minutes")
	a.Close()
	// Make the tea timer one that came due an hour ago.
	if _, err := a.store.db.Exec(`UPDATE timers SET due_at = ? WHERE name = 'tea timer'`, time.Now().Add(-time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	rings := make(chan Ring, 4)
	b := newActor(t, path, nil, func(r Ring) { rings <- r })
	got := map[string]Ring{}
	for len(got) < 2 {
		select {
		case r := <-rings:
			got[r.Timer.Name] = r
		case <-time.After(5 * time.Second):
			t.Fatalf("rang %v, want the egg and tea timers", got)
		}
	}
	if r := got["egg timer"]; r.Missed || r.Timer.State != TimerRang {
		t.Errorf("egg timer: %+v, want rang on time", r)
	}
	if r := got["tea timer"]; !r.Missed || r.Timer.State != TimerMissed {
		t.Errorf("tea timer: %+v, want missed", r)
	}
	if list, _ := b.Timers().Active(context.Background()); len(list) != 0 {
		t.Errorf("active after ringing: %v", list)
	}
}

func TestHour12For(t *testing.T) {
	for loc, want := range map[string]bool{"en_US.UTF-8": true, "en_GB.UTF-8": false, "de_DE": false, "zh_CN.UTF-8": false, "en-AU": true, "C": false, "": false} {
		if got := Hour12For(loc); got != want {
			t.Errorf("Hour12For(%q) = %v, want %v", loc, got, want)
		}
	}
}

// BenchmarkMatchBuiltin matches sentences against the built-in templates, on an English
// set-up (Chinese sentences fall through to the Chinese templates).
func BenchmarkMatchBuiltin(b *testing.B) {
	st, err := OpenStore(filepath.Join(b.TempDir(), "a.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	a, err := New(Options{Store: st, Language: "en"})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d built-in templates", a.Templates().Len())
	for _, s := range []string{"set a pasta timer for 10 minutes", "what is the capital of France", "设置一个五分钟的计时器", "讲个笑话"} {
		b.Run(s, func(b *testing.B) {
			for b.Loop() {
				a.Match("en", s)
			}
		})
	}
}

// A tool with RiskFor asks for a yes only for the calls that need one, and a connector's tools
// and templates given in Options are there like the built-in ones.
func TestRiskForAndExtraTools(t *testing.T) {
	st, err := OpenStore(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tool := Tool{Name: "dev_on", Description: "Turn a device on.",
		Schema:   json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`),
		RiskFor:  func(a Args) Risk { return map[bool]Risk{true: Confirm}[a.String("name") == "lock"] },
		Question: func(a Args) string { return "Lock it?" },
		Handler:  func(ctx context.Context, a Args) (Result, error) { return Result{Done: true, Say: "ok"}, nil }}
	tpl := intent.NamedFile{Name: "dev.toml", File: intent.File{Language: "en",
		Intents: map[string][]intent.Group{"dev_on": {{Sentences: []string{"power up [the] {name}"}}}},
		Lists:   map[string]intent.List{"name": {Values: []any{"lamp", "lock"}}}}}
	a, err := New(Options{Store: st, Tools: []Tool{tool}, Templates: []intent.NamedFile{tpl}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, c := range []struct {
		sentence string
		risk     Risk
		question string
	}{{"power up the lamp", Safe, ""}, {"power up the lock", Confirm, "Lock it?"}} {
		m := a.Match("en", c.sentence)
		if m.Kind != Matched || m.Tool != "dev_on" {
			t.Fatalf("Match(%q) = %+v", c.sentence, m)
		}
		risk, q, err := a.Check(context.Background(), m.Tool, m.Args)
		if err != nil || risk != c.risk || q != c.question {
			t.Errorf("Check(%s) = %v, %q, %v; want %v, %q", m.Args, risk, q, err, c.risk, c.question)
		}
	}
}
