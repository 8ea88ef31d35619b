package testmodels

import (
	"os"
	"path/filepath"
	"testing"
)

// TrainedWhisperFile is the test-grade whisper model Hark trains itself
// (scripts/train-whisper, `make test-model`), relative to the module root. It knows a closed set
// of English and Chinese sentences spoken by espeak-ng (the wake phrase, the built-in skills'
// commands, a few questions) and writes "[BLANK_AUDIO]" for noise and silence, which the
// hallucination guard drops. testdata/README.md beside it gives its provenance and accuracy.
// It is a test asset: it hears nothing else and is never offered to users.
const TrainedWhisperFile = "internal/testmodels/testdata/whisper-hark-test.bin"

// TrainedWhisper returns the absolute path of the trained test model, failing the test if it
// is missing (it is committed with the project). $HARK_TRAINED_ASR_MODEL names another file
// instead: a candidate from `make test-model`, tried by the same tests before it replaces this one.
func TrainedWhisper(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("HARK_TRAINED_ASR_MODEL"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("HARK_TRAINED_ASR_MODEL: %v", err)
		}
		return p
	}
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, TrainedWhisperFile)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("trained test whisper model: %v (make test-model rebuilds it)", err)
	}
	return p
}
