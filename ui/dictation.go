package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"hark/app"
)

// Dictator is what the window's dictation mode needs (main wires the microphone, the
// dictation package and the notes). Every method may block; the window calls them on
// goroutines of their own.
type Dictator interface {
	// Dictate records and transcribes until ctx is done or the microphone fails. While
	// paused() is true the microphone's sound is dropped (what was said before the pause is
	// transcribed first). Each piece of transcript goes to show, in order. It returns once
	// everything heard is transcribed, with the error that ended the recording early (nil
	// when ctx ended it).
	Dictate(ctx context.Context, paused func() bool, show func(text string)) error
	// Templates are the note templates' names, the default first.
	Templates() []string
	// Note writes a note of the template from the transcript, as Markdown and as plain text.
	Note(ctx context.Context, template, transcript string) (markdown, text string, err error)
}

// dictationState is where a dictation is.
type dictationState int

const (
	dictIdle dictationState = iota
	dictRecording
	dictPaused
	dictFinishing // stopped; the last words are being transcribed
)

// dictationView is the dictation window: the recording indicator and its controls on top,
// the running transcript and the note side by side, both editable, and the note's exports.
type dictationView struct {
	u      *UI
	d      Dictator
	win    fyne.Window
	onUI   func(func())
	now    func() time.Time
	export func(path string, data []byte) error

	// UI goroutine.
	state      dictationState
	started    time.Time
	recorded   time.Duration // before the current recording stretch (pauses excluded)
	pausedFlag sync.Mutex
	isPaused   bool
	cancel     context.CancelFunc
	noteCancel context.CancelFunc
	ticker     *time.Ticker

	dot        *canvas.Circle
	indicator  *widget.Label
	start      *widget.Button
	pause      *widget.Button
	stop       *widget.Button
	transcript *widget.Entry
	template   *widget.Select
	write      *widget.Button
	note       *widget.Entry
	status     *widget.Label
}

// showDictation opens the dictation window (or brings it forward).
func (u *UI) showDictation() {
	if u.opt.Dictator == nil {
		return
	}
	if u.dictation != nil {
		u.dictation.win.RequestFocus()
		return
	}
	v := newDictationView(u, u.fapp.NewWindow(lang.L("Hark — Dictation")))
	u.dictation = v
	v.win.SetOnClosed(func() {
		v.stopRecording()
		if v.noteCancel != nil {
			v.noteCancel()
		}
		u.dictation = nil
	})
	v.win.Resize(fyne.NewSize(900, 600))
	v.win.Show()
}

func newDictationView(u *UI, w fyne.Window) *dictationView {
	v := &dictationView{u: u, d: u.opt.Dictator, win: w, onUI: u.onUI, now: time.Now,
		export: func(p string, b []byte) error { return os.WriteFile(p, b, 0o600) }}
	v.dot = canvas.NewCircle(theme.Color(theme.ColorNameDisabled))
	dotBox := container.NewGridWrap(fyne.NewSize(18, 18), v.dot)
	v.indicator = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.start = widget.NewButtonWithIcon(lang.L("Start"), theme.MediaRecordIcon(), v.startRecording)
	v.pause = widget.NewButtonWithIcon(lang.L("Pause"), theme.MediaPauseIcon(), v.togglePause)
	v.stop = widget.NewButtonWithIcon(lang.L("Stop"), theme.MediaStopIcon(), v.stopRecording)
	v.start.Importance = widget.HighImportance
	v.transcript = widget.NewMultiLineEntry()
	v.transcript.Wrapping = fyne.TextWrapWord
	v.transcript.SetPlaceHolder(lang.L("The transcript appears here as you speak."))
	v.template = widget.NewSelect(v.d.Templates(), nil)
	if ts := v.d.Templates(); len(ts) > 0 {
		v.template.SetSelected(ts[0])
	}
	v.write = widget.NewButtonWithIcon(lang.L("Write note"), theme.DocumentCreateIcon(), v.writeNote)
	v.note = widget.NewMultiLineEntry()
	v.note.Wrapping = fyne.TextWrapWord
	v.note.SetPlaceHolder(lang.L("The note appears here; you can edit it."))
	copyBtn := widget.NewButtonWithIcon(lang.L("Copy note"), theme.ContentCopyIcon(), v.copyNote)
	mdBtn := widget.NewButtonWithIcon(lang.L("Export Markdown…"), theme.DocumentSaveIcon(), func() { v.exportDialog(".md") })
	txtBtn := widget.NewButtonWithIcon(lang.L("Export text…"), theme.DocumentSaveIcon(), func() { v.exportDialog(".txt") })
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord

	top := container.NewBorder(nil, nil, container.NewHBox(dotBox, v.indicator), container.NewHBox(v.start, v.pause, v.stop))
	left := container.NewBorder(widget.NewLabelWithStyle(lang.L("Transcript"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, nil, nil, v.transcript)
	noteHead := container.NewBorder(nil, nil, widget.NewLabelWithStyle(lang.L("Note"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), v.write, v.template)
	right := container.NewBorder(noteHead, container.NewHBox(copyBtn, mdBtn, txtBtn), nil, nil, v.note)
	split := container.NewHSplit(left, right)
	w.SetContent(container.NewBorder(container.NewVBox(top, widget.NewSeparator()), v.status, nil, nil, split))
	v.update()
	return v
}

// update shows the state on the indicator and the buttons (UI goroutine).
func (v *dictationView) update() {
	red := theme.Color(theme.ColorNameError)
	switch v.state {
	case dictIdle:
		v.dot.FillColor = theme.Color(theme.ColorNameDisabled)
		v.indicator.SetText(lang.L("Not recording"))
	case dictRecording:
		v.dot.FillColor = red
		v.indicator.SetText(fmt.Sprintf("%s %s", lang.L("Recording"), clockOf(v.elapsed())))
	case dictPaused:
		v.dot.FillColor = theme.Color(theme.ColorNameWarning)
		v.indicator.SetText(fmt.Sprintf("%s %s", lang.L("Paused"), clockOf(v.elapsed())))
	case dictFinishing:
		v.dot.FillColor = theme.Color(theme.ColorNameDisabled)
		v.indicator.SetText(lang.L("Stopped — transcribing the last words…"))
	}
	v.dot.Refresh()
	busy := v.state != dictIdle
	setEnabled(v.start, !busy)
	setEnabled(v.pause, v.state == dictRecording || v.state == dictPaused)
	setEnabled(v.stop, v.state == dictRecording || v.state == dictPaused)
	if v.state == dictPaused {
		v.pause.SetText(lang.L("Resume"))
		v.pause.SetIcon(theme.MediaPlayIcon())
	} else {
		v.pause.SetText(lang.L("Pause"))
		v.pause.SetIcon(theme.MediaPauseIcon())
	}
	setEnabled(v.write, v.state == dictIdle && v.noteCancel == nil)
}

func setEnabled(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

func (v *dictationView) elapsed() time.Duration {
	if v.state == dictRecording {
		return v.recorded + v.now().Sub(v.started)
	}
	return v.recorded
}

func clockOf(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

func (v *dictationView) paused() bool {
	v.pausedFlag.Lock()
	defer v.pausedFlag.Unlock()
	return v.isPaused
}

func (v *dictationView) setPaused(p bool) {
	v.pausedFlag.Lock()
	v.isPaused = p
	v.pausedFlag.Unlock()
}

func (v *dictationView) startRecording() {
	if v.state != dictIdle {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	v.state, v.started, v.recorded = dictRecording, v.now(), 0
	v.setPaused(false)
	v.status.SetText("")
	v.ticker = time.NewTicker(time.Second)
	tick := v.ticker.C
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick:
				v.onUI(v.update)
			}
		}
	}()
	v.update()
	go func() {
		err := v.d.Dictate(ctx, v.paused, func(text string) { v.onUI(func() { v.appendText(text) }) })
		v.onUI(func() { v.finished(err) })
	}()
}

func (v *dictationView) appendText(text string) {
	t := strings.TrimRight(v.transcript.Text, " \n")
	if t != "" {
		t += "\n"
	}
	v.transcript.SetText(t + strings.TrimSpace(text))
	v.transcript.CursorRow = len(strings.Split(v.transcript.Text, "\n")) - 1 // follow the end
	v.transcript.Refresh()
}

func (v *dictationView) togglePause() {
	switch v.state {
	case dictRecording:
		v.recorded += v.now().Sub(v.started)
		v.state = dictPaused
		v.setPaused(true)
	case dictPaused:
		v.started = v.now()
		v.state = dictRecording
		v.setPaused(false)
	}
	v.update()
}

func (v *dictationView) stopRecording() {
	if v.state != dictRecording && v.state != dictPaused {
		return
	}
	if v.state == dictRecording {
		v.recorded += v.now().Sub(v.started)
	}
	v.state = dictFinishing
	v.cancel()
	v.update()
}

// finished: the dictation ended (Stop, or the microphone failed); what was heard is kept.
func (v *dictationView) finished(err error) {
	if v.state == dictRecording {
		v.recorded += v.now().Sub(v.started)
	}
	if v.ticker != nil {
		v.ticker.Stop()
	}
	if v.cancel != nil {
		v.cancel()
	}
	v.state = dictIdle
	if d, ok := err.(SoundDropped); ok {
		// The recording went to its end, but some of it never reached the transcript.
		v.status.SetText(fmt.Sprintf(lang.L("%.1f s of sound was lost because the computer was too busy: the transcript may miss what was said then."), d.Seconds))
	} else if err != nil && !errors.Is(err, context.Canceled) {
		v.status.SetText(lang.L("The recording stopped: ") + errText(err) + " " + lang.L("What was said until then is kept."))
	}
	v.update()
}

// SoundDropped is what a Dictator returns, after the whole transcript, when the machine was
// too busy to take some of the microphone's sound and nothing else went wrong: the window
// tells the person how much may be missing from the transcript.
type SoundDropped struct{ Seconds float64 }

func (e SoundDropped) Error() string {
	return fmt.Sprintf("%.1f s of sound was dropped because the machine was too busy", e.Seconds)
}

func (v *dictationView) writeNote() {
	transcript := strings.TrimSpace(v.transcript.Text)
	if transcript == "" {
		v.status.SetText(lang.L("Nothing to write a note from yet: start a dictation first."))
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.noteCancel = cancel
	v.status.SetText(lang.L("Writing the note…"))
	v.update()
	tmpl := v.template.Selected
	go func() {
		md, txt, err := v.d.Note(ctx, tmpl, transcript)
		v.onUI(func() {
			cancel()
			v.noteCancel = nil
			if err != nil {
				v.status.SetText(lang.L("The note could not be written: ") + errText(err))
			} else {
				v.note.SetText(md)
				_ = txt // the text export comes from the note as edited
				v.status.SetText(lang.L("The note is written; check it and edit what is wrong."))
			}
			v.update()
		})
	}()
}

func (v *dictationView) copyNote() {
	v.u.fapp.Clipboard().SetContent(v.note.Text)
	v.status.SetText(lang.L("The note is on the clipboard."))
}

// exported is the note as a file of the given kind: the Markdown as edited, or the same
// without its marks.
func (v *dictationView) exported(ext string) []byte {
	if ext == ".md" {
		return []byte(v.note.Text)
	}
	return []byte(markdownToText(v.note.Text))
}

func (v *dictationView) exportTo(path, ext string) {
	if err := v.export(path, v.exported(ext)); err != nil {
		v.status.SetText(lang.L("The note could not be saved: ") + err.Error())
		return
	}
	v.status.SetText(lang.L("Saved ") + path)
}

func (v *dictationView) exportDialog(ext string) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		v.exportTo(path, ext)
	}, v.win)
	d.SetFileName("note" + ext)
	d.Show()
}

// markdownToText strips the note's Markdown marks: headings underlined, list marks as "* ".
func markdownToText(md string) string {
	var b strings.Builder
	for _, l := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(l, "# "), strings.HasPrefix(l, "## "):
			h := strings.TrimLeft(l, "# ")
			u := "-"
			if strings.HasPrefix(l, "# ") {
				u = "="
			}
			b.WriteString(h + "\n" + strings.Repeat(u, len([]rune(h))) + "\n")
			continue
		case strings.HasPrefix(l, "- [ ] "), strings.HasPrefix(l, "- [x] "):
			l = "* " + l[6:]
		case strings.HasPrefix(l, "- "):
			l = "* " + l[2:]
		case len(l) > 2 && strings.HasPrefix(l, "_") && strings.HasSuffix(l, "_"):
			l = l[1 : len(l)-1]
		}
		b.WriteString(l + "\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func errText(err error) string {
	msg := strings.TrimSuffix(app.Message(err), ".")
	if h := app.Hint(err); h != "" {
		msg += ". " + h
	}
	return msg
}
