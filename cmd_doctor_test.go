package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/app/history"
	"hark/audio"
	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// doctorRun runs `hark doctor --json args...` with private settings and returns the exit
// status and the checks by name.
func doctorRun(t *testing.T, args ...string) (int, map[string]doctorCheck) {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"doctor", "--json"}, args...)...)
	var list []doctorCheck
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("doctor --json: %v\n%s\n%s", err, out, errOut)
	}
	m := map[string]doctorCheck{}
	for _, c := range list {
		m[c.Check] = c
	}
	return code, m
}

func privateDirs(t *testing.T) string {
	d := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(d, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(d, "data"))
	t.Setenv("HARK_CONFIG", "")
	return d
}

// TestDoctorGood: a working setup (test models, a private history, a tone playing into the
// virtual microphone) passes every check with status 0.
func TestDoctorGood(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	d := privateDirs(t)
	h, err := history.Open(filepath.Join(d, "data", "hark", "history.db"), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	tone := make([]float32, 6*audio.SampleRate)
	for i := range tone {
		tone[i] = float32(0.5 * math.Sin(2*math.Pi*440*float64(i)/audio.SampleRate))
	}
	toneFile := filepath.Join(d, "tone.wav")
	if err := audio.WriteWAV(toneFile, audio.PCM{Rate: audio.SampleRate, Samples: tone}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	player := exec.CommandContext(ctx, "paplay", "-d", "vmic_in", toneFile)
	if err := player.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = player.Wait() }()
	time.Sleep(time.Second)
	code, checks := doctorRun(t, "--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"),
		"--llm-model", testmodels.Shared(t, "stories260K.gguf"), "--vad-model", testmodels.Shared(t, "ggml-silero-v6.2.0.bin"))
	for _, name := range []string{"cpu", "configuration", "microphones", "speakers", "microphone", "model asr", "model llm", "model vad", "disk", "permissions"} {
		if c, ok := checks[name]; !ok || c.Status != doctorOK {
			t.Errorf("%s: %+v, want ok", name, c)
		}
	}
	if c := checks["microphone"]; !strings.Contains(c.Detail, "VirtualMicIn") || strings.Contains(c.Detail, "silent") {
		t.Errorf("microphone check %q, want the tone's level", c.Detail)
	}
	if c := checks["permissions"]; !strings.Contains(c.Detail, "history.db") {
		t.Errorf("permissions did not look at the history: %q", c.Detail)
	}
	if _, ok := checks["cjk font"]; !ok {
		t.Error("no font check")
	}
	if code != 0 {
		t.Errorf("exit status %d, want 0: %+v", code, checks)
	}
}

// TestDoctorBroken: a bad setting, a missing and a broken model, a history others can read and a
// silent microphone are each reported with a fix, and the status is 1.
func TestDoctorBroken(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	d := privateDirs(t)
	if err := os.MkdirAll(filepath.Join(d, "config", "hark"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "config", "hark", "config.toml"), []byte("[assistant]\nmdoe = \"kiosk\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hp := filepath.Join(d, "data", "hark", "history.db")
	h, err := history.Open(hp, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if err := os.Chmod(hp, 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(d, "ggml-broken.bin")
	if err := os.WriteFile(broken, []byte("not a model at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, checks := doctorRun(t, "--asr-model", broken, "--llm-model", filepath.Join(d, "missing.gguf"),
		"--vad-model", testmodels.Shared(t, "ggml-silero-v6.2.0.bin"), "--mic-seconds", "0.5")
	for name, want := range map[string]struct {
		status doctorStatus
		detail string
	}{
		"configuration": {doctorFail, `unknown key "mdoe"`},
		"model asr":     {doctorFail, "ggml-broken.bin"},
		"model llm":     {doctorFail, "missing"},
		"model vad":     {doctorOK, "silero"},
		"permissions":   {doctorFail, "history.db is 0644"},
		"microphone":    {doctorWarn, "silent"},
	} {
		c := checks[name]
		if c.Status != want.status || !strings.Contains(c.Detail, want.detail) || (c.Status != doctorOK && c.Fix == "") {
			t.Errorf("%s: %+v, want %s with %q and a fix", name, c, want.status, want.detail)
		}
	}
	if c := checks["permissions"]; !strings.Contains(c.Fix, "chmod 600 "+hp) {
		t.Errorf("permissions fix %q", c.Fix)
	}
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	// The report for people says the same.
	code, out, _ := runCLI(t, "doctor", "--no-mic", "--asr-model", broken)
	if code != 1 || !strings.Contains(out, "fail  model asr") || !strings.Contains(out, "fix: ") || strings.Contains(out, "microphone     ") {
		t.Errorf("status %d, report:\n%s", code, out)
	}
}
