package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// bubbleKind says who a message is from, which sets its side and colours.
type bubbleKind int

const (
	bubbleUser      bubbleKind = iota // right, brand colour
	bubbleAssistant                   // left, grey
	bubbleNote                        // centre, small: "new conversation", "restarted"
	bubbleError                       // left, error colour: what failed and what to do
	bubbleCard                        // left, grey, with controls below the text: an action, a confirmation
)

// bubble is one message in the chat. Its text changes while a reply streams or a live
// transcript grows; render applies the change once per repaint.
type bubble struct {
	kind    bubbleKind
	text    string
	meta    string  // timestamp and remarks ("interrupted")
	partial bool    // a live transcript: italic, fainter
	large   bool    // car: the reply in large type
	avail   float32 // width of the row it sits in, once known
	rt      *widget.RichText
	bg      *canvas.Rectangle
	row     *fyne.Container
	extra   fyne.CanvasObject // bubbleCard: the card's controls under the text
}

func newBubble(kind bubbleKind, text, meta string, large bool) *bubble {
	return newCard(kind, text, meta, large, nil)
}

// newCard is a bubble with controls under its text (extra may be nil).
func newCard(kind bubbleKind, text, meta string, large bool, extra fyne.CanvasObject) *bubble {
	b := &bubble{kind: kind, text: text, meta: meta, large: large, extra: extra}
	b.rt = widget.NewRichText()
	b.rt.Wrapping = fyne.TextWrapWord
	b.bg = canvas.NewRectangle(themeColor(b.bgColor()))
	b.bg.CornerRadius = 14
	var body fyne.CanvasObject = b.rt
	if extra != nil {
		body = container.NewVBox(b.rt, extra)
	}
	inner := container.New(layout.NewCustomPaddedLayout(2, 2, 6, 6), body)
	b.row = container.New(&bubbleLayout{b: b}, container.NewStack(b.bg, inner))
	b.render()
	return b
}

func (b *bubble) bgColor() fyne.ThemeColorName {
	switch b.kind {
	case bubbleUser:
		return colorUserBubble
	case bubbleAssistant, bubbleError, bubbleCard:
		return colorAssistantBubble
	}
	return theme.ColorNameBackground
}

func (b *bubble) textSize() fyne.ThemeSizeName {
	switch {
	case b.kind == bubbleNote:
		return theme.SizeNameCaptionText
	case b.large:
		return sizeReplyText
	}
	return sizeBubbleText
}

// render copies the bubble's text into its widgets.
func (b *bubble) render() {
	colour := theme.ColorNameForeground
	switch b.kind {
	case bubbleUser:
		colour = colorUserText
	case bubbleError:
		colour = theme.ColorNameError
	case bubbleNote:
		colour = theme.ColorNamePlaceHolder
	}
	text := b.text
	if text == "" {
		text = "…"
	}
	style := widget.RichTextStyle{ColorName: colour, SizeName: b.textSize(), TextStyle: fyne.TextStyle{Italic: b.partial}}
	if b.kind == bubbleNote {
		style.Alignment = fyne.TextAlignCenter
	}
	segs := []widget.RichTextSegment{&widget.TextSegment{Text: text, Style: style}}
	if b.meta != "" {
		metaColour := theme.ColorNamePlaceHolder
		if b.kind == bubbleUser {
			metaColour = colorUserText
		}
		segs = append(segs, &widget.TextSegment{Text: b.meta, Style: widget.RichTextStyle{
			ColorName: metaColour, SizeName: theme.SizeNameCaptionText}})
	}
	b.rt.Segments = segs
	b.bg.FillColor = themeColor(b.bgColor())
	if b.avail > 0 {
		// Wrap at the width the text will have: wrapping long text into a zero width first
		// costs seconds.
		w := bubbleWidth(b, b.avail) - 12
		b.rt.Resize(fyne.NewSize(w, b.rt.Size().Height))
	}
	b.rt.Refresh()
	b.bg.Refresh()
}

// naturalWidth is how wide the bubble wants to be: its longest line unwrapped, plus padding.
func (b *bubble) naturalWidth() float32 {
	text := b.text
	if text == "" {
		text = "…"
	}
	if len(text) > 160 {
		return 1e6 // wider than any screen: no need to measure (it costs a shaping pass)
	}
	var w float32
	size := themeSize(b.textSize())
	for _, line := range strings.Split(text, "\n") {
		w = max(w, fyne.MeasureText(line, size, fyne.TextStyle{Italic: b.partial}).Width)
	}
	if b.meta != "" {
		w = max(w, fyne.MeasureText(b.meta, themeSize(theme.SizeNameCaptionText), fyne.TextStyle{}).Width)
	}
	if b.extra != nil {
		w = max(w, b.extra.MinSize().Width)
	}
	return w + 2*theme.InnerPadding() + 12 + 4
}

// bubbleLayout places a bubble on its side of the row, at most 80% of the row wide, and as
// tall as its wrapped text.
type bubbleLayout struct{ b *bubble }

// bubbleWidth is how wide b is in a row of width total.
func bubbleWidth(b *bubble, total float32) float32 {
	maxW := total * 0.8
	if b.kind == bubbleNote {
		maxW = total
	}
	return min(b.naturalWidth(), maxW)
}

func (l *bubbleLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	o := objs[0]
	w := bubbleWidth(l.b, size.Width)
	// Wrapped text reports its height for the width it has: size it twice.
	o.Resize(fyne.NewSize(w, o.Size().Height))
	o.Resize(fyne.NewSize(w, o.MinSize().Height))
	x := float32(0)
	switch l.b.kind {
	case bubbleUser:
		x = size.Width - w
	case bubbleNote:
		x = (size.Width - w) / 2
	}
	o.Move(fyne.NewPos(x, 0))
}

func (l *bubbleLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	o := objs[0]
	if l.b.avail > 0 {
		// The height depends on the width the text wraps at: give it that width first.
		o.Resize(fyne.NewSize(bubbleWidth(l.b, l.b.avail), o.Size().Height))
	}
	return fyne.NewSize(0, o.MinSize().Height)
}

// chatView is the scrolling list of messages.
type chatView struct {
	box      *fyne.Container
	scroll   *container.Scroll
	lastOnly bool // car: only the newest exchange is kept on screen
	large    bool // car: replies in large type
	bubbles  []*bubble
	dirty    map[*bubble]bool
	changed  bool
}

func newChatView(lastOnly, large bool) *chatView {
	c := &chatView{lastOnly: lastOnly, large: large, dirty: map[*bubble]bool{}}
	c.box = container.New(&chatLayout{c: c})
	c.scroll = container.NewVScroll(c.box)
	return c
}

// chatLayout stacks the messages like a VBox, but tells each bubble the width it will get
// before asking its height: wrapped text is as tall as the width it wraps at.
type chatLayout struct {
	c     *chatView
	width float32 // of the last layout
}

func (l *chatLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	l.width = size.Width
	pad := theme.Padding()
	y := float32(0)
	for i, o := range objs {
		if i < len(l.c.bubbles) {
			l.c.bubbles[i].avail = size.Width
		}
		h := o.MinSize().Height
		o.Resize(fyne.NewSize(size.Width, h))
		o.Move(fyne.NewPos(0, y))
		y += h + pad
	}
}

func (l *chatLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	pad := theme.Padding()
	h := float32(0)
	for i, o := range objs {
		if i < len(l.c.bubbles) && l.width > 0 {
			l.c.bubbles[i].avail = l.width
		}
		if i > 0 {
			h += pad
		}
		h += o.MinSize().Height
	}
	return fyne.NewSize(0, h)
}

// add appends a message; in lastOnly mode a new question clears the previous exchange.
func (c *chatView) add(kind bubbleKind, text, meta string) *bubble {
	return c.addCard(kind, text, meta, nil)
}

// addCard appends a message with controls under its text.
func (c *chatView) addCard(kind bubbleKind, text, meta string, extra fyne.CanvasObject) *bubble {
	if c.lastOnly && kind == bubbleUser {
		c.clear()
	}
	b := newCard(kind, text, meta, c.large && (kind == bubbleAssistant || kind == bubbleCard), extra)
	b.avail = c.scroll.Size().Width - theme.ScrollBarSize()
	c.bubbles = append(c.bubbles, b)
	c.box.Add(b.row)
	c.changed = true
	return b
}

func (c *chatView) remove(b *bubble) {
	for i, x := range c.bubbles {
		if x == b {
			c.bubbles = append(c.bubbles[:i], c.bubbles[i+1:]...)
			c.box.Remove(b.row)
			delete(c.dirty, b)
			c.changed = true
			return
		}
	}
}

func (c *chatView) clear() {
	c.bubbles = nil
	c.box.RemoveAll()
	clear(c.dirty)
	c.changed = true
}

// set changes a message; the change shows at the next commit.
func (c *chatView) set(b *bubble, text, meta string, partial bool) {
	if b.text == text && b.meta == meta && b.partial == partial {
		return
	}
	b.text, b.meta, b.partial = text, meta, partial
	c.dirty[b] = true
}

// atBottom reports whether the newest message is in view (then new text keeps it in view; a
// person reading further up is not dragged down).
func (c *chatView) atBottom() bool {
	over := c.box.MinSize().Height - c.scroll.Size().Height
	return over <= 0 || c.scroll.Offset.Y >= over-40
}

// commit shows the changes since the last commit, in one repaint.
func (c *chatView) commit(stick bool) {
	if len(c.dirty) == 0 && !c.changed {
		return
	}
	for b := range c.dirty {
		b.render()
		b.row.Refresh()
	}
	clear(c.dirty)
	c.changed = false
	c.box.Refresh()
	if stick {
		c.scroll.ScrollToBottom()
	}
}

// texts lists the messages as "kind: text" lines, for tests and the debug panel.
func (c *chatView) texts() []string {
	var out []string
	for _, b := range c.bubbles {
		k := [...]string{"user", "assistant", "note", "error", "card"}[b.kind]
		out = append(out, k+": "+b.text)
	}
	return out
}
