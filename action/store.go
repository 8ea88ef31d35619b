package action

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store keeps what the skills must not forget: timers, alarms and notes, in a SQLite file
// (~/.local/share/hark/actions.db by default) in WAL mode with synchronous=FULL, so a timer set
// a moment before Hark is killed is still there when it starts again. It is not the history:
// wiping the history does not cancel a timer.
type Store struct {
	db   *sql.DB
	path string
}

const storeSchema = `
CREATE TABLE IF NOT EXISTS timers (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	kind       TEXT NOT NULL,              -- timer, alarm
	created_at INTEGER NOT NULL,           -- Unix milliseconds
	length_ms  INTEGER NOT NULL,           -- the timer's length (alarms: 0)
	due_at     INTEGER NOT NULL,           -- when it rings (paused: meaningless)
	left_ms    INTEGER,                    -- set while paused: what was left
	state      TEXT NOT NULL DEFAULT 'running', -- running, paused, rang, missed, cancelled
	lang       TEXT NOT NULL DEFAULT ''    -- the language it was set in ("" English), for its ring
);
CREATE TABLE IF NOT EXISTS notes (
	id         INTEGER PRIMARY KEY,
	created_at INTEGER NOT NULL,
	text       TEXT NOT NULL
);
`

// OpenStore opens (creating) the store at path, private to the user.
func OpenStore(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("action store: %w", err)
	}
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600); err != nil {
		return nil, fmt.Errorf("action store: %w", err)
	} else {
		f.Close()
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("action store: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(storeSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("action store %s: %w", path, err)
	}
	// A store made before timers kept their language gets the column (its timers are English).
	if _, err := db.Exec(`SELECT lang FROM timers LIMIT 0`); err != nil {
		if _, err := db.Exec(`ALTER TABLE timers ADD COLUMN lang TEXT NOT NULL DEFAULT ''`); err != nil {
			db.Close()
			return nil, fmt.Errorf("action store %s: %w", path, err)
		}
	}
	return &Store{db: db, path: path}, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// TimerState is where a timer stands.
type TimerState string

const (
	TimerRunning   TimerState = "running"
	TimerPaused    TimerState = "paused"
	TimerRang      TimerState = "rang"
	TimerMissed    TimerState = "missed" // came due while Hark was not running
	TimerCancelled TimerState = "cancelled"
)

// TimerKind tells a countdown from an alarm at a time of day.
type TimerKind string

const (
	KindTimer TimerKind = "timer"
	KindAlarm TimerKind = "alarm"
)

// Timer is a timer or an alarm.
type Timer struct {
	ID      int64         `json:"id"`
	Name    string        `json:"name"`
	Kind    TimerKind     `json:"kind"`
	Created time.Time     `json:"created"`
	Length  time.Duration `json:"length_ns"`
	Due     time.Time     `json:"due"`
	Left    time.Duration `json:"left_ns,omitempty"` // paused timers
	State   TimerState    `json:"state"`
	// Language is the language the timer was set in ("" English): its ring is announced in it.
	Language string `json:"language,omitempty"`
}

// Remaining is how long until t rings, at now.
func (t Timer) Remaining(now time.Time) time.Duration {
	if t.State == TimerPaused {
		return t.Left
	}
	return max(0, t.Due.Sub(now))
}

var errNoTimer = errors.New("no such timer")

func (s *Store) addTimer(ctx context.Context, t Timer) (int64, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO timers(name, kind, created_at, length_ms, due_at, state, lang) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.Name, t.Kind, t.Created.UnixMilli(), t.Length.Milliseconds(), t.Due.UnixMilli(), TimerRunning, t.Language)
	if err != nil {
		return 0, fmt.Errorf("action store: add timer: %w", err)
	}
	return res.LastInsertId()
}

func (s *Store) setTimer(ctx context.Context, t Timer) error {
	var left any
	if t.State == TimerPaused {
		left = t.Left.Milliseconds()
	}
	res, err := s.db.ExecContext(ctx, `UPDATE timers SET due_at = ?, left_ms = ?, state = ? WHERE id = ?`,
		t.Due.UnixMilli(), left, t.State, t.ID)
	if err != nil {
		return fmt.Errorf("action store: update timer: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNoTimer
	}
	return nil
}

// claimTimer moves a running timer to state; it reports false when it was not running any
// more (another process rang or cancelled it).
func (s *Store) claimTimer(ctx context.Context, id int64, state TimerState) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE timers SET state = ? WHERE id = ? AND state = ?`, state, id, TimerRunning)
	if err != nil {
		return false, fmt.Errorf("action store: ring timer: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// timers returns the timers in the given states, soonest first.
func (s *Store) timers(ctx context.Context, states ...TimerState) ([]Timer, error) {
	q := `SELECT id, name, kind, created_at, length_ms, due_at, left_ms, state, lang FROM timers WHERE state IN (`
	args := make([]any, len(states))
	for i, st := range states {
		if i > 0 {
			q += ","
		}
		q += "?"
		args[i] = st
	}
	rows, err := s.db.QueryContext(ctx, q+`) ORDER BY due_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("action store: timers: %w", err)
	}
	defer rows.Close()
	var out []Timer
	for rows.Next() {
		var t Timer
		var created, length, due int64
		var left sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Name, &t.Kind, &created, &length, &due, &left, &t.State, &t.Language); err != nil {
			return nil, fmt.Errorf("action store: timers: %w", err)
		}
		t.Created, t.Length, t.Due = time.UnixMilli(created), time.Duration(length)*time.Millisecond, time.UnixMilli(due)
		if left.Valid {
			t.Left = time.Duration(left.Int64) * time.Millisecond
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Note is one entry of the notes list.
type Note struct {
	ID      int64     `json:"id"`
	Created time.Time `json:"created"`
	Text    string    `json:"text"`
}

func (s *Store) addNote(ctx context.Context, at time.Time, text string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO notes(created_at, text) VALUES (?, ?)`, at.UnixMilli(), text)
	if err != nil {
		return fmt.Errorf("action store: add note: %w", err)
	}
	return nil
}

func (s *Store) notes(ctx context.Context) ([]Note, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, created_at, text FROM notes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("action store: notes: %w", err)
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		var n Note
		var at int64
		if err := rows.Scan(&n.ID, &at, &n.Text); err != nil {
			return nil, err
		}
		n.Created = time.UnixMilli(at)
		out = append(out, n)
	}
	return out, rows.Err()
}

func (s *Store) clearNotes(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM notes`)
	if err != nil {
		return 0, fmt.Errorf("action store: clear notes: %w", err)
	}
	return res.RowsAffected()
}
