package ui

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"hark/app"
)

// Controller is what the window asks of the assistant; *app.Assistant implements it. Every
// method returns at once.
type Controller interface {
	StartTalking()
	StopTalking()
	ToggleTalking()
	Stop()
	Ask(text string)
	NewConversation()
	Touch()
}

// RepaintEvery is the least time between two repaints caused by the assistant's events: a token
// stream is shown in batches of what arrived in the meantime.
const RepaintEvery = 33 * time.Millisecond

// Options configure [New].
type Options struct {
	Settings Settings // the settings to start with (Mode included)
	// Save stores and applies the settings the person chose (old are the ones they replace). It
	// runs on a goroutine of its own; an error is shown. nil: changes last until Hark quits.
	Save func(old, new Settings) error
	// Setup, when set, offers to fetch missing models on a first-run screen.
	Setup ModelSetup
	// Devices lists the microphones for the settings dialog; called on a goroutine of its own.
	Devices func() ([]string, error)
	Now     func() time.Time // nil: time.Now (tests fix the clock for reproducible images)
	Quit    func()           // the kiosk's admin chord; nil: quit the application
	// Documents, when set, adds the documents the assistant answers from to the settings
	// (knowledge): list, add a folder, remove, rebuild.
	Documents Documents
	// SystemLanguage is the LANGUAGE the process started with ("" = none): the interface
	// language "system" restores it.
	SystemLanguage string
	// Home, when set, shows the home connectors in the settings dialog (ui/home.go).
	Home HomeConnectors
	// Dictator, when set, offers the dictation window (desktop mode; dictation.go).
	Dictator Dictator
}

// Keyboard chords. In kiosk mode Ctrl+Alt+Shift+Q is the only way out and Ctrl+Alt+Shift+S the
// only way to the settings, for the operator.
var (
	chordNew      = &desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierControl}
	chordSettings = &desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierControl}
	chordDebug    = &desktop.CustomShortcut{KeyName: fyne.KeyD, Modifier: fyne.KeyModifierControl}
	chordAdminS   = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierControl | fyne.KeyModifierAlt | fyne.KeyModifierShift}
)

// ParseChord reads a key chord such as "ctrl+alt+shift+a" (the kiosk's admin chord).
func ParseChord(s string) (*desktop.CustomShortcut, error) {
	parts := strings.Split(strings.ToLower(strings.ReplaceAll(s, " ", "")), "+")
	c := &desktop.CustomShortcut{}
	for i, p := range parts {
		if i < len(parts)-1 {
			switch p {
			case "ctrl", "control":
				c.Modifier |= fyne.KeyModifierControl
			case "alt":
				c.Modifier |= fyne.KeyModifierAlt
			case "shift":
				c.Modifier |= fyne.KeyModifierShift
			case "super", "meta", "win":
				c.Modifier |= fyne.KeyModifierSuper
			default:
				return nil, fmt.Errorf("chord %q: %q is not ctrl, alt, shift or super", s, p)
			}
			continue
		}
		switch {
		case len(p) == 1 && (p[0] >= 'a' && p[0] <= 'z' || p[0] >= '0' && p[0] <= '9'):
			c.KeyName = fyne.KeyName(strings.ToUpper(p))
		case len(p) >= 2 && p[0] == 'f' && p[1] >= '1' && p[1] <= '9':
			c.KeyName = fyne.KeyName(strings.ToUpper(p))
		case p == "escape" || p == "esc":
			c.KeyName = fyne.KeyEscape
		case p == "delete" || p == "del":
			c.KeyName = fyne.KeyDelete
		default:
			return nil, fmt.Errorf("chord %q: the key %q is not a letter, digit, F-key, escape or delete", s, p)
		}
	}
	if c.KeyName == "" || c.Modifier == 0 {
		return nil, fmt.Errorf("chord %q: give at least one modifier and a key, e.g. ctrl+alt+shift+a", s)
	}
	return c, nil
}

// UI is Hark's window.
type UI struct {
	fapp     fyne.App
	win      fyne.Window
	ctl      Controller
	opt      Options
	settings Settings
	now      func() time.Time

	// The view-model: what the widgets show, bound where Fyne offers bindings.
	status binding.String
	level  binding.Float

	// Event intake, from any goroutine.
	detached  atomic.Bool // the window's loop has ended: events are dropped
	mu        sync.Mutex
	pending   []app.Event
	scheduled bool
	lastFlush time.Time
	schedule  func()       // asks for flush on the UI goroutine (tests replace it)
	onUI      func(func()) // runs a function on the UI goroutine: fyne.Do (tests queue it instead)

	// Everything below belongs to the UI goroutine.
	state        app.State
	stateText    string
	ready        app.Readiness
	comps        map[app.Component]app.Event
	turns        map[int]*exchange
	partial      *bubble // the live transcript of the utterance in progress
	talking      bool    // a push-to-talk utterance started from this window is open
	pressEnds    bool    // the current press ends the utterance (second tap)
	spaceAt      time.Time
	flash        string // a short remark ("I didn't catch that") shown for a few seconds
	flashUntil   time.Time
	timings      []turnTiming
	settingsOpen bool
	settingsForm *settingsForm
	debugShown   bool
	adminChord   *desktop.CustomShortcut
	first        *firstRun // the first-run screen, while it is needed
	firstDone    bool
	timers       map[int64]*timerCard // timer cards with a live countdown
	ticking      bool                 // the countdown ticker runs
	confirm      *confirmCard         // the confirmation question waiting for an answer
	dictation    *dictationView       // the dictation window, while it is open

	// Widgets, rebuilt when the mode changes.
	chat        *chatView
	mic         *micButton
	stopBtn     control
	newBtn      control
	entry       *questionEntry
	sendBtn     *widget.Button
	statusLabel *widget.Label
	banner      *fyne.Container
	debugText   *widget.Label
	debugBox    *fyne.Container
	attract     *attractLayer
}

// exchange is one turn as the chat shows it.
type exchange struct {
	user, reply *bubble
	text        strings.Builder
}

// turnTiming is a finished turn for the debug panel.
type turnTiming struct {
	turn        int
	input       app.Input
	t           app.Timings
	interrupted bool
	failed      bool
}

// New builds the window for the settings' mode. Call Window().ShowAndRun() to show it.
func New(a fyne.App, ctl Controller, o Options) *UI {
	loadTranslations()
	if l := o.Settings.UILanguage; l != "" && l != "system" {
		SetLanguage(l, o.SystemLanguage)
	}
	u := &UI{
		fapp:     a,
		ctl:      ctl,
		opt:      o,
		settings: o.Settings,
		now:      o.Now,
		status:   binding.NewString(),
		level:    binding.NewFloat(),
		comps:    map[app.Component]app.Event{},
		turns:    map[int]*exchange{},
		timers:   map[int64]*timerCard{},
		state:    app.StateLoading,
	}
	if u.settings.Mode == "" {
		u.settings.Mode = ModeDesktop
	}
	if u.now == nil {
		u.now = time.Now
	}
	u.schedule = u.scheduleFlush
	u.onUI = func(f func()) {
		if !u.detached.Load() {
			fyne.Do(f)
		}
	}
	chord, err := ParseChord(u.settings.AdminChord)
	if err != nil {
		chord, _ = ParseChord(DefaultSettings(ModeKiosk).AdminChord) // main checked it; never stuck in a kiosk
	}
	u.adminChord = chord
	u.level.AddListener(binding.NewDataListener(func() {
		if v, err := u.level.Get(); err == nil && u.mic != nil {
			u.mic.setLevel(v)
		}
	}))
	u.win = a.NewWindow("Hark")
	u.installKeys()
	u.applyMode()
	return u
}

// Window is the main window.
func (u *UI) Window() fyne.Window { return u.win }

// Detach stops the window from taking events: call it when ShowAndRun has returned, before the
// assistant shuts down (its last events have no window to go to).
func (u *UI) Detach() { u.detached.Store(true) }

// Publish takes an event from the assistant (app.Sink). Any goroutine; never blocks.
func (u *UI) Publish(e app.Event) {
	if u.detached.Load() {
		return
	}
	u.mu.Lock()
	if n := len(u.pending); e.Kind == app.EventLevel && n > 0 && u.pending[n-1].Kind == app.EventLevel {
		u.pending[n-1] = e // only the latest level matters
	} else {
		u.pending = append(u.pending, e)
	}
	need := !u.scheduled
	u.scheduled = true
	u.mu.Unlock()
	if need {
		u.schedule()
	}
}

// scheduleFlush runs flush on the UI goroutine, no sooner than RepaintEvery after the last one.
func (u *UI) scheduleFlush() {
	u.mu.Lock()
	wait := RepaintEvery - time.Since(u.lastFlush)
	u.mu.Unlock()
	if wait <= 0 {
		u.onUI(u.flush)
		return
	}
	time.AfterFunc(wait, func() { u.onUI(u.flush) })
}

// flush applies the events that arrived since the last repaint, then repaints once.
func (u *UI) flush() {
	u.mu.Lock()
	evs := u.pending
	u.pending = nil
	u.scheduled = false
	u.lastFlush = time.Now()
	u.mu.Unlock()
	// The car shows one exchange and a driver does not scroll: always follow the newest text,
	// even when a long question pushed the reply below the fold.
	stick := u.chat.lastOnly || u.chat.atBottom()
	for _, e := range evs {
		u.apply(e)
		if e.Kind == app.EventTranscript || e.Kind == app.EventSpeech || e.Kind == app.EventCleared || e.Kind == app.EventConfirm || e.Kind == app.EventAlert {
			stick = true // a new question: show it and its answer, wherever the person had scrolled
		}
	}
	u.chat.commit(stick)
}

// apply updates the view-model and widgets for one event (UI goroutine).
func (u *UI) apply(e app.Event) {
	switch e.Kind {
	case app.EventState:
		u.state, u.stateText = e.State, e.Text
		if e.State != app.StateHearing {
			u.talking, u.pressEnds = false, false
		}
		switch e.State {
		case app.StateHearing:
			u.hideAttract()
		case app.StateIdle, app.StateListening, app.StateError, app.StateLoading:
			u.dropPartial()
		}
		u.updateControls()
	case app.EventLevel:
		_ = u.level.Set(e.Level.RMS)
	case app.EventComponent:
		u.comps[e.Component] = e
		u.rebuildBanner()
		u.updateDebug()
	case app.EventReadiness:
		u.ready = e.Readiness
		u.updateControls()
	case app.EventSpeech:
		u.hideAttract()
		u.livePartial("")
	case app.EventPartial:
		u.livePartial(e.Text)
	case app.EventWake:
		u.say(lang.L("Yes? I'm listening."))
	case app.EventIgnored:
		u.dropPartial()
		if e.Ignored.Misheard() {
			u.say(lang.L("I didn't catch that."))
		}
	case app.EventTranscript:
		u.hideAttract()
		ex := &exchange{}
		u.turns[e.Turn] = ex
		meta := u.now().Format("15:04")
		if e.Input == app.InputVoice && u.partial != nil {
			ex.user = u.partial
			u.chat.set(ex.user, e.Text, meta, false)
		} else {
			u.dropPartial()
			ex.user = u.chat.add(bubbleUser, e.Text, meta)
		}
		u.partial = nil
		ex.reply = u.chat.add(bubbleAssistant, "", "")
	case app.EventToken:
		if ex := u.turns[e.Turn]; ex != nil && ex.reply != nil {
			ex.text.WriteString(e.Text)
			u.chat.set(ex.reply, ex.text.String(), "", false)
		}
	case app.EventReply:
		if ex := u.turns[e.Turn]; ex != nil && ex.reply != nil {
			meta := u.now().Format("15:04")
			text := e.Text
			switch {
			case e.Interrupted:
				meta += " · interrupted"
				if text == "" {
					text = "(stopped)"
				}
			case text == "":
				text = "(no answer)"
			}
			if where := originNote(e.Origin); where != "" {
				meta += " · " + where
			}
			meta += u.carSources(e.Sources)
			u.chat.set(ex.reply, text, meta, false)
			u.showSources(e.Sources)
		}
	case app.EventTurnDone:
		if ex := u.turns[e.Turn]; ex != nil && ex.reply != nil && e.Err != nil && ex.text.Len() == 0 {
			u.chat.remove(ex.reply) // the error message explains
		}
		delete(u.turns, e.Turn)
		if e.Timings != nil && e.Ignored == "" {
			u.timings = append(u.timings, turnTiming{e.Turn, e.Input, *e.Timings, e.Interrupted, e.Err != nil})
			if len(u.timings) > 50 {
				u.timings = u.timings[len(u.timings)-50:]
			}
			u.updateDebug()
		}
	case app.EventError:
		msg := app.Message(e.Err)
		if h := app.Hint(e.Err); h != "" {
			msg += "\n" + h
		} else if e.Hint != "" {
			msg += "\n" + e.Hint
		}
		if e.Turn == 0 && !strings.Contains(msg, "restarted") {
			u.say(strings.SplitN(msg, "\n", 2)[0])
			u.dropPartial()
		} else {
			u.chat.add(bubbleError, msg, u.now().Format("15:04"))
		}
	case app.EventAction, app.EventConfirm, app.EventAlert:
		u.actionEvent(e)
	case app.EventCleared:
		switch e.Reason {
		case "restart":
			u.chat.add(bubbleNote, lang.L("The assistant restarted after an error. This is a new conversation."), "")
		default:
			u.chat.clear()
			clear(u.turns)
			u.partial = nil
			if u.settings.Mode == ModeKiosk {
				u.showAttract()
			} else if e.Reason == "new" {
				u.chat.add(bubbleNote, lang.L("New conversation"), "")
			}
		}
	}
}

// livePartial shows what the person is saying, as far as it has been transcribed.
func (u *UI) livePartial(text string) {
	if u.partial == nil {
		u.partial = u.chat.add(bubbleUser, text, "")
		u.partial.partial = true
		u.chat.dirty[u.partial] = true
		return
	}
	u.chat.set(u.partial, text, "", true)
}

func (u *UI) dropPartial() {
	if u.partial != nil {
		u.chat.remove(u.partial)
		u.partial = nil
	}
}

// say shows a short remark in the status line for a few seconds.
func (u *UI) say(text string) {
	u.flash, u.flashUntil = text, u.now().Add(3*time.Second)
	u.refreshStatus()
	time.AfterFunc(3100*time.Millisecond, func() { u.onUI(u.refreshStatus) })
}

// updateControls enables the controls for the state and readiness, and words the status.
func (u *UI) updateControls() {
	u.mic.setState(u.state, u.ready.Voice)
	if u.state.Busy() || u.state == app.StateHearing {
		u.stopBtn.Enable()
	} else {
		u.stopBtn.Disable()
	}
	if u.entry != nil {
		if u.ready.Type {
			u.entry.Enable()
			u.entry.SetPlaceHolder(u.typePrompt())
			u.sendBtn.Enable()
		} else {
			u.entry.Disable()
			u.entry.SetPlaceHolder(u.ready.TypeReason)
			u.sendBtn.Disable()
		}
	}
	u.refreshStatus()
}

func (u *UI) typePrompt() string {
	if u.settings.Mode == ModeDesktop {
		return lang.L("Type a question and press Enter")
	}
	return lang.L("Type a question")
}

// refreshStatus words the status line for the state.
func (u *UI) refreshStatus() {
	text := u.statusText()
	if u.flash != "" && u.now().Before(u.flashUntil) {
		text = u.flash
	}
	_ = u.status.Set(text)
}

func (u *UI) statusText() string {
	switch u.state {
	case app.StateLoading:
		if u.stateText != "" {
			return u.stateText
		}
		return lang.L("Getting ready…")
	case app.StateIdle:
		if !u.ready.Voice {
			if u.ready.VoiceReason != "" {
				return u.ready.VoiceReason
			}
			return lang.L("Type a question")
		}
		switch u.settings.Mode {
		case ModeDesktop:
			return lang.L("Hold the microphone or Space while you speak")
		default:
			return lang.L("Tap the microphone and speak")
		}
	case app.StateListening:
		if u.settings.WakePhrase != "" {
			return lang.L("Say “{{.Phrase}}” to ask something", map[string]any{"Phrase": u.settings.WakePhrase})
		}
		return lang.L("Listening — just speak")
	case app.StateHearing:
		if u.talking {
			return lang.L("Listening… release or tap again when done")
		}
		return lang.L("Listening…")
	case app.StateTranscribing:
		return lang.L("Transcribing…")
	case app.StateThinking:
		return lang.L("Thinking…")
	case app.StateSpeaking:
		switch {
		case u.settings.Mode == ModeDesktop:
			return lang.L("Speaking — Esc or Stop to interrupt")
		case u.settings.HandsFree:
			return lang.L("Speaking — tap Stop or just talk to interrupt")
		}
		return lang.L("Speaking — tap Stop to interrupt")
	case app.StateError:
		return u.stateText
	}
	return ""
}

// ---- Input ----

func (u *UI) micPressed() {
	u.ctl.Touch()
	u.hideAttract()
	if u.talking {
		u.pressEnds = true
		u.talking = false
		u.ctl.StopTalking()
		return
	}
	u.pressEnds = false
	u.talking = true
	u.ctl.StartTalking()
	u.refreshStatus()
}

func (u *UI) micReleased(held time.Duration) {
	if u.pressEnds {
		u.pressEnds = false
		return
	}
	if u.talking && held >= holdThreshold {
		u.talking = false
		u.ctl.StopTalking()
	}
	// A short press leaves the utterance open: the next press ends it.
}

func (u *UI) micTapped() {
	u.ctl.Touch()
	u.hideAttract()
	u.talking = !u.talking
	u.ctl.ToggleTalking()
}

func (u *UI) newConversation() {
	u.ctl.Touch()
	u.ctl.NewConversation()
}

func (u *UI) stopPressed() {
	u.ctl.Touch()
	u.talking = false
	u.ctl.Stop()
}

func (u *UI) submit(text string) {
	text = strings.TrimSpace(text)
	if text == "" || !u.ready.Type {
		return
	}
	if err := app.CheckQuestion(text); err != nil {
		u.refuse(err) // the text stays in the entry, to be shortened
		return
	}
	u.hideAttract()
	u.entry.SetText("")
	u.ctl.Ask(text)
}

// installKeys wires the keyboard: Space to talk (hold or tap), Esc to stop, Ctrl+N for a new
// conversation, Ctrl+, for the settings, Ctrl+D for the debug panel, and the kiosk's admin
// chords. Keys reach these handlers when the text entry does not have the focus; the entry
// forwards Esc and the chords itself.
func (u *UI) installKeys() {
	c := u.win.Canvas()
	if dc, ok := c.(desktop.Canvas); ok {
		dc.SetOnKeyDown(func(k *fyne.KeyEvent) {
			if k.Name == fyne.KeySpace && u.ready.Voice {
				u.spaceAt = time.Now()
				u.micPressed()
			}
		})
		dc.SetOnKeyUp(func(k *fyne.KeyEvent) {
			if k.Name == fyne.KeySpace && !u.spaceAt.IsZero() {
				held := time.Since(u.spaceAt)
				u.spaceAt = time.Time{}
				u.micReleased(held)
			}
		})
	}
	c.SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			u.stopPressed()
		}
	})
	for _, s := range []*desktop.CustomShortcut{chordNew, chordSettings, chordDebug, chordAdminS, u.adminChord} {
		s := s
		c.AddShortcut(s, func(fyne.Shortcut) { u.shortcut(s) })
	}
}

// shortcut runs a keyboard chord; it reports whether the chord is one of Hark's.
func (u *UI) shortcut(s fyne.Shortcut) bool {
	kiosk := u.settings.Mode == ModeKiosk
	if s.ShortcutName() == u.adminChord.ShortcutName() {
		if u.opt.Quit != nil {
			u.opt.Quit()
		} else {
			u.fapp.Quit()
		}
		return true
	}
	switch s.ShortcutName() {
	case chordNew.ShortcutName():
		u.ctl.Touch()
		u.ctl.NewConversation()
	case chordSettings.ShortcutName():
		if !kiosk {
			u.showSettings()
		}
	case chordDebug.ShortcutName():
		u.toggleDebug()
	case chordAdminS.ShortcutName():
		u.showSettings()
	default:
		return false
	}
	return true
}

// refuse shows why a typed or pasted question was not taken.
func (u *UI) refuse(err error) {
	msg := app.Message(err)
	if h := app.Hint(err); h != "" {
		msg += "\n" + h
	}
	u.chat.add(bubbleError, msg, u.now().Format("15:04"))
}

// questionEntry is the text entry; it hands Esc and Hark's chords to the window, which would
// not see them while the entry has the focus.
type questionEntry struct {
	widget.Entry
	u *UI
}

func newQuestionEntry(u *UI) *questionEntry {
	e := &questionEntry{u: u}
	e.ExtendBaseWidget(e)
	e.OnSubmitted = u.submit
	return e
}

func (e *questionEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape {
		e.u.stopPressed()
		return
	}
	e.Entry.TypedKey(k)
}

func (e *questionEntry) TypedShortcut(s fyne.Shortcut) {
	if e.u.shortcut(s) {
		return
	}
	// A pasted book is refused before the entry lays it out (10 MB would stall the window).
	if p, ok := s.(*fyne.ShortcutPaste); ok && p.Clipboard != nil {
		if err := app.CheckQuestion(e.Text + p.Clipboard.Content()); err != nil {
			e.u.refuse(err)
			return
		}
	}
	e.Entry.TypedShortcut(s)
}

// ---- Layout ----

// applyMode sets the theme, window and layout for the settings' mode.
func (u *UI) applyMode() {
	m := u.settings.Mode
	u.fapp.Settings().SetTheme(newTheme(m, u.settings.TextSize, u.settings.Theme))

	u.chat = newChatView(m == ModeCar, m == ModeCar)
	u.mic = newMicButton()
	u.mic.onPress, u.mic.onRelease, u.mic.onTap = u.micPressed, u.micReleased, u.micTapped
	u.statusLabel = widget.NewLabelWithData(u.status)
	u.statusLabel.Alignment = fyne.TextAlignCenter
	u.statusLabel.Wrapping = fyne.TextWrapWord
	u.banner = container.NewVBox()
	u.debugText = widget.NewLabel("")
	u.debugText.TextStyle = fyne.TextStyle{Monospace: true}
	u.debugText.SizeName = theme.SizeNameCaptionText
	u.debugBox = container.NewVBox(widget.NewSeparator(), u.debugText)
	u.debugBox.Hidden = !u.debugShown
	u.entry, u.sendBtn = nil, nil
	u.attract = nil

	var content fyne.CanvasObject
	switch m {
	case ModeCar:
		content = u.carLayout()
		u.win.SetFullScreen(false)
		u.win.SetFixedSize(true)
		u.win.Resize(fyne.NewSize(800, 480))
	case ModeKiosk:
		content = u.kioskLayout()
		u.win.SetFixedSize(false)
		u.win.SetFullScreen(true)
	default:
		content = u.desktopLayout()
		u.win.SetFullScreen(false)
		u.win.SetFixedSize(false)
		u.win.Resize(fyne.NewSize(480, 720))
	}
	if m == ModeKiosk {
		u.win.SetCloseIntercept(func() {}) // only the admin chord closes a kiosk
	} else {
		u.win.SetCloseIntercept(func() { u.fapp.Quit() })
	}
	if !u.firstDone && u.opt.Setup != nil {
		if u.first = newFirstRun(u, u.opt.Setup); u.first == nil {
			u.firstDone = true
		} else {
			content = container.NewStack(content, u.first.box)
		}
	}
	u.win.SetContent(content)
	u.rebuildBanner()
	u.updateDebug()
	u.updateControls()
}

// desktopLayout: toolbar, banner, chat, status, the talk controls and the text entry.
func (u *UI) desktopLayout() fyne.CanvasObject {
	title := widget.NewLabelWithStyle("Hark", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	settings := widget.NewButtonWithIcon("", theme.SettingsIcon(), u.showSettings)
	debug := widget.NewButtonWithIcon("", theme.InfoIcon(), u.toggleDebug)
	newBtn := widget.NewButtonWithIcon(lang.L("New"), theme.ContentAddIcon(), u.newConversation)
	stop := widget.NewButtonWithIcon(lang.L("Stop"), theme.MediaStopIcon(), u.stopPressed)
	u.newBtn, u.stopBtn = newBtn, stop
	newBtn.Importance, settings.Importance, debug.Importance = widget.LowImportance, widget.LowImportance, widget.LowImportance
	tools := container.NewHBox(newBtn, debug, settings)
	if u.opt.Dictator != nil {
		dictate := widget.NewButtonWithIcon(lang.L("Dictate"), theme.MediaRecordIcon(), u.showDictation)
		dictate.Importance = widget.LowImportance
		tools.Objects = append([]fyne.CanvasObject{dictate}, tools.Objects...)
	}
	top := container.NewVBox(container.NewBorder(nil, nil, title, tools), u.banner)
	u.entry = newQuestionEntry(u)
	u.sendBtn = widget.NewButtonWithIcon("", theme.MailSendIcon(), func() { u.submit(u.entry.Text) })
	stopSlot := container.NewCenter(u.stopBtn)
	talk := container.NewGridWithColumns(3, stopSlot, u.mic, layout.NewSpacer())
	bottom := container.NewVBox(u.statusLabel, talk, container.NewBorder(nil, nil, nil, u.sendBtn, u.entry), u.debugBox)
	return container.NewBorder(top, bottom, nil, nil, u.chat.scroll)
}

// kioskLayout: the desktop's parts, larger, without the settings, under an attract screen.
func (u *UI) kioskLayout() fyne.CanvasObject {
	title := widget.NewLabelWithStyle(lang.L("Hark — ask me anything"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	u.entry = newQuestionEntry(u)
	u.sendBtn = widget.NewButtonWithIcon(lang.L("Ask"), theme.MailSendIcon(), func() { u.submit(u.entry.Text) })
	u.sendBtn.Importance = widget.HighImportance
	u.stopBtn = newBigButton(theme.MediaStopIcon(), lang.L("Stop"), theme.ColorNameError, u.stopPressed)
	u.newBtn = newBigButton(theme.ContentAddIcon(), lang.L("New"), theme.ColorNameButton, u.newConversation)
	talk := container.NewGridWithColumns(3, container.NewCenter(u.stopBtn), u.mic, container.NewCenter(u.newBtn))
	entryRow := container.NewBorder(nil, nil, nil, u.sendBtn, u.entry)
	bottom := container.NewVBox(u.statusLabel, talk, container.NewPadded(entryRow), u.debugBox)
	main := container.NewBorder(container.NewVBox(title, u.banner), bottom, nil, nil, container.NewPadded(u.chat.scroll))
	u.attract = newAttractLayer(func() {
		u.ctl.Touch()
		u.hideAttract()
	})
	return container.NewStack(main, u.attract)
}

// carLayout: the status and settings on top, the last exchange large, three huge buttons.
func (u *UI) carLayout() fyne.CanvasObject {
	settings := newBigButton(theme.SettingsIcon(), "", theme.ColorNameBackground, u.showSettings)
	settings.side = themeSize(sizeTarget) * 0.6
	u.statusLabel.Alignment = fyne.TextAlignLeading
	u.statusLabel.TextStyle = fyne.TextStyle{Bold: true}
	top := container.NewVBox(container.NewBorder(nil, nil, nil, settings, u.statusLabel), u.banner)
	u.stopBtn = newBigButton(theme.MediaStopIcon(), lang.L("Stop"), theme.ColorNameError, u.stopPressed)
	u.newBtn = newBigButton(theme.ContentAddIcon(), lang.L("New"), theme.ColorNameButton, u.newConversation)
	talk := container.NewGridWithColumns(3, container.NewCenter(u.stopBtn), u.mic, container.NewCenter(u.newBtn))
	bottom := container.NewVBox(talk, u.debugBox)
	return container.NewBorder(top, bottom, nil, nil, u.chat.scroll)
}

// rebuildBanner shows the engines that are loading or failed, with what to do about them.
func (u *UI) rebuildBanner() {
	if u.banner == nil {
		return
	}
	u.banner.RemoveAll()
	for _, c := range []app.Component{app.ComponentASR, app.ComponentLLM, app.ComponentVAD, app.ComponentMicrophone, app.ComponentSpeech} {
		e, ok := u.comps[c]
		if !ok {
			continue
		}
		switch e.Phase {
		case app.PhaseLoading:
			var bar fyne.CanvasObject
			if e.Progress >= 0 {
				p := widget.NewProgressBar()
				p.SetValue(e.Progress)
				bar = p
			} else {
				bar = widget.NewProgressBarInfinite()
			}
			l := widget.NewLabel(lang.L("Loading {{.What}}…", map[string]any{"What": strings.ToLower(lang.L(c.Title()))}))
			u.banner.Add(container.NewBorder(nil, nil, l, nil, bar))
		case app.PhaseFailed:
			if c == app.ComponentVAD && !u.settings.HandsFree {
				continue // push-to-talk does without voice detection
			}
			u.banner.Add(u.failureCard(c, e))
		}
	}
	u.banner.Refresh()
}

func (u *UI) failureCard(c app.Component, e app.Event) fyne.CanvasObject {
	msg := e.Text
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	hint := e.Hint
	if u.settings.Mode == ModeKiosk {
		hint = lang.L("Please ask a member of staff.")
	}
	if hint != "" {
		msg += " — " + hint
	}
	segs := []widget.RichTextSegment{
		&widget.TextSegment{Text: c.Title() + ": ", Style: widget.RichTextStyle{Inline: true, ColorName: theme.ColorNameError,
			TextStyle: fyne.TextStyle{Bold: true}}},
		&widget.TextSegment{Text: msg, Style: widget.RichTextStyleParagraph},
	}
	text := widget.NewRichText(segs...)
	text.Wrapping = fyne.TextWrapWord
	if u.settings.Mode == ModeKiosk {
		return text
	}
	return container.NewBorder(nil, nil, nil, container.NewCenter(widget.NewButton(lang.L("Settings"), u.showSettings)), text)
}

func (u *UI) toggleDebug() {
	u.debugShown = !u.debugShown
	u.debugBox.Hidden = !u.debugShown
	u.updateDebug()
	u.debugBox.Refresh()
}

// updateDebug writes the per-turn timings into the debug panel.
func (u *UI) updateDebug() {
	if u.debugText == nil || !u.debugShown {
		return
	}
	var b strings.Builder
	b.WriteString("#   in     speech  →text  →1st   →last  asr    llm    ovh    docs   tok\n")
	start := max(0, len(u.timings)-8)
	for _, t := range u.timings[start:] {
		mark := ""
		if t.interrupted {
			mark = " interrupted"
		}
		if t.failed {
			mark += " failed"
		}
		b.WriteString(strings.TrimRight(fmtRow(t), " ") + mark + "\n")
	}
	var comps []string
	for _, c := range []app.Component{app.ComponentASR, app.ComponentLLM, app.ComponentVAD, app.ComponentMicrophone, app.ComponentSpeech} {
		if e, ok := u.comps[c]; ok {
			comps = append(comps, string(c)+": "+string(e.Phase))
		}
	}
	b.WriteString(strings.Join(comps, "  "))
	u.debugText.SetText(b.String())
}

// ---- Attract screen (kiosk) ----

func (u *UI) showAttract() {
	if u.attract != nil {
		u.attract.Show()
	}
}

func (u *UI) hideAttract() {
	if u.attract != nil && u.attract.Visible() {
		u.attract.Hide()
	}
}
