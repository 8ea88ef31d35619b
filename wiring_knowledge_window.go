//go:build !nowindow

package main

import (
	"context"
	"os"
	"strings"

	"hark/knowledge"
	"hark/ui"
)

// knowledgeAdmin is the settings' documents section (ui.Documents) over the knowledge store.
type knowledgeAdmin struct{ st *knowledge.Store }

func (k knowledgeAdmin) Sources(ctx context.Context) ([]ui.DocumentSource, error) {
	src, err := k.st.Sources()
	if err != nil {
		return nil, err
	}
	docs, err := k.st.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ui.DocumentSource, len(src))
	for i, p := range src {
		out[i].Path = p
		if _, err := os.Stat(p); err != nil {
			out[i].Gone = true
		}
		for _, d := range docs {
			if d.Path == p || strings.HasPrefix(d.Path, strings.TrimSuffix(p, "/")+"/") {
				out[i].Documents++
				out[i].Passages += d.Passages
			}
		}
	}
	return out, nil
}

func (k knowledgeAdmin) Add(ctx context.Context, path string) (ui.DocumentsChange, error) {
	rep, err := k.st.Add(ctx, path)
	return documentsChange(rep), err
}

func (k knowledgeAdmin) Remove(ctx context.Context, path string) (ui.DocumentsChange, error) {
	dropped, err := k.st.Remove(ctx, path)
	return ui.DocumentsChange{Removed: len(dropped)}, err
}

func (k knowledgeAdmin) Rebuild(ctx context.Context) (ui.DocumentsChange, error) {
	rep, err := k.st.Rebuild(ctx)
	return documentsChange(rep), err
}

func documentsChange(rep knowledge.Report) ui.DocumentsChange {
	ch := ui.DocumentsChange{Indexed: len(rep.Indexed), Removed: len(rep.Removed)}
	for _, s := range rep.Skipped {
		ch.Skipped = append(ch.Skipped, s.Path+": "+s.Reason)
	}
	return ch
}

// documentsFor is the settings' documents section: nil (none) without a knowledge store.
func documentsFor(st *knowledge.Store) ui.Documents {
	if st == nil {
		return nil
	}
	return knowledgeAdmin{st}
}
