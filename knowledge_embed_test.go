package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hark/app/config"
	"hark/internal/testmodels"
)

// TestKnowledgeEmbeddingModel: `hark knowledge` with an embedding model (the real llama.cpp
// embedding call, stories260K as a weak embedder): add embeds every passage, search shows the
// cosine and the fused ranking, a second add embeds nothing, another model embeds all again;
// a model that cannot be loaded is a clear error for the command, and the assistant's
// retrieval logs it and keeps ranking by words.
func TestKnowledgeEmbeddingModel(t *testing.T) {
	model := testmodels.Shared(t, "stories260K.gguf")
	isolate(t)
	index := filepath.Join(t.TempDir(), "k.db")
	hark := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		rc := run(context.Background(), append([]string{"knowledge"}, args...), &out, &errb)
		return out.String(), errb.String(), rc
	}
	out, errs, rc := hark("add", "--index", index, "--embedding-model", model, "knowledge/testdata/corpus")
	if rc != 0 || !strings.Contains(out, "5 indexed (57 passages)") || !strings.Contains(out, "57 passages embedded") {
		t.Fatalf("add: rc %d\n%s%s", rc, out, errs)
	}
	out, errs, rc = hark("add", "--index", index, "--embedding-model", model, "knowledge/testdata/corpus")
	if rc != 0 || strings.Contains(out, "embedded") {
		t.Errorf("second add embedded again: rc %d\n%s%s", rc, out, errs)
	}
	var res struct {
		Passages []struct {
			Similarity, Fused float64
			Heading           string
		}
	}
	out, errs, rc = hark("search", "--index", index, "--embedding-model", model, "--json", "where is the nearest pharmacy?")
	if err := json.Unmarshal([]byte(out), &res); rc != 0 || err != nil || len(res.Passages) != 3 {
		t.Fatalf("search --json: rc %d %v\n%s%s", rc, err, out, errs)
	}
	for _, p := range res.Passages {
		if p.Fused <= 0 || p.Similarity == 0 {
			t.Errorf("hybrid search without fused score or similarity: %+v", p)
		}
	}
	out, _, _ = hark("search", "--index", index, "where is the nearest pharmacy?")
	if strings.Contains(out, "similarity") {
		t.Errorf("search without a model shows similarities:\n%s", out)
	}
	// Another model (the same file under another name is another identity): all again.
	other := filepath.Join(t.TempDir(), "copy.gguf")
	copyFile(t, model, other)
	out, errs, rc = hark("rebuild", "--index", index, "--embedding-model", other)
	if rc != 0 || !strings.Contains(out, "57 passages embedded") {
		t.Errorf("rebuild with another model: rc %d\n%s%s", rc, out, errs)
	}
	if _, errs, rc = hark("search", "--index", index, "--embedding-model", "/nonexistent/embed.gguf", "pharmacy"); rc == 0 || !strings.Contains(errs, "embedding model") {
		t.Errorf("missing model: rc %d %q", rc, errs)
	}

	// The assistant: the default index, a broken model: logged, words only.
	if _, errs, rc := hark("add", "knowledge/testdata/corpus"); rc != 0 {
		t.Fatalf("add to the default index: %s", errs)
	}
	cfg, err := config.Load(config.Options{Env: []string{}, Flags: []config.Override{{Key: "knowledge.embedding_model", Value: "/nonexistent/embed.gguf"}}})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	st, know := openKnowledgeStore(cfg, &logs, false)
	if st == nil {
		t.Fatalf("no store: %s", logs.String())
	}
	defer st.Close()
	if !strings.Contains(logs.String(), "ranking by words only") {
		t.Errorf("log %q", logs.String())
	}
	ps, err := know.Knowledge.Retrieve(context.Background(), "where is the nearest pharmacy?")
	if err != nil || len(ps) == 0 || !strings.Contains(ps[0].Source, "Pharmacy") {
		t.Errorf("retrieval by words: %+v %v", ps, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
