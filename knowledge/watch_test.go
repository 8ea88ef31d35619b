package knowledge

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestWatch: with the index watching its folders, documents written, changed, removed, put in
// a new subfolder, or in a folder added while it watches, are found (or no longer found)
// without anyone re-adding them.
func TestWatch(t *testing.T) {
	s, _ := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("hours.md", "# Opening hours\n\nThe museum opens at nine in the morning.\n")
	if _, err := s.Add(ctx, dir); err != nil {
		t.Fatal(err)
	}
	reports := make(chan Report, 100)
	done := make(chan error, 1)
	go func() {
		done <- s.Watch(ctx, 50*time.Millisecond, func(r Report, err error) {
			if err != nil {
				t.Errorf("watch: %v", err)
			}
			reports <- r
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Watch returned %v, want context.Canceled", err)
		}
	})
	// await waits for the report that mentions path (as indexed or removed), then checks
	// what a search finds. The deadline only stops a broken watcher from hanging the test.
	await := func(what, path string, removed bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case r := <-reports:
				if (!removed && slices.Contains(r.Indexed, path)) || (removed && slices.Contains(r.Removed, path)) {
					return
				}
			case <-deadline:
				t.Fatalf("%s: no report of %s within 20 s", what, path)
			}
		}
	}
	found := func(question string) string {
		t.Helper()
		hits, err := s.Retrieve(ctx, question, Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 {
			return ""
		}
		return hits[0].Path
	}
	time.Sleep(200 * time.Millisecond) // let the watch start; a change before it is found by its first refresh anyway

	p := write("parking.md", "# Parking\n\nBicycles are parked in the courtyard behind the cafe.\n")
	await("a new document", p, false)
	if got := found("where do I park my bicycle"); got != p {
		t.Errorf("new document: the bicycle question found %q", got)
	}

	write("parking.md", "# Parking\n\nScooters are parked in the garage under the east wing.\n")
	await("a changed document", p, false)
	if got := found("where do I park my scooter"); got != p {
		t.Errorf("changed document: the scooter question found %q", got)
	}
	if got := found("where do I park my bicycle in the courtyard"); got != "" {
		t.Errorf("changed document: the old text is still found in %q", got)
	}

	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	await("a removed document", p, true)
	if got := found("where do I park my scooter"); got != "" {
		t.Errorf("removed document still found: %q", got)
	}

	q := write("floors/level2.md", "# Level 2\n\nThe planetarium is on level two, past the gift shop.\n")
	await("a document in a new folder", q, false)
	if got := found("where is the planetarium"); got != q {
		t.Errorf("new folder: the planetarium question found %q", got)
	}

	other := t.TempDir()
	if _, err := s.Add(ctx, other); err != nil {
		t.Fatal(err)
	}
	r := filepath.Join(other, "cloakroom.txt")
	time.Sleep(300 * time.Millisecond) // the sources list changed: the watch picks up the new folder at its next refresh
	if err := os.WriteFile(r, []byte("The cloakroom is next to the ticket desk and costs one euro.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	await("a document in a folder added while watching", r, false)
	if got := found("where is the cloakroom"); got != r {
		t.Errorf("added folder: the cloakroom question found %q", got)
	}
}

// TestRefreshKeepsAGoneSource: a source that disappears (an unplugged stick) has its
// documents dropped but is read again when it comes back.
func TestRefreshKeepsAGoneSource(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "stick")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(dir, "menu.txt")
	if err := os.WriteFile(doc, []byte("Soup of the day is tomato.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, dir); err != nil {
		t.Fatal(err)
	}
	gone := dir + ".away"
	if err := os.Rename(dir, gone); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Refresh(ctx)
	if err != nil || !slices.Equal(rep.Removed, []string{doc}) {
		t.Fatalf("refresh with the folder gone: %+v %v", rep, err)
	}
	if err := os.Rename(gone, dir); err != nil {
		t.Fatal(err)
	}
	rep, err = s.Refresh(ctx)
	if err != nil || !slices.Equal(rep.Indexed, []string{doc}) {
		t.Fatalf("refresh with the folder back: %+v %v", rep, err)
	}
	if src, _ := s.Sources(); !slices.Equal(src, []string{dir}) {
		t.Errorf("sources %q", src)
	}
}
