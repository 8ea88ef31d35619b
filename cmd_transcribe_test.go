package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
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
	wav44 := filepath.Join(dir, "44k.wav")
	w, _ := os.ReadFile(wav)
	w = append([]byte(nil), w...)
	copy(w[24:28], []byte{0x44, 0xac, 0, 0}) // 44100 Hz in the fmt chunk
	if err := os.WriteFile(wav44, w, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no file", []string{"transcribe", "--model", model}, 2, "needs one WAV file"},
		{"missing WAV", []string{"transcribe", "--model", model, filepath.Join(dir, "nope.wav")}, 1, "no such file"},
		{"not a WAV", []string{"transcribe", "--model", model, model}, 1, "not a WAV file"},
		{"44.1 kHz", []string{"transcribe", "--model", model, wav44}, 1, "44100 Hz"},
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
