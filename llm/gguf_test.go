package llm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"hark/internal/ggml"
	"hark/internal/testmodels"
)

// badFiles writes the corpus of broken and foreign files CheckFile must recognise, each with
// the error it must wrap and a word its message must contain.
func badFiles(t *testing.T) []struct {
	name, path string
	want       error
	says       string
} {
	t.Helper()
	dir := t.TempDir()
	good := testmodels.Llama(t, testmodels.TinyLlama())
	valid, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	patched := func(name string, edit func(b []byte) []byte) string {
		return write(name, edit(bytes.Clone(valid)))
	}
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte {
			if !bytes.Contains(b, []byte(old)) {
				t.Fatalf("%q not in the test model", old)
			}
			return bytes.Replace(b, []byte(old), []byte(new), 1)
		}
	}
	u32 := func(off int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b }
	}
	u64 := func(off int, v uint64) func([]byte) []byte {
		return func(b []byte) []byte { binary.LittleEndian.PutUint64(b[off:], v); return b }
	}
	tokensAt := bytes.Index(valid, []byte("tokenizer.ggml.tokens"))
	withArch := func(arch string) string {
		o := testmodels.TinyLlama()
		o.Architecture = arch
		return testmodels.Llama(t, o)
	}
	if err := os.Mkdir(filepath.Join(dir, "folder.gguf"), 0o755); err != nil {
		t.Fatal(err)
	}
	return []struct {
		name, path string
		want       error
		says       string
	}{
		{"missing", filepath.Join(dir, "nope.gguf"), fs.ErrNotExist, "no such file"},
		{"folder", filepath.Join(dir, "folder.gguf"), ErrNotGGUF, "folder"},
		{"empty", write("empty.gguf", nil), ErrTruncated, "empty"},
		{"three bytes", write("short.gguf", []byte("GGU")), ErrTruncated, "too short"},
		{"text file", write("notes.gguf", []byte("these are not the weights you are looking for\n")), ErrNotGGUF, `"thes"`},
		{"whisper model", testmodels.Shared(t, "whisper-tiny-random.en.bin"), ErrNotGGUF, "whisper.cpp speech"},
		{"silero vad", testmodels.Shared(t, "ggml-silero-v6.2.0.bin"), ErrNotGGUF, "Silero"},
		{"legacy ggjt", write("old.bin", append([]byte("tjgg"), make([]byte, 64)...)), ErrNotGGUF, "GGJT"},
		{"gguf v1", patched("v1.gguf", u32(4, 1)), ErrUnsupportedGGUF, "version 1"},
		{"future gguf", patched("v4.gguf", u32(4, 4)), ErrUnsupportedGGUF, "newer than this build"},
		{"byte-swapped version", patched("be.gguf", u32(4, 3<<24)), ErrCorrupt, "byte order"},
		{"absurd counts", patched("counts.gguf", u64(16, 1<<40)), ErrCorrupt, "more than any model has"},
		{"cut in the header", write("cut-header.gguf", valid[:20]), ErrTruncated, "header"},
		{"cut in the vocabulary", write("cut-kv.gguf", valid[:tokensAt+300]), ErrTruncated, "tokenizer.ggml.tokens"},
		{"cut in the weights", write("cut-data.gguf", valid[:len(valid)-100]), ErrTruncated, "blk.1.ffn_down.weight\" ends at byte"},
		{"unknown architecture", withArch("mamba9"), ErrUnsupportedModel, `"mamba9"`},
		{"embedding model", withArch("bert"), ErrUnsupportedModel, "embedding"},
		{"no architecture", patched("noarch.gguf", replace("general.architecture", "general.architecturX")), ErrUnsupportedModel, "general.architecture"},
		{"unknown tensor type", patched("type.gguf", func(b []byte) []byte {
			// the type field follows the name and 1 dimension of "output_norm.weight"
			at := bytes.Index(b, []byte("output_norm.weight")) + len("output_norm.weight") + 4 + 8
			binary.LittleEndian.PutUint32(b[at:], 77)
			return b
		}), ErrUnsupportedModel, "tensor type 77"},
	}
}

func TestCheckFile(t *testing.T) {
	for _, tc := range badFiles(t) {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CheckFile(tc.path)
			if !errors.Is(err, tc.want) {
				t.Fatalf("CheckFile(%s) = %v, want an error wrapping %v", tc.name, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("CheckFile(%s) = %q, want it to say %q", tc.name, err, tc.says)
			}
		})
	}
}

func TestCheckFileValid(t *testing.T) {
	tests := []struct {
		path  string
		check func(Info) bool
	}{
		{testmodels.Shared(t, "stories260K.gguf"), func(i Info) bool {
			return i.Architecture == "llama" && i.Quantization == "F32" && i.VocabSize == 512 && i.ChatTemplate == "" && i.Parameters > 200_000 && i.Parameters < 400_000
		}},
		{testmodels.Shared(t, "llama-2-tiny-random.gguf"), func(i Info) bool {
			return i.Architecture == "llama" && i.VocabSize == 32000 && i.TrainContext == 4096
		}},
		{testmodels.Llama(t, testmodels.ChatMLLlama()), func(i Info) bool {
			return i.ChatTemplate == testmodels.ChatMLTemplate && i.Quantization == "Q8_0" && i.Layers == 2 && i.Embedding == 64 && i.GGUFVersion == 3
		}},
	}
	for _, tc := range tests {
		info, err := CheckFile(tc.path)
		if err != nil {
			t.Fatalf("CheckFile(%s): %v", tc.path, err)
		}
		if !tc.check(info) {
			t.Errorf("CheckFile(%s) = %+v", tc.path, info)
		}
	}
}

// TestLoadProgress: the loading bar moves forward and ends full.
func TestLoadProgress(t *testing.T) {
	var seen []float64
	load(t, testmodels.Shared(t, "llama-2-tiny-random.gguf"), Options{Progress: func(p float64) { seen = append(seen, p) }})
	if len(seen) == 0 || seen[len(seen)-1] != 1 {
		t.Fatalf("progress reports %v: want increasing fractions ending at 1", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] || seen[i] < 0 || seen[i] > 1 {
			t.Fatalf("progress reports %v: not increasing within [0, 1]", seen)
		}
	}
}

// TestLoadBadFiles: Load runs the same checks (llama.cpp never sees these files) and returns
// llama.cpp's own reason when the header is fine but the model is not.
func TestLoadBadFiles(t *testing.T) {
	for _, tc := range badFiles(t) {
		if _, err := Load(tc.path, Options{Threads: 1}); !errors.Is(err, tc.want) {
			t.Errorf("Load(%s) = %v, want an error wrapping %v", tc.name, err, tc.want)
		}
	}
	valid, err := os.ReadFile(testmodels.Llama(t, testmodels.TinyLlama()))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "missing-tensor.gguf")
	if err := os.WriteFile(p, bytes.Replace(valid, []byte("output_norm.weight"), []byte("output_norX.weight"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckFile(p); err != nil {
		t.Fatalf("the header is valid, but CheckFile says %v", err)
	}
	_, err = Load(p, Options{Threads: 1})
	if err == nil || !strings.Contains(err.Error(), "output_norm.weight") {
		t.Fatalf("Load of a model without output_norm.weight = %v, want llama.cpp's reason naming the tensor", err)
	}
	t.Logf("%v", err)
}

// TestGGMLTypeTable compares the tensor type table CheckFile (and models) read with the
// linked ggml, type by type up to GGML_TYPE_COUNT: every type ggml has is in the table with
// ggml's block layout, and the table holds no type ggml lacks.
func TestGGMLTypeTable(t *testing.T) {
	count := ggmlTypeCount()
	if count != ggml.MaxType+1 {
		t.Errorf("ggml has %d tensor types; ggml.MaxType is %d", count, ggml.MaxType)
	}
	for typ := range max(count, ggml.MaxType+1) + 1 {
		want, inTable := ggml.TypeOf(uint32(typ))
		if typ >= count {
			if inTable {
				t.Errorf("type %d (%s) is in the table but not in ggml", typ, want.Name)
			}
			continue
		}
		block, size, name := ggmlTypeSize(typ)
		switch {
		case block == 0 && inTable:
			t.Errorf("type %d (%s) is in the table, but ggml has removed it (%q)", typ, want.Name, name)
		case block > 0 && !inTable:
			t.Errorf("ggml's type %d (%s, block %d, size %d) is missing from the table", typ, name, block, size)
		case block > 0 && (int64(block) != want.Block || int64(size) != want.Size || name != want.Name):
			t.Errorf("type %d: ggml says %s block %d size %d; table says %s %d %d", typ, name, block, size, want.Name, want.Block, want.Size)
		}
	}
}

// TestArchList: the architectures CheckFile accepts come from the compiled llama.cpp
// (llm_arch_name), include the families Hark's users run, and every architecture notChat
// rejects is one llama.cpp knows (so a rename upstream does not silently let it through).
func TestArchList(t *testing.T) {
	archs := compiledArchs()
	if len(archs) < 100 {
		t.Fatalf("llama.cpp names %d architectures: %q", len(archs), archs)
	}
	for _, a := range []string{"llama", "qwen2", "qwen3", "gemma3", "phi3", "mistral3", "smollm3"} {
		if !slices.Contains(archs, a) {
			t.Errorf("llama.cpp does not know %q", a)
		}
	}
	for _, a := range []string{"clip", "unknown", ""} {
		if slices.Contains(archs, a) {
			t.Errorf("the list holds the placeholder %q", a)
		}
	}
	for arch := range notChat {
		if !slices.Contains(archs, arch) {
			t.Errorf("notChat names %q, which llama.cpp does not know", arch)
		}
	}
}
