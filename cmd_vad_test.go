package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hark/audio"
	"hark/internal/testmodels"
)

// speechFile writes espeak-ng sentences separated by 1.5 s of silence (1 s before the first)
// into a 44.1 kHz WAV file and returns its path.
func speechFile(t *testing.T, sentences ...string) string {
	t.Helper()
	dir := t.TempDir()
	out := make([]float32, audio.SampleRate)
	for i, s := range sentences {
		p := filepath.Join(dir, "s.wav")
		if b, err := exec.Command("espeak-ng", "-w", p, s).CombinedOutput(); err != nil {
			t.Fatalf("espeak-ng: %v\n%s", err, b)
		}
		pcm, err := audio.ReadWAV(p)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			out = append(out, make([]float32, audio.SampleRate*3/2)...)
		}
		out = append(out, pcm.Samples...)
	}
	out = append(out, make([]float32, audio.SampleRate)...)
	p := filepath.Join(dir, "speech.wav")
	if err := audio.WriteWAV(p, audio.Resample(audio.PCM{Rate: audio.SampleRate, Samples: out}, 44100)); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVADCommand(t *testing.T) {
	wav := speechFile(t, "Turn on the radio.", "What time is it?", "Thank you.")
	model := testmodels.Shared(t, "ggml-silero-v6.2.0.bin")
	for _, args := range [][]string{
		{"vad", "--vad-model", model, "--json", wav},
		{"vad", "--energy", "--json", wav},
	} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("hark %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		var segs []struct {
			StartMs int64 `json:"start_ms"`
			EndMs   int64 `json:"end_ms"`
		}
		if err := json.Unmarshal([]byte(out), &segs); err != nil {
			t.Fatalf("hark %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
		}
		if len(segs) != 3 {
			t.Fatalf("hark %s: %d segments, want 3: %s", strings.Join(args, " "), len(segs), out)
		}
		// The first sentence starts after the 1 s of silence; each ends before the next starts.
		if segs[0].StartMs < 900 || segs[0].StartMs > 1200 {
			t.Errorf("first segment starts at %d ms, want about 1000", segs[0].StartMs)
		}
		for i, s := range segs {
			if s.EndMs <= s.StartMs || (i > 0 && s.StartMs-segs[i-1].EndMs < 1300) {
				t.Errorf("segments %v are not separated by the 1.5 s pauses", segs)
			}
		}
	}
	// Plain output: one "start<TAB>end" line per segment.
	code, out, _ := runCLI(t, "vad", "--vad-model", model, wav)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 3 || len(strings.Split(lines[0], "\t")) != 2 {
		t.Errorf("plain output (exit %d):\n%s", code, out)
	}
}

func TestVADCommandErrors(t *testing.T) {
	dir := t.TempDir()
	notWAV := filepath.Join(dir, "notes.wav")
	if err := os.WriteFile(notWAV, []byte("not audio"), 0o644); err != nil {
		t.Fatal(err)
	}
	silent := filepath.Join(dir, "silent.wav")
	if err := audio.WriteWAV(silent, audio.PCM{Rate: 16000, Samples: make([]float32, 32000)}); err != nil {
		t.Fatal(err)
	}
	model := testmodels.Shared(t, "ggml-silero-v6.2.0.bin")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"no file", []string{"vad"}, 2, "", "vad needs one sound file"},
		{"missing file", []string{"vad", filepath.Join(dir, "nope.wav")}, 1, "", "no such file"},
		{"not a sound file", []string{"vad", notWAV}, 1, "", "not a WAV, FLAC, MP3 or Ogg Vorbis file"},
		{"a language model as VAD model", []string{"vad", "--vad-model", testmodels.Shared(t, "stories260K.gguf"), silent}, 1, "", "not a usable Silero VAD model"},
		{"silence, JSON", []string{"vad", "--vad-model", model, "--json", silent}, 0, "[]\n", ""},
		{"silence, text", []string{"vad", "--vad-model", model, silent}, 0, "", "no speech found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.wantCode || (tt.wantOut != "" && out != tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("hark %s: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q",
					strings.Join(tt.args, " "), code, out, errOut, tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
}
