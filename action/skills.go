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

func schema(s string) json.RawMessage { return json.RawMessage(s) }

const nameProp = `"name":{"type":"string","maxLength":60,"description":"the timer's name, e.g. pasta"}`

// registerBuiltins adds the built-in skills to r.
func (a *Actor) registerBuiltins() error {
	c := &a.clock
	tools := []Tool{
		{Name: ToolTime, Description: "Tell the current time.", Handler: func(context.Context, Args) (Result, error) {
			t := c.time()
			return Result{Done: true, Say: "It's " + c.sayTime(t) + ".", Data: map[string]any{"time": t.Format(time.RFC3339)}}, nil
		}},
		{Name: ToolDate, Description: "Tell today's date.", Handler: func(context.Context, Args) (Result, error) {
			t := c.time()
			return Result{Done: true, Say: "Today is " + t.Format("Monday, 2 January 2006") + ".", Data: map[string]any{"date": t.Format("2006-01-02")}}, nil
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
			Handler: func(_ context.Context, args Args) (Result, error) {
				expr := args.String("expression")
				v, err := Calculate(expr)
				if err != nil {
					return Result{Say: "I can't work that out: " + err.Error() + "."}, nil
				}
				return Result{Done: true, Say: "That's " + SayNumber(v) + ".", Data: map[string]any{"expression": expr, "value": v}}, nil
			}},
		{Name: ToolConvert, Description: "Convert a quantity between units of length, mass, volume, temperature, speed or time.",
			Schema: a.convertSchema(), Handler: func(_ context.Context, args Args) (Result, error) {
				v, from, to := args.Float("value", 0), args.String("from"), args.String("to")
				r, err := Convert(v, from, to)
				if err != nil {
					return Result{Say: "I can't convert that: " + err.Error() + "."}, nil
				}
				return Result{Done: true, Say: sayQuantity(v, from) + " is " + sayQuantity(r, to) + ".",
					Data: map[string]any{"value": v, "from": from, "to": to, "result": r}}, nil
			}},
		{Name: ToolNoteAdd, Description: "Add a line to the notes and reminders list.",
			Schema: schema(`{"type":"object","properties":{"text":{"type":"string","minLength":1,"maxLength":500}},"required":["text"],"additionalProperties":false}`),
			Handler: func(ctx context.Context, args Args) (Result, error) {
				text := strings.TrimSpace(args.String("text"))
				if err := a.store.addNote(ctx, c.now(), text); err != nil {
					return Result{}, err
				}
				return Result{Done: true, Say: "Noted: " + text + ".", Data: map[string]any{"text": text}}, nil
			}},
		{Name: ToolNoteList, Description: "Read the notes and reminders list.", Handler: func(ctx context.Context, _ Args) (Result, error) {
			ns, err := a.store.notes(ctx)
			if err != nil {
				return Result{}, err
			}
			if len(ns) == 0 {
				return Result{Done: true, Say: "Your list is empty.", Data: []Note{}}, nil
			}
			var texts []string
			for _, n := range ns {
				texts = append(texts, n.Text)
			}
			return Result{Done: true, Say: fmt.Sprintf("You have %d note%s: %s.", len(ns), plural(len(ns)), strings.Join(texts, "; ")), Data: ns}, nil
		}},
		{Name: ToolNoteClear, Description: "Delete every note on the list.", Risk: Confirm,
			Question: func(Args) string {
				ns, _ := a.store.notes(context.Background())
				return fmt.Sprintf("Delete all %d note%s?", len(ns), plural(len(ns)))
			},
			Handler: func(ctx context.Context, _ Args) (Result, error) {
				n, err := a.store.clearNotes(ctx)
				if err != nil {
					return Result{}, err
				}
				return Result{Done: true, Say: fmt.Sprintf("Deleted %d note%s.", n, plural(int(n))), Data: map[string]any{"deleted": n}}, nil
			}},
		{Name: ToolStop, Description: "Stop talking.", Handler: func(context.Context, Args) (Result, error) {
			return Result{Done: true, Control: ControlStop}, nil
		}},
		{Name: ToolVolume, Description: "Set the speech volume (0 to 100), or turn it up or down.",
			Schema:  schema(`{"type":"object","properties":{"level":{"type":"integer","minimum":0,"maximum":100},"change":{"enum":["up","down"]}},"additionalProperties":false}`),
			Handler: a.volume},
		{Name: ToolMute, Description: "Stop speaking replies aloud (they are still shown).", Handler: func(context.Context, Args) (Result, error) {
			return Result{Done: true, Say: "Muted.", Control: ControlMute}, nil
		}},
		{Name: ToolUnmute, Description: "Speak replies aloud again.", Handler: func(context.Context, Args) (Result, error) {
			return Result{Done: true, Say: "Speech is back on.", Control: ControlUnmute}, nil
		}},
		{Name: ToolNewChat, Description: "Forget the conversation and start a new one.", Handler: func(context.Context, Args) (Result, error) {
			return Result{Done: true, Say: "Starting a new conversation.", Control: ControlNewChat}, nil
		}},
		{Name: ToolHelp, Description: "Say what Hark can do.", Handler: func(context.Context, Args) (Result, error) {
			return Result{Done: true, Say: "I can tell the time and date, set timers and alarms, do sums and convert units, " +
				"keep a list of notes, and change my volume. Ask me anything else and I'll answer if I can."}, nil
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
	d := time.Duration(args.Int("hours", 0))*time.Hour + time.Duration(args.Int("minutes", 0))*time.Minute +
		time.Duration(args.Int("seconds", 0))*time.Second
	if d <= 0 {
		return Result{Say: "How long should the timer be?"}, nil
	}
	name := strings.TrimSpace(args.String("name"))
	if name == "" {
		// "5 minute timer": the units of a length used as an adjective are singular.
		name = strings.NewReplacer("hours", "hour", "minutes", "minute", "seconds", "second").Replace(SayDuration(d)) + " timer"
	} else if !strings.HasSuffix(name, "timer") {
		name += " timer"
	}
	tm, err := a.timers.Start(ctx, name, d)
	if err != nil {
		return Result{}, err
	}
	return Result{Done: true, Say: "Timer set for " + SayDuration(d) + ".", Data: tm}, nil
}

func (a *Actor) alarmSet(ctx context.Context, args Args) (Result, error) {
	h, m, period := args.Int("hour", 0), args.Int("minute", 0), args.String("period")
	switch {
	case period != "" && (h < 1 || h > 12):
		return Result{Say: "That is not a time on a 12-hour clock."}, nil
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
	name := strings.TrimSpace(args.String("name"))
	if name == "" {
		name = a.clock.sayTime(at) + " alarm"
	}
	tm, err := a.timers.Alarm(ctx, name, at)
	if err != nil {
		return Result{}, err
	}
	day := "today"
	if at.Day() != now.Day() {
		day = "tomorrow"
	}
	return Result{Done: true, Say: "Alarm set for " + a.clock.sayTime(at) + " " + day + ".", Data: tm}, nil
}

// pick finds the one timer a command is about, or says why it cannot.
func (a *Actor) pick(ctx context.Context, args Args) (Timer, *Result, error) {
	list, err := a.timers.Find(ctx, args.String("name"))
	if err != nil {
		return Timer{}, nil, err
	}
	switch len(list) {
	case 0:
		if args.String("name") != "" {
			return Timer{}, &Result{Say: "There is no " + strings.TrimSuffix(args.String("name"), " timer") + " timer."}, nil
		}
		return Timer{}, &Result{Say: "There are no timers running."}, nil
	case 1:
		return list[0], nil, nil
	}
	return Timer{}, &Result{Say: "Which one? " + a.describeTimers(list), Data: list}, nil
}

func (a *Actor) describeTimers(list []Timer) string {
	now := a.clock.now()
	var parts []string
	for _, t := range list {
		s := "the " + t.Name + " has " + SayDuration(t.Remaining(now)) + " left"
		if t.State == TimerPaused {
			s += " (paused)"
		}
		parts = append(parts, s)
	}
	return strings.ToUpper(parts[0][:1]) + strings.Join(parts, "; ")[1:] + "."
}

func (a *Actor) timerStatus(ctx context.Context, args Args) (Result, error) {
	list, err := a.timers.Find(ctx, args.String("name"))
	if err != nil {
		return Result{}, err
	}
	if len(list) == 0 {
		return Result{Done: true, Say: "There are no timers running.", Data: []Timer{}}, nil
	}
	return Result{Done: true, Say: a.describeTimers(list), Data: list}, nil
}

func (a *Actor) timerCancel(ctx context.Context, args Args) (Result, error) {
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
	return Result{Done: true, Say: "Cancelled the " + t.Name + ".", Data: t}, nil
}

func (a *Actor) timerPause(ctx context.Context, args Args) (Result, error) {
	t, res, err := a.pick(ctx, args)
	if res != nil || err != nil {
		return derefResult(res), err
	}
	t, err = a.timers.Pause(ctx, t)
	if err != nil {
		return Result{Say: strings.ToUpper(err.Error()[:1]) + err.Error()[1:] + "."}, nil
	}
	return Result{Done: true, Say: "Paused the " + t.Name + " with " + SayDuration(t.Left) + " left.", Data: t}, nil
}

func (a *Actor) timerResume(ctx context.Context, args Args) (Result, error) {
	t, res, err := a.pick(ctx, args)
	if res != nil || err != nil {
		return derefResult(res), err
	}
	t, err = a.timers.Resume(ctx, t)
	if err != nil {
		return Result{Say: strings.ToUpper(err.Error()[:1]) + err.Error()[1:] + "."}, nil
	}
	return Result{Done: true, Say: "Resumed the " + t.Name + ".", Data: t}, nil
}

func derefResult(r *Result) Result {
	if r == nil {
		return Result{}
	}
	return *r
}

func (a *Actor) volume(_ context.Context, args Args) (Result, error) {
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
		return Result{Done: true, Say: fmt.Sprintf("The volume is %d.", level), Data: map[string]any{"level": level}}, nil
	}
	a.level = level
	return Result{Done: true, Say: fmt.Sprintf("Volume %d.", level), Control: ControlVolume, Level: level, Data: map[string]any{"level": level}}, nil
}
