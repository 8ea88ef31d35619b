package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hark/internal/testmodels"
)

func TestTranscribeCommand(t *testing.T) {
	model := testmodels.Shared(t, "whisper-tiny-random.en.bin")
	wav := testmodels.JFK(t)
	dir := t.TempDir()
	badModel := filepath.Join(dir, "truncated.bin")
	b, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badModel, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	w, _ := os.ReadFile(wav)
	noFmt := filepath.Join(dir, "nofmt.wav")
	if err := os.WriteFile(noFmt, []byte("RIFF\x04\x00\x00\x00WAVE"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no file", []string{"transcribe", "--model", model}, 2, "needs one sound file"},
		{"missing WAV", []string{"transcribe", "--model", model, filepath.Join(dir, "nope.wav")}, 1, "no such file"},
		{"not a sound file", []string{"transcribe", "--model", model, model}, 1, "not a WAV, FLAC, MP3 or Ogg Vorbis file"},
		{"WAV without a format", []string{"transcribe", "--model", model, noFmt}, 1, "no format (fmt) chunk"},
		{"no such model", []string{"transcribe", "--model", filepath.Join(dir, "nope.bin"), wav}, 1, "speech recognition model file is missing"},
		{"truncated model", []string{"transcribe", "--model", badModel, wav}, 1, "truncated"},
		{"GGUF model", []string{"transcribe", "--model", testmodels.Shared(t, "stories260K.gguf"), wav}, 1, "GGUF language model"},
		{"German on an English model", []string{"transcribe", "--model", model, "--lang", "de", wav}, 1, "English-only"},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.wantCode || !strings.Contains(errOut, c.wantErr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q", c.name, code, errOut, c.wantCode, c.wantErr)
		}
	}

	// --json on jfk.wav with the random model: the shape of the report, not the gibberish.
	code, out, errOut := runCLI(t, "transcribe", "--model", model, "--lang", "en", "--threads", "1", "--max-tokens", "8", "--no-guard", "--json", wav)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var j transcriptJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if j.Text == "" || j.Language != "en" || len(j.Segments) == 0 || j.AudioSeconds != 11 || j.AudioCtx != 550 ||
		j.Timings.Encode <= 0 || j.Timings.Decode <= 0 || j.Timings.Total < j.Timings.Encode+j.Timings.Decode || j.Model.Type == "" {
		t.Errorf("unexpected report:\n%s", out)
	}
	for _, key := range []string{`"segments"`, `"start"`, `"end"`, `"mel_ms"`, `"encode_ms"`, `"decode_ms"`, `"total_ms"`} {
		if !strings.Contains(out, key) {
			t.Errorf("report lacks %s", key)
		}
	}

	// --live on a 2-second cut: partials come while the audio plays in, then the final.
	cut := filepath.Join(dir, "cut.wav")
	if err := os.WriteFile(cut, wavHead(w, 2*32000), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "transcribe", "--model", model, "--lang", "en", "--threads", "1", "--max-tokens", "8", "--no-guard", "--live", "--json", cut)
	if code != 0 {
		t.Fatalf("--live: exit %d: %s", code, errOut)
	}
	j = transcriptJSON{}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("--live output is not JSON: %v\n%s", err, out)
	}
	if len(j.Partials) == 0 || j.Text == "" || j.AudioSeconds != 2 {
		t.Errorf("--live: %d partials, text %q, %v s", len(j.Partials), j.Text, j.AudioSeconds)
	}
	for i, p := range j.Partials {
		if p.Audio <= 0 || p.Audio > 2 || i > 0 && p.Audio < j.Partials[i-1].Audio {
			t.Errorf("--live: partial %d covers %v s", i, p.Audio)
		}
	}

	// Plain output: the text on stdout; the guard's verdict on stderr.
	code, out, errOut = runCLI(t, "transcribe", "--model", model, "--threads", "1", "--max-tokens", "8", wav)
	if code != 0 || (strings.TrimSpace(out) == "" && !strings.Contains(errOut, "hallucination guard")) {
		t.Errorf("plain: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// wavHead returns a 16 kHz mono 16-bit WAV file of the first n data bytes of wav (such as
// jfk.wav).
func wavHead(wav []byte, n int) []byte {
	data := wav[bytes.Index(wav, []byte("data"))+8:][:n]
	var b bytes.Buffer
	put := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	put(uint32(36 + n))
	b.WriteString("WAVEfmt ")
	put([]uint32{16})
	put([]uint16{1, 1})
	put([]uint32{16000, 32000})
	put([]uint16{2, 16})
	b.WriteString("data")
	put(uint32(n))
	b.Write(data)
	return b.Bytes()
}

// TestTranscribeAndVADUseTheConfiguration: with no model flags, `hark transcribe` and `hark vad`
// use the models config.toml names (a path, a manifest name in models.dir, the device class's
// default), and read a 44.1 kHz stereo WAV, a FLAC and an MP3 of the same speech as the 16 kHz
// WAV: the same transcript, the same speech segments.
func TestTranscribeAndVADUseTheConfiguration(t *testing.T) {
	for _, tool := range []string{"sox", "lame"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/setup.sh installs it)", tool)
		}
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, "data"))
	t.Setenv("HARK_CONFIG", "")
	modelsDir := filepath.Join(home, "my models")
	if err := os.MkdirAll(modelsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"whisper-tiny-random.en.bin", "ggml-silero-v6.2.0.bin"} {
		b, err := os.ReadFile(testmodels.Shared(t, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(modelsDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(home, "config", "hark", "config.toml")
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf("[models]\ndir = %q\nasr = %q\nvad = \"silero-vad\"\n[performance]\nthreads = 1\n",
		modelsDir, filepath.Join(modelsDir, "whisper-tiny-random.en.bin"))
	if err := os.WriteFile(conf, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	wav := speechFile(t, "Turn on the radio.", "What time is it?")
	wav16 := filepath.Join(dir, "16k.wav")
	sh := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	sh("sox", wav, "-c", "1", "-r", "16000", "-b", "16", wav16)
	files := map[string]string{"16 kHz WAV": wav16, "44.1 kHz stereo WAV": filepath.Join(dir, "44k.wav"),
		"FLAC": filepath.Join(dir, "speech.flac"), "MP3": filepath.Join(dir, "speech.mp3"), "Ogg Vorbis": filepath.Join(dir, "speech.ogg")}
	sh("sox", wav16, "-c", "2", "-r", "44100", files["44.1 kHz stereo WAV"])
	sh("sox", wav16, files["FLAC"])
	sh("lame", "--quiet", "-b", "128", wav16, files["MP3"])
	sh("sox", wav16, files["Ogg Vorbis"])

	var text, segs map[string]string = map[string]string{}, map[string]string{}
	for what, f := range files {
		code, out, errOut := runCLI(t, "transcribe", "--max-tokens", "8", "--no-guard", f)
		if code != 0 {
			t.Fatalf("transcribe %s: exit %d: %s", what, code, errOut)
		}
		text[what] = strings.TrimSpace(out)
		code, out, errOut = runCLI(t, "vad", f)
		if code != 0 || strings.Contains(errOut, "energy detector") {
			t.Fatalf("vad %s: exit %d (want the configured Silero model): %s", what, code, errOut)
		}
		segs[what] = out
	}
	for what := range files {
		if text[what] == "" || text[what] != text["16 kHz WAV"] {
			t.Errorf("%s: transcript %q, the 16 kHz WAV's %q", what, text[what], text["16 kHz WAV"])
		}
		if n := strings.Count(segs[what], "\n"); n != 2 {
			t.Errorf("%s: %d speech segments, want 2:\n%s", what, n, segs[what])
		}
	}

	// A manifest name that is not downloaded: the command says so and how to get it.
	if err := os.WriteFile(conf, []byte(toml+"[assistant]\nlanguage = \"en\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "transcribe", "--set", "models.asr=whisper-base.en", wav16)
	if code != 1 || !strings.Contains(errOut, "not downloaded yet") {
		t.Errorf("an absent manifest model: exit %d, stderr %q", code, errOut)
	}
}
