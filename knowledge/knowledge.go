// Package knowledge is Hark's local document store: it reads the operator's documents
// (Markdown, plain text, HTML, and PDF through Debian's pdftotext), cuts them into passages that
// keep their heading path and page, and indexes them for BM25 full-text search in a SQLite
// database of its own (SQLite FTS5 through the pure-Go modernc.org/sqlite driver). Chinese text
// is indexed as overlapping character bigrams, so questions match without word segmentation.
//
// Adding a file or folder indexes what changed since it was last added (size, time, then
// content hash); unreadable, encrypted, huge and binary files are skipped with a reason and the
// rest is indexed. The list of added files and folders is also kept beside the database, so a
// corrupted index is set aside and rebuilt from the documents when it is opened.
//
// A *Store may be used from any goroutine; database/sql serializes its calls.
package knowledge

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// MaxFileBytes is the largest document indexed; bigger files are skipped as huge.
const MaxFileBytes = 32 << 20

// Store is an open knowledge index.
type Store struct {
	db        *sql.DB
	path      string
	recovered string // why the database was rebuilt when opened, "" if it was not
	emb       embedState
}

// Doc is an indexed document.
type Doc struct {
	Path     string
	Kind     Kind
	Passages int
	Bytes    int64
	Indexed  time.Time
}

// Skipped is a file left out of the index and why.
type Skipped struct {
	Path   string
	Reason string
}

// Report is what an Add or Rebuild did.
type Report struct {
	Indexed   []string // new or changed documents (re)indexed
	Unchanged int      // documents already indexed as they are
	Removed   []string // documents gone from disk, dropped from the index
	Skipped   []Skipped
	Passages  int // passages written
	Embedded  int // passages given a vector (with an embedding model, see SetEmbedder)
}

const schemaSQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
	id       INTEGER PRIMARY KEY,
	path     TEXT NOT NULL UNIQUE,
	kind     TEXT NOT NULL,
	size     INTEGER NOT NULL,
	mtime    INTEGER NOT NULL, -- Unix nanoseconds
	hash     TEXT NOT NULL,    -- SHA-256 of the content
	indexed  INTEGER NOT NULL  -- Unix milliseconds
);
CREATE TABLE IF NOT EXISTS passages (
	id      INTEGER PRIMARY KEY,
	doc_id  INTEGER NOT NULL REFERENCES docs(id) ON DELETE CASCADE,
	heading TEXT NOT NULL,  -- heading path joined with " > "
	page    INTEGER NOT NULL, -- 1-based PDF page, 0 for other formats
	text    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id);
-- vectors holds each passage's embedding (little-endian float32s, unit length) from the model
-- meta's embedding_model names; a changed passage is a new row, so its vector goes with it.
CREATE TABLE IF NOT EXISTS vectors (
	passage_id INTEGER PRIMARY KEY REFERENCES passages(id) ON DELETE CASCADE,
	vec        BLOB NOT NULL
);
-- terms holds the analysed text (see terms()): words and CJK bigrams separated by spaces.
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(terms, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS fts_vocab USING fts5vocab(fts, row);
`

// Open opens (creating it 0600 if needed) the index at path. A file that is not a sound index
// is moved aside to path+".corrupt" and the index is rebuilt from the recorded sources.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	s, err := open(ctx, path)
	if err == nil {
		return s, nil
	}
	if ctx.Err() != nil {
		return nil, err
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, serr := os.Stat(path + suffix); serr == nil {
			if rerr := os.Rename(path+suffix, path+".corrupt"+suffix); rerr != nil {
				return nil, fmt.Errorf("knowledge: index %s is damaged (%v) and cannot be moved aside: %w", path, err, rerr)
			}
		}
	}
	s, err2 := open(ctx, path)
	if err2 != nil {
		return nil, err2
	}
	s.recovered = fmt.Sprintf("the index was damaged (%v); it was moved to %s and rebuilt", err, path+".corrupt")
	if _, err := s.Rebuild(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func open(ctx context.Context, path string) (*Store, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	f.Close()
	q := url.Values{}
	for _, p := range []string{"busy_timeout(5000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	db.SetMaxOpenConns(1)
	check := func() error {
		var res string
		if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
			return err
		}
		if res != "ok" {
			return errors.New(res)
		}
		if _, err := db.ExecContext(ctx, schemaSQL); err != nil {
			return err
		}
		// FTS5's own check compares the index with its content.
		_, err := db.ExecContext(ctx, "INSERT INTO fts(fts) VALUES('integrity-check')")
		return err
	}
	if err := check(); err != nil {
		db.Close()
		return nil, fmt.Errorf("knowledge: %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// Recovered says why the index was rebuilt when it was opened, or "" when it was sound.
func (s *Store) Recovered() string { return s.recovered }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// sourcesPath keeps the added files and folders outside the database, so a damaged database
// can be rebuilt.
func (s *Store) sourcesPath() string { return s.path + ".sources" }

func (s *Store) sources() ([]string, error) {
	b, err := os.ReadFile(s.sourcesPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}

func (s *Store) writeSources(src []string) error {
	slices.Sort(src)
	src = slices.Compact(src)
	tmp := s.sourcesPath() + ".tmp"
	data := strings.Join(src, "\n")
	if len(src) > 0 {
		data += "\n"
	}
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	if err := os.Rename(tmp, s.sourcesPath()); err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	return nil
}

// Add indexes a file, or every document under a folder, and remembers it for Rebuild.
// Documents unchanged since they were indexed are not read again.
func (s *Store) Add(ctx context.Context, path string) (Report, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Report{}, fmt.Errorf("knowledge: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return Report{}, fmt.Errorf("knowledge: cannot add %s: %w", path, err)
	}
	var rep Report
	if err := s.addTree(ctx, abs, true, &rep); err != nil {
		return rep, err
	}
	src, err := s.sources()
	if err != nil {
		return rep, err
	}
	if err := s.writeSources(append(src, abs)); err != nil {
		return rep, err
	}
	return rep, s.embedNew(ctx, &rep)
}

// embedNew gives the passages just indexed their vectors, with an embedding model.
func (s *Store) embedNew(ctx context.Context, rep *Report) error {
	n, err := s.EmbedMissing(ctx)
	rep.Embedded += n
	return err
}

// addTree indexes abs (a file or a folder); named says the person named this file, so an
// unsupported format is reported rather than passed over silently.
func (s *Store) addTree(ctx context.Context, abs string, named bool, rep *Report) error {
	seen := map[string]bool{}
	err := filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			rep.Skipped = append(rep.Skipped, Skipped{p, "unreadable: " + errors.Unwrap(err).Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if p != abs && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		kind := kindOf(p)
		if kind == "" {
			if named && p == abs {
				rep.Skipped = append(rep.Skipped, Skipped{p, "not a supported document (Markdown, text, HTML or PDF)"})
			}
			return nil
		}
		seen[p] = true
		return s.addFile(ctx, p, kind, rep)
	})
	if err != nil {
		return err
	}
	// Documents indexed under this folder earlier but gone now are dropped.
	rows, err := s.db.QueryContext(ctx, "SELECT path FROM docs WHERE path = ? OR path LIKE ? ESCAPE '\\'", abs, likePrefix(abs))
	if err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	var gone []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return fmt.Errorf("knowledge: %w", err)
		}
		if !seen[p] {
			gone = append(gone, p)
		}
	}
	rows.Close()
	for _, p := range gone {
		if _, err := os.Stat(p); err == nil {
			continue // still there but skipped this time; its old passages stay until it reads
		}
		if err := s.dropDoc(ctx, p); err != nil {
			return err
		}
		rep.Removed = append(rep.Removed, p)
	}
	return nil
}

func likePrefix(dir string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator)) + "%"
}

func (s *Store) addFile(ctx context.Context, p string, kind Kind, rep *Report) error {
	fi, err := os.Stat(p)
	if err != nil {
		rep.Skipped = append(rep.Skipped, Skipped{p, "unreadable: " + err.Error()})
		return nil
	}
	if fi.Size() > MaxFileBytes {
		rep.Skipped = append(rep.Skipped, Skipped{p, fmt.Sprintf("too large (%d MiB; the limit is %d MiB)", fi.Size()>>20, MaxFileBytes>>20)})
		return nil
	}
	var oldSize, oldMtime int64
	var oldHash string
	err = s.db.QueryRowContext(ctx, "SELECT size, mtime, hash FROM docs WHERE path = ?", p).Scan(&oldSize, &oldMtime, &oldHash)
	known := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("knowledge: %w", err)
	}
	if known && oldSize == fi.Size() && oldMtime == fi.ModTime().UnixNano() {
		rep.Unchanged++
		return nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		rep.Skipped = append(rep.Skipped, Skipped{p, "unreadable: " + errors.Unwrap(err).Error()})
		return nil
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if known && hash == oldHash {
		// Touched but not changed: remember the new time so the next add skips it sooner.
		if _, err := s.db.ExecContext(ctx, "UPDATE docs SET size = ?, mtime = ? WHERE path = ?", fi.Size(), fi.ModTime().UnixNano(), p); err != nil {
			return fmt.Errorf("knowledge: %w", err)
		}
		rep.Unchanged++
		return nil
	}
	secs, err := extract(ctx, p, kind, data)
	var se *skipError
	if errors.As(err, &se) {
		rep.Skipped = append(rep.Skipped, Skipped{p, se.reason})
		return nil
	}
	if err != nil {
		return err
	}
	n, err := s.writeDoc(ctx, p, kind, fi, hash, secs)
	if err != nil {
		return err
	}
	rep.Indexed = append(rep.Indexed, p)
	rep.Passages += n
	return nil
}

// writeDoc replaces a document's passages in one transaction.
func (s *Store) writeDoc(ctx context.Context, p string, kind Kind, fi os.FileInfo, hash string, secs []section) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("knowledge: %w", err)
	}
	defer tx.Rollback()
	if err := dropDocTx(ctx, tx, p); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO docs(path, kind, size, mtime, hash, indexed) VALUES(?,?,?,?,?,?)",
		p, string(kind), fi.Size(), fi.ModTime().UnixNano(), hash, time.Now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("knowledge: %w", err)
	}
	docID, _ := res.LastInsertId()
	insP, err := tx.PrepareContext(ctx, "INSERT INTO passages(doc_id, heading, page, text) VALUES(?,?,?,?)")
	if err != nil {
		return 0, fmt.Errorf("knowledge: %w", err)
	}
	defer insP.Close()
	insF, err := tx.PrepareContext(ctx, "INSERT INTO fts(rowid, terms) VALUES(?,?)")
	if err != nil {
		return 0, fmt.Errorf("knowledge: %w", err)
	}
	defer insF.Close()
	n := 0
	title := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
	for _, sec := range secs {
		heading := strings.Join(sec.heading, " > ")
		for _, text := range split(sec.text) {
			res, err := insP.ExecContext(ctx, docID, heading, sec.page, text)
			if err != nil {
				return 0, fmt.Errorf("knowledge: %w", err)
			}
			id, _ := res.LastInsertId()
			// The heading path and the file's name are searched with the text: a passage
			// under "Opening hours" answers "when do you open" even if it never says so.
			analysed := strings.Join(terms(title+" "+heading+"\n"+text), " ")
			if _, err := insF.ExecContext(ctx, id, analysed); err != nil {
				return 0, fmt.Errorf("knowledge: %w", err)
			}
			n++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("knowledge: %w", err)
	}
	s.touch()
	return n, nil
}

func dropDocTx(ctx context.Context, tx *sql.Tx, p string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM fts WHERE rowid IN (SELECT passages.id FROM passages JOIN docs ON docs.id = passages.doc_id WHERE docs.path = ?)", p); err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM docs WHERE path = ?", p); err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	return nil
}

func (s *Store) dropDoc(ctx context.Context, p string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	defer tx.Rollback()
	if err := dropDocTx(ctx, tx, p); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	s.touch()
	return nil
}

// List returns the indexed documents by path.
func (s *Store) List(ctx context.Context) ([]Doc, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT path, kind, size, indexed, (SELECT count(*) FROM passages WHERE doc_id = docs.id) FROM docs ORDER BY path`)
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	defer rows.Close()
	var out []Doc
	for rows.Next() {
		var d Doc
		var kind string
		var ms int64
		if err := rows.Scan(&d.Path, &kind, &d.Bytes, &ms, &d.Passages); err != nil {
			return nil, fmt.Errorf("knowledge: %w", err)
		}
		d.Kind, d.Indexed = Kind(kind), time.UnixMilli(ms)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Empty reports whether no document is indexed.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var any int
	err := s.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM docs)").Scan(&any)
	if err != nil {
		return false, fmt.Errorf("knowledge: %w", err)
	}
	return any == 0, nil
}

// ErrNotIndexed is returned by Remove for a path that is neither indexed nor added.
var ErrNotIndexed = errors.New("knowledge: not in the index")

// Remove drops a document, or every document under a folder, and forgets it as a source.
// It returns the documents dropped.
func (s *Store) Remove(ctx context.Context, path string) ([]string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	drop, err := s.docsUnder(ctx, abs)
	if err != nil {
		return nil, err
	}
	for _, p := range drop {
		if err := s.dropDoc(ctx, p); err != nil {
			return nil, err
		}
	}
	src, err := s.sources()
	if err != nil {
		return nil, err
	}
	kept := slices.DeleteFunc(slices.Clone(src), func(p string) bool {
		return p == abs || strings.HasPrefix(p, strings.TrimSuffix(abs, "/")+"/")
	})
	if len(drop) == 0 && len(kept) == len(src) {
		return nil, fmt.Errorf("%w: %s", ErrNotIndexed, path)
	}
	return drop, s.writeSources(kept)
}

// docsUnder lists the indexed documents that are abs or lie under it.
func (s *Store) docsUnder(ctx context.Context, abs string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT path FROM docs WHERE path = ? OR path LIKE ? ESCAPE '\\'", abs, likePrefix(abs))
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("knowledge: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Rebuild empties the index and indexes every added file and folder again, picking up new
// files in added folders and dropping those gone.
func (s *Store) Rebuild(ctx context.Context) (Report, error) {
	src, err := s.sources()
	if err != nil {
		return Report{}, err
	}
	for _, q := range []string{"DELETE FROM fts", "DELETE FROM vectors", "DELETE FROM passages", "DELETE FROM docs"} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return Report{}, fmt.Errorf("knowledge: %w", err)
		}
	}
	s.touch()
	var rep Report
	for _, p := range src {
		if _, err := os.Stat(p); err != nil {
			rep.Skipped = append(rep.Skipped, Skipped{p, "gone: " + err.Error()})
			continue
		}
		if err := s.addTree(ctx, p, true, &rep); err != nil {
			return rep, err
		}
	}
	if _, err := s.db.ExecContext(ctx, "INSERT INTO fts(fts) VALUES('optimize')"); err != nil {
		return rep, fmt.Errorf("knowledge: %w", err)
	}
	return rep, s.embedNew(ctx, &rep)
}
