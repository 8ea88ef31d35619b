//go:build !nowindow

package main

import (
	"context"
	"path/filepath"
	"testing"

	"hark/knowledge"
)

// TestKnowledgeAdmin: the settings' documents section adds the shipped corpus, lists it with
// its counts, rebuilds, and removes it, on a real index.
func TestKnowledgeAdmin(t *testing.T) {
	ctx := context.Background()
	st, err := knowledge.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	admin := documentsFor(st)
	corpus, _ := filepath.Abs("knowledge/testdata/corpus")
	if ch, err := admin.Add(ctx, corpus); err != nil || ch.Indexed != 5 || len(ch.Skipped) != 0 {
		t.Fatalf("add: %+v %v", ch, err)
	}
	srcs, err := admin.Sources(ctx)
	if err != nil || len(srcs) != 1 || srcs[0].Path != corpus || srcs[0].Documents != 5 || srcs[0].Passages < 20 || srcs[0].Gone {
		t.Fatalf("sources: %+v %v", srcs, err)
	}
	if ch, err := admin.Rebuild(ctx); err != nil || ch.Indexed != 5 {
		t.Errorf("rebuild: %+v %v", ch, err)
	}
	if ch, err := admin.Remove(ctx, corpus); err != nil || ch.Removed != 5 {
		t.Errorf("remove: %+v %v", ch, err)
	}
	if srcs, err := admin.Sources(ctx); err != nil || len(srcs) != 0 {
		t.Errorf("sources after remove: %+v %v", srcs, err)
	}
	if documentsFor(nil) != nil {
		t.Error("no store, yet a documents section")
	}
}
