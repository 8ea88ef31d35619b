package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"hark/app"
)

// answered is a question answered from the operator's documents, with two sources.
func answered() []app.Event {
	return []app.Event{
		{Kind: app.EventTranscript, Turn: 1, Text: "Where can I buy plasters?", Input: app.InputTyped},
		{Kind: app.EventToken, Turn: 1, Text: "At the pharmacy on level 1, next to the north entrance."},
		{Kind: app.EventReply, Turn: 1, Text: "At the pharmacy on level 1, next to the north entrance.", Sources: []app.Passage{
			{Source: "venue-guide.md › Services › Pharmacy and first aid", Score: 7.2,
				Text: "The pharmacy is on level 1, next to the north entrance. It sells plasters, painkillers and sun cream, and is open from 9:00 to 18:00."},
			{Source: "faq.txt", Score: 3.1, Text: "First aid: ask any steward in a yellow vest."},
		}},
		{Kind: app.EventTurnDone, Turn: 1, Input: app.InputTyped, Timings: &app.Timings{FirstToken: 48 * time.Millisecond,
			Generate: 610 * time.Millisecond, Total: 612 * time.Millisecond, LLMCompute: 590 * time.Millisecond, Retrieve: 4 * time.Millisecond, Tokens: 14}},
	}
}

// sourceButtons are the sources' title buttons in the chat, in order.
func sourceButtons(u *UI) []*widget.Button {
	var out []*widget.Button
	for _, b := range u.chat.bubbles {
		if b.kind != bubbleCard || b.extra == nil {
			continue
		}
		for _, row := range b.extra.(*fyne.Container).Objects {
			out = append(out, row.(*fyne.Container).Objects[0].(*widget.Button))
		}
	}
	return out
}

// TestSourcesUnderTheReply: the sources follow the reply, each closed at first; a tap opens
// its passage and makes the card taller, a second tap closes it. The car shows the titles only.
func TestSourcesUnderTheReply(t *testing.T) {
	for _, mode := range []Mode{ModeDesktop, ModeKiosk} {
		t.Run(string(mode), func(t *testing.T) {
			u, _ := newTestUI(t, mode)
			u.win.Content().Resize(fyne.NewSize(800, 700))
			u.hideAttract()
			u.send(ready(false)...)
			u.send(answered()...)
			want := []string{"user: Where can I buy plasters?", "assistant: At the pharmacy on level 1, next to the north entrance.", "card: Sources"}
			if got := u.chat.texts(); !slices.Equal(got, want) {
				t.Fatalf("chat %q, want %q", got, want)
			}
			btns := sourceButtons(u)
			if len(btns) != 2 || btns[0].Text != "venue-guide.md › Services › Pharmacy and first aid" || btns[1].Text != "faq.txt" {
				t.Fatalf("source buttons %v", btns)
			}
			card := u.chat.bubbles[2]
			passage := card.extra.(*fyne.Container).Objects[0].(*fyne.Container).Objects[1].(*widget.Label)
			if passage.Visible() {
				t.Fatal("the passage shows before it is opened")
			}
			closed := card.row.MinSize().Height
			test.Tap(btns[0])
			if !passage.Visible() || !strings.Contains(passage.Text, "sells plasters") {
				t.Fatalf("tapping the source did not show its passage (visible %v, %q)", passage.Visible(), passage.Text)
			}
			if open := card.row.MinSize().Height; open <= closed {
				t.Errorf("the card is %v tall open, %v closed", open, closed)
			}
			test.Tap(btns[0])
			if passage.Visible() {
				t.Error("a second tap did not close the passage")
			}
		})
	}
	t.Run("car", func(t *testing.T) {
		u, _ := newTestUI(t, ModeCar)
		u.send(ready(true)...)
		u.send(answered()...)
		want := []string{"user: Where can I buy plasters?", "assistant: At the pharmacy on level 1, next to the north entrance."}
		if got := u.chat.texts(); !slices.Equal(got, want) {
			t.Fatalf("chat %q, want %q", got, want)
		}
		if meta := u.chat.bubbles[1].meta; meta != "09:41 · Sources: venue-guide.md › Services › Pharmacy and first aid; faq.txt" {
			t.Errorf("the reply's small print is %q", meta)
		}
	})
	t.Run("no sources", func(t *testing.T) {
		u, _ := newTestUI(t, ModeDesktop)
		u.send(ready(false)...)
		u.send(conversation()[:5]...)
		for _, b := range u.chat.bubbles {
			if b.kind == bubbleCard {
				t.Errorf("a reply without sources got a card %q", b.text)
			}
		}
	})
}

func TestShortTitle(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"faq.txt", "faq.txt"},
		{"pump-manual-2024-revision-c.md › Troubleshooting › Error codes › E42: pressure sensor out of range",
			"pump-manual-2024-rev…des › E42: pressure sensor out of range"},
	} {
		got := shortTitle(tc.in)
		if got != tc.want {
			t.Errorf("shortTitle(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if n := len([]rune(got)); n > maxSourceTitle {
			t.Errorf("shortTitle(%q) is %d runes", tc.in, n)
		}
	}
}

// The look of the sources, opened, in each mode (see matchImage).
func TestRenderSources(t *testing.T) {
	for _, tc := range []struct {
		mode Mode
		size fyne.Size
		name string
	}{
		{ModeDesktop, fyne.NewSize(480, 720), "desktop-sources.png"},
		{ModeKiosk, fyne.NewSize(1280, 800), "kiosk-sources.png"},
		{ModeCar, fyne.NewSize(800, 480), "car-sources.png"},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			u, _ := newTestUI(t, tc.mode)
			u.settings.Theme = "light"
			u.applyMode()
			u.win.Content().Resize(tc.size)
			u.hideAttract()
			u.send(ready(tc.mode != ModeDesktop)...)
			u.send(answered()...)
			if btns := sourceButtons(u); len(btns) > 0 {
				test.Tap(btns[0])
			}
			if tc.mode == ModeDesktop {
				u.toggleDebug()
			}
			render(t, u, tc.size, tc.name)
		})
	}
}
