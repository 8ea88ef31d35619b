package asr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hark/internal/ggml"
	"hark/internal/testmodels"
)

// smallWhisper is a random model of state 8: about 1 MB, quick to check and load many times.
func smallWhisper(t testing.TB) []byte {
	t.Helper()
	o := testmodels.TinyWhisper()
	o.State, o.Heads = 8, 2
	b, err := os.ReadFile(testmodels.Whisper(t, o))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// setI32 returns a copy of b with the int32 at byte off replaced.
func setI32(b []byte, off int, v int32) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint32(c[off:], uint32(v))
	return c
}

// ggufWithArch is a minimal GGUF header whose first key is general.architecture.
func ggufWithArch(arch string) []byte {
	var b bytes.Buffer
	put := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("GGUF")
	put(uint32(3))
	put(uint64(0))
	put(uint64(1))
	put(uint64(len("general.architecture")))
	b.WriteString("general.architecture")
	put(uint32(8))
	put(uint64(len(arch)))
	b.WriteString(arch)
	return b.Bytes()
}

// TestCheckFile builds a corpus of bad files and checks that each gets its own clear error
// (wrapping ErrNotModel, or the os error for a missing file) from CheckFile and from Load, so
// whisper.cpp never sees them; and that good files pass with the right description.
func TestCheckFile(t *testing.T) {
	dir := t.TempDir()
	valid, err := os.ReadFile(writtenModel(t))
	if err != nil {
		t.Fatal(err)
	}
	// Offsets in the written model: header 4+11*4 bytes, the mel filters 8+80*201*4, then the
	// vocabulary; the first tensor is the encoder's positional embedding (2 dimensions).
	const hpEnd = 48
	const melEnd = hpEnd + 8 + 80*201*4
	firstTensor := bytes.Index(valid, []byte("encoder.positional_embedding")) - 12 - 8
	if firstTensor < melEnd {
		t.Fatal("cannot find the first tensor of the written model")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 1<<20)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	wrongMagic := bytes.Clone(valid)
	copy(wrongMagic, "XGML")
	trailing := append(bytes.Clone(valid), "junk after the last tensor"...)
	html := []byte("<!DOCTYPE html><html><body>404 Not Found</body></html>")
	silero, err := os.ReadFile(testmodels.Shared(t, "ggml-silero-v6.2.0.bin"))
	if err != nil {
		t.Fatal(err)
	}
	wav, err := os.ReadFile(testmodels.JFK(t))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		data []byte // nil: use path
		path string
		want string
	}{
		{"missing file", nil, filepath.Join(dir, "nope.bin"), "no such file"},
		{"folder", nil, dir, "is a folder"},
		{"empty", []byte{}, "", "empty"},
		{"three bytes", []byte("ggm"), "", "too short"},
		{"random bytes", random, "", "not a whisper.cpp model"},
		{"wrong magic", wrongMagic, "", "not a whisper.cpp model"},
		{"web page", html, "", "web page"},
		{"WAV recording", wav, "", "RIFF"},
		{"GGUF language model (shared)", nil, testmodels.Shared(t, "stories260K.gguf"), `GGUF language model (architecture "llama")`},
		{"GGUF language model (written)", nil, testmodels.Llama(t, testmodels.LlamaOptions{Embd: 64, FF: 128, Layers: 1, Heads: 2, HeadsKV: 2, ContextLength: 64, WeightType: testmodels.TypeQ8_0, MinVocab: 300, Seed: 1}), `GGUF language model (architecture "llama")`},
		{"GGUF whisper model (future format)", ggufWithArch("whisper"), "", "GGUF whisper model"},
		{"Silero VAD model", silero, "", "Silero voice-activity"},
		{"vocabulary-only test model", nil, testmodels.Shared(t, "for-tests-ggml-base.en.bin"), "no weights"},
		{"newer quantisation format", setI32(valid, 44, 3*1000+1), "", "newer ggml format"},
		{"unknown weight type", setI32(valid, 44, 99), "", "unknown weight type 99"},
		{"vocabulary size", setI32(valid, 4, 60000), "", "vocabulary of 60000"},
		{"widths differ", setI32(valid, 28, 128), "", "must be equal"},
		{"heads do not divide", setI32(valid, 16, 3), "", "attention heads"},
		{"mel bands", setI32(valid, 40, 81), "", "mel bands"},
		{"filter bank", setI32(valid, hpEnd, 81), "", "mel filter bank"},
		{"vocabulary entry length", setI32(valid, melEnd+4, -5), "", "vocabulary entry 0"},
		{"tensor shape", setI32(valid, firstTensor+12, 65), "", "has shape [65 1500]"},
		{"tensor type", setI32(valid, firstTensor+8, 1), "", "needs f32"},
		{"tensor type unknown", setI32(valid, firstTensor+8, 77), "", "tensor type 77"},
		{"tensor dimensions", setI32(valid, firstTensor, 7), "", "7 dimensions"},
		{"tensor name", append(bytes.Clone(valid[:firstTensor+20]), append([]byte("encoder.positional_embeddinX"), valid[firstTensor+20+28:]...)...), "", "unexpected tensor"},
		{"trailing bytes", trailing, "", "tensor"},
		{"truncated in magic", valid[:2], "", "too short"},
		{"truncated in header", valid[:20], "", "inside the model header"},
		{"truncated in mel filters", valid[:1000], "", "inside the mel filters"},
		{"truncated in vocabulary", valid[:melEnd+100], "", "inside vocabulary entry"},
		{"truncated in tensor header", valid[:firstTensor+6], "", "inside the header of tensor 1"},
		{"truncated in tensor data", valid[:firstTensor+5000], "", `tensor "encoder.positional_embedding" needs`},
		{"truncated by one byte", valid[:len(valid)-1], "", "truncated"},
		{"truncated at a tensor boundary", valid[:firstTensor+20+28+64*1500*4], "", "incomplete: 1 of 50 tensors"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if c.data != nil {
				path = filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".bin")
				if err := os.WriteFile(path, c.data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := CheckFile(path)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("CheckFile: err = %v, want one containing %q", err, c.want)
			}
			if c.name == "missing file" {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("err = %v, want fs.ErrNotExist", err)
				}
			} else if !errors.Is(err, ErrNotModel) {
				t.Fatalf("err = %v does not wrap ErrNotModel", err)
			}
			m, lerr := Load(path, LoadOptions{Threads: 1})
			if lerr == nil {
				m.Close()
				t.Fatal("Load accepted the file")
			}
			if lerr.Error() != err.Error() {
				t.Fatalf("Load: %v; CheckFile: %v", lerr, err)
			}
			t.Log(err)
		})
	}

	for _, path := range []string{sharedModel(t), filepath.Join(dir, "valid.bin")} {
		if err := os.WriteFile(filepath.Join(dir, "valid.bin"), valid, 0o644); err != nil {
			t.Fatal(err)
		}
		info, err := CheckFile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if info.Tensors != 50 || info.WeightType != "f16" || info.Vocab != 51864 || info.AudioState != 64 || info.Type != "custom (1 layers).en" {
			t.Errorf("%s: %+v", path, info)
		}
		// The weights are everything after the vocabulary but the tensor headers.
		if info.WeightBytes <= 0 || info.WeightBytes >= info.FileBytes-melEnd {
			t.Errorf("%s: %d weight bytes in a %d-byte file", path, info.WeightBytes, info.FileBytes)
		}
	}
}

// TestCheckFileHeaderMutations flips every bit of the header and of the first tensor header of
// a small model: CheckFile must either reject the file or accept one that whisper.cpp then
// loads and runs. This is the promise that C never sees a file it chokes on.
func TestCheckFileHeaderMutations(t *testing.T) {
	valid := smallWhisper(t)
	first := bytes.Index(valid, []byte("encoder.positional_embedding")) - 20
	dir := t.TempDir()
	path := filepath.Join(dir, "m.bin")
	var regions [][2]int
	// header, mel filter sizes, first tensor header; then two bytes each of the filter values and
	// of the first vocabulary entry, which any value may take (those mutations must load).
	const melEnd = 56 + 80*201*4
	regions = append(regions, [2]int{0, 48}, [2]int{48, 56}, [2]int{first, first + 20}, [2]int{56, 58}, [2]int{melEnd + 8, melEnd + 10})
	accepted := 0
	for _, r := range regions {
		for off := r[0]; off < r[1]; off++ {
			for bit := range 8 {
				b := bytes.Clone(valid)
				b[off] ^= 1 << bit
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				if _, err := CheckFile(path); err != nil {
					continue
				}
				accepted++
				m, err := Load(path, LoadOptions{Threads: 1})
				if err != nil {
					t.Errorf("byte %d bit %d: CheckFile accepted it, Load failed: %v", off, bit, err)
					continue
				}
				m.Close()
			}
		}
	}
	if accepted < 32 {
		t.Errorf("only %d mutations accepted: the harmless ones (filter values, vocabulary text) must pass", accepted)
	}
	t.Logf("%d of %d mutations accepted (and loaded)", accepted, 8*(48+8+20+4))
}

// FuzzCheckFile feeds mutated small models to CheckFile: it must never panic, and whatever it
// accepts must describe a whole model.
func FuzzCheckFile(f *testing.F) {
	valid := smallWhisper(f)
	f.Add(valid[:4096])
	f.Add(setI32(valid, 44, 3001)[:100])
	f.Add([]byte("GGUF\x03\x00\x00\x00"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, head []byte) {
		// The fuzzed bytes replace the start of a valid model.
		b := bytes.Clone(valid)
		if len(head) < len(b) {
			copy(b, head)
		} else {
			b = head
		}
		path := filepath.Join(dir, "f.bin")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		info, err := CheckFile(path)
		if err == nil && (info.Tensors == 0 || info.WeightBytes <= 0 || info.WeightBytes > info.FileBytes) {
			t.Fatalf("accepted an implausible model: %+v", info)
		}
	})
}

// TestTypeTableMatchesGGML checks CheckFile's ggml type table against the linked library.
func TestTypeTableMatchesGGML(t *testing.T) {
	if n := linkedGGMLTypeCount(); n != ggml.MaxType+1 {
		t.Errorf("whisper.cpp's ggml has %d tensor types; the table goes up to %d", n, ggml.MaxType)
	}
	for id := range linkedGGMLTypeCount() {
		want, ok := typeOf(id)
		got := linkedGGMLType(id)
		switch {
		case ok && got != want:
			t.Errorf("type %d: table %+v, ggml %+v", id, want, got)
		case !ok && got.Block > 0:
			t.Errorf("ggml's type %d %+v is missing from the table", id, got)
		}
	}
}
