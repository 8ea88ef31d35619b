package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"hark/app"
	"hark/app/config"
	"hark/knowledge"
	"hark/llm"
	"hark/models"
)

// knowledgePath is the knowledge index `hark knowledge` manages.
func knowledgePath() (string, error) {
	dir, err := config.DataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "knowledge.db"), nil
}

// knowledgeQuery is the retrieval the [knowledge] settings ask for.
func knowledgeQuery(cfg *config.Config) knowledge.Query {
	return knowledge.Query{K: cfg.Knowledge.Passages, MinCoverage: cfg.Knowledge.MinCoverage, MaxTokens: cfg.Knowledge.MaxTokens,
		MinSimilarity: cfg.Knowledge.MinSimilarity}
}

// storeKnowledge adapts the knowledge store to app.Knowledge.
type storeKnowledge struct {
	st *knowledge.Store
	q  knowledge.Query
}

func (k storeKnowledge) Retrieve(ctx context.Context, question string) ([]app.Passage, error) {
	if empty, err := k.st.Empty(ctx); err != nil {
		return nil, err
	} else if empty {
		return nil, app.ErrNoDocuments
	}
	hits, err := k.st.Retrieve(ctx, question, k.q)
	if err != nil {
		return nil, err
	}
	ps := make([]app.Passage, len(hits))
	for i, h := range hits {
		ps[i] = app.Passage{Source: h.Source(), Text: h.Text, Score: h.Score}
	}
	return ps, nil
}

// openKnowledge opens the knowledge index when documents were added (`hark knowledge add`);
// without one the assistant answers as before. Where it never guesses (knowledge.guess; by
// default in kiosk mode) a question the documents do not cover gets app.DontKnow. The store
// stays open for the process's life.
func openKnowledge(cfg *config.Config, logw io.Writer) app.KnowledgeOptions {
	_, k := openKnowledgeStore(cfg, logw, false)
	return k
}

// knowledgeEmbedder opens knowledge.embedding_model for hybrid ranking: nil, "" when none is
// configured. The identity stored with the vectors is the file's name and size, so another
// model, or another quantisation of it, makes the store embed every passage again.
func knowledgeEmbedder(cfg *config.Config) (*llm.Embedder, string, error) {
	ref := cfg.Knowledge.EmbeddingModel
	if ref == "" {
		return nil, "", nil
	}
	s := &setup{cfg: cfg}
	var err error
	if s.manifest, err = models.LoadManifest(); err != nil {
		return nil, "", err
	}
	dir := cfg.Models.Dir
	if dir != "" {
		if dir, err = models.ExpandPath(dir); err != nil {
			return nil, "", err
		}
	}
	if s.store, err = models.NewStore(dir); err != nil {
		return nil, "", err
	}
	path, err := s.modelPath(models.Embed, ref)
	if err != nil {
		return nil, "", err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, "", err
	}
	e, err := llm.OpenEmbedder(path, llm.EmbedOptions{Threads: s.threads()})
	if err != nil {
		return nil, "", app.Explain(err, "The embedding model cannot be loaded", "Choose another GGUF file as knowledge.embedding_model, or set it to \"\" to rank by words only.")
	}
	return e, fmt.Sprintf("%s (%d bytes)", filepath.Base(path), fi.Size()), nil
}

// useEmbedder gives the store the configured embedding model, if any; a model that cannot be
// used is logged and the store ranks by words only.
func useEmbedder(ctx context.Context, st *knowledge.Store, cfg *config.Config, logw io.Writer) bool {
	e, id, err := knowledgeEmbedder(cfg)
	if err == nil && e != nil {
		err = st.SetEmbedder(ctx, e, id)
	}
	if err != nil {
		io.WriteString(logw, "hark: knowledge: ranking by words only: "+err.Error()+"\n")
		return false
	}
	return e != nil
}

// openKnowledgeStore is openKnowledge that also returns the store (nil without one). With
// create it opens the index even before any document is added: a kiosk's admin settings
// and watched folders add them while it runs, and until then questions go to the model
// (app.ErrNoDocuments).
func openKnowledgeStore(cfg *config.Config, logw io.Writer, create bool) (*knowledge.Store, app.KnowledgeOptions) {
	return openKnowledgeStoreFor(cfg, logw, create, true)
}

// openKnowledgeStoreFor is openKnowledgeStore; catchUp embeds the passages that have no
// vector in the background (a running assistant; not a one-shot `hark ask`).
func openKnowledgeStoreFor(cfg *config.Config, logw io.Writer, create, catchUp bool) (*knowledge.Store, app.KnowledgeOptions) {
	path, err := knowledgePath()
	if err != nil {
		return nil, app.KnowledgeOptions{}
	}
	if _, err := os.Stat(path); err != nil && !create {
		return nil, app.KnowledgeOptions{}
	}
	st, err := knowledge.Open(context.Background(), path)
	if err != nil {
		io.WriteString(logw, "hark: knowledge index unusable, answering without it: "+err.Error()+"\n")
		return nil, app.KnowledgeOptions{}
	}
	if r := st.Recovered(); r != "" {
		io.WriteString(logw, "hark: "+r+"\n")
	}
	if useEmbedder(context.Background(), st, cfg, logw) && catchUp {
		// Passages added while no model (or another one) was configured get their vectors in
		// the background; until then they are found by their words.
		go func() {
			if _, err := st.EmbedMissing(context.Background()); err != nil {
				io.WriteString(logw, "hark: knowledge: "+err.Error()+"\n")
			}
		}()
	}
	return st, app.KnowledgeOptions{Knowledge: storeKnowledge{st, knowledgeQuery(cfg)}, NeverGuess: cfg.NeverGuess()}
}

// watchKnowledge re-indexes the added folders' documents as they change (knowledge.watch, in
// kiosk mode), until ctx ends, and logs what changed.
func watchKnowledge(ctx context.Context, st *knowledge.Store, logf func(string, ...any)) {
	err := st.Watch(ctx, time.Second, func(rep knowledge.Report, err error) {
		if err != nil {
			logf("knowledge: %v", err)
		}
		for _, p := range rep.Indexed {
			logf("knowledge: indexed %s", p)
		}
		for _, p := range rep.Removed {
			logf("knowledge: removed %s", p)
		}
		for _, sk := range rep.Skipped {
			logf("knowledge: skipped %s: %s", sk.Path, sk.Reason)
		}
	})
	if err != nil && ctx.Err() == nil {
		logf("knowledge: documents are not watched for changes: %v", err)
	}
}

// knowledgeJSON is the retrieval `hark ask --json` shows.
type knowledgeJSON struct {
	Passages []app.Passage `json:"passages"`
	Prompt   string        `json:"prompt,omitempty"`    // what was sent to the model, when passages were found
	DontKnow bool          `json:"dont_know,omitempty"` // nothing relevant and the mode never guesses
	// RetrieveMS is how long the lookup took, in milliseconds.
	RetrieveMS float64 `json:"retrieve_ms"`
}

// askKnowledge retrieves passages for `hark ask`: it returns the retrieval (nil without an
// index) and the prompt to send.
func askKnowledge(ctx context.Context, cfg *config.Config, question string, stderr io.Writer) (*knowledgeJSON, string, error) {
	_, k := openKnowledgeStoreFor(cfg, stderr, false, false)
	if k.Knowledge == nil {
		return nil, question, nil
	}
	start := time.Now()
	ps, err := k.Knowledge.Retrieve(ctx, question)
	if errors.Is(err, app.ErrNoDocuments) {
		return nil, question, nil // an index a kiosk made before any document was added
	}
	if err != nil {
		return nil, "", err
	}
	kn := &knowledgeJSON{Passages: ps, RetrieveMS: float64(time.Since(start).Microseconds()) / 1000}
	if len(ps) == 0 {
		kn.Passages = []app.Passage{}
		kn.DontKnow = k.NeverGuess
		return kn, question, nil
	}
	kn.Prompt = app.KnowledgePrompt(question, ps)
	return kn, kn.Prompt, nil
}
