package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/app"
	"hark/internal/testenv"
	"hark/internal/testmodels"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// cliStep is one run of hark and what it must give: exit code, and text found in its
// standard output and error.
type cliStep struct {
	args     []string
	wantCode int
	wantOut  []string
	wantErr  []string
}

// check runs hark with the step's arguments, reports where its exit code or output differ
// from what the step wants, and returns its standard output.
func (s cliStep) check(t *testing.T) (stdout string) {
	t.Helper()
	code, out, errOut := runCLI(t, s.args...)
	name := "hark " + strings.Join(s.args, " ")
	if code != s.wantCode {
		t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", name, code, s.wantCode, out, errOut)
	}
	for _, w := range s.wantOut {
		if !strings.Contains(out, w) {
			t.Errorf("%s: stdout lacks %q:\n%s", name, w, out)
		}
	}
	for _, w := range s.wantErr {
		if !strings.Contains(errOut, w) {
			t.Errorf("%s: stderr lacks %q:\n%s", name, w, errOut)
		}
	}
	return out
}

func TestCLI(t *testing.T) {
	tests := []struct {
		name string
		step cliStep
	}{
		{"help lists every command", cliStep{[]string{"help"}, 0, []string{"version", "devices", "licenses", "listen", "bench", "help"}, nil}},
		{"bench needs a WAV", cliStep{[]string{"bench"}, 2, nil, []string{"bench needs --wav"}}},
		{"listen stops on a missing model", cliStep{[]string{"listen", "--asr-model", "/nonexistent.bin"}, 1, nil, []string{"Speech recognition: The speech recognition model file is missing", "Language model: The language model", "is not downloaded yet"}}},
		{"window: a bad flag value", cliStep{[]string{"--set", "ui.theme=purple"}, 2, nil, []string{"ui.theme", "system, light, dark"}}},
		{"window: unknown mode", cliStep{[]string{"--mode", "boat"}, 2, nil, []string{"--mode", "must be one of desktop, kiosk, car"}}},
		{"help of one command", cliStep{[]string{"help", "version"}, 0, []string{"usage: hark version"}, nil}},
		{"help of an unknown command", cliStep{[]string{"help", "nope"}, 2, nil, []string{`no command "nope"`}}},
		{"unknown command", cliStep{[]string{"frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`, "hark help"}}},
		{"version names both engines", cliStep{[]string{"version"}, 0, []string{"whisper.cpp 1.9.3", "llama.cpp ", "cpu features:", "native code compiled for"}, nil}},
		{"bad flag is a usage error", cliStep{[]string{"version", "--bogus"}, 2, nil, []string{"flag provided but not defined: -bogus"}}},
		{"licenses include whisper.cpp's MIT notice", cliStep{[]string{"licenses"}, 0, []string{"whisper.cpp 1.9.3", "The ggml authors", "Permission is hereby granted"}, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.step.check(t) })
	}
}

// harkBinary returns the hark binary under test: $HARK_BIN (make test sets it to bin/hark), or
// one built into a temporary folder.
func harkBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("HARK_BIN"); b != "" {
		return b
	}
	return buildHark(t)
}

// buildHark builds Hark into a temporary folder with go build's extra flags (-tags nowindow).
func buildHark(t *testing.T, flags ...string) string {
	t.Helper()
	root, err := testmodels.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "hark")
	cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", bin, ".")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestWindowOpens starts the real binary on the virtual display, as a person would, waits for
// its window, types a question and finds the reply drawn in the chat (screenshots kept).
func TestWindowOpens(t *testing.T) {
	testenv.Deadline(t, 10*time.Minute)
	w := startWindow(t, "window", storyArgs(t)...)
	storyTurn(t, w)
}

// storyArgs start the window on stories260K, greedy, with no system prompt: its reply to
// "Once upon a time" is known (storiesGreedy).
func storyArgs(t *testing.T) []string {
	return []string{"--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"),
		"--llm-model", testmodels.Shared(t, "stories260K.gguf"),
		"--set", "assistant.temperature=0", "--set", "assistant.system_prompt=", "--set", "assistant.max_tokens=40"}
}

// storyTurn types "Once upon a time" into the desktop window started with storyArgs: the reply
// must be stories260K's greedy text, and the chat area must show it.
func storyTurn(t *testing.T, w *harkWindow) {
	t.Helper()
	i := w.ready(60 * time.Second)
	before := w.shot("story-0-ready")
	w.typeQuestion(200, 697, "Once upon a time")
	rep, i := w.events.waitFor(t, i, 60*time.Second, "reply", isKind("reply"))
	if got, want := rep.str("text"), greedy(t, "window"); got != want {
		t.Errorf("reply %q, want stories260K's greedy text %q", got, want)
	}
	w.events.waitFor(t, i, 30*time.Second, "turn_done", isKind("turn_done"))
	chatChanged(t, before, w.shot("story-1-reply"), replyDesktop)
}

// TestErrorHints: a command that ends on an app.UserError prints its hint, what to do about
// it, on a line of its own after the error.
func TestErrorHints(t *testing.T) {
	var b bytes.Buffer
	if code := exitCode(app.Explain(errors.New("disk full"), "The store cannot be opened", "Free some space."), &b); code != 1 ||
		b.String() != "hark: The store cannot be opened: disk full\n  Free some space.\n" {
		t.Errorf("exit %d, stderr %q", code, b.String())
	}
	b.Reset()
	if exitCode(errors.New("plain"), &b); b.String() != "hark: plain\n" {
		t.Errorf("an error without a hint: %q", b.String())
	}
	// A real command: the timers store where it cannot be (under a file).
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cliStep{[]string{"do", "--set", "actions.store=" + filepath.Join(file, "actions.db"), "what is 2 plus 2"}, 1, nil,
		[]string{"hark: The timers and notes store cannot be opened", "\n  Check actions.store, or the free space in ~/.local/share/hark.\n"}}.check(t)
}
