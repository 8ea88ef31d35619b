package ui

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// Mode is how the window presents itself.
type Mode string

const (
	ModeDesktop Mode = "desktop" // a normal resizable window
	ModeKiosk   Mode = "kiosk"   // fullscreen, locked, self-wiping
	ModeCar     Mode = "car"     // 800×480 touch screen, dark, hands-free, spoken replies
)

// ParseMode checks a --mode value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case ModeDesktop, ModeKiosk, ModeCar:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q: choose desktop, kiosk or car", s)
}

// Settings are what the settings dialog edits.
type Settings struct {
	Mode            Mode
	Microphone      string // capture device name; "" = the system default
	ASRModel        string // whisper model file
	LLMModel        string // GGUF model file
	VADModel        string // Silero VAD model file; "" = energy-based detection
	Language        string // spoken language code, "auto" to detect
	HandsFree       bool
	WakePhrase      string
	TrailingSilence time.Duration // silence that ends an utterance (hands-free)
	SystemPrompt    string
	TextSize        string // small, medium, large, huge
	Theme           string // system, light, dark
	UILanguage      string // the window's language: system, en or zh (UILanguages)
	Speak           bool   // say replies aloud
	IdleWipe        time.Duration
	AdminChord      string // kiosk: the chord that quits, e.g. "ctrl+alt+shift+a" (set in the configuration file)
}

// DefaultSettings are the settings of a first start in mode m: the car listens hands-free and
// speaks; the kiosk listens hands-free and forgets after two minutes alone.
func DefaultSettings(m Mode) Settings {
	s := Settings{Mode: m, Language: "en", TrailingSilence: 600 * time.Millisecond, TextSize: "medium", Theme: "system", UILanguage: "system",
		AdminChord: "ctrl+alt+shift+a"}
	switch m {
	case ModeCar:
		s.HandsFree, s.Speak = true, true
	case ModeKiosk:
		s.HandsFree, s.IdleWipe = true, 2*time.Minute
	}
	return s
}

// Languages offered in the settings (whisper's codes); "auto" detects.
var languageChoices = []string{"auto", "en", "de", "es", "fr", "it", "nl", "pt", "pl", "sv", "ja", "zh"}

// Validate reports the first thing wrong with s, worded for the settings dialog.
func (s Settings) Validate() error {
	for _, f := range []struct{ name, path string }{{"Speech model", s.ASRModel}, {"Language model", s.LLMModel}, {"Voice detection model", s.VADModel}} {
		if !isPath(f.path) {
			continue // empty (the default) or a model's name from `hark models list`
		}
		st, err := os.Stat(f.path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("%s: there is no file %s", f.name, f.path)
		case err != nil:
			return fmt.Errorf("%s: %w", f.name, err)
		case st.IsDir():
			return fmt.Errorf("%s: %s is a folder; choose the model file in it", f.name, f.path)
		}
	}
	if s.TrailingSilence < 200*time.Millisecond || s.TrailingSilence > 5*time.Second {
		return fmt.Errorf("End of speech: %v is out of range (0.2 to 5 seconds)", s.TrailingSilence)
	}
	if s.IdleWipe < 0 {
		return errors.New("Forget after: must not be negative")
	}
	return nil
}

// settingsForm is the settings dialog's content; read turns it back into Settings.
type settingsForm struct {
	form                  *widget.Form
	mic, lang, size, look *widget.Select
	mode                  *widget.Select
	asr, llm, vad         *widget.Entry
	wake, silence, idle   *widget.Entry
	prompt                *widget.Entry
	handsFree, speak      *widget.Check
	uiLang                *widget.Select
	base                  Settings
	onBrowse              func(target *widget.Entry)
}

const defaultMicrophone = "System default"

func newSettingsForm(s Settings, devices []string, onBrowse func(*widget.Entry)) *settingsForm {
	f := &settingsForm{base: s, onBrowse: onBrowse}
	f.mic = widget.NewSelect(append([]string{lang.L(defaultMicrophone)}, devices...), nil)
	if s.Microphone == "" {
		f.mic.SetSelected(lang.L(defaultMicrophone))
	} else {
		if !contains(f.mic.Options, s.Microphone) {
			f.mic.Options = append(f.mic.Options, s.Microphone)
		}
		f.mic.SetSelected(s.Microphone)
	}
	f.mode = widget.NewSelect([]string{string(ModeDesktop), string(ModeKiosk), string(ModeCar)}, nil)
	f.mode.SetSelected(string(s.Mode))
	f.lang = widget.NewSelect(languageChoices, nil)
	f.lang.SetSelected(s.Language)
	f.uiLang = widget.NewSelect(nil, nil)
	for _, c := range UILanguages {
		f.uiLang.Options = append(f.uiLang.Options, lang.L(languageNames[c]))
		if c == s.UILanguage || (c == "system" && s.UILanguage == "") {
			f.uiLang.SetSelected(lang.L(languageNames[c]))
		}
	}
	f.size = widget.NewSelect([]string{"small", "medium", "large", "huge"}, nil)
	f.size.SetSelected(s.TextSize)
	f.look = widget.NewSelect([]string{"system", "light", "dark"}, nil)
	f.look.SetSelected(s.Theme)
	entry := func(v, placeholder string) *widget.Entry {
		e := widget.NewEntry()
		e.SetText(v)
		e.SetPlaceHolder(placeholder)
		return e
	}
	f.asr = entry(s.ASRModel, lang.L("the device's default (hark models list)"))
	f.llm = entry(s.LLMModel, lang.L("the device's default (hark models list)"))
	f.vad = entry(s.VADModel, lang.L("the device's default, or energy detection"))
	f.wake = entry(s.WakePhrase, lang.L("none: every utterance is a question"))
	f.silence = entry(strconv.FormatFloat(s.TrailingSilence.Seconds(), 'f', -1, 64), "0.6")
	f.idle = entry(strconv.Itoa(int(s.IdleWipe/time.Second)), lang.L("0 = never"))
	f.prompt = widget.NewMultiLineEntry()
	f.prompt.SetText(s.SystemPrompt)
	f.prompt.SetPlaceHolder(lang.L("Hark's default: short, speakable answers"))
	f.prompt.SetMinRowsVisible(3)
	f.prompt.Wrapping = fyne.TextWrapWord
	f.handsFree = widget.NewCheck(lang.L("Listen without a button press"), nil)
	f.handsFree.SetChecked(s.HandsFree)
	f.speak = widget.NewCheck(lang.L("Say replies aloud"), nil)
	f.speak.SetChecked(s.Speak)
	withBrowse := func(e *widget.Entry) fyne.CanvasObject {
		b := widget.NewButton(lang.L("Choose…"), func() {
			if f.onBrowse != nil {
				f.onBrowse(e)
			}
		})
		return container.NewBorder(nil, nil, nil, b, e)
	}
	asrRow := withBrowse(f.asr)
	llmRow := withBrowse(f.llm)
	vadRow := withBrowse(f.vad)
	f.form = widget.NewForm(
		widget.NewFormItem(lang.L("Microphone"), f.mic),
		widget.NewFormItem(lang.L("Speech model"), asrRow),
		widget.NewFormItem(lang.L("Language model"), llmRow),
		widget.NewFormItem(lang.L("Voice detection"), vadRow),
		widget.NewFormItem(lang.L("Language"), f.lang),
		widget.NewFormItem(lang.L("Hands-free"), f.handsFree),
		widget.NewFormItem(lang.L("Wake phrase"), f.wake),
		widget.NewFormItem(lang.L("End of speech (s)"), f.silence),
		widget.NewFormItem(lang.L("System prompt"), f.prompt),
		widget.NewFormItem(lang.L("Speech output"), f.speak),
		widget.NewFormItem(lang.L("Interface language"), f.uiLang),
		widget.NewFormItem(lang.L("Text size"), f.size),
		widget.NewFormItem(lang.L("Theme"), f.look),
		widget.NewFormItem(lang.L("Mode"), f.mode),
		widget.NewFormItem(lang.L("Forget after (s)"), f.idle),
	)
	return f
}

// read returns the settings the form shows.
func (f *settingsForm) read() (Settings, error) {
	s := f.base
	s.Microphone = f.mic.Selected
	if s.Microphone == lang.L(defaultMicrophone) {
		s.Microphone = ""
	}
	s.Mode = Mode(f.mode.Selected)
	s.ASRModel = strings.TrimSpace(f.asr.Text)
	s.LLMModel = strings.TrimSpace(f.llm.Text)
	s.VADModel = strings.TrimSpace(f.vad.Text)
	s.Language = f.lang.Selected
	s.HandsFree = f.handsFree.Checked
	s.WakePhrase = strings.TrimSpace(f.wake.Text)
	secs, err := strconv.ParseFloat(strings.TrimSpace(f.silence.Text), 64)
	if err != nil {
		return s, fmt.Errorf("End of speech: %q is not a number of seconds", f.silence.Text)
	}
	s.TrailingSilence = time.Duration(secs * float64(time.Second))
	s.SystemPrompt = strings.TrimSpace(f.prompt.Text)
	s.TextSize = f.size.Selected
	s.Theme = f.look.Selected
	for _, c := range UILanguages {
		if f.uiLang.Selected == lang.L(languageNames[c]) {
			s.UILanguage = c
		}
	}
	s.Speak = f.speak.Checked
	idle, err := strconv.Atoi(strings.TrimSpace(f.idle.Text))
	if err != nil {
		return s, fmt.Errorf("Forget after: %q is not a whole number of seconds", f.idle.Text)
	}
	s.IdleWipe = time.Duration(idle) * time.Second
	return s, s.Validate()
}

// isPath tells a model file's path from a model's name: paths have a folder or an extension.
func isPath(ref string) bool {
	return strings.ContainsRune(ref, os.PathSeparator) || strings.HasPrefix(ref, "~") ||
		strings.HasSuffix(ref, ".bin") || strings.HasSuffix(ref, ".gguf")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// showSettings opens the settings dialog over w; save is called with valid settings.
func (u *UI) showSettings() {
	if u.settingsOpen {
		return
	}
	u.settingsOpen = true
	// Listing devices talks to the sound server: never on the UI goroutine.
	go func() {
		var devices []string
		if u.opt.Devices != nil {
			devices, _ = u.opt.Devices()
		}
		u.onUI(func() { u.openSettingsDialog(devices) })
	}()
}

func (u *UI) openSettingsDialog(devices []string) {
	f := newSettingsForm(u.settings, devices, func(target *widget.Entry) {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			target.SetText(r.URI().Path())
			_ = r.Close()
		}, u.win)
	})
	u.settingsForm = f
	errLabel := widget.NewLabel("")
	errLabel.Importance = widget.DangerImportance
	errLabel.Wrapping = fyne.TextWrapWord
	var page fyne.CanvasObject = f.form
	if home := u.homeSection(); home != nil {
		page = container.NewVBox(f.form, home)
	}
	content := container.NewBorder(nil, errLabel, nil, nil, container.NewVScroll(page))
	var d *dialog.CustomDialog
	save := widget.NewButton(lang.L("Save"), func() {
		s, err := f.read()
		if err != nil {
			errLabel.SetText(err.Error())
			return
		}
		d.Hide()
		u.saveSettings(s)
	})
	save.Importance = widget.HighImportance
	cancel := widget.NewButton(lang.L("Cancel"), func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons(lang.L("Settings"), content, u.win)
	buttons := []fyne.CanvasObject{cancel, save}
	if u.opt.Documents != nil {
		buttons = append([]fyne.CanvasObject{widget.NewButton(lang.L("Documents…"), func() { u.showDocuments() })}, buttons...)
	}
	d.SetButtons(buttons)
	d.SetOnClosed(func() { u.settingsOpen, u.settingsForm = false, nil })
	size := u.win.Canvas().Size()
	d.Resize(fyne.NewSize(min(size.Width*0.95, 640), size.Height*0.92))
	d.Show()
}

// saveSettings applies s to the window at once, and saves and applies it to the assistant off
// the UI goroutine.
func (u *UI) saveSettings(s Settings) {
	old := u.settings
	u.settings = s
	if s.UILanguage != old.UILanguage {
		SetLanguage(s.UILanguage, u.opt.SystemLanguage)
	}
	if s.Mode != old.Mode || s.TextSize != old.TextSize || s.Theme != old.Theme || s.UILanguage != old.UILanguage {
		u.applyMode()
	}
	u.refreshStatus()
	if u.opt.Save == nil {
		return
	}
	go func() {
		if err := u.opt.Save(old, s); err != nil {
			u.onUI(func() { dialog.ShowError(fmt.Errorf("the settings could not be saved: %w", err), u.win) })
		}
	}()
}
