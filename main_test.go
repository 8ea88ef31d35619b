package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestCLI(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{"help lists every command", []string{"help"}, 0, []string{"version", "devices", "licenses", "listen", "bench", "help"}, nil},
		{"bench needs a WAV", []string{"bench"}, 2, nil, []string{"bench needs --wav"}},
		{"listen stops on a missing model", []string{"listen", "--asr-model", "/nonexistent.bin"}, 1, nil, []string{"Speech recognition: The speech recognition model file is missing", "Language model: The language model", "is not downloaded yet"}},
		{"window: a bad flag value", []string{"--set", "ui.theme=purple"}, 2, nil, []string{"ui.theme", "system, light, dark"}},
		{"window: unknown mode", []string{"--mode", "boat"}, 2, nil, []string{"--mode", "must be one of desktop, kiosk, car"}},
		{"help of one command", []string{"help", "version"}, 0, []string{"usage: hark version"}, nil},
		{"help of an unknown command", []string{"help", "nope"}, 2, nil, []string{`no command "nope"`}},
		{"unknown command", []string{"frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`, "hark help"}},
		{"version names both engines", []string{"version"}, 0, []string{"whisper.cpp 1.9.3", "llama.cpp ", "cpu features:", "native code compiled for"}, nil},
		{"bad flag is a usage error", []string{"version", "--bogus"}, 2, nil, []string{"flag provided but not defined: -bogus"}},
		{"licenses include whisper.cpp's MIT notice", []string{"licenses"}, 0, []string{"whisper.cpp 1.9.3", "The ggml authors", "Permission is hereby granted"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("hark %s: exit %d, want %d (stderr %q)", strings.Join(tt.args, " "), code, tt.wantCode, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("hark %s: stdout lacks %q:\n%s", strings.Join(tt.args, " "), w, out)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("hark %s: stderr lacks %q:\n%s", strings.Join(tt.args, " "), w, errOut)
				}
			}
		})
	}
}

// harkBinary returns the hark binary under test: $HARK_BIN (make test sets it to bin/hark), or
// one built into a temporary folder.
func harkBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("HARK_BIN"); b != "" {
		return b
	}
	root, err := testmodels.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "hark")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestWindowOpens starts the real binary on the virtual display, as a person would, waits for
// its window, and keeps a screenshot.
func TestWindowOpens(t *testing.T) {
	testenv.Require(t)
	shots := testenv.ArtifactDir(t, "window")
	cmd := exec.Command(harkBinary(t))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var wid string
	for deadline := time.Now().Add(30 * time.Second); wid == "" && time.Now().Before(deadline); {
		out, _ := exec.Command("xdotool", "search", "--pid", strconv.Itoa(cmd.Process.Pid), "--name", "^Hark$").Output()
		wid = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
		if wid == "" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if wid == "" {
		t.Fatalf("no window titled Hark appeared; app output:\n%s", log.String())
	}
	shot := filepath.Join(shots, "hark-window.png")
	// llvmpipe needs a moment for the first frames; poll until the window is drawn.
	var colours int
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if err := exec.Command("import", "-window", wid, shot).Run(); err != nil {
			continue
		}
		out, err := exec.Command("convert", shot, "-format", "%k", "info:").Output()
		if err != nil {
			continue
		}
		colours, _ = strconv.Atoi(strings.TrimSpace(string(out)))
		if colours > 20 {
			break
		}
	}
	if colours <= 20 {
		t.Fatalf("window %s looks blank (%d colours); screenshot %s; app output:\n%s", wid, colours, shot, log.String())
	}
	t.Logf("window %s drawn with %d colours: %s", wid, colours, shot)
}
