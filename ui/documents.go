package ui

import (
	"context"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Documents manages the documents the assistant answers from, for the settings (in a kiosk,
// the admin settings behind the chord). Its methods are called on goroutines of their own.
type Documents interface {
	// Sources lists the added files and folders.
	Sources(ctx context.Context) ([]DocumentSource, error)
	// Add indexes a file or folder and remembers it.
	Add(ctx context.Context, path string) (DocumentsChange, error)
	// Remove drops an added file or folder and its documents.
	Remove(ctx context.Context, path string) (DocumentsChange, error)
	// Rebuild indexes every added file and folder again.
	Rebuild(ctx context.Context) (DocumentsChange, error)
}

// DocumentSource is an added file or folder.
type DocumentSource struct {
	Path      string
	Documents int // indexed documents from it
	Passages  int
	Gone      bool // it is not on disk now (an unplugged stick)
}

// DocumentsChange is what an Add, Remove or Rebuild did.
type DocumentsChange struct {
	Indexed, Removed int
	Skipped          []string // "file: why"
}

// documentsView is the documents dialog's content.
type documentsView struct {
	u       *UI
	list    *fyne.Container
	scroll  *container.Scroll // around list: told when the list's height changes
	status  *widget.Label
	buttons []*widget.Button // disabled while an operation runs
	busy    bool
	confirm *dialog.ConfirmDialog // the removal question, while it is asked
}

// showDocuments opens the documents dialog: the added files and folders, each with a button
// that removes it, and buttons that add a folder and rebuild the index. It returns the
// dialog's view for tests.
func (u *UI) showDocuments() *documentsView {
	v := &documentsView{u: u, list: container.NewVBox(), status: widget.NewLabel("")}
	v.status.Wrapping = fyne.TextWrapWord
	add := widget.NewButtonWithIcon(lang.L("Add a folder…"), theme.FolderOpenIcon(), func() {
		fd := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
			if err != nil || dir == nil {
				return
			}
			path := dir.Path()
			v.run(lang.L("Reading the documents…"), func(ctx context.Context) (DocumentsChange, error) {
				return u.opt.Documents.Add(ctx, path)
			})
		}, u.win)
		fd.Resize(u.win.Canvas().Size())
		fd.Show()
	})
	rebuild := widget.NewButtonWithIcon(lang.L("Rebuild the index"), theme.ViewRefreshIcon(), func() {
		v.run(lang.L("Reading the documents…"), u.opt.Documents.Rebuild)
	})
	v.buttons = []*widget.Button{add, rebuild}
	v.scroll = container.NewVScroll(v.list)
	content := container.NewBorder(nil, container.NewVBox(v.status, container.NewHBox(add, rebuild)), nil, nil, v.scroll)
	d := dialog.NewCustom(lang.L("Documents"), lang.L("Close"), content, u.win)
	size := u.win.Canvas().Size()
	d.Resize(fyne.NewSize(min(size.Width*0.95, 640), size.Height*0.8))
	d.Show()
	v.reload("")
	return v
}

// reload lists the sources again, then shows note (what the last operation did).
func (v *documentsView) reload(note string) {
	go func() {
		srcs, err := v.u.opt.Documents.Sources(context.Background())
		v.u.onUI(func() {
			v.list.RemoveAll()
			if err != nil {
				note = strings.TrimSpace(note + "\n" + err.Error())
			}
			if len(srcs) == 0 && err == nil {
				l := widget.NewLabel(lang.L("No documents yet. Add a folder of Markdown, text, HTML or PDF files; questions are then answered from them, with their source."))
				l.Wrapping = fyne.TextWrapWord
				v.list.Add(l)
			}
			for _, s := range srcs {
				v.list.Add(v.row(s))
			}
			// The scroll sizes its content to the content's height: refreshing the list alone
			// would lay the rows out in the empty list's height.
			v.scroll.Refresh()
			v.status.SetText(note)
		})
	}()
}

// row is one added file or folder: its name, what it holds, and a remove button.
func (v *documentsView) row(s DocumentSource) fyne.CanvasObject {
	name := widget.NewLabelWithStyle(filepath.Base(s.Path), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	detail := lang.L("{{.Documents}} documents, {{.Passages}} passages", map[string]any{"Documents": s.Documents, "Passages": s.Passages})
	if s.Gone {
		detail = lang.L("not found on disk now")
	}
	info := widget.NewLabel(filepath.Dir(s.Path) + " · " + detail)
	info.Wrapping = fyne.TextWrapWord
	info.Importance = widget.LowImportance
	path := s.Path
	remove := widget.NewButtonWithIcon(lang.L("Remove"), theme.DeleteIcon(), func() {
		// The kiosk stops answering from these documents at once: ask first.
		v.confirm = dialog.NewConfirm(lang.L("Remove"),
			lang.L("Stop answering from {{.Name}} ({{.Documents}} documents)? The files themselves are kept.",
				map[string]any{"Name": filepath.Base(path), "Documents": s.Documents}),
			func(yes bool) {
				v.confirm = nil
				if yes {
					v.run(lang.L("Removing…"), func(ctx context.Context) (DocumentsChange, error) {
						return v.u.opt.Documents.Remove(ctx, path)
					})
				}
			}, v.u.win)
		v.confirm.Show()
	})
	remove.Importance = widget.DangerImportance
	v.buttons = append(v.buttons, remove)
	return container.NewBorder(nil, nil, nil, container.NewCenter(remove), container.NewVBox(name, info))
}

// run does one operation off the UI goroutine, with the buttons disabled meanwhile, then
// lists the sources again and says what it did.
func (v *documentsView) run(doing string, op func(context.Context) (DocumentsChange, error)) {
	if v.busy {
		return
	}
	v.busy = true
	for _, b := range v.buttons {
		b.Disable()
	}
	v.status.SetText(doing)
	go func() {
		ch, err := op(context.Background())
		v.u.onUI(func() {
			v.busy = false
			v.buttons = v.buttons[:2] // the remove buttons are rebuilt with the list
			for _, b := range v.buttons {
				b.Enable()
			}
			note := lang.L("{{.Indexed}} read, {{.Removed}} removed, {{.Skipped}} skipped.",
				map[string]any{"Indexed": ch.Indexed, "Removed": ch.Removed, "Skipped": len(ch.Skipped)})
			if len(ch.Skipped) > 0 {
				note += "\n" + strings.Join(ch.Skipped, "\n")
			}
			if err != nil {
				note += "\n" + err.Error()
			}
			v.reload(note)
		})
	}()
}
