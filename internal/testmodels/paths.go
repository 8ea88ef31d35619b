package testmodels

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the directory of the shared test models: $HARK_TEST_MODELS, or ../shared/models
// beside the checkout (found by walking up from the working directory to go.mod).
func Dir() string {
	if d := os.Getenv("HARK_TEST_MODELS"); d != "" {
		return d
	}
	root, err := ModuleRoot()
	if err != nil {
		return filepath.Join("..", "shared", "models")
	}
	return filepath.Join(root, "..", "shared", "models")
}

// ModuleRoot returns the directory holding Hark's go.mod, searching upwards from the working
// directory (go test runs each package in its own folder).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testmodels: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Shared returns the path of a shared test model, failing the test if it is missing: the
// models are part of the test environment (README), so a missing one is an error, not a skip.
func Shared(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(Dir(), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared test model %s: %v (set HARK_TEST_MODELS to the folder holding it)", name, err)
	}
	return p
}

// Llama writes a random llama model into t's temporary directory and returns its path.
func Llama(t testing.TB, o LlamaOptions) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "model.gguf")
	if err := WriteLlama(p, o); err != nil {
		t.Fatal(err)
	}
	return p
}

// LlamaCached writes a random llama model once into a folder shared by test runs
// ($HARK_TEST_CACHE, default hark-testmodels in the system temp folder) and returns its path:
// for models too big to write for every test (Bench100M). The file name carries a hash of the
// options, so changed options give a new file.
func LlamaCached(t testing.TB, o LlamaOptions) string {
	t.Helper()
	dir := os.Getenv("HARK_TEST_CACHE")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "hark-testmodels")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%+v", o)
	p := filepath.Join(dir, fmt.Sprintf("%s-%016x.gguf", o.Name, h.Sum64()))
	if _, err := os.Stat(p); err == nil {
		return p
	}
	tmp, err := os.CreateTemp(dir, ".writing-*.gguf")
	if err != nil {
		t.Fatal(err)
	}
	tmp.Close()
	if err := WriteLlama(tmp.Name(), o); err != nil {
		os.Remove(tmp.Name())
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Whisper writes a random whisper model into t's temporary directory and returns its path.
func Whisper(t testing.TB, o WhisperOptions) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ggml-random.bin")
	if err := WriteWhisper(p, o); err != nil {
		t.Fatal(err)
	}
	return p
}

// JFK returns the path of samples/jfk.wav shipped in the whisper.cpp Go bindings module.
func JFK(t testing.TB) string {
	t.Helper()
	p, err := bindingsFile("samples/jfk.wav")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
