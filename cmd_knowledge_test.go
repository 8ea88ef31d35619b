package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/app"
	"hark/app/config"
	"hark/internal/testmodels"
	"hark/knowledge"
)

// TestKnowledgeCommand runs `hark knowledge` as a person would: add the shipped corpus, list,
// search (text and JSON), remove a document, and ask for one not indexed.
func TestKnowledgeCommand(t *testing.T) {
	index := filepath.Join(t.TempDir(), "k.db")
	hark := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		rc := run(context.Background(), append([]string{"knowledge"}, args...), &out, &errb)
		return out.String(), errb.String(), rc
	}
	out, errs, rc := hark("add", "--index", index, "knowledge/testdata/corpus")
	if rc != 0 || !strings.Contains(out, "5 indexed") {
		t.Fatalf("add: rc %d\n%s%s", rc, out, errs)
	}
	out, _, rc = hark("list", "--index", index)
	if rc != 0 || strings.Count(out, "\n") != 5 || !strings.Contains(out, "pump-manual.md") {
		t.Errorf("list: rc %d\n%s", rc, out)
	}
	out, _, rc = hark("search", "--index", index, "where is the nearest pharmacy?")
	if rc != 0 || !strings.HasPrefix(out, "1. harbourview-guide.md › ") || !strings.Contains(out, "Pharmacy and first aid") || !strings.Contains(out, "(relevant)") {
		t.Errorf("search: rc %d\n%s", rc, out)
	}
	out, _, rc = hark("search", "--index", index, "--json", "洗手间在哪里")
	var res struct {
		Passages []struct {
			Heading  string
			Relevant bool
		}
	}
	if err := json.Unmarshal([]byte(out), &res); rc != 0 || err != nil || len(res.Passages) == 0 || !strings.HasSuffix(res.Passages[0].Heading, "洗手间") || !res.Passages[0].Relevant {
		t.Errorf("search --json: rc %d %v\n%s", rc, err, out)
	}
	// The [knowledge] settings, and the flags for one search.
	out, _, rc = hark("search", "--index", index, "--set", "knowledge.min_coverage=0.95", "where is the nearest pharmacy for plasters?")
	if rc != 0 || strings.Contains(out, "(relevant)") || !strings.Contains(out, "(below the threshold)") {
		t.Errorf("search with min_coverage 0.95: rc %d\n%s", rc, out)
	}
	out, _, rc = hark("search", "--index", index, "--json", "--max-tokens", "60", "--k", "1", "where is the nearest pharmacy?")
	var cut struct {
		Passages []struct {
			Text      string
			Truncated bool
		}
	}
	if err := json.Unmarshal([]byte(out), &cut); rc != 0 || err != nil || len(cut.Passages) != 1 || !cut.Passages[0].Truncated ||
		knowledge.EstimateTokens(cut.Passages[0].Text) > 60 {
		t.Errorf("search --max-tokens 60 --k 1: rc %d %v\n%s", rc, err, out)
	}
	if _, errs, rc = hark("search", "--index", index, "--max-tokens", "5", "pharmacy"); rc == 0 || !strings.Contains(errs, "max-tokens") {
		t.Errorf("search --max-tokens 5: rc %d %q", rc, errs)
	}
	abs, _ := filepath.Abs("knowledge/testdata/corpus/pump-manual.md")
	if out, _, rc = hark("rm", "--index", index, abs); rc != 0 {
		t.Errorf("rm: rc %d %s", rc, out)
	}
	out, _, _ = hark("search", "--index", index, "error E42")
	if strings.Contains(out, "pump-manual.md") {
		t.Errorf("removed document still found:\n%s", out)
	}
	if _, errs, rc = hark("rm", "--index", index, "nope.md"); rc == 0 || !strings.Contains(errs, "not in the knowledge index") {
		t.Errorf("rm of what is not indexed: rc %d %q", rc, errs)
	}
}

// TestAskFromKnowledge: with documents indexed (the default index in Hark's data folder),
// `hark ask --json` shows what was retrieved and sends the passages to the model; in kiosk
// mode a question they do not cover gets "I don't know" without loading the model at all.
func TestAskFromKnowledge(t *testing.T) {
	isolate(t)
	// An empty index (a kiosk makes one before documents are added) changes nothing.
	if st, _ := openKnowledgeStore(config.Default(), io.Discard, true); st == nil {
		t.Fatal("no index made")
	} else {
		st.Close()
	}
	code, js, errs := runCLI(t, "ask", "--set", "assistant.mode=kiosk", "--model", "/nonexistent.gguf", "--json", "Who won the football world cup?")
	if code == 0 || strings.Contains(js, "know") || !strings.Contains(errs, "nonexistent.gguf") {
		t.Errorf("kiosk, empty index: exit %d, %s %s; want the model asked (and its load failing)", code, js, errs)
	}
	if code, out, errs := runCLI(t, "knowledge", "add", "knowledge/testdata/corpus"); code != 0 {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	type askOut struct {
		Reply     string
		Stop      string
		Knowledge *struct {
			Passages []struct {
				Source string
				Score  float64
			}
			Prompt     string
			DontKnow   bool    `json:"dont_know"`
			RetrieveMS float64 `json:"retrieve_ms"`
		}
	}
	decode := func(js string) askOut {
		var r askOut
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatalf("%v: %s", err, js)
		}
		return r
	}
	code, js, errs = runCLI(t, "ask", "--set", "assistant.mode=kiosk", "--model", "/nonexistent.gguf", "--json", "Who won the football world cup?")
	if r := decode(js); code != 0 || r.Knowledge == nil || !r.Knowledge.DontKnow || !strings.HasPrefix(r.Reply, "I don't know") {
		t.Errorf("kiosk, not covered: exit %d %+v %s", code, r, errs)
	}
	model := testmodels.Shared(t, "stories260K.gguf")
	code, js, errs = runCLI(t, "ask", "--model", model, "--system", "", "--threads", "1", "--max-tokens", "16", "--json", "Where is the nearest pharmacy?")
	r := decode(js)
	if code != 0 || r.Knowledge == nil || len(r.Knowledge.Passages) == 0 ||
		!strings.Contains(r.Knowledge.Passages[0].Source, "Pharmacy and first aid") ||
		!strings.Contains(r.Knowledge.Prompt, "Pier Road Pharmacy") || !strings.HasSuffix(r.Knowledge.Prompt, "Where is the nearest pharmacy?") ||
		r.Knowledge.RetrieveMS <= 0 {
		t.Errorf("covered: exit %d %+v %s", code, r, errs)
	}
}

// TestKioskWatchesItsDocuments: the window's wiring in kiosk mode opens the index before any
// document is added (questions then go to the model), and documents written into an added
// folder while it runs are retrieved without a restart.
func TestKioskWatchesItsDocuments(t *testing.T) {
	isolate(t)
	cfg, err := config.Load(config.Options{Env: []string{}, Flags: []config.Override{{Key: "assistant.mode", Value: "kiosk"}}})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	st, know := openKnowledgeStore(cfg, &logs, true)
	if st == nil || know.Knowledge == nil || !know.NeverGuess {
		t.Fatalf("kiosk knowledge: store %v, options %+v, log %s", st, know, logs.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := know.Knowledge.Retrieve(ctx, "where is the lift"); !errors.Is(err, app.ErrNoDocuments) {
		t.Fatalf("before any document: %v, want app.ErrNoDocuments", err)
	}
	dir := t.TempDir()
	if _, err := st.Add(ctx, dir); err != nil {
		t.Fatal(err)
	}
	logged := make(chan string, 100)
	go watchKnowledge(ctx, st, func(f string, a ...any) { logged <- fmt.Sprintf(f, a...) })
	time.Sleep(200 * time.Millisecond) // let the watch start; what comes before is found by its first refresh
	doc := filepath.Join(dir, "lifts.md")
	if err := os.WriteFile(doc, []byte("# Lifts\n\nThe lifts are behind the information desk, on the left.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-logged:
		if l != "knowledge: indexed "+doc {
			t.Errorf("logged %q", l)
		}
	case <-time.After(20 * time.Second): // only a deadline for a broken watch
		t.Fatal("the new document was not indexed within 20 s")
	}
	ps, err := know.Knowledge.Retrieve(ctx, "where are the lifts")
	if err != nil || len(ps) == 0 || ps[0].Source != "lifts.md › Lifts" {
		t.Errorf("after the document was written: %v %+v", err, ps)
	}
}
