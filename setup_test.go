package main

import (
	"path/filepath"
	"strings"
	"testing"

	"hark/app"
	"hark/internal/testmodels"
	"hark/models"
)

func TestModelErrorsSayWhatToDo(t *testing.T) {
	s := testSetup(t, "")
	_, err := s.modelPath(models.ASR, "") // the laptop's default, not downloaded
	if err == nil || !strings.Contains(app.Message(err), "is not downloaded yet") || !strings.Contains(app.Hint(err), "hark models pull") {
		t.Errorf("default model not downloaded: %v (hint %q)", err, app.Hint(err))
	}
	_, err = s.modelPath(models.LLM, filepath.Join(t.TempDir(), "nope.gguf"))
	if err == nil || app.Message(err) != "The language model file is missing" || app.Hint(err) == "" {
		t.Errorf("missing file: %v (hint %q)", err, app.Hint(err))
	}
	_, err = s.modelPath(models.LLM, "no-such-model")
	if err == nil || app.Hint(err) == "" {
		t.Errorf("unknown name: %v (hint %q)", err, app.Hint(err))
	}
	m := testmodels.Shared(t, "stories260K.gguf")
	if p, err := s.modelPath(models.LLM, m); err != nil || p != m {
		t.Errorf("a local file: %q, %v", p, err)
	}
}
