package action

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Tool names of the built-in skills. The templates' intent names are the same.
const (
	ToolTime        = "clock_time"
	ToolDate        = "clock_date"
	ToolTimerStart  = "timer_start"
	ToolAlarmSet    = "alarm_set"
	ToolTimerStatus = "timer_status"
	ToolTimerCancel = "timer_cancel"
	ToolTimerPause  = "timer_pause"
	ToolTimerResume = "timer_resume"
	ToolCalculate   = "calculate"
	ToolConvert     = "convert_units"
	ToolNoteAdd     = "note_add"
	ToolNoteList    = "note_list"
	ToolNoteClear   = "note_clear"
	ToolStop        = "hark_stop"
	ToolVolume      = "hark_volume"
	ToolMute        = "hark_mute"
	ToolUnmute      = "hark_unmute"
	ToolNewChat     = "hark_new_conversation"
	ToolHelp        = "hark_help"
)

// clock is how the skills tell and say the time.
type clock struct {
	now    func() time.Time
	loc    *time.Location
	hour12 bool
}

func (c clock) time() time.Time { return c.now().In(c.loc) }

func (c clock) sayTime(t time.Time) string {
	if c.hour12 {
		return t.Format("3:04 PM")
	}
	return t.Format("15:04")
}

// sayTimeIn says a time of day in l (Chinese: 下午三点零五分, whatever the clock).
func (c clock) sayTimeIn(l lang, t time.Time) string {
	if l == langZH {
		return zhClock(t)
	}
	return c.sayTime(t)
}

// sayDate says a date in l: "Saturday, 5 December 2026", "2026年12月5日，星期六".
func sayDate(l lang, t time.Time) string {
	if l == langZH {
		return zhDate(t)
	}
	return t.Format("Monday, 2 January 2006")
}

func schema(s string) json.RawMessage { return json.RawMessage(s) }

const nameProp = `"name":{"type":"string","maxLength":60,"description":"the timer's name, e.g. pasta"}`

// registerBuiltins adds the built-in skills to r.
func (a *Actor) registerBuiltins() error {
	c := &a.clock
	tools := []Tool{
		{Name: ToolTime, Description: "Tell the current time.", Handler: func(ctx context.Context, _ Args) (Result, error) {
			t := c.time()
			return Result{Done: true, Say: langOf(ctx).f("It's %s.", "现在是%s。", c.sayTimeIn(langOf(ctx), t)), Data: map[string]any{"time": t.Format(time.RFC3339)}}, nil
		}},
		{Name: ToolDate, Description: "Tell today's date.", Handler: func(ctx context.Context, _ Args) (Result, error) {
			t := c.time()
			return Result{Done: true, Say: langOf(ctx).f("Today is %s.", "今天是%s。", sayDate(langOf(ctx), t)), Data: map[string]any{"date": t.Format("2006-01-02")}}, nil
		}},
		{Name: ToolTimerStart, Description: "Start a countdown timer. Give its length in hours, minutes and seconds, and optionally a name.",
			Schema: schema(`{"type":"object","properties":{"hours":{"type":"integer","minimum":0,"maximum":99},
				"minutes":{"type":"integer","minimum":0,"maximum":5999},"seconds":{"type":"integer","minimum":0,"maximum":86399},` + nameProp + `},
				"additionalProperties":false}`),
			Handler: a.timerStart},
		{Name: ToolAlarmSet, Description: "Set an alarm at a time of day (24-hour clock, or 12-hour with period am/pm).",
			Schema: schema(`{"type":"object","properties":{"hour":{"type":"integer","minimum":0,"maximum":23},
				"minute":{"type":"integer","minimum":0,"maximum":59},"period":{"enum":["am","pm"]},` + nameProp + `},
				"required":["hour"],"additionalProperties":false}`),
			Handler: a.alarmSet},
		{Name: ToolTimerStatus, Description: "Say how long is left on the running timers (or the one named).",
			Schema: schema(`{"type":"object","properties":{` + nameProp + `},"additionalProperties":false}`), Handler: a.timerStatus},
		{Name: ToolTimerCancel, Description: "Cancel a timer or alarm (the one named, or the only one running).",
			Schema: schema(`{"type":"object","properties":{` + nameProp + `,"all":{"type":"boolean"}},"additionalProperties":false}`), Handler: a.timerCancel},
		{Name: ToolTimerPause, Description: "Pause a running timer.",
			Schema: schema(`{"type":"object","properties":{` + nameProp + `},"additionalProperties":false}`), Handler: a.timerPause},
		{Name: ToolTimerResume, Description: "Resume a paused timer.",
			Schema: schema(`{"type":"object","properties":{` + nameProp + `},"additionalProperties":false}`), Handler: a.timerResume},
		{Name: ToolCalculate, Description: "Work out arithmetic exactly: + - * / ^, brackets, percent, square root.",
			Schema: schema(`{"type":"object","properties":{"expression":{"type":"string","minLength":1,"maxLength":200}},"required":["expression"],"additionalProperties":false}`),
			Accept: func(args Args) bool { _, err := Calculate(args.String("expression")); return err == nil },
			Handler: func(ctx context.Context, args Args) (Result, error) {
				expr := args.String("expression")
				v, err := Calculate(expr)
				if err != nil {
					return Result{Say: langOf(ctx).f("I can't work that out: "+err.Error()+".", "这个我算不出来。")}, nil
				}
				return Result{Done: true, Say: langOf(ctx).f("That's %s.", "等于%s。", SayNumber(v)), Data: map[string]any{"expression": expr, "value": v}}, nil
			}},
		{Name: ToolConvert, Description: "Convert a quantity between units of length, mass, volume, temperature, speed or time.",
			Schema: a.convertSchema(), Handler: func(ctx context.Context, args Args) (Result, error) {
				l := langOf(ctx)
				v, from, to := args.Float("value", 0), args.String("from"), args.String("to")
				r, err := Convert(v, from, to)
				if err != nil {
					return Result{Say: l.f("I can't convert that: "+err.Error()+".", "这个我换算不了。")}, nil
				}
				return Result{Done: true, Say: l.f("%s is %s.", "%s等于%s。", l.sayQuantity(v, from), l.sayQuantity(r, to)),
					Data: map[string]any{"value": v, "from": from, "to": to, "result": r}}, nil
			}},
		{Name: ToolNoteAdd, Description: "Add a line to the notes and reminders list.",
			Schema: schema(`{"type":"object","properties":{"text":{"type":"string","minLength":1,"maxLength":500}},"required":["text"],"additionalProperties":false}`),
			Handler: func(ctx context.Context, args Args) (Result, error) {
				text := strings.TrimSpace(args.String("text"))
				if err := a.store.addNote(ctx, c.now(), text); err != nil {
					return Result{}, err
				}
				return Result{Done: true, Say: langOf(ctx).f("Noted: %s.", "记下了：%s。", text), Data: map[string]any{"text": text}}, nil
			}},
		{Name: ToolNoteList, Description: "Read the notes and reminders list.", Handler: func(ctx context.Context, _ Args) (Result, error) {
			ns, err := a.store.notes(ctx)
			if err != nil {
				return Result{}, err
			}
			l := langOf(ctx)
			if len(ns) == 0 {
				return Result{Done: true, Say: l.f("Your list is empty.", "你的清单是空的。"), Data: []Note{}}, nil
			}
			var texts []string
			for _, n := range ns {
				texts = append(texts, n.Text)
			}
			if l == langZH {
				return Result{Done: true, Say: "你有" + zhCount(len(ns)) + "条笔记：" + strings.Join(texts, "；") + "。", Data: ns}, nil
			}
			return Result{Done: true, Say: fmt.Sprintf("You have %d note%s: %s.", len(ns), plural(len(ns)), strings.Join(texts, "; ")), Data: ns}, nil
		}},
		{Name: ToolNoteClear, Description: "Delete every note on the list.", Risk: Confirm,
			// An empty list has nothing to confirm ("Delete all 0 notes?"): the handler says so.
			RiskFor: func(Args) Risk {
				if ns, err := a.store.notes(context.Background()); err == nil && len(ns) == 0 {
					return Safe
				}
				return Confirm
			},
			Ask: func(ctx context.Context, _ Args) string {
				ns, _ := a.store.notes(ctx)
				if langOf(ctx) == langZH {
					return "删除全部" + zhCount(len(ns)) + "条笔记吗？"
				}
				return fmt.Sprintf("Delete all %d note%s?", len(ns), plural(len(ns)))
			},
			Handler: func(ctx context.Context, _ Args) (Result, error) {
				n, err := a.store.clearNotes(ctx)
				if err != nil {
					return Result{}, err
				}
				if n == 0 {
					return Result{Done: true, Say: langOf(ctx).f("There are no notes to delete.", "没有可删除的笔记。"), Data: map[string]any{"deleted": 0}}, nil
				}
				if langOf(ctx) == langZH {
					return Result{Done: true, Say: "已删除" + zhCount(int(n)) + "条笔记。", Data: map[string]any{"deleted": n}}, nil
				}
				return Result{Done: true, Say: fmt.Sprintf("Deleted %d note%s.", n, plural(int(n))), Data: map[string]any{"deleted": n}}, nil
			}},
		{Name: ToolStop, Description: "Stop talking.", Handler: func(context.Context, Args) (Result, error) {
			return Result{Done: true, Control: ControlStop}, nil
		}},
		{Name: ToolVolume, Description: "Set the speech volume (0 to 100), or turn it up or down.",
			Schema:  schema(`{"type":"object","properties":{"level":{"type":"integer","minimum":0,"maximum":100},"change":{"enum":["up","down"]}},"additionalProperties":false}`),
			Handler: a.volume},
		{Name: ToolMute, Description: "Stop speaking replies aloud (they are still shown).", Handler: func(ctx context.Context, _ Args) (Result, error) {
			return Result{Done: true, Say: langOf(ctx).f("Muted.", "已静音。"), Control: ControlMute}, nil
		}},
		{Name: ToolUnmute, Description: "Speak replies aloud again.", Handler: func(ctx context.Context, _ Args) (Result, error) {
			return Result{Done: true, Say: langOf(ctx).f("Speech is back on.", "语音已恢复。"), Control: ControlUnmute}, nil
		}},
		{Name: ToolNewChat, Description: "Forget the conversation and start a new one.", Handler: func(ctx context.Context, _ Args) (Result, error) {
			return Result{Done: true, Say: langOf(ctx).f("Starting a new conversation.", "开始新的对话。"), Control: ControlNewChat}, nil
		}},
		{Name: ToolHelp, Description: "Say what Hark can do.", Handler: func(ctx context.Context, _ Args) (Result, error) {
			return Result{Done: true, Say: langOf(ctx).f("I can tell the time and date, set timers and alarms, do sums and convert units, "+
				"keep a list of notes, and change my volume. Ask me anything else and I'll answer if I can.",
				"我可以报时和报日期，设定计时器和闹钟，做算术和单位换算，记笔记，还能调音量。别的问题也可以问我，我尽量回答。")}, nil
		}},
	}
	for _, t := range tools {
		if err := a.reg.Register(t); err != nil {
			return err
		}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (a *Actor) convertSchema() json.RawMessage {
	names, _ := json.Marshal(UnitNames())
	return schema(`{"type":"object","properties":{"value":{"type":"number"},"from":{"enum":` + string(names) + `},"to":{"enum":` + string(names) + `}},
		"required":["value","from","to"],"additionalProperties":false}`)
}

func (a *Actor) timerStart(ctx context.Context, args Args) (Result, error) {
	l := langOf(ctx)
	d := time.Duration(args.Int("hours", 0))*time.Hour + time.Duration(args.Int("minutes", 0))*time.Minute +
		time.Duration(args.Int("seconds", 0))*time.Second
	if d <= 0 {
		return Result{Say: l.f("How long should the timer be?", "计时器要设多长时间？")}, nil
	}
	tm, err := a.timers.start(ctx, l.timerName(args.String("name"), d), d, l.code())
	if err != nil {
		return Result{}, err
	}
	return Result{Done: true, Say: l.f("Timer set for %s.", "好的，%s的计时器开始了。", l.sayDuration(d)), Data: tm}, nil
}

// timerName is a timer's name: the one given with "timer" added ("pasta timer", "煮面计时器"),
// or its length ("5 minute timer", "五分钟计时器").
func (l lang) timerName(name string, d time.Duration) string {
	name = strings.TrimSpace(name)
	if l == langZH {
		if name == "" {
			return l.sayDuration(d) + "计时器"
		}
		if strings.HasSuffix(name, "计时器") || strings.HasSuffix(name, "定时器") {
			return name
		}
		return name + "计时器"
	}
	if name == "" {
		// "5 minute timer": the units of a length used as an adjective are singular.
		return strings.NewReplacer("hours", "hour", "minutes", "minute", "seconds", "second").Replace(SayDuration(d)) + " timer"
	}
	if !strings.HasSuffix(name, "timer") {
		name += " timer"
	}
	return name
}

func (a *Actor) alarmSet(ctx context.Context, args Args) (Result, error) {
	l := langOf(ctx)
	h, m, period := args.Int("hour", 0), args.Int("minute", 0), args.String("period")
	switch {
	case period != "" && (h < 1 || h > 12):
		return Result{Say: l.f("That is not a time on a 12-hour clock.", "这不是十二小时制的时间。")}, nil
	case period == "pm" && h != 12:
		h += 12
	case period == "am" && h == 12:
		h = 0
	}
	now := a.clock.time()
	at := time.Date(now.Year(), now.Month(), now.Day(), h, m, 0, 0, a.clock.loc)
	if !at.After(now) {
		at = at.AddDate(0, 0, 1)
	}
	when := a.clock.sayTimeIn(l, at)
	name := strings.TrimSpace(args.String("name"))
	if name == "" {
		name = l.f("%s alarm", "%s的闹钟", when)
	}
	tm, err := a.timers.alarm(ctx, name, at, l.code())
	if err != nil {
		return Result{}, err
	}
	if at.Day() != now.Day() {
		return Result{Done: true, Say: l.f("Alarm set for %s tomorrow.", "好的，闹钟定在明天%s。", when), Data: tm}, nil
	}
	return Result{Done: true, Say: l.f("Alarm set for %s today.", "好的，闹钟定在今天%s。", when), Data: tm}, nil
}

// pick finds the one timer a command is about, or says why it cannot.
func (a *Actor) pick(ctx context.Context, args Args) (Timer, *Result, error) {
	l := langOf(ctx)
	name := args.String("name")
	list, err := a.timers.Find(ctx, name)
	if err != nil {
		return Timer{}, nil, err
	}
	switch len(list) {
	case 0:
		if name != "" {
			return Timer{}, &Result{Say: l.f("There is no %s timer.", "没有叫%s的计时器。", strings.TrimSuffix(strings.TrimSuffix(name, " timer"), "计时器"))}, nil
		}
		return Timer{}, &Result{Say: l.f("There are no timers running.", "现在没有计时器在运行。")}, nil
	case 1:
		return list[0], nil, nil
	}
	return Timer{}, &Result{Say: l.f("Which one? %s", "哪一个？%s", a.describeTimers(l, list)), Data: list}, nil
}

func (a *Actor) describeTimers(l lang, list []Timer) string {
	now := a.clock.now()
	var parts []string
	for _, t := range list {
		left := l.sayDuration(t.Remaining(now))
		if l == langZH {
			s := t.Name + "还剩" + left
			if t.State == TimerPaused {
				s += "（已暂停）"
			}
			parts = append(parts, s)
			continue
		}
		s := "the " + t.Name + " has " + left + " left"
		if t.State == TimerPaused {
			s += " (paused)"
		}
		parts = append(parts, s)
	}
	if l == langZH {
		return strings.Join(parts, "；") + "。"
	}
	return strings.ToUpper(parts[0][:1]) + strings.Join(parts, "; ")[1:] + "."
}

func (a *Actor) timerStatus(ctx context.Context, args Args) (Result, error) {
	l := langOf(ctx)
	list, err := a.timers.Find(ctx, args.String("name"))
	if err != nil {
		return Result{}, err
	}
	if len(list) == 0 {
		return Result{Done: true, Say: l.f("There are no timers running.", "现在没有计时器在运行。"), Data: []Timer{}}, nil
	}
	return Result{Done: true, Say: a.describeTimers(l, list), Data: list}, nil
}

func (a *Actor) timerCancel(ctx context.Context, args Args) (Result, error) {
	l := langOf(ctx)
	if all, _ := args["all"].(bool); all {
		list, err := a.timers.Active(ctx)
		if err != nil {
			return Result{}, err
		}
		for _, t := range list {
			if err := a.timers.Cancel(ctx, t); err != nil {
				return Result{}, err
			}
		}
		if l == langZH {
			return Result{Done: true, Say: "已取消" + zhCount(len(list)) + "个计时器。", Data: list}, nil
		}
		return Result{Done: true, Say: fmt.Sprintf("Cancelled %d timer%s.", len(list), plural(len(list))), Data: list}, nil
	}
	t, res, err := a.pick(ctx, args)
	if res != nil || err != nil {
		return derefResult(res), err
	}
	if err := a.timers.Cancel(ctx, t); err != nil {
		return Result{}, err
	}
	t.State = TimerCancelled
	return Result{Done: true, Say: l.f("Cancelled the %s.", "已取消%s。", t.Name), Data: t}, nil
}

func (a *Actor) timerPause(ctx context.Context, args Args) (Result, error) {
	l := langOf(ctx)
	t, res, err := a.pick(ctx, args)
	if res != nil || err != nil {
		return derefResult(res), err
	}
	if t.State != TimerRunning {
		return Result{Say: l.f("The %s is not running.", "%s没有在走。", t.Name)}, nil
	}
	if t, err = a.timers.Pause(ctx, t); err != nil {
		return Result{}, err
	}
	return Result{Done: true, Say: l.f("Paused the %s with %s left.", "已暂停%s，还剩%s。", t.Name, l.sayDuration(t.Left)), Data: t}, nil
}

func (a *Actor) timerResume(ctx context.Context, args Args) (Result, error) {
	l := langOf(ctx)
	t, res, err := a.pick(ctx, args)
	if res != nil || err != nil {
		return derefResult(res), err
	}
	if t.State != TimerPaused {
		return Result{Say: l.f("The %s is not paused.", "%s没有暂停。", t.Name)}, nil
	}
	if t, err = a.timers.Resume(ctx, t); err != nil {
		return Result{}, err
	}
	return Result{Done: true, Say: l.f("Resumed the %s.", "%s继续计时。", t.Name), Data: t}, nil
}

func derefResult(r *Result) Result {
	if r == nil {
		return Result{}
	}
	return *r
}

func (a *Actor) volume(ctx context.Context, args Args) (Result, error) {
	l := langOf(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	level := a.level
	switch {
	case args["level"] != nil:
		level = args.Int("level", level)
	case args.String("change") == "up":
		level = min(100, level+10)
	case args.String("change") == "down":
		level = max(0, level-10)
	default:
		return Result{Done: true, Say: l.f("The volume is %s.", "现在音量是%s。", l.number(level)), Data: map[string]any{"level": level}}, nil
	}
	a.level = level
	return Result{Done: true, Say: l.f("Volume %s.", "音量%s。", l.number(level)), Control: ControlVolume, Level: level, Data: map[string]any{"level": level}}, nil
}

// number writes an integer in l: digits in English, a Chinese numeral in Chinese.
func (l lang) number(n int) string {
	if l == langZH {
		return zhNumber(n)
	}
	return fmt.Sprint(n)
}
