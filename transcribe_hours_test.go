package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"hark/audio"
	"hark/internal/testmodels"
)

// TestTranscribeHours: hours of audio through `hark transcribe --json` are streamed, not read
// whole. The file is a quiet room with a sentence every two minutes, 20 minutes long in CI;
// HARK_LONG_WAV=10h is the benchmark (docs/reliability.md). The peak memory of the process
// stays within 32 MiB of a 2-minute file's (the 20 minutes alone would be 77 MiB of samples, 10
// hours 2.3 GiB), a progress line comes every 10 minutes of audio, every sentence has a segment
// in its window and there is none outside them: nothing lost, nothing made up.
func TestTranscribeHours(t *testing.T) {
	length := 20 * time.Minute
	if v := os.Getenv("HARK_LONG_WAV"); v != "" {
		var err error
		if length, err = time.ParseDuration(v); err != nil || length < 10*time.Minute {
			t.Fatalf("HARK_LONG_WAV=%q: want a duration of 10m or more", v)
		}
	}
	model := testmodels.Shared(t, "whisper-tiny-random.en.bin")
	vadModel := testmodels.Shared(t, "ggml-silero-v6.2.0.bin")
	run := func(length time.Duration) (peakMiB float64) {
		t.Helper()
		wav := filepath.Join(t.TempDir(), "long.wav")
		spans := writeSparseWAV(t, wav, length, 2*time.Minute)
		cmd := exec.Command(harkBinary(t), "transcribe", "--model", model, "--set", "models.vad="+vadModel, "--lang", "en",
			"--threads", "2", "--max-tokens", "8", "--no-guard", "--json", wav)
		cmd.Env = harkEnv(t)
		var stderr syncBuffer
		cmd.Stderr = &stderr
		start := time.Now()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("hark transcribe (%v): %v\n%s", length, err, stderr.String())
		}
		took := time.Since(start)
		peakMiB = float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
		var j transcriptJSON
		if err := json.Unmarshal(out, &j); err != nil {
			t.Fatal(err)
		}
		if math.Abs(j.AudioSeconds-length.Seconds()) > 0.1 {
			t.Errorf("%v: %.1f s heard", length, j.AudioSeconds)
		}
		hit := make([]int, len(spans))
		for _, g := range j.Segments {
			from, to := time.Duration(g.Start*float64(time.Second)), time.Duration(g.End*float64(time.Second))
			in := -1
			for k, s := range spans {
				if from >= s.start-400*time.Millisecond && to <= s.end+time.Second {
					in = k
				}
			}
			if in < 0 {
				t.Errorf("%v: segment %.1f–%.1f s %q lies outside every sentence", length, g.Start, g.End, g.Text)
				continue
			}
			hit[in]++
		}
		for k, n := range hit {
			if n == 0 {
				t.Errorf("%v: the sentence at %v has no segment: lost", length, spans[k].start)
			}
		}
		progress := regexp.MustCompile(`(?m)^hark transcribe: \d+:\d\d:\d\d of \d+:\d\d:\d\d \(\d+%\) heard, \d+ segments$`).FindAllString(stderr.String(), -1)
		if want := int(length / progressEvery); len(progress) != want {
			t.Errorf("%v: %d progress lines, want %d:\n%s", length, len(progress), want, stderr.String())
		}
		t.Logf("%v of audio, %d sentences, %d segments: %v, peak RSS %.0f MiB (load average %s)",
			length, len(spans), len(j.Segments), took.Round(time.Second), peakMiB, loadAverage())
		return peakMiB
	}
	base := run(2 * time.Minute)
	if long := run(length); long > base+32 {
		t.Errorf("peak RSS %.0f MiB for %v against %.0f MiB for 2 minutes: the file is not streamed", long, length, base)
	}
}

// writeSparseWAV streams to path a 16-bit 16 kHz WAV file lasting length: faint room noise
// with a dictation sentence (espeak-ng) every gap, the first at gap/2, so that hours cost
// neither memory nor much transcription. It returns where each sentence lies.
func writeSparseWAV(t *testing.T, path string, length, gap time.Duration) []spokenSpan {
	t.Helper()
	voiced := make([][]int16, 3)
	for i := range voiced {
		tmp := filepath.Join(t.TempDir(), "s.wav")
		if out, err := exec.Command("espeak-ng", "-w", tmp, "-v", "en-us", dictationSentences[i]).CombinedOutput(); err != nil {
			t.Fatalf("espeak-ng: %v %s", err, out)
		}
		p, err := audio.ReadWAV(tmp)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range p.Samples {
			voiced[i] = append(voiced[i], int16(max(-32767, min(32767, x*32767))))
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	total := int64(length.Seconds() * audio.SampleRate)
	hdr := []any{[]byte("RIFF"), uint32(36 + 2*total), []byte("WAVEfmt "), uint32(16), uint16(1), uint16(1),
		uint32(audio.SampleRate), uint32(2 * audio.SampleRate), uint16(2), uint16(16), []byte("data"), uint32(2 * total)}
	for _, v := range hdr {
		_ = binary.Write(w, binary.LittleEndian, v)
	}
	r := rand.New(rand.NewPCG(20, 26))
	noise := make([]int16, audio.SampleRate/10)
	var spans []spokenSpan
	at := func(n int64) time.Duration { return time.Duration(n) * time.Second / audio.SampleRate }
	for n, next := int64(0), gap/2; n < total; {
		if s := voiced[len(spans)%len(voiced)]; at(n) >= next && n+int64(len(s)) <= total {
			spans = append(spans, spokenSpan{dictationSentences[len(spans)%len(voiced)], at(n), at(n + int64(len(s)))})
			_ = binary.Write(w, binary.LittleEndian, s)
			n, next = n+int64(len(s)), next+gap
			continue
		}
		for i := range noise {
			noise[i] = int16(r.NormFloat64() * 0.0005 * 32767)
		}
		k := min(int64(len(noise)), total-n)
		_ = binary.Write(w, binary.LittleEndian, noise[:k])
		n += k
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return spans
}
