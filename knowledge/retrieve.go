package knowledge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// Query tunes a retrieval.
type Query struct {
	// K is the most passages returned; 0 means 3.
	K int
	// MinCoverage is the relevance threshold: the share (0–1) of the question's weight, its
	// terms weighted by how rare they are in the documents, that a passage must contain. A
	// question whose key words the documents never use matches nothing; 0 means
	// DefaultMinCoverage, a negative value turns the threshold off (search shows everything
	// it found).
	MinCoverage float64
	// MaxTokens bounds the passages' text together, as EstimateTokens counts it, however long
	// each is: the prompt space the documents may take. 0 means DefaultMaxTokens.
	MaxTokens int
	// MinSimilarity, with an embedding model, makes a passage relevant whose cosine with the
	// question reaches it even when it holds too little of the question's words; 0 leaves
	// relevance to MinCoverage alone (embeddings then only reorder). A model's cosines have
	// their own scale, so a value suits one model only.
	MinSimilarity float64
}

// The defaults of a Query.
const (
	DefaultMinCoverage = 0.45
	DefaultMaxTokens   = 400
)

// EstimateTokens is about how many tokens a language model's tokenizer makes of s, without
// the model: about four characters a token for English and other alphabetic text, and
// about 0.7 of a token for each Chinese, Japanese or Korean character (Qwen's and Llama 3's
// tokenizers; a model with a smaller vocabulary needs more). Rounded up.
func EstimateTokens(s string) int {
	var cjk, other int
	for _, r := range s {
		if isCJK(r) {
			cjk++
		} else {
			other++
		}
	}
	return (cjk*7+9)/10 + (other+3)/4
}

// cutToTokens cuts s to at most n tokens as EstimateTokens counts them.
func cutToTokens(s string, n int) string {
	lo, hi := 0, utf8.RuneCountInString(s)
	for lo < hi { // the longest prefix that fits: the estimate grows with the prefix
		mid := (lo + hi + 1) / 2
		if EstimateTokens(truncateRunes(s, mid)) <= n {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return truncateRunes(s, lo)
}

// Hit is a retrieved passage.
type Hit struct {
	Path      string  `json:"path"`
	Doc       string  `json:"doc"`     // the file's base name, for showing the source
	Heading   string  `json:"heading"` // heading path joined with " > ", "" if none
	Page      int     `json:"page,omitempty"`
	Text      string  `json:"text"`     // cut to the budget; Truncated says so
	Score     float64 `json:"score"`    // BM25, higher is better
	Coverage  float64 `json:"coverage"` // share of the question's weight the passage holds
	Relevant  bool    `json:"relevant"` // Coverage reached the threshold
	Truncated bool    `json:"truncated,omitempty"`
	// Similarity is the cosine between the question's and the passage's vectors, and Fused
	// the reciprocal rank fusion score the passages are ordered by; both are 0 without an
	// embedding model (see Store.SetEmbedder).
	Similarity float64 `json:"similarity,omitempty"`
	Fused      float64 `json:"fused,omitempty"`

	id    int64
	terms string
}

// Source is how the passage is shown under a reply: document, heading, page, the levels
// separated by "›" throughout (the index keeps heading paths joined with " > ").
func (h Hit) Source() string {
	s := h.Doc
	if h.Heading != "" {
		s += " › " + strings.ReplaceAll(h.Heading, " > ", " › ")
	}
	if h.Page > 0 {
		s += fmt.Sprintf(" (p. %d)", h.Page)
	}
	return s
}

// Search returns the best passages for a question, best first, with their scores, relevant or
// not (Relevant says which), within the budget. Retrieve keeps only the relevant ones.
func (s *Store) Search(ctx context.Context, question string, q Query) ([]Hit, error) {
	if q.K <= 0 {
		q.K = 3
	}
	if q.MinCoverage == 0 {
		q.MinCoverage = DefaultMinCoverage
	}
	if q.MaxTokens <= 0 {
		q.MaxTokens = DefaultMaxTokens
	}
	qt := queryTerms(question)
	if len(qt) == 0 {
		return nil, nil
	}
	idf, common, err := s.idf(ctx, qt)
	if err != nil {
		return nil, err
	}
	var total float64
	var quoted []string
	for _, t := range qt {
		total += idf[t]
		// Terms in most passages barely move BM25 but make FTS5 score nearly every row; they
		// still count for coverage.
		if !common[t] {
			quoted = append(quoted, `"`+t+`"`)
		}
	}
	var hits []Hit
	if total > 0 { // else no word of the question is in the documents: only a model may find something
		if hits, err = s.lexical(ctx, qt, quoted, q.K*4, idf, total); err != nil {
			return nil, err
		}
	}
	hits, err = s.fuse(ctx, question, hits, q.K*4, qt, idf, total)
	if err != nil {
		return nil, err
	}
	for i := range hits {
		hits[i].Relevant = q.Relevant(hits[i])
	}
	if len(hits) > q.K {
		hits = hits[:q.K]
	}
	budget := q.MaxTokens
	for i := range hits {
		if budget <= 0 {
			hits = hits[:i]
			break
		}
		if EstimateTokens(hits[i].Text) > budget {
			hits[i].Text = cutToTokens(hits[i].Text, budget-1) + "…" // the ellipsis may be a token
			hits[i].Truncated = true
		}
		budget -= EstimateTokens(hits[i].Text)
	}
	return hits, nil
}

// Relevant says whether a passage passes q's thresholds (a negative MinCoverage passes all).
func (q Query) Relevant(h Hit) bool {
	if q.MinCoverage == 0 {
		q.MinCoverage = DefaultMinCoverage
	}
	return q.MinCoverage < 0 || h.Coverage >= q.MinCoverage || (q.MinSimilarity > 0 && h.Similarity >= q.MinSimilarity)
}

// lexical is the BM25 search: the n best passages holding one of the quoted terms, reordered
// by how much of the question they hold.
func (s *Store) lexical(ctx context.Context, qt, quoted []string, n int, idf map[string]float64, total float64) ([]Hit, error) {
	if len(quoted) == 0 { // every term is common: search them all
		for _, t := range qt {
			quoted = append(quoted, `"`+t+`"`)
		}
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT p.id, p.text, p.heading, p.page, d.path, f.terms, -f.rank AS score
		FROM (SELECT rowid, terms, rank FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT ?) AS f
		JOIN passages AS p ON p.id = f.rowid JOIN docs AS d ON d.id = p.doc_id
		ORDER BY f.rank`, strings.Join(quoted, " OR "), n)
	if err != nil {
		return nil, fmt.Errorf("knowledge: search: %w", err)
	}
	defer rows.Close()
	var hits []Hit
	for rows.Next() {
		var h Hit
		var ts string
		if err := rows.Scan(&h.id, &h.Text, &h.Heading, &h.Page, &h.Path, &ts, &h.Score); err != nil {
			return nil, fmt.Errorf("knowledge: search: %w", err)
		}
		h.Coverage = coverage(ts, qt, idf, total)
		h.Doc = filepath.Base(h.Path)
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("knowledge: search: %w", err)
	}
	rows.Close()
	// BM25 ranks; among the few best, a passage holding more of the question goes first, so a
	// long passage repeating one word does not bury the one that answers.
	for i := 1; i < len(hits); i++ {
		for j := i; j > 0 && rank(hits[j]) > rank(hits[j-1]); j-- {
			hits[j], hits[j-1] = hits[j-1], hits[j]
		}
	}
	return hits, nil
}

func rank(h Hit) float64 { return h.Score * (0.5 + h.Coverage) }

// coverage is the share of the question's weight (total) whose terms the passage's analysed
// terms ts hold.
func coverage(ts string, qt []string, idf map[string]float64, total float64) float64 {
	if total <= 0 {
		return 0
	}
	have := map[string]bool{}
	for _, t := range strings.Fields(ts) {
		have[t] = true
	}
	var got float64
	for _, t := range qt {
		if have[t] {
			got += idf[t]
		}
	}
	return got / total
}

// fuse merges the lexical ranking with the embedding model's (n passages of each) by
// reciprocal rank fusion, with an embedder and stored vectors; without them it returns the
// lexical ranking as it is. Passages only the model found are read here, their coverage
// computed like the others'.
func (s *Store) fuse(ctx context.Context, question string, lexical []Hit, n int, qt []string, idf map[string]float64, total float64) ([]Hit, error) {
	sem, q, vs, ok, err := s.semantic(ctx, question, n)
	if err != nil || !ok {
		return lexical, err
	}
	out := lexical
	at := map[int64]int{}
	for i := range out {
		at[out[i].id] = i
		out[i].Similarity, _ = vs.cosine(q, out[i].id)
		out[i].Fused = 1 / float64(rrfK+i+1)
	}
	for r, sc := range sem {
		i, seen := at[sc.id]
		if !seen {
			h, err := s.passage(ctx, sc.id)
			if errors.Is(err, sql.ErrNoRows) {
				continue // dropped since the vectors were read
			}
			if err != nil {
				return nil, err
			}
			h.Coverage = coverage(h.terms, qt, idf, total)
			h.terms = ""
			h.Similarity = sc.sim
			out = append(out, h)
			i = len(out) - 1
		}
		out[i].Fused += 1 / float64(rrfK+r+1)
	}
	slices.SortStableFunc(out, func(a, b Hit) int {
		switch {
		case a.Fused > b.Fused:
			return -1
		case a.Fused < b.Fused:
			return 1
		}
		return 0
	})
	return out, nil
}

// passage reads one passage as a Hit with its analysed terms (Score 0: BM25 did not pick it).
func (s *Store) passage(ctx context.Context, id int64) (Hit, error) {
	h := Hit{id: id}
	err := s.db.QueryRowContext(ctx, `
		SELECT p.text, p.heading, p.page, d.path, f.terms
		FROM passages AS p JOIN docs AS d ON d.id = p.doc_id JOIN fts AS f ON f.rowid = p.id
		WHERE p.id = ?`, id).Scan(&h.Text, &h.Heading, &h.Page, &h.Path, &h.terms)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return h, err
		}
		return h, fmt.Errorf("knowledge: search: %w", err)
	}
	h.Doc = filepath.Base(h.Path)
	return h, nil
}

// Retrieve returns only the relevant passages of Search: none when the documents do not say.
func (s *Store) Retrieve(ctx context.Context, question string, q Query) ([]Hit, error) {
	hits, err := s.Search(ctx, question, q)
	if err != nil {
		return nil, err
	}
	out := hits[:0]
	for _, h := range hits {
		if h.Relevant {
			out = append(out, h)
		}
	}
	return out, nil
}

// idf weighs each term by its rarity among passages (BM25's idf); a word no passage has gets
// the highest weight, so a question about something the documents never mention falls under
// the threshold. A Chinese bigram no passage has weighs nothing: most bigrams of a question
// straddle two words (多少钱 gives 多少 and 少钱) and say nothing about relevance.
func (s *Store) idf(ctx context.Context, qt []string) (weights map[string]float64, common map[string]bool, err error) {
	var n float64
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM passages").Scan(&n); err != nil {
		return nil, nil, fmt.Errorf("knowledge: %w", err)
	}
	out := map[string]float64{}
	common = map[string]bool{}
	for _, t := range qt {
		var df float64
		if err := s.db.QueryRowContext(ctx, "SELECT doc FROM fts_vocab WHERE term = ?", t).Scan(&df); err != nil {
			df = 0
		}
		if df == 0 && strings.ContainsFunc(t, isCJK) && utf8.RuneCountInString(t) > 1 {
			out[t] = 0
			continue
		}
		out[t] = math.Log(1 + (n-df+0.5)/(df+0.5))
		common[t] = df > n/2 && n > 20
	}
	return out, common, nil
}
