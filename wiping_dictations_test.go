package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hark/app/history"
	"hark/dictation"
)

// TestHistoryWipeDictations: `hark history wipe` deletes the kept dictations and notes too,
// with a history and without one, and asks first unless --yes.
func TestHistoryWipeDictations(t *testing.T) {
	home := isolate(t)
	st := dictation.Store{Dir: filepath.Join(home, "data", "hark", "dictations")}
	keep := func() {
		if _, err := st.Keep(time.Now(), map[string][]byte{"transcript.txt": []byte("my visit\n"), "note.md": []byte("# SOAP\n")}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int { k, _ := st.Kept(); return len(k) }
	keep()
	runSteps(t, []cliStep{
		{[]string{"history", "wipe"}, 2, []string{"no history yet"}, []string{"Delete all 1 kept dictations and notes in " + st.Dir, "nothing deleted"}},
		{[]string{"history", "wipe", "--yes"}, 0, []string{"no history yet", "Deleted 1 kept dictations and notes"}, nil},
	})
	if n := count(); n != 0 {
		t.Fatalf("%d dictations left", n)
	}
	s, err := history.Open(filepath.Join(home, "data", "hark", "history.db"), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.StartConversation(context.Background(), "desktop")
	s.Close()
	keep()
	keep()
	runSteps(t, []cliStep{
		{[]string{"history", "wipe"}, 2, nil, []string{"Delete all 1 conversations in", "and all 2 kept dictations and notes in", "nothing deleted"}},
		{[]string{"history", "wipe", "--yes"}, 0, []string{"Deleted 1 conversations", "Deleted 2 kept dictations and notes"}, nil},
	})
	if n := count(); n != 0 {
		t.Fatalf("%d dictations left", n)
	}
	if _, err := os.Stat(st.Dir); err != nil {
		t.Errorf("the store folder itself should stay: %v", err)
	}
}
