package knowledge

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// conceptEmbedder is a stand-in embedding model for unit tests: each word counts towards its
// concept's dimension (synonyms share one), so texts that say the same thing in other words
// get close vectors, as a trained model's would.
type conceptEmbedder struct {
	mu    sync.Mutex
	calls int
	fail  string // a text containing this cannot be embedded
}

var concepts = map[string]int{
	"toilet": 0, "toilets": 0, "restroom": 0, "restrooms": 0, "loo": 0, "wc": 0,
	"park": 1, "parking": 1, "car": 1, "garage": 1,
	"open": 2, "opening": 2, "hours": 2, "close": 2, "closing": 2,
	"dog": 3, "dogs": 3, "pet": 3, "pets": 3, "puppy": 3,
}

func (c *conceptEmbedder) Embed(ctx context.Context, text string) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	if c.fail != "" && strings.Contains(text, c.fail) {
		return nil, errors.New("the model cannot embed this")
	}
	v := make([]float32, 5)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return r < 'a' || r > 'z' }) {
		if d, ok := concepts[w]; ok {
			v[d]++
		}
	}
	v[4] = 0.1 // every text has a little of something else
	var n float64
	for _, x := range v {
		n += float64(x * x)
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v, nil
}

func (c *conceptEmbedder) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

func writeDocs(t *testing.T, dir string, docs map[string]string) {
	t.Helper()
	for name, text := range docs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var venueDocs = map[string]string{
	"venue.md": "# Venue\n\n## Toilets\n\nThe restrooms are next to the main entrance and on the first floor.\n\n" +
		"## Parking\n\nThe garage under the hall has 400 spaces; a day costs 12 euros.\n\n" +
		"## Opening hours\n\nMonday to Saturday 9:00 to 20:00, Sunday 10:00 to 18:00.\n",
	"rules.md": "# House rules\n\n## Pets\n\nOnly assistance dogs may come inside.\n\n## Smoking\n\nSmoking is allowed only in the courtyard.\n",
}

func vectorCount(t testing.TB, s *Store) (vecs, passages int) {
	t.Helper()
	ctx := context.Background()
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM vectors").Scan(&vecs); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM passages").Scan(&passages); err != nil {
		t.Fatal(err)
	}
	return vecs, passages
}

// TestHybridRanking: with an embedding model, a question that shares no word with the passage
// that answers it ("loo" for a passage about restrooms under "Toilets") finds it through the
// vectors; the passage is relevant only when min_similarity allows it. Without the model the
// same question finds nothing.
func TestHybridRanking(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeDocs(t, dir, venueDocs)
	s, _ := openTemp(t)
	if _, err := s.Add(ctx, dir); err != nil {
		t.Fatal(err)
	}
	const q = "where is the loo?"
	hits, err := s.Search(ctx, q, Query{MinCoverage: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 0 {
		t.Fatalf("lexical search found %v for a word no document has", hits)
	}

	e := &conceptEmbedder{}
	if err := s.SetEmbedder(ctx, e, "concepts v1"); err != nil {
		t.Fatal(err)
	}
	n, err := s.EmbedMissing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if vecs, passages := vectorCount(t, s); n != passages || vecs != passages {
		t.Fatalf("embedded %d, stored %d vectors for %d passages", n, vecs, passages)
	}
	for _, tc := range []struct {
		minSim       float64
		wantRelevant bool
	}{{0, false}, {0.8, true}} {
		hits, err := s.Search(ctx, q, Query{MinSimilarity: tc.minSim})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Heading != "Venue > Toilets" {
			t.Fatalf("min_similarity %.1f: hybrid search gave %+v, want the toilets first", tc.minSim, hits)
		}
		h := hits[0]
		if h.Similarity < 0.9 || h.Fused <= 0 || h.Score != 0 {
			t.Errorf("toilets hit: similarity %.2f fused %.4f score %.2f; want a high cosine, a fused score and no BM25", h.Similarity, h.Fused, h.Score)
		}
		if h.Relevant != tc.wantRelevant {
			t.Errorf("min_similarity %.1f: relevant %v, want %v", tc.minSim, h.Relevant, tc.wantRelevant)
		}
	}

	// Where both rankings agree the passage stays first; the lexical winner is not lost.
	hits, err = s.Search(ctx, "may dogs come inside?", Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].Heading != "House rules > Pets" || !hits[0].Relevant || hits[0].Score <= 0 {
		t.Errorf("dog question: %+v, want the pets passage first, found by both", hits)
	}
}

// TestVectorsFollowTheIndex: vectors are stored per passage with the model's identity: a
// changed document's passages (and only they) are embedded again, an unchanged index is not,
// another model's identity drops every vector, and they persist across opening the index.
func TestVectorsFollowTheIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeDocs(t, dir, venueDocs)
	path := filepath.Join(t.TempDir(), "knowledge.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e := &conceptEmbedder{}
	if err := s.SetEmbedder(ctx, e, "concepts v1"); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Add(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	_, passages := vectorCount(t, s)
	if rep.Embedded != passages || rep.Embedded != rep.Passages {
		t.Fatalf("add embedded %d of %d passages (report: %d)", rep.Embedded, passages, rep.Passages)
	}

	// One document changes: its passages only.
	writeDocs(t, dir, map[string]string{"rules.md": "# House rules\n\n## Pets\n\nNo pets inside, except assistance dogs.\n"})
	before := e.count()
	rep, err = s.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Embedded != 1 || e.count()-before != 1 {
		t.Errorf("after changing rules.md (1 passage): embedded %d with %d model calls", rep.Embedded, e.count()-before)
	}
	if vecs, passages := vectorCount(t, s); vecs != passages {
		t.Errorf("%d vectors for %d passages after the change", vecs, passages)
	}
	// Nothing changed: nothing embedded.
	if n, err := s.EmbedMissing(ctx); n != 0 || err != nil {
		t.Errorf("nothing changed, yet embedded %d (%v)", n, err)
	}

	// The same model again, after reopening: the vectors are kept.
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := s.EmbeddingModel(ctx); id != "concepts v1" {
		t.Errorf("stored model identity %q", id)
	}
	if err := s.SetEmbedder(ctx, e, "concepts v1"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.EmbedMissing(ctx); n != 0 || err != nil {
		t.Errorf("reopened with the same model: embedded %d again (%v)", n, err)
	}
	// Another model: all again.
	if err := s.SetEmbedder(ctx, e, "concepts v2"); err != nil {
		t.Fatal(err)
	}
	if vecs, _ := vectorCount(t, s); vecs != 0 {
		t.Errorf("%d vectors of the old model kept", vecs)
	}
	n, err := s.EmbedMissing(ctx)
	if _, passages := vectorCount(t, s); err != nil || n != passages {
		t.Errorf("new model: embedded %d of %d (%v)", n, passages, err)
	}

	// Another process adds a document: this store's search sees its vectors.
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Search(ctx, "loo", Query{}); err != nil { // fills the cache
		t.Fatal(err)
	}
	if err := other.SetEmbedder(ctx, &conceptEmbedder{}, "concepts v2"); err != nil {
		t.Fatal(err)
	}
	dir2 := t.TempDir()
	writeDocs(t, dir2, map[string]string{"kennel.md": "# Kennel\n\nPuppy daycare is on the ground floor.\n"})
	if _, err := other.Add(ctx, dir2); err != nil {
		t.Fatal(err)
	}
	other.Close()
	hits, err := s.Search(ctx, "where can my pet stay", Query{K: 5, MinCoverage: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !found(hits, question{doc: "kennel.md"}) {
		t.Errorf("a document another process embedded is not found: %+v", hits)
	}
}

// TestEmbeddingFailure: a passage the model cannot embed is reported, keeps no vector and is
// still found by its words; the others are embedded.
func TestEmbeddingFailure(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeDocs(t, dir, venueDocs)
	s, _ := openTemp(t)
	if err := s.SetEmbedder(ctx, &conceptEmbedder{fail: "courtyard"}, "concepts v1"); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Add(ctx, dir)
	if err == nil || !strings.Contains(err.Error(), "1 passages could not be embedded") {
		t.Fatalf("add: %v, want one passage reported", err)
	}
	if vecs, passages := vectorCount(t, s); vecs != passages-1 || rep.Embedded != vecs {
		t.Errorf("%d vectors (report %d) for %d passages", vecs, rep.Embedded, passages)
	}
	hits, err := s.Retrieve(ctx, "where is smoking allowed", Query{})
	if err != nil || len(hits) == 0 || hits[0].Heading != "House rules > Smoking" {
		t.Errorf("the passage without a vector is not found by its words: %+v %v", hits, err)
	}
}

// hashEmbedder is a cheap stand-in of bge-small's width (384): words hashed into dimensions.
// It costs next to nothing, so a benchmark with it measures what hybrid ranking adds around
// the model: reading the vectors, the cosines, the fusion.
type hashEmbedder struct{}

func (hashEmbedder) Embed(_ context.Context, text string) ([]float32, error) {
	v := make([]float32, 384)
	for _, w := range strings.Fields(strings.ToLower(text)) {
		h := uint32(2166136261)
		for _, c := range []byte(w) {
			h = (h ^ uint32(c)) * 16777619
		}
		v[h%384]++
	}
	var n float64
	for _, x := range v {
		n += float64(x * x)
	}
	if n == 0 {
		v[0], n = 1, 1
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v, nil
}

// BenchmarkHybridSearch1000Pages is BenchmarkSearch1000Pages with hybrid ranking over 384-wide
// vectors (every passage embedded): the cost hybrid ranking adds besides the model's own
// embedding of the question (`go test ./llm -bench Embed` measures that):
//
//	go test ./knowledge -run X -bench HybridSearch1000Pages -benchtime 200x -count 3
func BenchmarkHybridSearch1000Pages(b *testing.B) {
	s, _ := openTemp(b)
	ctx := context.Background()
	if err := s.SetEmbedder(ctx, hashEmbedder{}, "hash-384"); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Add(ctx, corpusPages(b, 1000)); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Add(ctx, "testdata/corpus"); err != nil {
		b.Fatal(err)
	}
	vecs, _ := vectorCount(b, s)
	benchRetrieve(b, s)
	b.ReportMetric(float64(vecs), "vectors")
}
