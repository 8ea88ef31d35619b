package audio

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// speechLike is two seconds of a 16 kHz signal with speech's spread of frequencies.
func speechLike() PCM {
	p := PCM{Rate: SampleRate, Samples: make([]float32, 2*SampleRate)}
	for i := range p.Samples {
		t := float64(i) / SampleRate
		env := 0.5 + 0.5*math.Sin(2*math.Pi*3*t)
		p.Samples[i] = float32(env * (0.3*math.Sin(2*math.Pi*220*t) + 0.15*math.Sin(2*math.Pi*1250*t) + 0.05*math.Sin(2*math.Pi*3100*t)))
	}
	return p
}

// TestReadAudioFormats: the same sound as a 16 kHz WAV, a 44.1 kHz stereo 24-bit WAV, a FLAC,
// an MP3 and an Ogg Vorbis (made by sox and lame, as a person would) all read back as the same 16 kHz mono.
func TestReadAudioFormats(t *testing.T) {
	for _, tool := range []string{"sox", "lame"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/setup.sh installs it)", tool)
		}
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "16k.wav")
	want := speechLike()
	if err := WriteWAV(src, want); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	files := map[string]string{}
	add := func(name string, make func(out string)) {
		p := filepath.Join(dir, name)
		make(p)
		files[name] = p
	}
	add("44k-stereo.wav", func(out string) { run("sox", src, "-b", "24", "-c", "2", "-r", "44100", out) })
	add("8k-u8.wav", func(out string) { run("sox", src, "-b", "8", "-e", "unsigned", "-r", "8000", out) })
	add("48k-f64.wav", func(out string) { run("sox", src, "-b", "64", "-e", "float", "-r", "48000", out) })
	add("speech.flac", func(out string) { run("sox", src, out) })
	add("44k-stereo.flac", func(out string) { run("sox", src, "-c", "2", "-r", "44100", out) })
	add("speech.mp3", func(out string) { run("lame", "--quiet", "-b", "128", src, out) })
	add("44k-stereo.ogg", func(out string) { run("sox", src, "-c", "2", "-r", "44100", out) })
	add("44k-stereo.mp3", func(out string) {
		wav := filepath.Join(dir, "for-mp3.wav")
		run("sox", src, "-c", "2", "-r", "44100", wav)
		run("lame", "--quiet", "-b", "192", wav, out)
	})
	for name, path := range files {
		got, err := ReadAudio(path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got.Rate != SampleRate {
			t.Errorf("%s: rate %d", name, got.Rate)
		}
		// MP3 adds encoder delay and padding (about 1100 samples at the start): find it.
		maxLag := 0
		if strings.HasSuffix(name, ".mp3") || strings.HasSuffix(name, ".ogg") {
			maxLag = 2000
		}
		s, lag := bestSNR(want.Samples, got.Samples, maxLag)
		min := 30.0 // dB: lossless formats, resampled
		if strings.HasSuffix(name, ".mp3") || strings.HasSuffix(name, ".ogg") {
			min = 18 // a lossy codec
		}
		if strings.HasPrefix(name, "8k") {
			min = 15 // 3100 Hz survives an 8 kHz file only just, and 8-bit is noisy
		}
		if s < min {
			t.Errorf("%s: %.1f dB SNR against the original (lag %d samples), want ≥ %.0f", name, s, lag, min)
		}
		if d := len(got.Samples) - lag - len(want.Samples); d < -160 || d > 2400 {
			t.Errorf("%s: %d samples, want about %d", name, len(got.Samples)-lag, len(want.Samples))
		}
	}
}

// bestSNR is the signal-to-noise ratio of got against want (dB) at the lag (0..maxLag
// samples of got's lead-in) where it is best.
func bestSNR(want, got []float32, maxLag int) (float64, int) {
	best, at := math.Inf(-1), 0
	for lag := 0; lag <= maxLag && lag < len(got); lag++ {
		var sig, noise float64
		n := min(len(want), len(got)-lag)
		for i := 200; i < n-200; i++ { // the edges ring in the resampler
			d := float64(got[i+lag]) - float64(want[i])
			sig += float64(want[i]) * float64(want[i])
			noise += d * d
		}
		if s := 10 * math.Log10(sig/noise); s > best {
			best, at = s, lag
		}
	}
	return best, at
}

func TestDecodeAudioErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "audio: not a WAV, FLAC, MP3 or Ogg Vorbis file: the file is empty"},
		{"text", []byte("shopping list: milk"), `audio: not a WAV, FLAC, MP3 or Ogg Vorbis file (it starts with "shop")`},
		{"Ogg, cut short", []byte("OggS\x00\x02\x00\x00"), "audio: reading Ogg: not Ogg Vorbis: the file holds no Vorbis audio"},
		{"Ogg Opus", oggPage("OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"), "audio: reading Ogg: not Ogg Vorbis: the file holds Opus (convert it: sox IN.ogg OUT.wav, or ffmpeg -i IN.ogg OUT.wav)"},
		{"FLAC without a stream header", []byte("fLaC"), "audio: reading FLAC: "},
		{"WAV without a format", []byte("RIFF\x04\x00\x00\x00WAVE"), "audio: truncated WAV file: no format (fmt) chunk"},
	} {
		_, err := DecodeAudio(bufio.NewReader(bytes.NewReader(c.data)))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	p := filepath.Join(t.TempDir(), "notes.mp3")
	if err := os.WriteFile(p, []byte("shopping list: milk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAudio(p); !errors.Is(err, ErrUnknownAudio) || !strings.HasPrefix(err.Error(), p+": ") {
		t.Errorf("ReadAudio(text): %v, want the path and ErrUnknownAudio", err)
	}
}

// FuzzDecodeAudio: whatever the bytes, DecodeAudio returns finite 16 kHz audio or an error,
// never a panic.
func FuzzDecodeAudio(f *testing.F) {
	f.Add([]byte("fLaC\x00\x00\x00\x22"))
	f.Add([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte{0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0})
	f.Add([]byte("OggS"))
	// A real Ogg Vorbis file gives the fuzzer libvorbis's headers and packets to mutate.
	if ogg := filepath.Join(f.TempDir(), "tone.ogg"); exec.Command("sox", "-n", "-r", "16000", "-c", "1", ogg, "synth", "0.3", "sine", "440").Run() == nil {
		if b, err := os.ReadFile(ogg); err == nil {
			f.Add(b)
		}
	}
	for _, m := range malformed() {
		f.Add(m.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodeAudio(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		if p.Rate != SampleRate {
			t.Fatalf("rate %d", p.Rate)
		}
		for _, s := range p.Samples {
			if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
				t.Fatalf("non-finite sample %v", s)
			}
		}
	})
}

// oggPage is one Ogg page (capture pattern, version 0, first page, one segment) around payload:
// enough for a reader to see which codec the stream holds.
func oggPage(payload string) []byte {
	p := []byte("OggS\x00\x02")
	p = append(p, make([]byte, 8+4+4+4)...) // granule, serial, sequence, CRC (unchecked here)
	p = append(p, 1, byte(len(payload)))
	return append(p, payload...)
}

// TestReadOggCutShort: an Ogg Vorbis recording cut off mid-way (a full disk, a crash) still
// gives the audio before the cut, as the FLAC and MP3 readers do.
func TestReadOggCutShort(t *testing.T) {
	if _, err := exec.LookPath("sox"); err != nil {
		t.Skip("sox is not installed (scripts/setup.sh installs it)")
	}
	dir := t.TempDir()
	src, ogg := filepath.Join(dir, "speech.wav"), filepath.Join(dir, "speech.ogg")
	want := speechLike()
	if err := WriteWAV(src, want); err != nil {
		t.Fatal(err)
	}
	// Ten seconds: the codec's setup header alone is a few kilobytes, so a short file cut in
	// half would have no audio left.
	if out, err := exec.Command("sox", src, ogg, "repeat", "4").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	total := 5 * len(want.Samples)
	whole, err := os.ReadFile(ogg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeAudio(bufio.NewReader(bytes.NewReader(whole[:len(whole)/2])))
	if err != nil {
		t.Fatalf("half an Ogg file: %v", err)
	}
	if n := len(got.Samples); n < total/4 || n > total*3/4 {
		t.Errorf("half an Ogg file gave %d samples of %d", n, total)
	}
}
