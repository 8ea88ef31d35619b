package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// fakeDocs is a Documents that keeps its sources in memory and records its calls.
type fakeDocs struct {
	mu    sync.Mutex
	srcs  []DocumentSource
	calls []string
}

func (f *fakeDocs) Sources(context.Context) ([]DocumentSource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.srcs), nil
}

func (f *fakeDocs) Add(_ context.Context, path string) (DocumentsChange, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "add "+path)
	f.srcs = append(f.srcs, DocumentSource{Path: path, Documents: 2, Passages: 9})
	return DocumentsChange{Indexed: 2, Skipped: []string{path + "/scan.pdf: encrypted"}}, nil
}

func (f *fakeDocs) Remove(_ context.Context, path string) (DocumentsChange, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "remove "+path)
	f.srcs = slices.DeleteFunc(f.srcs, func(s DocumentSource) bool { return s.Path == path })
	return DocumentsChange{Removed: 4}, nil
}

func (f *fakeDocs) Rebuild(context.Context) (DocumentsChange, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "rebuild")
	return DocumentsChange{Indexed: 4}, errors.New("/srv/docs/old: gone")
}

// until drains the UI queue until cond holds; the deadline only stops a broken dialog from
// hanging the test.
func until(t *testing.T, drain func(), what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen", what)
		}
		time.Sleep(5 * time.Millisecond)
		drain()
	}
}

// rowTexts lists each source row as "name | detail".
func rowTexts(v *documentsView) []string {
	var out []string
	for _, o := range v.list.Objects {
		row, ok := o.(*fyne.Container)
		if !ok {
			out = append(out, o.(*widget.Label).Text)
			continue
		}
		labels := row.Objects[0].(*fyne.Container).Objects
		out = append(out, labels[0].(*widget.Label).Text+" | "+labels[1].(*widget.Label).Text)
	}
	return out
}

// TestDocumentsDialog: the settings offer the documents when there are any to manage; the
// dialog lists the added folders, removes one, rebuilds, and says what each did.
func TestDocumentsDialog(t *testing.T) {
	u, _ := newTestUI(t, ModeKiosk)
	drain := testGoroutine(u)
	docs := &fakeDocs{srcs: []DocumentSource{
		{Path: "/srv/docs/venue", Documents: 3, Passages: 41},
		{Path: "/media/stick/menus", Gone: true},
	}}
	u.opt.Documents = docs
	u.win.Resize(fyne.NewSize(1280, 800))
	v := u.showDocuments()
	until(t, drain, "the sources listed", func() bool { return len(v.list.Objects) == 2 })
	want := []string{"venue | /srv/docs · 3 documents, 41 passages", "menus | /media/stick · not found on disk now"}
	if got := rowTexts(v); !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
	shot := u.win.Canvas().Capture()
	matchImage(t, "kiosk-documents.png", shot)

	remove := v.list.Objects[0].(*fyne.Container).Objects[1].(*fyne.Container).Objects[0].(*widget.Button)
	test.Tap(remove)
	if v.confirm == nil || len(docs.calls) != 0 {
		t.Fatalf("removing did not ask first (calls %q)", docs.calls)
	}
	v.confirm.Hide() // closed without a yes: nothing is removed
	drain()
	if len(docs.calls) != 0 || len(v.list.Objects) != 2 {
		t.Fatalf("closing the question removed something: calls %q", docs.calls)
	}
	test.Tap(remove)
	v.confirm.Confirm()
	if !remove.Disabled() || v.status.Text != "Removing…" {
		t.Errorf("while removing: button disabled %v, status %q", remove.Disabled(), v.status.Text)
	}
	until(t, drain, "the removal", func() bool { return strings.Contains(v.status.Text, "removed") && len(v.list.Objects) == 1 })
	if v.status.Text != "0 read, 4 removed, 0 skipped." || !slices.Equal(docs.calls, []string{"remove /srv/docs/venue"}) {
		t.Errorf("after remove: status %q, calls %q", v.status.Text, docs.calls)
	}

	test.Tap(v.buttons[1])
	until(t, drain, "the rebuild", func() bool { return strings.Contains(v.status.Text, "read,") })
	if v.status.Text != "4 read, 0 removed, 0 skipped.\n/srv/docs/old: gone" || v.buttons[1].Disabled() {
		t.Errorf("after rebuild: status %q, button disabled %v", v.status.Text, v.buttons[1].Disabled())
	}

	// Removing every source leaves the hint of what to do.
	test.Tap(v.list.Objects[0].(*fyne.Container).Objects[1].(*fyne.Container).Objects[0].(*widget.Button))
	v.confirm.Confirm()
	until(t, drain, "the last removal", func() bool {
		l, ok := v.list.Objects[0].(*widget.Label)
		return ok && strings.HasPrefix(l.Text, "No documents yet.")
	})
}
