package knowledge

// Hybrid ranking: with an embedding model, each passage also has a vector, and a question's
// vector ranks the passages by cosine similarity; that ranking and the lexical one (BM25,
// reordered by coverage) are merged by reciprocal rank fusion.

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Embedder turns a text into a vector of unit length (so a dot product is the cosine). The
// knowledge store asks for one text at a time; main wires llama.cpp's embedding call.
type Embedder interface {
	Embed(ctx context.Context, text string) ([]float32, error)
}

// rrfK is reciprocal rank fusion's constant (Cormack, Clarke and Büttcher 2009): a passage
// at rank r of a ranking scores 1/(rrfK+r), and its scores in the two rankings are added.
// 60 is the paper's value; it makes agreement between the rankings count more than the top
// place in one of them.
const rrfK = 60

// embedState is the store's embedding model and the vectors it has read.
type embedState struct {
	mu    sync.Mutex
	e     Embedder
	model string

	running sync.Mutex // one EmbedMissing at a time: a second would embed the same passages

	gen     atomic.Int64 // bumped by every write of this Store that can change the vectors
	cacheMu sync.Mutex
	cache   *vectorSet
	cacheOK bool
	seenGen int64
	seenVer int64 // SQLite's data_version: changes when another process writes
}

type passageVec struct {
	id int64
	v  []float32
}

// vectorSet is every stored vector, and where each passage's is.
type vectorSet struct {
	vecs  []passageVec
	index map[int64]int
}

// cosine is the passage's cosine with q (vectors are unit length); ok is false for a passage
// without a vector or with one of another width.
func (vs *vectorSet) cosine(q []float32, id int64) (float64, bool) {
	i, ok := vs.index[id]
	if !ok || len(vs.vecs[i].v) != len(q) {
		return 0, false
	}
	return dot(q, vs.vecs[i].v), true
}

func dot(a, b []float32) float64 {
	var d float32
	for i, x := range a {
		d += x * b[i]
	}
	return float64(d)
}

func (s *Store) touch() { s.emb.gen.Add(1) }

func (s *Store) embedder() (Embedder, string) {
	s.emb.mu.Lock()
	defer s.emb.mu.Unlock()
	return s.emb.e, s.emb.model
}

// SetEmbedder turns hybrid ranking on (nil turns it off). model identifies e's model (its
// file name and size, say): vectors of different models cannot be compared, so vectors
// stored under another identity are dropped here and the passages are embedded again.
// SetEmbedder embeds nothing itself: EmbedMissing does, and Add, Refresh and Rebuild embed
// what they index.
func (s *Store) SetEmbedder(ctx context.Context, e Embedder, model string) error {
	if e != nil {
		var cur string
		err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'embedding_model'").Scan(&cur)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("knowledge: %w", err)
		}
		if cur != model {
			tx, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				return fmt.Errorf("knowledge: %w", err)
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, "DELETE FROM vectors"); err != nil {
				return fmt.Errorf("knowledge: %w", err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO meta(key, value) VALUES('embedding_model', ?)", model); err != nil {
				return fmt.Errorf("knowledge: %w", err)
			}
			if err := tx.Commit(); err != nil {
				return fmt.Errorf("knowledge: %w", err)
			}
			s.touch()
		}
	}
	s.emb.mu.Lock()
	s.emb.e, s.emb.model = e, model
	s.emb.mu.Unlock()
	return nil
}

// EmbeddingModel is the identity of the model the stored vectors come from, "" when none.
func (s *Store) EmbeddingModel(ctx context.Context) (string, error) {
	var cur string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'embedding_model'").Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("knowledge: %w", err)
	}
	return cur, nil
}

// EmbedMissing embeds every passage that has no vector yet, and returns how many it embedded.
// Without an embedder it does nothing. A passage the model cannot embed is left without a
// vector (lexical search still finds it) and the first such failure is returned after the
// others are done.
func (s *Store) EmbedMissing(ctx context.Context) (int, error) {
	s.emb.running.Lock()
	defer s.emb.running.Unlock()
	e, _ := s.embedder()
	if e == nil {
		return 0, nil
	}
	type todo struct {
		id   int64
		text string
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT p.id, d.path, p.heading, p.text FROM passages AS p JOIN docs AS d ON d.id = p.doc_id
		WHERE p.id NOT IN (SELECT passage_id FROM vectors) ORDER BY p.id`)
	if err != nil {
		return 0, fmt.Errorf("knowledge: %w", err)
	}
	var list []todo
	for rows.Next() {
		var t todo
		var path, heading, text string
		if err := rows.Scan(&t.id, &path, &heading, &text); err != nil {
			rows.Close()
			return 0, fmt.Errorf("knowledge: %w", err)
		}
		t.text = passageContext(path, heading, text)
		list = append(list, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("knowledge: %w", err)
	}
	// Vectors are written in batches: the connection is not held while the model works, and
	// a cancelled run keeps what it finished.
	const batch = 32
	var firstErr error
	n := 0
	pending := make([]passageVec, 0, batch)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := s.storeVectors(ctx, pending)
		pending = pending[:0]
		return err
	}
	for _, t := range list {
		v, err := e.Embed(ctx, t.text)
		if ctx.Err() != nil {
			flush()
			return n, ctx.Err()
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		pending = append(pending, passageVec{t.id, v})
		n++
		if len(pending) == batch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := flush(); err != nil {
		return n, err
	}
	if firstErr != nil {
		return n, fmt.Errorf("knowledge: %d passages could not be embedded (lexical search still finds them): %w", len(list)-n, firstErr)
	}
	return n, nil
}

// passageContext is what is embedded (and searched) for a passage: the document's name and
// the heading path give a short passage its subject.
func passageContext(path, heading, text string) string {
	title := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return title + " " + heading + "\n" + text
}

func (s *Store) storeVectors(ctx context.Context, vs []passageVec) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	defer tx.Rollback()
	// A passage dropped while the model worked is not in passages any more: the INSERT ...
	// SELECT writes nothing for it instead of failing on the foreign key.
	st, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO vectors(passage_id, vec) SELECT id, ? FROM passages WHERE id = ?")
	if err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	defer st.Close()
	for _, pv := range vs {
		if _, err := st.ExecContext(ctx, encodeVec(pv.v), pv.id); err != nil {
			return fmt.Errorf("knowledge: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	s.touch()
	return nil
}

func encodeVec(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVec(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// vectors returns every stored vector, read once and kept until this store or another
// process changes the index.
func (s *Store) vectors(ctx context.Context) (*vectorSet, error) {
	st := &s.emb
	st.cacheMu.Lock()
	defer st.cacheMu.Unlock()
	gen := st.gen.Load()
	var ver int64
	if err := s.db.QueryRowContext(ctx, "PRAGMA data_version").Scan(&ver); err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	if st.cacheOK && st.seenGen == gen && st.seenVer == ver {
		return st.cache, nil
	}
	rows, err := s.db.QueryContext(ctx, "SELECT passage_id, vec FROM vectors")
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	defer rows.Close()
	out := &vectorSet{index: map[int64]int{}}
	for rows.Next() {
		var pv passageVec
		var b []byte
		if err := rows.Scan(&pv.id, &b); err != nil {
			return nil, fmt.Errorf("knowledge: %w", err)
		}
		pv.v = decodeVec(b)
		out.index[pv.id] = len(out.vecs)
		out.vecs = append(out.vecs, pv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	st.cache, st.cacheOK, st.seenGen, st.seenVer = out, true, gen, ver
	return out, nil
}

// scored is a passage and its cosine with the question.
type scored struct {
	id  int64
	sim float64
}

// semantic ranks the embedded passages by their cosine with the question and returns the n
// best, best first, with the question's vector and the vectors (for the cosine of other
// passages). ok is false when there is no embedder, no stored vector, or the question cannot
// be embedded: the search is then lexical only.
func (s *Store) semantic(ctx context.Context, question string, n int) (top []scored, q []float32, vs *vectorSet, ok bool, err error) {
	e, _ := s.embedder()
	if e == nil {
		return nil, nil, nil, false, nil
	}
	vs, err = s.vectors(ctx)
	if err != nil || len(vs.vecs) == 0 {
		return nil, nil, nil, false, err
	}
	q, err = e.Embed(ctx, question)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, nil, false, ctx.Err()
		}
		return nil, nil, nil, false, nil // a question the model cannot embed is searched by its words
	}
	// The n best by insertion into a short sorted list: n is a dozen, the passages thousands.
	top = make([]scored, 0, n+1)
	for _, pv := range vs.vecs {
		if len(pv.v) != len(q) {
			continue
		}
		sc := scored{pv.id, dot(q, pv.v)}
		if len(top) == n && sc.sim <= top[n-1].sim {
			continue
		}
		i := len(top)
		top = append(top, sc)
		for ; i > 0 && top[i-1].sim < sc.sim; i-- {
			top[i] = top[i-1]
		}
		top[i] = sc
		if len(top) > n {
			top = top[:n]
		}
	}
	return top, q, vs, len(top) > 0, nil
}
