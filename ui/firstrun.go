package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ModelSetup is what the first-run screen needs; package main implements it on package models.
type ModelSetup interface {
	// Missing lists the models Hark needs and does not have. It is called on the UI goroutine
	// and must be quick (it looks at files, it does not read them).
	Missing() []MissingModel
	// Download fetches the missing models that can be downloaded, in turn, reporting progress
	// (from its own goroutine); when they are all there it loads them. It stops when ctx is done.
	Download(ctx context.Context, progress func(DownloadProgress)) error
}

// MissingModel is one model the first-run screen lists.
type MissingModel struct {
	What        string // "Speech recognition"
	Name        string // "whisper-base.en"
	Size        int64  // bytes; 0 when not known
	Problem     string // why it cannot be used: "not downloaded yet", "file missing: ..."
	CanDownload bool
}

// DownloadProgress is how a download is going.
type DownloadProgress struct {
	Name        string
	Done, Total int64 // bytes; Total 0 when not known
	BytesPerSec float64
	ETA         time.Duration // 0 when not known
	Note        string        // e.g. "reconnecting (attempt 2): connection refused"
}

// firstRun is the screen that explains what is missing and fetches it.
type firstRun struct {
	u       *UI
	box     *fyne.Container // the whole overlay
	list    *widget.Label
	status  *widget.Label
	bar     *widget.ProgressBar
	get     *widget.Button
	choose  *widget.Button
	later   *widget.Button
	cancel  *widget.Button
	stop    context.CancelFunc
	missing []MissingModel
}

// newFirstRun builds the screen for what setup says is missing, or returns nil when nothing is.
func newFirstRun(u *UI, setup ModelSetup) *firstRun {
	missing := setup.Missing()
	if len(missing) == 0 {
		return nil
	}
	f := &firstRun{u: u, missing: missing}
	title := widget.NewLabelWithStyle(lang.L("Welcome to Hark"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	intro := widget.NewLabel(lang.L("Hark understands speech and answers with models that run on this device, so nothing " +
		"you say leaves it. It needs these before it can listen and answer:"))
	intro.Wrapping = fyne.TextWrapWord
	f.list = widget.NewLabel(describeMissing(missing))
	f.list.Wrapping = fyne.TextWrapWord
	f.status = widget.NewLabel("")
	f.status.Wrapping = fyne.TextWrapWord
	f.bar = widget.NewProgressBar()
	f.bar.Hide()
	var total int64
	can := false
	for _, m := range missing {
		total += m.Size
		can = can || m.CanDownload
	}
	label := lang.L("Download them")
	if total > 0 {
		label = lang.L("Download ({{.Size}})", map[string]any{"Size": formatBytes(total)})
	}
	f.get = widget.NewButtonWithIcon(label, theme.DownloadIcon(), func() { f.download(setup) })
	f.get.Importance = widget.HighImportance
	if !can {
		f.get.Disable()
	}
	f.choose = widget.NewButtonWithIcon(lang.L("Choose files…"), theme.FolderOpenIcon(), func() { f.hide(); u.showSettings() })
	f.later = widget.NewButton(lang.L("Later"), f.hide)
	f.cancel = widget.NewButtonWithIcon(lang.L("Cancel"), theme.CancelIcon(), func() {
		if f.stop != nil {
			f.stop()
		}
	})
	f.cancel.Hide()
	if u.settings.Mode == ModeKiosk {
		f.choose.Hide() // the operator sets files in the configuration
	}
	card := container.NewVBox(title, intro, f.list, f.bar, f.status,
		container.NewHBox(f.get, f.cancel, f.choose, f.later))
	bg := canvas.NewRectangle(themeColor(theme.ColorNameBackground))
	f.box = container.NewStack(bg, container.NewPadded(container.NewVScroll(container.NewPadded(card))))
	return f
}

func describeMissing(ms []MissingModel) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "• %s: %s", m.What, m.Name)
		if m.Size > 0 {
			fmt.Fprintf(&b, " (%s)", formatBytes(m.Size))
		}
		if m.Problem != "" {
			fmt.Fprintf(&b, " — %s", m.Problem)
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// download runs setup.Download off the UI goroutine and shows its progress.
func (f *firstRun) download(setup ModelSetup) {
	ctx, cancel := context.WithCancel(context.Background())
	f.stop = cancel
	f.get.Hide()
	f.choose.Hide()
	f.later.Hide()
	f.cancel.Show()
	f.bar.SetValue(0)
	f.bar.Show()
	f.status.SetText(lang.L("Starting…"))
	go func() {
		var last time.Time
		err := setup.Download(ctx, func(p DownloadProgress) {
			if now := time.Now(); now.Sub(last) < 100*time.Millisecond && p.Done != p.Total {
				return // a few updates a second are plenty
			}
			last = time.Now()
			f.u.onUI(func() { f.showProgress(p) })
		})
		cancelled := ctx.Err() != nil
		cancel()
		f.u.onUI(func() { f.finished(err, cancelled) })
	}()
}

func (f *firstRun) showProgress(p DownloadProgress) {
	text := p.Name + ": " + formatBytes(p.Done)
	if p.Total > 0 {
		f.bar.SetValue(float64(p.Done) / float64(p.Total))
		text += " of " + formatBytes(p.Total)
	}
	if p.BytesPerSec > 0 {
		text += fmt.Sprintf(" · %s/s", formatBytes(int64(p.BytesPerSec)))
	}
	if p.ETA > 0 {
		text += " · " + p.ETA.Round(time.Second).String() + " left"
	}
	if p.Note != "" {
		text += "\n" + p.Note
	}
	f.status.SetText(text)
}

func (f *firstRun) finished(err error, cancelled bool) {
	f.stop = nil
	f.cancel.Hide()
	f.bar.Hide()
	switch {
	case err == nil:
		f.hide()
		return
	case cancelled:
		f.status.SetText(lang.L("Download cancelled. What was fetched so far is kept and resumed next time."))
	default:
		f.status.SetText(lang.L("The download failed: ") + err.Error())
	}
	f.get.Show()
	f.later.Show()
	if f.u.settings.Mode != ModeKiosk {
		f.choose.Show()
	}
}

func (f *firstRun) hide() {
	f.box.Hide()
	f.u.firstDone = true
}

// formatBytes writes a size the way people read it.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
