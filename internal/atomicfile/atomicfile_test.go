package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	tests := []struct {
		data string
		perm os.FileMode
	}{
		{"first = 1\n", 0o600},  // creates
		{"second = 2\n", 0o644}, // replaces, with the new mode
	}
	for _, tt := range tests {
		if err := WriteFile(path, []byte(tt.data), tt.perm); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != tt.data {
			t.Fatalf("content = %q, %v; want %q", got, err, tt.data)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != tt.perm {
			t.Errorf("mode = %v, want %v", fi.Mode().Perm(), tt.perm)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("folder holds %d entries, want only the file (no temporary left)", len(ents))
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x"), nil, 0o644); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}
