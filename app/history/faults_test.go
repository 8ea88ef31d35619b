package history

import (
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fillTurns writes n finished turns so that the file has pages to damage.
func fillTurns(t *testing.T, s *Store, n int) {
	t.Helper()
	conv, err := s.StartConversation(ctx, "desktop")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		id, err := s.StartTurn(ctx, conv, TurnStart{})
		if err != nil {
			t.Fatal(err)
		}
		must(t, s.FinishTurn(ctx, id, TurnEnd{Reply: strings.Repeat("a reply that fills pages ", 40)}))
	}
}

func TestDamagedDatabaseIsMovedAside(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"not a database", func(t *testing.T, path string) {
			must(t, os.WriteFile(path, []byte(strings.Repeat("this is not SQLite ", 500)), 0o600))
		}},
		{"pages overwritten", func(t *testing.T, path string) {
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			fillTurns(t, s, 60)
			s.Close()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < 8*4096 {
				t.Fatalf("database only %d bytes", len(b))
			}
			// Keep the header page (so SQLite opens it) and scramble the b-tree pages after it.
			r := rand.New(rand.NewSource(1))
			for i := 4096; i < len(b)-4096; i++ {
				b[i] = byte(r.Intn(256))
			}
			must(t, os.WriteFile(path, b, 0o600))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.db")
			c.damage(t, path)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s := open(t, path, Options{})
			aside := s.MovedAside()
			if aside == "" || !strings.HasPrefix(aside, path+".damaged-") {
				t.Fatalf("MovedAside() = %q, want %s.damaged-…", aside, path)
			}
			kept, err := os.ReadFile(aside)
			if err != nil || string(kept) != string(before) {
				t.Fatalf("the damaged file was not kept as it was (%v)", err)
			}
			fillTurns(t, s, 2)
			var check string
			if err := s.db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
				t.Fatalf("new database: integrity check %q, %v", check, err)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("new database mode %v, %v; want 0600", fi.Mode(), err)
			}
		})
	}
}

func TestDamagedDatabaseInUseIsLeftAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	must(t, os.WriteFile(path, []byte(strings.Repeat("garbage ", 1000)), 0o600))
	// Another Hark holds the owner lock: it may be in the middle of writing a file that is fine.
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err == nil {
		s.Close()
		t.Fatal("a damaged database in use by another process opened")
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("error %v does not say the database is damaged", err)
	}
	if m, _ := filepath.Glob(path + ".damaged-*"); len(m) != 0 {
		t.Fatalf("moved aside while another process held it: %v", m)
	}
}

// TestDiskFull fills a small tmpfs under the history: writes fail with ErrFull, the database
// stays whole, and writing resumes once space returns. It needs root to mount (CI runs as root).
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0700"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mount a tmpfs (CI runs as root): %v", err)
		}
		t.Skipf("mounting a tmpfs needs root: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	path := filepath.Join(dir, "history.db")
	s := open(t, path, Options{})
	fillTurns(t, s, 3)
	// Take all the space that is left.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()
	conv, err := s.StartConversation(ctx, "desktop")
	var full error
	for i := 0; i < 50 && full == nil; i++ {
		if err != nil {
			full = err
			break
		}
		var id int64
		if id, full = s.StartTurn(ctx, conv, TurnStart{}); full == nil {
			full = s.FinishTurn(ctx, id, TurnEnd{Reply: strings.Repeat("x", 20000)})
		}
	}
	if !errors.Is(full, ErrFull) {
		t.Fatalf("writing on a full disk: %v, want ErrFull", full)
	}
	must(t, os.Remove(filler))
	conv, err = s.StartConversation(ctx, "desktop")
	if err != nil {
		t.Fatalf("after space returned: %v", err)
	}
	id, err := s.StartTurn(ctx, conv, TurnStart{})
	if err != nil {
		t.Fatalf("after space returned: %v", err)
	}
	must(t, s.FinishTurn(ctx, id, TurnEnd{Reply: "back"}))
	var check string
	if err := s.db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity check after the disk filled: %q, %v", check, err)
	}
	if tr, err := s.Turn(ctx, id); err != nil || tr.Reply != "back" {
		t.Fatalf("turn after space returned: %+v, %v", tr, err)
	}
}
