package ui

import (
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"hark/app"
)

// maxSourceTitle is the longest source title shown on one line: a title is a button, and a
// button does not wrap.
const maxSourceTitle = 60

// carSources is what the car adds to a reply's small print: the titles of its sources. A
// driver is not to read paragraphs, and the answer is spoken without them; a line of its own
// would fall below the large reply, out of view.
func (u *UI) carSources(ps []app.Passage) string {
	if len(ps) == 0 || u.settings.Mode != ModeCar {
		return ""
	}
	titles := make([]string, len(ps))
	for i, p := range ps {
		titles[i] = shortTitle(p.Source)
	}
	return " · " + lang.L("Sources") + ": " + strings.Join(titles, "; ")
}

// showSources puts the documents a reply was answered from under it, on the desktop and the
// kiosk: each source opens with a tap to show the passage the model was given, so a person
// can check the answer. The car shows them with carSources instead.
func (u *UI) showSources(ps []app.Passage) {
	if len(ps) == 0 || u.settings.Mode == ModeCar {
		return
	}
	list := container.NewVBox()
	var card *bubble
	for _, p := range ps {
		list.Add(u.sourceRow(p, func() {
			// The card's height changed: lay the chat out again, keeping the opened passage
			// where the person tapped rather than jumping to the bottom.
			card.render()
			card.row.Refresh()
			u.chat.changed = true
			u.chat.commit(false)
		}))
	}
	card = u.chat.addCard(bubbleCard, lang.L("Sources"), "", list)
}

// sourceRow is one source: its title as a button that shows or hides its passage.
func (u *UI) sourceRow(p app.Passage, resized func()) fyne.CanvasObject {
	passage := widget.NewLabel(strings.TrimSpace(p.Text))
	passage.Wrapping = fyne.TextWrapWord
	passage.Hide()
	var btn *widget.Button
	btn = widget.NewButtonWithIcon(shortTitle(p.Source), theme.MenuExpandIcon(), func() {
		if passage.Visible() {
			passage.Hide()
			btn.SetIcon(theme.MenuExpandIcon())
		} else {
			passage.Show()
			btn.SetIcon(theme.MenuDropDownIcon())
		}
		resized()
	})
	btn.Alignment = widget.ButtonAlignLeading
	btn.Importance = widget.LowImportance
	return container.NewVBox(btn, passage)
}

// shortTitle cuts a long "document › heading" to what fits on a button, keeping the start
// (the document) and the end (the heading the passage is under).
func shortTitle(s string) string {
	if utf8.RuneCountInString(s) <= maxSourceTitle {
		return s
	}
	r := []rune(s)
	head := maxSourceTitle / 3
	return string(r[:head]) + "…" + string(r[len(r)-(maxSourceTitle-head-1):])
}
