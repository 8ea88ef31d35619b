package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"hark/app/config"
	"hark/knowledge"
)

func runKnowledge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var q knowledge.Query
	var asJSON bool
	sub := map[string]func(context.Context, *knowledge.Store, []string, io.Writer) error{
		"add": knowledgeAdd, "list": knowledgeList, "rm": knowledgeRm, "rebuild": knowledgeRebuild,
		"search": func(ctx context.Context, st *knowledge.Store, args []string, w io.Writer) error {
			return knowledgeSearch(ctx, st, args, q, asJSON, w)
		},
	}
	if len(args) == 0 || sub[args[0]] == nil {
		fmt.Fprint(stderr, knowledgeUsage)
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			return errUsage
		}
		return fmt.Errorf("%w: unknown subcommand %q", errUsage, args[0])
	}
	name := args[0]
	fs := newSubFlags("knowledge "+name, "", stderr)
	index := fs.String("index", "", "the knowledge index file (default: knowledge.db in Hark's data folder)")
	var cf *config.Flags
	embeds := name == "add" || name == "rebuild" || name == "search"
	if embeds {
		// add and rebuild embed the passages with knowledge.embedding_model; search shows what
		// a question would retrieve: the [knowledge] settings, which these flags override for
		// one search.
		cf = config.NewFlags(fs)
		cf.Bind("embedding-model", "knowledge.embedding_model")
	}
	if name == "search" {
		cf.Bind("k", "knowledge.passages")
		cf.Bind("min-coverage", "knowledge.min_coverage")
		cf.Bind("min-similarity", "knowledge.min_similarity")
		cf.Bind("max-tokens", "knowledge.max_tokens")
		fs.BoolVar(&asJSON, "json", false, "print the passages as JSON")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	var cfg *config.Config
	if cf != nil {
		var err error
		if cfg, err = loadConfig(cf, stderr, "hark knowledge", false); err != nil {
			return err
		}
		q = knowledgeQuery(cfg)
	}
	path := *index
	if path == "" {
		dir, err := config.DataDir()
		if err != nil {
			return err
		}
		path = filepath.Join(dir, "knowledge.db")
	}
	st, err := knowledge.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	if r := st.Recovered(); r != "" {
		fmt.Fprintln(stderr, "hark: "+r)
	}
	if embeds {
		e, id, err := knowledgeEmbedder(cfg)
		if err != nil {
			return err
		}
		if e != nil {
			defer e.Close()
			if err := st.SetEmbedder(ctx, e, id); err != nil {
				return err
			}
		}
	}
	return sub[name](ctx, st, fs.Args(), stdout)
}

const knowledgeUsage = `usage: hark knowledge add FILE|DIR...      index documents (Markdown, text, HTML; PDF with pdftotext)
       hark knowledge list                   the indexed documents
       hark knowledge rm FILE|DIR...         drop documents from the index
       hark knowledge rebuild                index every added file and folder again
       hark knowledge search [--k N] [--min-coverage X] [--min-similarity X] [--max-tokens N] [--json] "question"
                                                 what would be retrieved, with scores
Each takes --index FILE (default: knowledge.db in Hark's data folder). add, rebuild and search
take --embedding-model NAME|FILE.gguf (default: knowledge.embedding_model) for hybrid ranking.
`

func printReport(rep knowledge.Report, w io.Writer) {
	for _, p := range rep.Indexed {
		fmt.Fprintf(w, "indexed  %s\n", p)
	}
	for _, p := range rep.Removed {
		fmt.Fprintf(w, "removed  %s (gone from disk)\n", p)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(w, "skipped  %s: %s\n", s.Path, s.Reason)
	}
	fmt.Fprintf(w, "%d indexed (%d passages), %d unchanged, %d skipped\n", len(rep.Indexed), rep.Passages, rep.Unchanged, len(rep.Skipped))
	if rep.Embedded > 0 {
		fmt.Fprintf(w, "%d passages embedded\n", rep.Embedded)
	}
}

func knowledgeAdd(ctx context.Context, st *knowledge.Store, args []string, w io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: hark knowledge add FILE|DIR...", errUsage)
	}
	for _, a := range args {
		rep, err := st.Add(ctx, a)
		printReport(rep, w)
		if err != nil {
			return err
		}
	}
	return nil
}

func knowledgeList(ctx context.Context, st *knowledge.Store, args []string, w io.Writer) error {
	docs, err := st.List(ctx)
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		fmt.Fprintln(w, "no documents; add some with `hark knowledge add FILE|DIR`")
	}
	for _, d := range docs {
		fmt.Fprintf(w, "%-8s %4d passages %8d bytes  %s  %s\n", d.Kind, d.Passages, d.Bytes, d.Indexed.Format("2006-01-02 15:04"), d.Path)
	}
	return nil
}

func knowledgeRm(ctx context.Context, st *knowledge.Store, args []string, w io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: hark knowledge rm FILE|DIR...", errUsage)
	}
	for _, a := range args {
		dropped, err := st.Remove(ctx, a)
		if errors.Is(err, knowledge.ErrNotIndexed) {
			return fmt.Errorf("%s is not in the knowledge index (`hark knowledge list` shows what is)", a)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "removed %s (%d documents)\n", a, len(dropped))
	}
	return nil
}

func knowledgeRebuild(ctx context.Context, st *knowledge.Store, args []string, w io.Writer) error {
	rep, err := st.Rebuild(ctx)
	printReport(rep, w)
	return err
}

func knowledgeSearch(ctx context.Context, st *knowledge.Store, args []string, q knowledge.Query, asJSON bool, w io.Writer) error {
	question := strings.Join(args, " ")
	if strings.TrimSpace(question) == "" {
		return fmt.Errorf(`%w: hark knowledge search "question"`, errUsage)
	}
	all := q
	all.MinCoverage = -1 // show everything found, marking what passes
	hits, err := st.Search(ctx, question, all)
	if err != nil {
		return err
	}
	for i := range hits {
		hits[i].Relevant = q.Relevant(hits[i])
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Question string          `json:"question"`
			Passages []knowledge.Hit `json:"passages"`
		}{question, hits})
	}
	if len(hits) == 0 {
		fmt.Fprintln(w, "nothing found")
	}
	for i, h := range hits {
		mark := "relevant"
		if !h.Relevant {
			mark = "below the threshold"
		}
		similarity := ""
		if h.Fused > 0 {
			similarity = fmt.Sprintf("  similarity %.2f", h.Similarity)
		}
		fmt.Fprintf(w, "%d. %s  score %.2f  coverage %.2f%s (%s)\n", i+1, h.Source(), h.Score, h.Coverage, similarity, mark)
		fmt.Fprintf(w, "   %s\n", strings.ReplaceAll(h.Text, "\n", "\n   "))
	}
	return nil
}
