package knowledge

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "knowledge.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// copyCorpus copies the shipped corpus to a temporary folder the test may change.
func copyCorpus(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir("testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata/corpus", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type question struct{ q, doc, heading string }

func readQuestions(t testing.TB) []question {
	f, err := os.Open("testdata/questions.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []question
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") || sc.Text() == "" {
			continue
		}
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 3 {
			t.Fatalf("bad line %q", sc.Text())
		}
		out = append(out, question{p[0], p[1], p[2]})
	}
	return out
}

func found(hits []Hit, q question) bool {
	for _, h := range hits {
		if h.Doc == q.doc && (q.heading == "" || h.Heading == q.heading || strings.HasSuffix(h.Heading, " > "+q.heading)) {
			return true
		}
	}
	return false
}

// TestRecall asks the paraphrased questions of the shipped corpus: the passage under the
// right heading must be among the three best passages (lexical search alone, recall@3) for at
// least 90% of the English and of the Chinese questions. How many of them also pass the
// relevance threshold (and so get an answer rather than "I don't know") is logged.
func TestRecall(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	rep, err := s.Add(ctx, "testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Indexed) != 5 || len(rep.Skipped) != 0 {
		t.Fatalf("indexed %v, skipped %v; want the 5 documents", rep.Indexed, rep.Skipped)
	}
	var n, hit, answered [2]int // [0] English, [1] Chinese
	var tokens [2]int           // estimated prompt tokens of the relevant passages
	for _, q := range readQuestions(t) {
		lang := 0
		if strings.ContainsFunc(q.q, isCJK) {
			lang = 1
		}
		hits, err := s.Search(ctx, q.q, Query{K: 3, MinCoverage: -1})
		if err != nil {
			t.Fatal(err)
		}
		relevant, err := s.Retrieve(ctx, q.q, Query{K: 3})
		if err != nil {
			t.Fatal(err)
		}
		n[lang]++
		for _, h := range relevant {
			tokens[lang] += EstimateTokens(h.Text)
		}
		if found(relevant, q) {
			answered[lang]++
		}
		if found(hits, q) {
			hit[lang]++
		} else {
			var got []string
			for _, h := range hits {
				got = append(got, h.Source())
			}
			all, _ := s.Search(ctx, q.q, Query{K: 3, MinCoverage: -1})
			var near []string
			for _, h := range all {
				near = append(near, h.Source()+" "+strings.TrimSpace(fmtCov(h.Coverage)))
			}
			t.Logf("missed %q: want %s › %s, got %v (unthresholded %v)", q.q, q.doc, q.heading, got, near)
		}
	}
	for lang, name := range []string{"English", "Chinese"} {
		r := float64(hit[lang]) / float64(n[lang])
		t.Logf("recall@3 %s: %d/%d = %.2f; above the relevance threshold %d/%d; passages add ~%d prompt tokens a question",
			name, hit[lang], n[lang], r, answered[lang], n[lang], tokens[lang]/n[lang])
		if r < 0.9 {
			t.Errorf("recall@3 %s %.2f < 0.9", name, r)
		}
	}
}

func fmtCov(c float64) string { return fmt.Sprintf("(coverage %.2f)", c) }

// TestUnanswerable: questions the documents do not cover retrieve nothing relevant, so the
// assistant says it does not know instead of guessing.
func TestUnanswerable(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	if _, err := s.Add(ctx, "testdata/corpus"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/unanswerable.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		hits, err := s.Retrieve(ctx, q, Query{})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			t.Errorf("%q retrieved %s (score %.2f, coverage %.2f)", q, h.Source(), h.Score, h.Coverage)
		}
	}
}

// TestSource: how a passage is named under a reply: one separator between the document and
// each heading, and the page of a PDF.
func TestSource(t *testing.T) {
	for _, tc := range []struct {
		h    Hit
		want string
	}{
		{Hit{Doc: "faq.txt"}, "faq.txt"},
		{Hit{Doc: "guide.md", Heading: "Visitor Guide > Inside > Pharmacy"}, "guide.md › Visitor Guide › Inside › Pharmacy"},
		{Hit{Doc: "manual.pdf", Heading: "Errors", Page: 12}, "manual.pdf › Errors (p. 12)"},
	} {
		if got := tc.h.Source(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.h, got, tc.want)
		}
	}
}
