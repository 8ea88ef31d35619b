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
	if name == "search" {
		// What search shows is what a question would retrieve: the [knowledge] settings, which
		// these flags override for one search.
		cf = config.NewFlags(fs)
		cf.Bind("k", "knowledge.passages")
		cf.Bind("min-coverage", "knowledge.min_coverage")
		cf.Bind("max-tokens", "knowledge.max_tokens")
		fs.BoolVar(&asJSON, "json", false, "print the passages as JSON")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if cf != nil {
		cfg, err := loadConfig(cf, stderr, "hark knowledge", false)
		if err != nil {
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
	return sub[name](ctx, st, fs.Args(), stdout)
}

const knowledgeUsage = `usage: hark knowledge add FILE|DIR...      index documents (Markdown, text, HTML; PDF with pdftotext)
       hark knowledge list                   the indexed documents
       hark knowledge rm FILE|DIR...         drop documents from the index
       hark knowledge rebuild                index every added file and folder again
       hark knowledge search [--k N] [--min-coverage X] [--max-tokens N] [--json] "question"
                                                 what would be retrieved, with scores
Each takes --index FILE (default: knowledge.db in Hark's data folder).
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
	if q.MinCoverage == 0 {
		q.MinCoverage = knowledge.DefaultMinCoverage
	}
	threshold := q.MinCoverage
	q.MinCoverage = -1 // show everything found, marking what passes
	hits, err := st.Search(ctx, question, q)
	if err != nil {
		return err
	}
	for i := range hits {
		hits[i].Relevant = hits[i].Coverage >= threshold
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
		fmt.Fprintf(w, "%d. %s  score %.2f  coverage %.2f (%s)\n", i+1, h.Source(), h.Score, h.Coverage, mark)
		fmt.Fprintf(w, "   %s\n", strings.ReplaceAll(h.Text, "\n", "\n   "))
	}
	return nil
}
