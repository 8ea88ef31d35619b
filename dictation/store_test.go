package dictation

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStore: kept dictations are private (folders 0700, files 0600), a second one in the same
// second gets its own folder, retention deletes by the time in the name, and Wipe deletes all
// of them but nothing else in the folder.
func TestStore(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "dictations")}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	files := map[string][]byte{"transcript.txt": []byte("hello\n"), "note.md": []byte("# Note\n")}
	d1, err := s.Keep(t0, files)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := s.Keep(t0, files)
	if err != nil || d2 == d1 || filepath.Base(d2) != "2026-01-02T03-04-05-2" {
		t.Fatalf("%s %s %v", d1, d2, err)
	}
	d3, _ := s.Keep(t0.Add(48*time.Hour), files)
	for _, p := range []string{s.Dir, d1} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", p, fi.Mode(), err)
		}
	}
	for n := range files {
		if fi, err := os.Stat(filepath.Join(d1, n)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v", n, err)
		}
	}
	if _, err := s.Keep(t0, map[string][]byte{"../escape": nil}); err == nil {
		t.Error("a file name with a path was accepted")
	}
	other := filepath.Join(s.Dir, "mine.txt")
	os.WriteFile(other, []byte("x"), 0o600)

	tests := []struct {
		name string
		now  time.Time
		age  time.Duration
		want int
	}{
		{"no retention", t0.Add(1000 * time.Hour), 0, 0},
		{"nothing old enough", t0.Add(time.Hour), 24 * time.Hour, 0},
		{"the two of the first day", t0.Add(25 * time.Hour), 24 * time.Hour, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := s.Prune(tt.now, tt.age)
			if err != nil || n != tt.want {
				t.Fatalf("pruned %d, %v; want %d", n, err, tt.want)
			}
		})
	}
	if kept, _ := s.Kept(); len(kept) != 1 || kept[0] != d3 {
		t.Fatalf("kept %v", kept)
	}
	if n, err := s.Wipe(); n != 1 || err != nil {
		t.Fatalf("wiped %d, %v", n, err)
	}
	if kept, _ := s.Kept(); len(kept) != 0 {
		t.Errorf("kept %v after the wipe", kept)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("the wipe deleted a file that is not a dictation: %v", err)
	}
	if n, err := (Store{Dir: filepath.Join(t.TempDir(), "none")}).Wipe(); n != 0 || err != nil {
		t.Errorf("a missing store: %d %v", n, err)
	}
}
