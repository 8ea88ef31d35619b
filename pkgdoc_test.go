package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDocs checks that every package has exactly one package doc comment, so each says
// what its one job is (tailscale's rule).
func TestPackageDocs(t *testing.T) {
	docs := map[string][]string{} // folder -> files with a package doc comment
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata" || name == "bin") {
				return filepath.SkipDir
			}
			if _, ok := docs[path]; !ok {
				docs[path] = nil
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		if f.Doc != nil {
			docs[dir] = append(docs[dir], path)
		} else if _, ok := docs[dir]; !ok {
			docs[dir] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir, files := range docs {
		if !hasGoFiles(dir) {
			continue
		}
		switch len(files) {
		case 1:
		case 0:
			t.Errorf("package in %s has no package doc comment", dir)
		default:
			t.Errorf("package in %s has %d package doc comments (%v); keep one", dir, len(files), files)
		}
	}
}

func hasGoFiles(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true
		}
	}
	return false
}
