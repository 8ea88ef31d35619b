// Package history keeps Hark's conversation history in a SQLite database on the device
// (~/.local/share/hark/history.db by default), through the pure-Go modernc.org/sqlite driver.
//
// It is crash-safe: the database runs in WAL mode with synchronous=FULL, a turn's row is
// written when the turn starts and updated as it progresses (transcript, reply, end), and every
// update is its own committed transaction, so killing Hark at any moment loses at most the turn
// in flight, and even that keeps what was written of it (it is marked "lost" when the history is
// next opened). Deleted rows are overwritten (secure_delete) and Wipe runs VACUUM, so wiping
// also removes the data from the file and gives the space back. Audio is stored only when
// Options.StoreAudio is set.
//
// # Concurrency
//
// A *Store may be used from any goroutine; its calls are serialized on one connection. Several
// processes may open the same file (the app records while `hark history list` reads). The first
// process to open the file becomes its owner until Close; only the owner marks turns left in
// progress by a crash as lost.
package history

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Status is where a turn stands.
type Status string

// Turn statuses.
const (
	InProgress  Status = "in_progress" // started, not finished yet
	Complete    Status = "complete"    // the reply was given in full
	Interrupted Status = "interrupted" // stopped early: barge-in, cancel, wipe
	Failed      Status = "failed"      // an engine failed; Error says why
	Lost        Status = "lost"        // Hark stopped (crash, power loss) during the turn
)

// Options tune a Store.
type Options struct {
	// RetentionDays deletes turns older than this many days when the store opens and whenever
	// Prune runs; 0 keeps them until they are wiped.
	RetentionDays int
	// StoreAudio keeps the audio passed to FinishTurn; without it audio is never written.
	StoreAudio bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is an open history database.
type Store struct {
	db    *sql.DB
	path  string
	opts  Options
	owner *os.File // lock held by the owning process; nil for other openers
	// movedAside is where a damaged file went when Open started a new one.
	movedAside string
}

// ErrNotFound is returned for a conversation or turn that does not exist.
var ErrNotFound = errors.New("history: not found")

const schemaVersion = 2

const schemaSQL = `
CREATE TABLE IF NOT EXISTS conversations (
	id         INTEGER PRIMARY KEY,
	started_at INTEGER NOT NULL,             -- Unix milliseconds
	mode       TEXT NOT NULL DEFAULT ''      -- desktop, kiosk, car
);
CREATE TABLE IF NOT EXISTS turns (
	id              INTEGER PRIMARY KEY,
	conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	started_at      INTEGER NOT NULL,        -- Unix milliseconds
	ended_at        INTEGER,                 -- NULL while in progress
	status          TEXT NOT NULL DEFAULT 'in_progress',
	transcript      TEXT NOT NULL DEFAULT '',
	reply           TEXT NOT NULL DEFAULT '',
	error           TEXT NOT NULL DEFAULT '',
	asr_model       TEXT NOT NULL DEFAULT '',
	llm_model       TEXT NOT NULL DEFAULT '',
	asr_ms          INTEGER,                 -- per-stage timings in milliseconds
	first_token_ms  INTEGER,
	llm_ms          INTEGER,
	tts_ms          INTEGER,
	total_ms        INTEGER,
	audio           BLOB,                    -- 16-bit little-endian PCM, only with store_audio
	audio_rate      INTEGER
);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns(conversation_id, id);
CREATE INDEX IF NOT EXISTS turns_by_start ON turns(started_at);
` + actionsSQL

// actionsSQL is the audit trail of actions (format 2).
const actionsSQL = `
CREATE TABLE IF NOT EXISTS actions (
	id              INTEGER PRIMARY KEY,
	conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
	at              INTEGER NOT NULL,        -- Unix milliseconds
	input           TEXT NOT NULL DEFAULT '',-- what the person said or typed
	tool            TEXT NOT NULL,
	args            TEXT NOT NULL DEFAULT '{}',
	source          TEXT NOT NULL DEFAULT '',-- intent, model
	confirmed       TEXT NOT NULL DEFAULT '',-- '' (not asked), yes, no, timeout, dropped
	done            INTEGER NOT NULL DEFAULT 0,
	result          TEXT NOT NULL DEFAULT '',
	error           TEXT NOT NULL DEFAULT '',
	duration_ms     REAL
);
CREATE INDEX IF NOT EXISTS actions_by_time ON actions(at);
`

// Open opens (creating if needed) the history database at path. The folder is created private
// to the user (0700) and the file 0600. Turns older than the retention are deleted.
func Open(path string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	// Create the file ourselves so it is private; SQLite gives its -wal and -shm files the
	// same permissions.
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	} else {
		f.Close()
	}
	// A database made by an older Hark, or copied in, may be readable by others: what a
	// person said is theirs alone.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return nil, fmt.Errorf("history: making %s private: %w", p, err)
			}
		}
	}
	s, err := openFile(path, opts)
	if errors.Is(err, ErrCorrupt) {
		// A damaged file would turn the history off on every start from now on: move it aside
		// (unless another Hark is using it) and begin a new one.
		if s, err = recoverDamaged(path, opts, err); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if s.owner != nil {
		if _, err := s.db.Exec(`UPDATE turns SET status = ? WHERE status = ?`, Lost, InProgress); err != nil {
			s.Close()
			return nil, fmt.Errorf("history: recover unfinished turns: %w", err)
		}
	}
	if _, err := s.Prune(context.Background()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openFile opens the database at path, checks it and takes the owner lock if it is free.
func openFile(path string, opts Options) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)", "secure_delete(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path, opts: opts}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("history: %s: %w", path, classify(err))
	}
	if err := s.quickCheck(); err != nil {
		db.Close()
		return nil, fmt.Errorf("history: %s: %w", path, classify(err))
	}
	if err := s.becomeOwner(); err != nil {
		db.Close()
		return nil, fmt.Errorf("history: %w", err)
	}
	return s, nil
}

// recoverDamaged moves a damaged database aside and opens a new one in its place; it refuses
// while another process holds the owner lock (that Hark may be writing a file that is fine).
func recoverDamaged(path string, opts Options, damage error) (*Store, error) {
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, damage
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil, damage
	}
	aside, err := moveAside(path, opts.Now())
	_ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if err != nil {
		return nil, fmt.Errorf("%w (moving it aside failed: %v)", damage, err)
	}
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600); err == nil {
		f.Close()
	}
	s, err := openFile(path, opts)
	if err != nil {
		return nil, err
	}
	s.movedAside = aside
	return s, nil
}

// MovedAside is where Open moved a damaged history file before starting a new one ("" when it
// did not). The old file is kept for the person (or sqlite3's .recover) to salvage.
func (s *Store) MovedAside() string { return s.movedAside }

func (s *Store) init() error {
	var v int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v > schemaVersion {
		return fmt.Errorf("the history was written by a newer Hark (format %d, this one reads %d); update Hark", v, schemaVersion)
	}
	if v == schemaVersion {
		return nil
	}
	if v == 1 {
		// Format 1 had no audit trail: add it.
		for _, st := range []string{actionsSQL, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)} {
			if _, err := s.db.Exec(st); err != nil {
				return err
			}
		}
		return nil
	}
	// auto_vacuum must be chosen before the first table exists.
	stmts := []string{`PRAGMA auto_vacuum = INCREMENTAL`, schemaSQL, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)}
	for _, st := range stmts {
		if _, err := s.db.Exec(st); err != nil {
			return err
		}
	}
	return nil
}

// becomeOwner takes the owner lock if no other process holds it.
func (s *Store) becomeOwner() error {
	f, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil // another process owns it; we read and write, but do not recover
	}
	s.owner = f
	return nil
}

// Close closes the database and releases the owner lock.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.owner != nil {
		s.owner.Close()
		s.owner = nil
	}
	return err
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Size is the space the history takes on disk: the database and its write-ahead log.
func (s *Store) Size() int64 {
	var n int64
	for _, p := range []string{s.path, s.path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// StartConversation records the start of a conversation (a session of turns that share the
// language model's context) and returns its ID.
func (s *Store) StartConversation(ctx context.Context, mode string) (int64, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO conversations(started_at, mode) VALUES (?, ?)`, ms(s.opts.Now()), mode)
	if err != nil {
		return 0, fmt.Errorf("history: start conversation: %w", classify(err))
	}
	return res.LastInsertId()
}

// TurnStart describes a turn as it begins.
type TurnStart struct {
	ASRModel, LLMModel string
}

// StartTurn writes a turn's row, in progress, and returns its ID. Call it when the person starts
// speaking (or the utterance ends), so a crash later in the turn still leaves a record.
func (s *Store) StartTurn(ctx context.Context, conversation int64, t TurnStart) (int64, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO turns(conversation_id, started_at, asr_model, llm_model) VALUES (?, ?, ?, ?)`,
		conversation, ms(s.opts.Now()), t.ASRModel, t.LLMModel)
	if err != nil {
		return 0, fmt.Errorf("history: start turn: %w", classify(err))
	}
	return res.LastInsertId()
}

// SetTranscript records what the person said, as soon as it is known.
func (s *Store) SetTranscript(ctx context.Context, turn int64, text string) error {
	return s.update(ctx, turn, `UPDATE turns SET transcript = ? WHERE id = ?`, text, turn)
}

// SetReply records the reply so far; the app may call it as sentences complete, so a crash
// keeps what was already said.
func (s *Store) SetReply(ctx context.Context, turn int64, text string) error {
	return s.update(ctx, turn, `UPDATE turns SET reply = ? WHERE id = ?`, text, turn)
}

// Timings are how long each stage of a turn took; zero means the stage did not run.
type Timings struct {
	ASR        time.Duration // speech recognition
	FirstToken time.Duration // from the end of speech to the first token of the reply
	LLM        time.Duration // the whole reply
	TTS        time.Duration // speech synthesis
	Total      time.Duration // from the end of speech to the end of the reply
}

// TurnEnd is how a turn ended.
type TurnEnd struct {
	Reply       string
	Interrupted bool   // barge-in or cancel: the reply is what was given before the stop
	Err         string // why the turn failed, "" if it did not
	Timings     Timings
	// Audio is the utterance (mono samples in [-1, 1] at AudioRate Hz). It is stored only
	// with Options.StoreAudio.
	Audio     []float32
	AudioRate int
}

// FinishTurn records how a turn ended.
func (s *Store) FinishTurn(ctx context.Context, turn int64, end TurnEnd) error {
	status := Complete
	switch {
	case end.Err != "":
		status = Failed
	case end.Interrupted:
		status = Interrupted
	}
	var audio []byte
	var rate any
	if s.opts.StoreAudio && len(end.Audio) > 0 {
		audio = encodePCM16(end.Audio)
		rate = end.AudioRate
	}
	t := end.Timings
	return s.update(ctx, turn, `UPDATE turns SET ended_at = ?, status = ?, reply = ?, error = ?,
		asr_ms = ?, first_token_ms = ?, llm_ms = ?, tts_ms = ?, total_ms = ?, audio = ?, audio_rate = ? WHERE id = ?`,
		ms(s.opts.Now()), status, end.Reply, end.Err,
		durMS(t.ASR), durMS(t.FirstToken), durMS(t.LLM), durMS(t.TTS), durMS(t.Total), audio, rate, turn)
}

func durMS(d time.Duration) any {
	if d <= 0 {
		return nil
	}
	return d.Milliseconds()
}

func (s *Store) update(ctx context.Context, turn int64, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("history: update turn %d: %w", turn, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("history: turn %d: %w (wiped?)", turn, ErrNotFound)
	}
	return nil
}

func encodePCM16(samples []float32) []byte {
	b := make([]byte, 2*len(samples))
	for i, v := range samples {
		x := math.Round(float64(v) * 32767)
		binary.LittleEndian.PutUint16(b[2*i:], uint16(int16(max(-32768, min(32767, x)))))
	}
	return b
}

func decodePCM16(b []byte) []float32 {
	out := make([]float32, len(b)/2)
	for i := range out {
		out[i] = float32(int16(binary.LittleEndian.Uint16(b[2*i:]))) / 32767
	}
	return out
}

// Prune deletes turns older than the retention, and conversations left without turns, and
// returns how many turns it deleted.
func (s *Store) Prune(ctx context.Context) (int64, error) {
	if s.opts.RetentionDays <= 0 {
		return 0, nil
	}
	cutoff := s.opts.Now().Add(-time.Duration(s.opts.RetentionDays) * 24 * time.Hour)
	res, err := s.db.ExecContext(ctx, `DELETE FROM turns WHERE started_at < ? AND status != ?`, ms(cutoff), InProgress)
	if err != nil {
		return 0, fmt.Errorf("history: apply retention: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM actions WHERE at < ?`, ms(cutoff)); err != nil {
		return 0, fmt.Errorf("history: apply retention: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM conversations WHERE started_at < ? AND id NOT IN (SELECT conversation_id FROM turns)`, ms(cutoff)); err != nil {
		return n, fmt.Errorf("history: apply retention: %w", err)
	}
	if n > 0 {
		// Give the freed pages back to the file system, and move the overwritten pages from
		// the write-ahead log into the database, so the deleted text is gone from both files.
		for _, q := range []string{`PRAGMA incremental_vacuum`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
			if _, err := s.db.ExecContext(ctx, q); err != nil {
				return n, fmt.Errorf("history: apply retention: %w", err)
			}
		}
	}
	return n, nil
}

// Wipe deletes the whole history and shrinks the file: deleted content is overwritten, VACUUM
// rebuilds the database without it and the write-ahead log is truncated. The kiosk's idle
// wipe and `hark history wipe` both use it.
func (s *Store) Wipe(ctx context.Context) error {
	for _, q := range []string{`DELETE FROM actions`, `DELETE FROM turns`, `DELETE FROM conversations`} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("history: wipe: %w", err)
		}
	}
	return s.compact(ctx)
}

// DeleteConversation deletes one conversation and its turns, and compacts the file.
func (s *Store) DeleteConversation(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM conversations WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("history: delete conversation %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("history: conversation %d: %w", id, ErrNotFound)
	}
	return s.compact(ctx)
}

func (s *Store) compact(ctx context.Context) error {
	for _, q := range []string{`VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("history: compact: %w", err)
		}
	}
	return nil
}
