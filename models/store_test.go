package models

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"hark/internal/testmodels"
)

func TestResolveAndSelect(t *testing.T) {
	m, err := LoadManifest()
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{Dir: t.TempDir()}
	vad, _ := m.Lookup("silero-vad")
	writeFile(t, s.Dir, vad.File, readFile(t, testmodels.Shared(t, "ggml-silero-v6.2.0.bin")))
	local := writeFile(t, t.TempDir(), "my-model.gguf", []byte("x"))

	tests := []struct {
		ref     string
		kind    Kind
		path    string
		wantErr string
	}{
		{"silero-vad", VAD, s.Path(vad), ""},
		{local, LLM, local, ""},
		{"whisper-base.en", ASR, filepath.Join(s.Dir, "ggml-base.en.bin"), "not downloaded yet (run `hark models pull whisper-base.en`)"},
		{"whisper-base.en", LLM, "", "is a speech recognition model, not a language model"},
		{"whisper-bse.en", ASR, "", `did you mean whisper-base.en`},
		{"/nonexistent/model.gguf", LLM, "", "no such file"},
	}
	for _, tt := range tests {
		p, _, err := s.Resolve(m, tt.ref, tt.kind)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Resolve(%q) error = %v, want %q", tt.ref, err, tt.wantErr)
		}
		if tt.path != "" && p != tt.path {
			t.Errorf("Resolve(%q) = %s, want %s", tt.ref, p, tt.path)
		}
	}

	sels := s.Select(m, ClassCar, "en", map[Kind]string{LLM: local})
	if len(sels) != 3 {
		t.Fatalf("Select: %+v", sels)
	}
	asr, llm, v := sels[0], sels[1], sels[2]
	if asr.Ref != "whisper-base.en-q5_1" || !asr.ByDefault || asr.Installed || asr.Entry == nil || !errors.Is(asr.Err, ErrNotInstalled) {
		t.Errorf("asr selection %+v", asr)
	}
	if llm.Ref != local || llm.ByDefault || !llm.Installed || llm.Entry != nil {
		t.Errorf("llm selection %+v", llm)
	}
	if !v.Installed || v.Path != s.Path(vad) {
		t.Errorf("vad selection %+v", v)
	}
}

func TestStoreFilesRemoveAndSums(t *testing.T) {
	m, _ := LoadManifest()
	s := &Store{Dir: t.TempDir()}
	e, _ := m.Lookup("qwen2.5-0.5b-instruct")
	writeFile(t, s.Dir, e.File, []byte("model"))
	writeFile(t, s.Dir, "mine.gguf", []byte("other"))
	writeFile(t, s.Dir, e.File+".part", []byte("half"))
	writeFile(t, s.Dir, "notes.txt", []byte("not a model"))
	files, err := s.Files(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Entry == nil || files[0].Entry.Name != e.Name || files[1].Entry != nil {
		t.Fatalf("Files = %+v", files)
	}
	// Concurrent pulls recording checksums lose nothing.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.record("f"+strings.Repeat("x", i)+".bin", strings.Repeat("ab", 32)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	sums, _ := s.readSums()
	if len(sums) != 20 {
		t.Errorf("%d sums recorded, want 20", len(sums))
	}
	s.record(e.File, strings.Repeat("cd", 32))
	if err := s.Remove(e); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{s.Path(e), s.Path(e) + ".part"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s survived Remove", p)
		}
	}
	if _, ok := s.Recorded(e.File); ok {
		t.Error("the removed file's checksum is still recorded")
	}
	if err := s.Remove(e); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("second Remove = %v", err)
	}
}

// TestVerifyPublishedChecksums checks the shared real Silero VAD against the manifest's
// published SHA-256, and the SHA-1 path with a file whose SHA-1 is known.
func TestVerifyPublishedChecksums(t *testing.T) {
	m, _ := LoadManifest()
	s := &Store{Dir: t.TempDir()}
	vad, _ := m.Lookup("silero-vad")
	p := writeFile(t, s.Dir, vad.File, readFile(t, testmodels.Shared(t, "ggml-silero-v6.2.0.bin")))
	vr, err := s.Verify(context.Background(), p, &vad)
	if err != nil || vr.Against != "published SHA-256" {
		t.Fatalf("Verify(silero) = %+v, %v", vr, err)
	}
	withSHA1 := Entry{Name: "x", SHA1: "a9993e364706816aba3e25717850c26c9cd0d89d"} // SHA-1 of "abc"
	q := writeFile(t, s.Dir, "abc.bin", []byte("abc"))
	if vr, err := s.Verify(context.Background(), q, &withSHA1); err != nil || vr.Against != "published SHA-1" {
		t.Errorf("Verify by SHA-1 = %+v, %v", vr, err)
	}
	os.WriteFile(q, []byte("abd"), 0o644)
	if _, err := s.Verify(context.Background(), q, &withSHA1); !errors.Is(err, ErrChecksum) {
		t.Errorf("Verify of a changed file = %v", err)
	}
}

func TestMirrorURL(t *testing.T) {
	for _, tt := range []struct{ url, base, want string }{
		{"https://huggingface.co/a/b/resolve/main/f.bin", "", "https://huggingface.co/a/b/resolve/main/f.bin"},
		{"https://huggingface.co/a/b/resolve/main/f.bin", "http://mirror:8080/", "http://mirror:8080/a/b/resolve/main/f.bin"},
		{"https://example.com/f.bin", "http://mirror", "https://example.com/f.bin"},
	} {
		if got := MirrorURL(tt.url, tt.base); got != tt.want {
			t.Errorf("MirrorURL(%q, %q) = %q, want %q", tt.url, tt.base, got, tt.want)
		}
	}
}
