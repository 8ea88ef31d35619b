package models

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func patchU32(b []byte, off int, v uint32) []byte {
	c := append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(c[off:], v)
	return c
}

// goodFiles returns valid models of each format: written by the test writers, and the shared
// real Silero VAD.
func goodFiles(t testing.TB) (gguf, whisper, silero []byte) {
	t.Helper()
	return readFile(t, testmodels.Llama(t, testmodels.TinyLlama())),
		readFile(t, testmodels.Whisper(t, testmodels.TinyWhisper())),
		readFile(t, testmodels.Shared(t, "ggml-silero-v6.2.0.bin"))
}

func TestCheckGoodFiles(t *testing.T) {
	dir := t.TempDir()
	gguf, whisper, silero := goodFiles(t)
	tests := []struct {
		file   string
		data   []byte
		format Format
		kind   Kind
		arch   string
	}{
		{"model.gguf", gguf, FormatGGUF, LLM, "llama"},
		{"ggml-tiny-random.bin", whisper, FormatWhisper, ASR, "whisper"},
		{"ggml-silero-v6.2.0.bin", silero, FormatSilero, VAD, "silero-16k"},
	}
	for _, tt := range tests {
		info, err := CheckKind(writeFile(t, dir, tt.file, tt.data), tt.kind)
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if info.Format != tt.format || info.Kind != tt.kind || info.Architecture != tt.arch || info.Tensors == 0 {
			t.Errorf("%s: got %+v", tt.file, info)
		}
	}
	// The shared real test models too.
	for _, name := range []string{"stories260K.gguf", "llama-2-tiny-random.gguf", "whisper-tiny-random.en.bin"} {
		info, err := Check(testmodels.Shared(t, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		t.Logf("%s: %s", name, info.Describe())
	}
}

// TestCheckBadFiles is the corpus of broken model files: each gets its own message naming the
// file, and none crashes the checker.
func TestCheckBadFiles(t *testing.T) {
	dir := t.TempDir()
	gguf, whisper, silero := goodFiles(t)
	tests := []struct {
		name string
		file string
		data []byte
		want error
		msg  string // part of the message
	}{
		{"empty", "model.gguf", nil, ErrEmpty, "is empty (0 bytes)"},
		{"gguf truncated in the header", "model.gguf", gguf[:20], ErrTruncated, "inside its header"},
		{"gguf truncated in the metadata", "model.gguf", gguf[:200], ErrTruncated, "truncated"},
		{"gguf truncated in the weights", "model.gguf", gguf[:len(gguf)/2], ErrTruncated, "are missing"},
		{"gguf missing its last byte", "model.gguf", gguf[:len(gguf)-1], ErrTruncated, "are missing"},
		{"whisper truncated in the header", "ggml-base.en.bin", whisper[:30], ErrTruncated, "inside its header"},
		{"whisper truncated in the vocabulary", "ggml-base.en.bin", whisper[:70000], ErrTruncated, "truncated"},
		{"whisper truncated in the weights", "ggml-base.en.bin", whisper[:len(whisper)*3/4], ErrTruncated, "truncated"},
		{"silero truncated", "ggml-silero-v6.2.0.bin", silero[:len(silero)-100], ErrTruncated, "truncated"},
		{"wrong magic", "model.gguf", append([]byte("ABCD"), gguf[4:]...), ErrNotAModel, "does not start with a model signature"},
		{"html error page", "model.gguf", []byte("<!DOCTYPE html><html><body>Access denied</body></html>"), ErrNotAModel, "web page"},
		{"git lfs pointer", "ggml-base.en.bin", []byte("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n"), ErrNotAModel, "Git LFS pointer"},
		{"pytorch zip", "model.bin", append([]byte("PK\x03\x04"), make([]byte, 100)...), ErrNotAModel, "PyTorch"},
		{"old ggjt llama", "model.bin", append([]byte("tjgg"), make([]byte, 100)...), ErrNotAModel, "old llama.cpp format"},
		{"gguf from the future", "model.gguf", patchU32(gguf, 4, 4), ErrVersion, "GGUF version 4, newer than"},
		{"gguf version 1", "model.gguf", patchU32(gguf, 4, 1), ErrVersion, "version 1"},
		{"big-endian gguf", "model.gguf", patchU32(gguf, 4, 3<<24), ErrNotAModel, "big-endian"},
		{"whisper from the future", "ggml-base.en.bin", patchU32(whisper, 44, 3001), ErrVersion, "quantization version 3"},
		{"whisper with a bad weight type", "ggml-base.en.bin", patchU32(whisper, 44, 77), ErrCorrupt, "unknown weight type 77"},
		{"whisper with a bad vocabulary size", "ggml-base.en.bin", patchU32(whisper, 4, 1000), ErrCorrupt, "not a whisper model"},
		{"gguf with a whisper name", "ggml-base.en.bin", gguf, ErrWrongKind, "named like a speech recognition model but holds a language model"},
		{"whisper with a gguf name", "qwen2.5-0.5b-instruct.gguf", whisper, ErrWrongKind, "named like a language model but holds a speech recognition model"},
		{"silero with a whisper name", "ggml-small.en.bin", silero, ErrWrongKind, "holds a voice activity detector"},
		{"whisper without weights", "ggml-base.en.bin", readFile(t, testmodels.Shared(t, "for-tests-ggml-base.en.bin")), ErrCorrupt, "holds no weights"},
		{"silero of another type", "ggml-silero-v6.2.0.bin", append(append(append([]byte(nil), silero[:8]...), "silero-8kk"...), silero[18:]...), ErrUnsupported, `"silero-8kk"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := t.TempDir()
			path := writeFile(t, sub, tt.file, tt.data)
			_, err := Check(path)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check(%s) = %v, want %v", tt.name, err, tt.want)
			}
			var ce *CheckError
			if !errors.As(err, &ce) || ce.Fix == "" && !errors.Is(err, ErrCorrupt) {
				t.Errorf("Check(%s): %v is not a *CheckError with a fix", tt.name, err)
			}
			if !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Check(%s) = %q, want the path and %q", tt.name, err, tt.msg)
			}
		})
	}
	_ = dir

	t.Run("missing", func(t *testing.T) {
		_, err := Check(filepath.Join(dir, "nope.gguf"))
		if !errors.Is(err, ErrMissing) {
			t.Fatalf("Check(missing) = %v", err)
		}
	})
	t.Run("folder", func(t *testing.T) {
		_, err := Check(dir)
		if !errors.Is(err, ErrNotAModel) || !strings.Contains(err.Error(), "is a folder") {
			t.Fatalf("Check(folder) = %v", err)
		}
	})
}

func TestCheckKindMismatch(t *testing.T) {
	gguf, whisper, _ := goodFiles(t)
	dir := t.TempDir()
	tests := []struct {
		file string
		data []byte
		want Kind
		msg  string
	}{
		{"model.gguf", gguf, ASR, "is a language model (GGUF v3 language model, architecture llama"},
		{"speech.bin", whisper, LLM, "not a language model"},
		{"speech.bin", whisper, VAD, "not a voice activity detector"},
	}
	for _, tt := range tests {
		_, err := CheckKind(writeFile(t, dir, tt.file, tt.data), tt.want)
		if !errors.Is(err, ErrWrongKind) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("CheckKind(%s, %s) = %v, want %q", tt.file, tt.want, err, tt.msg)
		}
	}
}

// TestCheckTruncatedEverywhere cuts each good file at many points: every cut must be reported
// as truncated (or empty), never accepted, never a crash.
func TestCheckTruncatedEverywhere(t *testing.T) {
	testenv.Deadline(t, 5*time.Minute) // a cut length field could make a reader loop
	gguf, whisper, silero := goodFiles(t)
	dir := t.TempDir()
	for _, f := range []struct {
		name string
		data []byte
	}{{"model.gguf", gguf}, {"ggml-tiny.bin", whisper}, {"ggml-silero-v6.2.0.bin", silero}} {
		for i := 0; i <= 150; i++ {
			n := 8 + (len(f.data)-9)*i/150
			p := writeFile(t, dir, f.name, f.data[:n])
			if _, err := Check(p); !errors.Is(err, ErrTruncated) {
				t.Fatalf("%s cut at %d of %d bytes: Check = %v, want truncated", f.name, n, len(f.data), err)
			}
		}
	}
}

// TestCheckCorruptBytes flips random bytes in the headers of good files. A flipped byte may
// land where the checker cannot tell (a name, a tensor's data), so it may accept or reject
// each; but an accepted file is still the format its magic says, and a rejected one gets a
// *CheckError naming the file, saying what is wrong and what to do, with one of the reasons
// above. Never a panic or a hang.
func TestCheckCorruptBytes(t *testing.T) {
	testenv.Deadline(t, 5*time.Minute) // a length read from a corrupt header could loop
	gguf, whisper, silero := goodFiles(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	reasons := []error{ErrTruncated, ErrNotAModel, ErrVersion, ErrCorrupt, ErrWrongKind, ErrUnsupported}
	for _, f := range []struct {
		name   string
		data   []byte
		format Format
	}{{"model.gguf", gguf, FormatGGUF}, {"ggml-tiny.bin", whisper, FormatWhisper}, {"ggml-silero-v6.2.0.bin", silero, FormatSilero}} {
		rejected := 0
		for i := range 100 {
			c := append([]byte(nil), f.data...)
			for range 1 + rng.IntN(4) {
				c[4+rng.IntN(min(len(c)-4, 4096))] = byte(rng.UintN(256))
			}
			p := writeFile(t, dir, f.name, c)
			info, err := Check(p)
			if err == nil {
				if info.Format != f.format || info.Path != p || info.Size != int64(len(c)) {
					t.Errorf("%s, corruption %d: accepted as %+v", f.name, i, info)
				}
				continue
			}
			rejected++
			var ce *CheckError
			if !errors.As(err, &ce) || ce.Path != p || ce.Problem == "" || ce.Fix == "" ||
				!slices.ContainsFunc(reasons, func(r error) bool { return errors.Is(err, r) }) {
				t.Errorf("%s, corruption %d: %T %v, want a *CheckError with a problem, a fix and a reason", f.name, i, err, err)
			}
		}
		// Seeded: the same files each run. (A whisper file's first 4 KiB are mostly its mel
		// filters, which no header check can judge: none of those is rejected.)
		t.Logf("%s: %d of 100 corruptions rejected", f.name, rejected)
	}
}
