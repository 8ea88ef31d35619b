package models

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzCheck feeds arbitrary bytes to Check as a .gguf and as a whisper .bin file: it must
// never panic or run away with memory (a header's counts and lengths are the attacker's), and
// every refusal must be a *CheckError, the kind the command line and doctor can explain.
// Seeds are the heads of valid GGUF, whisper and Silero files.
func FuzzCheck(f *testing.F) {
	gguf, whisper, silero := goodFiles(f)
	for _, b := range [][]byte{gguf, whisper, silero} {
		f.Add(b[:min(len(b), 4096)])
	}
	f.Add([]byte("GGUF"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"m.gguf", "ggml-m.bin"} {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Check(p); err != nil {
				var ce *CheckError
				if !errors.As(err, &ce) {
					t.Fatalf("%s: %T %v is not a *CheckError", name, err, err)
				}
			}
		}
	})
}
