package main

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/audio"
	"hark/internal/testenv"
)

// TestRecordCommand records the virtual microphone while a tone plays into it.
func TestRecordCommand(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	dir := t.TempDir()
	tone := make([]float32, 8*audio.SampleRate)
	for i := range tone {
		tone[i] = float32(0.5 * math.Sin(2*math.Pi*440*float64(i)/audio.SampleRate))
	}
	toneFile := filepath.Join(dir, "tone.wav")
	if err := audio.WriteWAV(toneFile, audio.PCM{Rate: audio.SampleRate, Samples: tone}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	player := exec.CommandContext(ctx, "paplay", "-d", "vmic_in", toneFile)
	if err := player.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = player.Wait()
	}()
	time.Sleep(time.Second) // the tone is playing
	out := filepath.Join(dir, "rec.wav")
	code, _, errOut := runCLI(t, "record", "--device", "VirtualMicIn", "--seconds", "2", out)
	if code != 0 {
		t.Fatalf("hark record: exit %d: %s", code, errOut)
	}
	rec, err := audio.ReadWAV(out)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Duration() != 2*time.Second {
		t.Errorf("recorded %v, want 2s", rec.Duration())
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the recording's mode is %v (%v), want 0600: it holds what a person said", fi.Mode().Perm(), err)
	}
	if l := audio.MeasureLevel(rec.Samples); l.RMS < -12 || l.Peak < -7 {
		t.Errorf("the tone (RMS -9 dBFS, peak -6) was recorded at %+v", l)
	}
	if !strings.Contains(errOut, "Monitor of VirtualMicIn") || !strings.Contains(errOut, "wrote "+out) {
		t.Errorf("hark record says:\n%s", errOut)
	}
	code, _, errOut = runCLI(t, "record", "--device", "no-such-mic", out)
	if code != 1 || !strings.Contains(errOut, "`hark devices`") {
		t.Errorf("hark record --device no-such-mic: exit %d: %s", code, errOut)
	}
}
