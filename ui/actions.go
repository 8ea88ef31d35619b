package ui

import (
	"encoding/json"
	"fmt"
	"fyne.io/fyne/v2/lang"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"hark/app"
)

// ActionController is what the action cards ask of the assistant (*app.Assistant implements
// it): a tapped Yes or No, and a tapped action such as a timer's Cancel.
type ActionController interface {
	Confirm(yes bool)
	Tap(call app.ToolCall, label string)
}

// timerCard is a running timer in the chat: its name, a live countdown and Cancel.
type timerCard struct {
	id     int64
	name   string
	due    time.Time
	left   time.Duration // paused: what is left
	paused bool
	done   string // "rang", "missed", "cancelled": the countdown has stopped
	label  *widget.Label
	cancel *widget.Button
}

// confirmCard is a confirmation question with big Yes and No buttons.
type confirmCard struct {
	b       *bubble
	yes, no *widget.Button
	q       string
}

// timerData is the part of a timer (action.Timer, as JSON) a card shows.
type timerData struct {
	ID     int64     `json:"id"`
	Name   string    `json:"name"`
	Due    time.Time `json:"due"`
	LeftNS int64     `json:"left_ns"`
	State  string    `json:"state"`
}

// actionEvent shows an action, a confirmation or an alert (UI goroutine).
func (u *UI) actionEvent(e app.Event) {
	// A command's card says what was done: it takes the place of the turn's reply bubble.
	// (The language model's replies keep theirs: it may say more.)
	if e.Action != nil && e.Action.Source != app.SourceModel && (e.Kind == app.EventAction || e.Action.Confirmed == app.ConfirmPending) {
		if ex := u.turns[e.Turn]; ex != nil && ex.reply != nil && ex.text.Len() == 0 {
			u.chat.remove(ex.reply)
			ex.reply = nil
		}
	}
	switch e.Kind {
	case app.EventAction:
		a := e.Action
		if a == nil || (a.Control == app.ControlStop.String()) {
			return
		}
		u.actionCard(a)
	case app.EventConfirm:
		u.confirmEvent(e.Action)
	case app.EventAlert:
		if e.Alert == nil {
			return
		}
		var td timerData
		if json.Unmarshal(e.Alert.Data, &td) == nil {
			if tc := u.timers[td.ID]; tc != nil {
				tc.done = "rang"
				if e.Alert.Missed {
					tc.done = "missed"
				}
				u.renderTimer(tc)
			}
		}
		u.chat.add(bubbleNote, "⏰ "+e.Text, u.now().Format("15:04"))
	}
}

func (u *UI) actionCard(a *app.Action) {
	mark := "✓"
	text := a.Say
	switch {
	case a.Error != "":
		mark, text = "✗", "Not done: "+a.Error
	case !a.Done:
		mark = "·"
	}
	if text == "" {
		text = "Done."
	}
	meta := u.now().Format("15:04") + " · " + a.Tool
	if a.Source == app.SourceModel {
		meta += " (asked by the language model)"
	}
	var timers []timerData
	if len(a.Data) > 0 && a.Done {
		var one timerData
		if json.Unmarshal(a.Data, &one) == nil && one.ID != 0 {
			timers = []timerData{one}
		} else {
			_ = json.Unmarshal(a.Data, &timers)
		}
	}
	var extra fyne.CanvasObject
	if len(timers) > 0 {
		box := container.NewVBox()
		for _, td := range timers {
			if td.ID == 0 || td.Name == "" {
				continue
			}
			box.Add(u.timerRow(td))
		}
		if len(box.Objects) > 0 {
			extra = box
		}
	}
	u.chat.addCard(bubbleCard, mark+" "+text, meta, extra)
}

// timerRow is a timer's countdown and Cancel button; the card is kept up to date until the
// timer ends.
func (u *UI) timerRow(td timerData) fyne.CanvasObject {
	tc := u.timers[td.ID]
	if tc == nil {
		tc = &timerCard{id: td.ID}
		u.timers[td.ID] = tc
	}
	tc.name, tc.due = td.Name, td.Due
	tc.paused, tc.left = td.State == "paused", time.Duration(td.LeftNS)
	switch td.State {
	case "rang", "missed", "cancelled":
		tc.done = td.State
	}
	tc.label = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true, Bold: true})
	tc.label.SizeName = theme.SizeNameSubHeadingText
	id, name := tc.id, tc.name
	tc.cancel = widget.NewButtonWithIcon(lang.L("Cancel"), theme.CancelIcon(), func() {
		if ac, ok := u.ctl.(ActionController); ok {
			ac.Tap(app.ToolCall{Name: "timer_cancel", Arguments: mustJSON(map[string]any{"name": name})}, "Cancel the "+name)
		}
		_ = id
	})
	u.renderTimer(tc)
	u.startCountdown()
	return container.NewBorder(nil, nil, nil, tc.cancel, tc.label)
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func (u *UI) renderTimer(tc *timerCard) {
	if tc.label == nil {
		return
	}
	var left time.Duration
	switch {
	case tc.done != "":
		tc.label.SetText(fmt.Sprintf("%s — %s", tc.name, doneWord(tc.done)))
		tc.cancel.Disable()
		return
	case tc.paused:
		left = tc.left
	default:
		left = max(0, tc.due.Sub(u.now()))
	}
	left = left.Round(time.Second)
	h, m, s := int(left/time.Hour), int(left%time.Hour/time.Minute), int(left%time.Minute/time.Second)
	clock := fmt.Sprintf("%d:%02d", m, s)
	if h > 0 {
		clock = fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	if tc.paused {
		clock += " (" + lang.L("paused") + ")"
	}
	tc.label.SetText(tc.name + "  " + clock)
}

// doneWord names how a timer ended, in the interface's language.
func doneWord(state string) string {
	switch state {
	case "rang":
		return lang.L("rang")
	case "missed":
		return lang.L("missed")
	case "cancelled":
		return lang.L("cancelled")
	}
	return state
}

// startCountdown ticks the timer cards twice a second while any is running.
func (u *UI) startCountdown() {
	if u.ticking {
		return
	}
	u.ticking = true
	t := time.NewTicker(500 * time.Millisecond)
	quit := make(chan struct{})
	tick := func() {
		if !u.ticking {
			return
		}
		running := 0
		for _, tc := range u.timers {
			if tc.done == "" {
				u.renderTimer(tc)
				running++
			}
		}
		if running == 0 {
			u.ticking = false
			close(quit)
		}
	}
	go func() {
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				if u.detached.Load() {
					return
				}
				u.onUI(tick)
			}
		}
	}()
}

// confirmEvent shows a question with big Yes and No buttons, or its answer.
func (u *UI) confirmEvent(a *app.Action) {
	if a == nil {
		return
	}
	if a.Confirmed != app.ConfirmPending {
		if c := u.confirm; c != nil {
			c.yes.Disable()
			c.no.Disable()
			u.chat.set(c.b, c.q+"  → "+string(a.Confirmed), c.b.meta, false)
			u.confirm = nil
		}
		return
	}
	if c := u.confirm; c != nil {
		c.yes.Disable()
		c.no.Disable()
	}
	answer := func(yes bool) func() {
		return func() {
			if ac, ok := u.ctl.(ActionController); ok {
				ac.Confirm(yes)
			}
		}
	}
	yes := widget.NewButtonWithIcon("Yes", theme.ConfirmIcon(), answer(true))
	yes.Importance = widget.HighImportance
	no := widget.NewButtonWithIcon("No", theme.CancelIcon(), answer(false))
	no.Importance = widget.DangerImportance
	// Big enough to hit without looking closely; in the car, huge.
	size := fyne.NewSize(140, 56)
	if u.settings.Mode == ModeCar {
		size = fyne.NewSize(320, 104) // the car's chat area is ~200 px high: question and buttons fit
	}
	buttons := container.NewHBox(container.New(layout.NewGridWrapLayout(size), yes), container.New(layout.NewGridWrapLayout(size), no))
	q := "⚠ " + a.Question
	if u.chat.lastOnly {
		u.chat.clear() // the car: the question and its huge buttons alone fill the chat area
	}
	b := u.chat.addCard(bubbleCard, q, u.now().Format("15:04")+" · "+a.Tool, buttons)
	u.confirm = &confirmCard{b: b, yes: yes, no: no, q: q}
}
