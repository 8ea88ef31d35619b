package knowledge

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

func reasons(rep Report) map[string]string {
	m := map[string]string{}
	for _, s := range rep.Skipped {
		m[filepath.Base(s.Path)] = s.Reason
	}
	return m
}

// TestBadFilesSkipped: binary, huge, unreadable, unsupported and (without pdftotext) PDF files
// are skipped with a reason and the rest of the folder is indexed.
func TestBadFilesSkipped(t *testing.T) {
	s, _ := openTemp(t)
	dir := copyCorpus(t)
	write := func(name string, b []byte, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), b, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("image.md", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), 0o644)
	write("latin1.txt", []byte("caf\xe9 cr\xe8me"), 0o644)
	write("secret.md", []byte("# Secret\nno one may read this"), 0o000)
	write("fake.pdf", []byte("%PDF-1.4 not really"), 0o644)
	write("notes.docx", []byte("PK\x03\x04"), 0o644)
	huge, err := os.Create(filepath.Join(dir, "huge.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := huge.Truncate(MaxFileBytes + 1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	huge.Close()

	rep, err := s.Add(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	good := 5
	if os.Geteuid() == 0 { // root reads a 0000 file
		good = 6
	}
	if len(rep.Indexed) != good {
		t.Errorf("indexed %v, want the %d good documents", rep.Indexed, good)
	}
	got := reasons(rep)
	want := map[string]string{
		"image.md":   "binary",
		"latin1.txt": "not UTF-8",
		"huge.txt":   "too large",
		"fake.pdf":   "PDF",
	}
	if os.Geteuid() != 0 {
		want["secret.md"] = "unreadable"
	}
	for name, w := range want {
		if !strings.Contains(got[name], w) {
			t.Errorf("%s: skip reason %q, want one mentioning %q", name, got[name], w)
		}
	}
	if _, ok := got["notes.docx"]; ok {
		t.Errorf("a file of another format inside a folder is passed over silently, got %q", got["notes.docx"])
	}
	// Named on its own, an unsupported file is reported.
	rep, err = s.Add(context.Background(), filepath.Join(dir, "notes.docx"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reasons(rep)["notes.docx"], "not a supported") {
		t.Errorf("named .docx: %+v", rep)
	}
	if _, err := s.Add(context.Background(), filepath.Join(dir, "missing.md")); err == nil {
		t.Error("adding a missing file succeeded")
	}
}

// TestReindexOnlyChanged: adding again reads only new and changed documents and drops the
// ones deleted from an added folder.
func TestReindexOnlyChanged(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	dir := copyCorpus(t)
	if _, err := s.Add(ctx, dir); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Add(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Indexed) != 0 || rep.Unchanged != 5 {
		t.Fatalf("second add: indexed %v, unchanged %d; want nothing read again", rep.Indexed, rep.Unchanged)
	}
	// Touched, same content: not indexed again.
	later := time.Now().Add(time.Hour)
	clinic := filepath.Join(dir, "clinic-protocols.txt")
	if err := os.Chtimes(clinic, later, later); err != nil {
		t.Fatal(err)
	}
	pump := filepath.Join(dir, "pump-manual.md")
	b, _ := os.ReadFile(pump)
	b = append(b, "\n## E99 — Flux capacitor\n\nE99 means the flux capacitor needs 1.21 gigawatts.\n"...)
	if err := os.WriteFile(pump, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "crop-guide.html")); err != nil {
		t.Fatal(err)
	}
	rep, err = s.Add(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Indexed, []string{pump}) || rep.Unchanged != 3 || len(rep.Removed) != 1 {
		t.Fatalf("after changes: indexed %v, unchanged %d, removed %v", rep.Indexed, rep.Unchanged, rep.Removed)
	}
	hits, err := s.Retrieve(ctx, "what does E99 mean", Query{})
	if err != nil || len(hits) == 0 || hits[0].Heading != "AquaLift P3 Centrifugal Pump — Operating Manual > E99 — Flux capacitor" {
		t.Fatalf("the changed document is not searchable: %v %+v", err, hits)
	}
	if hits, _ := s.Retrieve(ctx, "when to sow winter wheat", Query{}); len(hits) != 0 {
		t.Errorf("a deleted document is still retrieved: %+v", hits)
	}
	// No stale passages of the old version: E42 is found exactly once.
	hits, _ = s.Search(ctx, "E42 dry running", Query{K: 10, MinCoverage: -1})
	n := 0
	for _, h := range hits {
		if strings.HasSuffix(h.Heading, "E42 — Dry running") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("E42 passage found %d times after re-indexing, want 1", n)
	}
}

func TestListRemoveRebuild(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	dir := copyCorpus(t)
	if _, err := s.Add(ctx, dir); err != nil {
		t.Fatal(err)
	}
	docs, err := s.List(ctx)
	if err != nil || len(docs) != 5 {
		t.Fatalf("list: %v %+v", err, docs)
	}
	for _, d := range docs {
		if d.Passages == 0 || d.Kind == "" {
			t.Errorf("%+v", d)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("index file mode: %v %v, want 0600", fi.Mode(), err)
	}
	pump := filepath.Join(dir, "pump-manual.md")
	dropped, err := s.Remove(ctx, pump)
	if err != nil || !slices.Equal(dropped, []string{pump}) {
		t.Fatalf("rm: %v %v", dropped, err)
	}
	if hits, _ := s.Retrieve(ctx, "error E42 on the pump", Query{}); len(hits) != 0 {
		t.Errorf("removed document retrieved: %+v", hits)
	}
	if _, err := s.Remove(ctx, filepath.Join(dir, "nothing.md")); err == nil {
		t.Error("removing what is not indexed succeeded")
	}
	// Rebuild re-reads the added folder: a new file appears, the removed one comes back too
	// (it is still under the added folder).
	if err := os.WriteFile(filepath.Join(dir, "new.md"), []byte("# Ferry\nThe ferry to the island leaves at noon."), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Rebuild(ctx)
	if err != nil || len(rep.Indexed) != 6 {
		t.Fatalf("rebuild: %v %+v", err, rep)
	}
	if hits, _ := s.Retrieve(ctx, "when does the ferry leave", Query{}); len(hits) == 0 || hits[0].Doc != "new.md" {
		t.Errorf("new file after rebuild: %+v", hits)
	}
	// Removing the folder forgets it: a rebuild then has nothing.
	if _, err := s.Remove(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.Rebuild(ctx); err != nil || len(rep.Indexed) != 0 {
		t.Errorf("rebuild after removing the folder: %v %+v", err, rep)
	}
}

// TestCorruptIndexRebuilt: a damaged database file is set aside and the index rebuilt from the
// documents.
func TestCorruptIndexRebuilt(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "knowledge.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	dir := copyCorpus(t)
	if _, err := s.Add(ctx, dir); err != nil {
		t.Fatal(err)
	}
	s.Close()
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(1))
	for i := 100; i < len(b); i++ { // keep the header, scramble the pages
		b[i] = byte(r.Intn(256))
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("open damaged index: %v", err)
	}
	defer s.Close()
	if s.Recovered() == "" {
		t.Error("Recovered is empty after opening a damaged index")
	}
	if _, err := os.Stat(path + ".corrupt"); err != nil {
		t.Errorf("damaged file not kept aside: %v", err)
	}
	hits, err := s.Retrieve(ctx, "where is the nearest pharmacy", Query{})
	if err != nil || len(hits) == 0 {
		t.Errorf("rebuilt index finds nothing: %v", err)
	}
}

// TestBudget: the passages handed to the prompt stay within the budget however long one is.
func TestBudget(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	dir := t.TempDir()
	long := "# Warehouse\n\n" + strings.Repeat("The forklift charger is in bay seven next to the loading dock ", 400)
	if err := os.WriteFile(filepath.Join(dir, "long.md"), []byte(long), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, dir); err != nil {
		t.Fatal(err)
	}
	for _, budget := range []int{20, 100, 400} {
		hits, err := s.Retrieve(ctx, "where is the forklift charger", Query{K: 5, MaxTokens: budget})
		if err != nil || len(hits) == 0 {
			t.Fatalf("%v %v", err, hits)
		}
		n := 0
		for _, h := range hits {
			n += EstimateTokens(h.Text)
			if utf8.RuneCountInString(h.Text) > passageRunes+1 {
				t.Errorf("passage of %d runes", utf8.RuneCountInString(h.Text))
			}
		}
		if n > budget {
			t.Errorf("budget %d tokens: %d retrieved", budget, n)
		}
		if n < budget*3/4 {
			t.Errorf("budget %d tokens: only %d used, though the passages are longer", budget, n)
		}
	}
}

func TestEstimateTokens(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"", 0},
		{"pump", 1},
		{"Where is the pharmacy?", 6},     // 22 characters
		{"药店在哪里", 4},                      // 5 × 0.7 = 3.5
		{"E42 表示水泵干转。", 7},                // "E42 " and "。" (5 characters: 2) + 6 Han (4.2: 5)
		{strings.Repeat("a", 4000), 1000}, // 4 characters a token
	} {
		if got := EstimateTokens(tc.s); got != tc.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

func TestExtract(t *testing.T) {
	md := extractMarkdown("intro\n# A\none\n## B\n```\n# not a heading\n```\n### C\nthree\n## D\nfour\n")
	var got []string
	for _, s := range md {
		got = append(got, strings.Join(s.heading, "/")+":"+strings.Join(strings.Fields(s.text), " "))
	}
	want := []string{":intro", "A:one", "A/B:``` # not a heading ```", "A/B/C:three", "A/D:four"}
	if !slices.Equal(got, want) {
		t.Errorf("markdown sections %q, want %q", got, want)
	}
	b, _ := os.ReadFile("testdata/corpus/crop-guide.html")
	secs, err := extractHTML(b)
	if err != nil {
		t.Fatal(err)
	}
	all := fmt.Sprint(secs)
	if strings.Contains(all, "do not index") || strings.Contains(all, "font-family") || strings.Contains(all, "Home") {
		t.Errorf("script, style or nav text indexed: %s", all)
	}
	var heads []string
	for _, s := range secs {
		heads = append(heads, strings.Join(s.heading, " > "))
	}
	if !slices.Contains(heads, "Greenfield Farm Crop Guide > Winter wheat > Sowing") {
		t.Errorf("HTML heading paths %q", heads)
	}
}

// TestChineseTokenizers measures why the index uses CJK characters and bigrams rather than
// FTS5's trigram tokenizer: with trigrams, a two-character word such as 停车 or 药店 cannot be
// matched at all, so most short Chinese questions find nothing.
func TestChineseTokenizers(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE VIRTUAL TABLE tri USING fts5(heading, text, tokenize='trigram')"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile("testdata/corpus/海景会展中心指南.md")
	for _, s := range extractMarkdown(string(b)) {
		if _, err := db.Exec("INSERT INTO tri VALUES(?, ?)", strings.Join(s.heading, " > "), s.text); err != nil {
			t.Fatal(err)
		}
	}
	n, hit := 0, 0
	for _, q := range readQuestions(t) {
		if !strings.ContainsFunc(q.q, isCJK) {
			continue
		}
		n++
		// Trigram queries: every three-character window of the question, ORed.
		rs := []rune(strings.Map(func(r rune) rune {
			if isCJK(r) {
				return r
			}
			return -1
		}, q.q))
		var grams []string
		for i := 0; i+3 <= len(rs); i++ {
			grams = append(grams, `"`+string(rs[i:i+3])+`"`)
		}
		if len(grams) == 0 {
			continue
		}
		rows, err := db.Query("SELECT heading FROM tri WHERE tri MATCH ? ORDER BY bm25(tri) LIMIT 3", strings.Join(grams, " OR "))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var h string
			rows.Scan(&h)
			if strings.HasSuffix(h, q.heading) {
				hit++
				break
			}
		}
		rows.Close()
	}
	t.Logf("FTS5 trigram recall@3 on the Chinese questions: %d/%d (the index's bigrams: see TestRecall)", hit, n)
	if hit*10 >= n*9 {
		t.Errorf("trigram recall %d/%d reaches the bigram index's; reconsider the tokenizer", hit, n)
	}
}

// corpusPages builds n pages of text: the shipped corpus's sections with their words
// shuffled into other orders, so the index has the corpus's vocabulary at 1,000-page scale.
func corpusPages(t testing.TB, n int) string {
	dir := t.TempDir()
	var words []string
	for _, name := range []string{"harbourview-guide.md", "pump-manual.md", "海景会展中心指南.md"} {
		b, _ := os.ReadFile(filepath.Join("testdata/corpus", name))
		words = append(words, strings.Fields(string(b))...)
	}
	r := rand.New(rand.NewSource(7))
	for f := 0; f < n/20; f++ {
		var b strings.Builder
		for p := 0; p < 20; p++ { // a "page" is a section of ~350 words
			fmt.Fprintf(&b, "## Page %d-%d\n\n", f, p)
			for w := 0; w < 350; w++ {
				b.WriteString(words[r.Intn(len(words))])
				if w%60 == 59 {
					b.WriteString("\n\n")
				} else {
					b.WriteByte(' ')
				}
			}
			b.WriteString("\n\n")
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("doc%03d.md", f)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// BenchmarkSearch1000Pages: one retrieval over 1,000 pages plus the shipped corpus. Besides
// the wall time per query it reports the process's CPU time per query (cpu-ms/op), which other
// work on a busy machine disturbs less:
//
//	go test ./knowledge -run X -bench Search1000Pages -benchtime 200x -count 3
func BenchmarkSearch1000Pages(b *testing.B) {
	s, _ := openTemp(b)
	ctx := context.Background()
	if _, err := s.Add(ctx, corpusPages(b, 1000)); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Add(ctx, "testdata/corpus"); err != nil {
		b.Fatal(err)
	}
	benchRetrieve(b, s)
}

// benchRetrieve times Retrieve over the shipped questions in turn and reports the CPU time a
// query takes besides the wall time.
func benchRetrieve(b *testing.B, s *Store) {
	ctx := context.Background()
	qs := readQuestions(b)
	if _, err := s.Retrieve(ctx, qs[0].q, Query{}); err != nil { // warm: the first reads the vectors
		b.Fatal(err)
	}
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Retrieve(ctx, qs[i%len(qs)].q, Query{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu0)/1e6/float64(b.N), "cpu-ms/op")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIndex: indexing 100 pages (~35,000 words) from scratch; pages/s is reported.
func BenchmarkIndex(b *testing.B) {
	dir := corpusPages(b, 100)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := Open(ctx, filepath.Join(b.TempDir(), "k.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := s.Add(ctx, dir); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(100*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}
