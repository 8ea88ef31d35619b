package main

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"
	"time"
	"unicode"

	"hark/internal/testmodels"
	"hark/knowledge"
	"hark/llm"
)

// BenchmarkKnowledgeRecall measures retrieval on the evaluation set under knowledge/testdata
// (a venue's guide in English and Chinese, a pump manual, a crop guide, a clinic's protocols;
// questions.tsv pairs each paraphrased question with the document and heading that answer it):
// recall@3 for the English and the Chinese questions, the time a question takes, and the
// time to index (and embed) the corpus. It ranks by words alone, and hybrid with each
// embedding model at hand: HARK_EMBED_MODEL (a real embedding GGUF, when set), the shared
// stories260K (a real but tiny story model, 64 wide: a weak embedder) and a random-weight
// llama (cost only; its vectors are noise). One command:
//
//	go test -run '^$' -bench KnowledgeRecall -benchtime 3x .
func BenchmarkKnowledgeRecall(b *testing.B) {
	type model struct{ name, path string }
	ms := []model{{"words", ""}}
	if p := os.Getenv("HARK_EMBED_MODEL"); p != "" {
		ms = append(ms, model{"hybrid-" + strings.TrimSuffix(baseName(p), ".gguf"), p})
	}
	ms = append(ms, model{"hybrid-stories260K", testmodels.Shared(b, "stories260K.gguf")},
		model{"hybrid-random-llama", testmodels.Llama(b, testmodels.TinyLlama())})
	questions := readEvalQuestions(b)
	for _, m := range ms {
		b.Run(m.name, func(b *testing.B) {
			ctx := context.Background()
			st, err := knowledge.Open(ctx, b.TempDir()+"/knowledge.db")
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if m.path != "" {
				e, err := llm.OpenEmbedder(m.path, llm.EmbedOptions{Threads: 1})
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				if err := st.SetEmbedder(ctx, e, m.name); err != nil {
					b.Fatal(err)
				}
			}
			start := time.Now()
			rep, err := st.Add(ctx, "knowledge/testdata/corpus")
			if err != nil {
				b.Fatal(err)
			}
			index := time.Since(start)
			var n, hit [2]int
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n, hit = [2]int{}, [2]int{}
				for _, q := range questions {
					hits, err := st.Search(ctx, q.q, knowledge.Query{K: 3, MinCoverage: -1})
					if err != nil {
						b.Fatal(err)
					}
					lang := 0
					if strings.ContainsFunc(q.q, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
						lang = 1
					}
					n[lang]++
					if q.foundIn(hits) {
						hit[lang]++
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(hit[0])/float64(n[0]), "recall@3-en")
			b.ReportMetric(float64(hit[1])/float64(n[1]), "recall@3-zh")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*len(questions)), "ms/question")
			b.ReportMetric(float64(index.Milliseconds()), "index-ms")
			b.ReportMetric(0, "ns/op") // a whole pass over the questions is not a useful unit
			b.Logf("%s: %d passages, %d embedded; recall@3 English %d/%d, Chinese %d/%d", m.name, rep.Passages, rep.Embedded, hit[0], n[0], hit[1], n[1])
		})
	}
}

func baseName(p string) string { return p[strings.LastIndex(p, "/")+1:] }

// evalQuestion is a line of knowledge/testdata/questions.tsv: the question, the document that
// answers it and the last part of the heading path it is under ("" when the document has none).
type evalQuestion struct{ q, doc, heading string }

func (q evalQuestion) foundIn(hits []knowledge.Hit) bool {
	for _, h := range hits {
		if h.Doc == q.doc && (q.heading == "" || h.Heading == q.heading || strings.HasSuffix(h.Heading, " > "+q.heading)) {
			return true
		}
	}
	return false
}

func readEvalQuestions(b *testing.B) []evalQuestion {
	f, err := os.Open("knowledge/testdata/questions.tsv")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out []evalQuestion
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 3 {
			b.Fatalf("questions.tsv: bad line %q", line)
		}
		out = append(out, evalQuestion{p[0], p[1], p[2]})
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return out
}
