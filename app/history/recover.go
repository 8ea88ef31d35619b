package history

import (
	"errors"
	"fmt"
	"os"
	"time"

	"modernc.org/sqlite"
)

// SQLite's primary result codes that mean the file itself is damaged (sqlite3.h).
const (
	sqliteCorrupt = 11
	sqliteFull    = 13
	sqliteNotADB  = 26
)

// quickCheckLimit bounds the size of a database checked page by page when it opens: the check
// reads the whole file, and a history that large is checked only when SQLite itself reports
// damage.
const quickCheckLimit = 64 << 20

// ErrCorrupt says the history file is damaged (or is not a database at all).
var ErrCorrupt = errors.New("the history database is damaged")

// ErrFull says the disk holding the history is full.
var ErrFull = errors.New("the disk holding the history is full")

// sqliteCode is the primary result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code() & 0xff
	}
	return 0
}

// classify wraps SQLite's damage and disk-full errors in ErrCorrupt and ErrFull, so that callers
// can tell them apart without knowing SQLite.
func classify(err error) error {
	switch sqliteCode(err) {
	case sqliteCorrupt, sqliteNotADB:
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	case sqliteFull:
		return fmt.Errorf("%w: %w", ErrFull, err)
	}
	return err
}

// quickCheck runs SQLite's quick_check on a database small enough to check at every start.
func (s *Store) quickCheck() error {
	if fi, err := os.Stat(s.path); err != nil || fi.Size() > quickCheckLimit {
		return nil
	}
	var res string
	if err := s.db.QueryRow(`PRAGMA quick_check(1)`).Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("%w: %s", ErrCorrupt, res)
	}
	return nil
}

// moveAside renames a damaged database (and its -wal and -shm files) to
// PATH.damaged-YYYYMMDD-HHMMSS so that a new one can start and nothing in the old file is
// destroyed: it may still be read with sqlite3's .recover. It returns the new name.
func moveAside(path string, now time.Time) (string, error) {
	aside := path + ".damaged-" + now.UTC().Format("20060102-150405")
	for i := 1; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, os.ErrNotExist) {
			break
		}
		aside = fmt.Sprintf("%s.damaged-%s-%d", path, now.UTC().Format("20060102-150405"), i)
	}
	if err := os.Rename(path, aside); err != nil {
		return "", err
	}
	for _, ext := range []string{"-wal", "-shm"} {
		if err := os.Rename(path+ext, aside+ext); err != nil && !errors.Is(err, os.ErrNotExist) {
			return aside, err
		}
	}
	return aside, nil
}
