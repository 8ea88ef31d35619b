package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hark/audio/internal/audiotest"
)

// wavSpec describes a WAV file for the tests to build, including broken ones.
type wavSpec struct {
	tag        uint16 // 1 PCM, 3 float, 0xFFFE extensible
	subTag     uint16 // extensible only
	channels   int
	rate       int
	bits       int
	blockAlign int // 0: computed
	fmtSize    int // 0: 16 (40 for extensible)
	data       []byte
	dataSize   int64 // declared size; -1: len(data)
	before     [][2]string
}

func (s wavSpec) bytes() []byte {
	le := binary.LittleEndian
	var b bytes.Buffer
	chunk := func(id string, body []byte, declared int64) {
		b.WriteString(id)
		var n [4]byte
		le.PutUint32(n[:], uint32(declared))
		b.Write(n[:])
		b.Write(body)
		if len(body)%2 == 1 {
			b.WriteByte(0)
		}
	}
	fmtSize := s.fmtSize
	if fmtSize == 0 {
		fmtSize = 16
		if s.tag == 0xFFFE {
			fmtSize = 40
		}
	}
	f := make([]byte, max(fmtSize, 16))
	le.PutUint16(f[0:], s.tag)
	le.PutUint16(f[2:], uint16(s.channels))
	le.PutUint32(f[4:], uint32(s.rate))
	ba := s.blockAlign
	if ba == 0 {
		ba = s.channels * s.bits / 8
	}
	le.PutUint32(f[8:], uint32(s.rate*ba))
	le.PutUint16(f[12:], uint16(ba))
	le.PutUint16(f[14:], uint16(s.bits))
	if fmtSize >= 40 {
		le.PutUint16(f[16:], 22)
		le.PutUint16(f[18:], uint16(s.bits))
		le.PutUint16(f[24:], s.subTag)
		copy(f[26:], "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71")
	}
	for _, c := range s.before {
		chunk(c[0], []byte(c[1]), int64(len(c[1])))
	}
	chunk("fmt ", f[:fmtSize], int64(fmtSize))
	declared := s.dataSize
	if declared < 0 {
		declared = int64(len(s.data))
	}
	b.WriteString("data")
	var n [4]byte
	le.PutUint32(n[:], uint32(declared))
	b.Write(n[:])
	b.Write(s.data)
	out := append([]byte("RIFF\x00\x00\x00\x00WAVE"), b.Bytes()...)
	le.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func pcm16(v ...int16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, uint16(x))
	}
	return b
}

func TestDecodeWAVFormats(t *testing.T) {
	le := binary.LittleEndian
	f32 := func(v ...float32) []byte {
		var b []byte
		for _, x := range v {
			b = le.AppendUint32(b, math.Float32bits(x))
		}
		return b
	}
	f64 := func(v ...float64) []byte {
		var b []byte
		for _, x := range v {
			b = le.AppendUint64(b, math.Float64bits(x))
		}
		return b
	}
	i32 := func(v ...int32) []byte {
		var b []byte
		for _, x := range v {
			b = le.AppendUint32(b, uint32(x))
		}
		return b
	}
	tests := []struct {
		name string
		spec wavSpec
		want []float32
		f    WAVFormat
	}{
		{"16-bit mono", wavSpec{tag: 1, channels: 1, rate: 16000, bits: 16, data: pcm16(0, 16384, -32768, 32767), dataSize: -1},
			[]float32{0, 0.5, -1, 32767.0 / 32768}, WAVFormat{16000, 1, 16, false}},
		{"8-bit unsigned", wavSpec{tag: 1, channels: 1, rate: 16000, bits: 8, data: []byte{128, 192, 0, 255}, dataSize: -1},
			[]float32{0, 0.5, -1, 127.0 / 128}, WAVFormat{16000, 1, 8, false}},
		{"24-bit", wavSpec{tag: 1, channels: 1, rate: 16000, bits: 24, data: []byte{0, 0, 0x40, 0, 0, 0x80, 0xff, 0xff, 0xff}, dataSize: -1},
			[]float32{0.5, -1, -1.0 / 8388608}, WAVFormat{16000, 1, 24, false}},
		{"32-bit integer", wavSpec{tag: 1, channels: 1, rate: 16000, bits: 32, data: i32(1<<30, -1<<31), dataSize: -1},
			[]float32{0.5, -1}, WAVFormat{16000, 1, 32, false}},
		{"32-bit float", wavSpec{tag: 3, channels: 1, rate: 16000, bits: 32, data: f32(0.25, -0.75), dataSize: -1},
			[]float32{0.25, -0.75}, WAVFormat{16000, 1, 32, true}},
		{"64-bit float", wavSpec{tag: 3, channels: 1, rate: 16000, bits: 64, data: f64(0.25, -0.75), dataSize: -1},
			[]float32{0.25, -0.75}, WAVFormat{16000, 1, 64, true}},
		{"stereo is averaged", wavSpec{tag: 1, channels: 2, rate: 16000, bits: 16, data: pcm16(16384, 0, -16384, -16384), dataSize: -1},
			[]float32{0.25, -0.5}, WAVFormat{16000, 2, 16, false}},
		{"extensible 24-bit stereo", wavSpec{tag: 0xFFFE, subTag: 1, channels: 2, rate: 16000, bits: 24, data: []byte{0, 0, 0x40, 0, 0, 0x40}, dataSize: -1},
			[]float32{0.5}, WAVFormat{16000, 2, 24, false}},
		{"extensible float", wavSpec{tag: 0xFFFE, subTag: 3, channels: 1, rate: 16000, bits: 32, data: f32(0.5), dataSize: -1},
			[]float32{0.5}, WAVFormat{16000, 1, 32, true}},
		{"LIST and an odd-sized chunk first", wavSpec{tag: 1, channels: 1, rate: 16000, bits: 16, data: pcm16(100), dataSize: -1,
			before: [][2]string{{"LIST", "INFOISFT\x03\x00\x00\x00ab\x00"}, {"odd ", "abc"}}},
			[]float32{100.0 / 32768}, WAVFormat{16000, 1, 16, false}},
		{"streamed: size 0xFFFFFFFF", wavSpec{tag: 1, channels: 1, rate: 16000, bits: 16, data: pcm16(1, 2, 3), dataSize: 0xFFFFFFFF},
			[]float32{1.0 / 32768, 2.0 / 32768, 3.0 / 32768}, WAVFormat{16000, 1, 16, false}},
		{"a partial last frame is dropped", wavSpec{tag: 1, channels: 2, rate: 16000, bits: 16, data: append(pcm16(8192, 8192), 1, 2), dataSize: -1},
			[]float32{0.25}, WAVFormat{16000, 2, 16, false}},
		{"NaN float is silence", wavSpec{tag: 3, channels: 1, rate: 16000, bits: 32, data: f32(float32(math.NaN()), 0.5), dataSize: -1},
			[]float32{0, 0.5}, WAVFormat{16000, 1, 32, true}},
		{"empty data", wavSpec{tag: 1, channels: 1, rate: 16000, bits: 16, dataSize: -1}, nil, WAVFormat{16000, 1, 16, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f, err := DecodeWAVFormat(bytes.NewReader(tt.spec.bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if f != tt.f || p.Rate != tt.f.Rate {
				t.Errorf("format %+v (rate %d), want %+v", f, p.Rate, tt.f)
			}
			if len(p.Samples) != len(tt.want) {
				t.Fatalf("samples %v, want %v", p.Samples, tt.want)
			}
			for i := range tt.want {
				if math.Abs(float64(p.Samples[i]-tt.want[i])) > 1e-7 {
					t.Fatalf("samples %v, want %v", p.Samples, tt.want)
				}
			}
		})
	}
}

// malformed is the corpus of broken WAV files: each must give an error wrapping its class.
func malformed() []struct {
	name string
	data []byte
	want error
} {
	ok := wavSpec{tag: 1, channels: 1, rate: 16000, bits: 16, data: pcm16(1, 2, 3, 4), dataSize: -1}
	with := func(f func(*wavSpec)) []byte { s := ok; f(&s); return s.bytes() }
	good := ok.bytes()
	return []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrNotWAV},
		{"text", []byte("hello, this is not audio at all"), ErrNotWAV},
		{"big-endian RIFX", append([]byte("RIFX"), good[4:]...), ErrNotWAV},
		{"an AVI file", append(append([]byte(nil), good[:8]...), append([]byte("AVI "), good[12:]...)...), ErrNotWAV},
		{"RF64", append([]byte("RF64"), good[4:]...), ErrUnsupportedWAV},
		{"cut in the RIFF header", good[:7], ErrTruncatedWAV},
		{"nothing after WAVE", good[:12], ErrTruncatedWAV},
		{"cut in a chunk header", good[:15], ErrTruncatedWAV},
		{"cut in the format chunk", good[:30], ErrTruncatedWAV},
		{"no data chunk", good[:36], ErrTruncatedWAV},
		{"cut in the data", good[:len(good)-3], ErrTruncatedWAV},
		{"data longer than the file", with(func(s *wavSpec) { s.dataSize = 1 << 20 }), ErrTruncatedWAV},
		{"a chunk longer than the file", append(append([]byte(nil), good[:12]...), []byte("JUNK\xff\xff\x00\x00abc")...), ErrTruncatedWAV},
		{"format chunk of 10 bytes", with(func(s *wavSpec) { s.fmtSize = 10 }), ErrUnsupportedWAV},
		{"ADPCM", with(func(s *wavSpec) { s.tag = 2; s.bits = 4; s.blockAlign = 256 }), ErrUnsupportedWAV},
		{"MP3 in WAV", with(func(s *wavSpec) { s.tag = 0x55 }), ErrUnsupportedWAV},
		{"12-bit", with(func(s *wavSpec) { s.bits = 12; s.blockAlign = 2 }), ErrUnsupportedWAV},
		{"16-bit float", with(func(s *wavSpec) { s.tag = 3 }), ErrUnsupportedWAV},
		{"no channels", with(func(s *wavSpec) { s.channels = 0; s.blockAlign = 2 }), ErrUnsupportedWAV},
		{"100 channels", with(func(s *wavSpec) { s.channels = 100 }), ErrUnsupportedWAV},
		{"rate 0", with(func(s *wavSpec) { s.rate = 0 }), ErrUnsupportedWAV},
		{"rate 10 MHz", with(func(s *wavSpec) { s.rate = 10_000_000 }), ErrUnsupportedWAV},
		{"wrong block size", with(func(s *wavSpec) { s.blockAlign = 3 }), ErrUnsupportedWAV},
		{"short extensible format", with(func(s *wavSpec) { s.tag = 0xFFFE; s.fmtSize = 18 }), ErrUnsupportedWAV},
		{"extensible with an unknown sub-format", with(func(s *wavSpec) { s.tag = 0xFFFE; s.subTag = 0x55 }), ErrUnsupportedWAV},
		{"data before format", []byte("RIFF\x10\x00\x00\x00WAVEdata\x02\x00\x00\x00\x01\x02"), ErrUnsupportedWAV},
		{"two format chunks", with(func(s *wavSpec) {
			s.before = [][2]string{{"fmt ", string(ok.bytes()[20:36])}}
		}), ErrUnsupportedWAV},
	}
}

// TestDecodeWAVMalformed: every broken file gets its own clear error, and no panic.
func TestDecodeWAVMalformed(t *testing.T) {
	for _, tc := range malformed() {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeWAV(bytes.NewReader(tc.data))
			if !errors.Is(err, tc.want) {
				t.Fatalf("DecodeWAV: %v, want an error wrapping %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "audio: ") || len(err.Error()) < 30 {
				t.Errorf("error %q does not say enough", err)
			}
		})
	}
}

func TestReadWAVErrors(t *testing.T) {
	_, err := ReadWAV(filepath.Join(t.TempDir(), "missing.wav"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	p := filepath.Join(t.TempDir(), "notes.wav")
	if err := os.WriteFile(p, []byte("shopping list: milk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadWAV(p); !errors.Is(err, ErrNotWAV) || !strings.Contains(err.Error(), p) {
		t.Errorf("text file: %v; want ErrNotWAV naming the file", err)
	}
}

func TestWAVRoundTrip(t *testing.T) {
	in := PCM{Rate: 22050, Samples: audiotest.Sine(22050, 440, 0.9, 22050)}
	in.Samples = append(in.Samples, 1.5, -2, 0) // clipped on write
	p := filepath.Join(t.TempDir(), "x.wav")
	if err := WriteWAV(p, in); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, format, err := DecodeWAVFormat(f)
	if err != nil {
		t.Fatal(err)
	}
	if format != (WAVFormat{Rate: 22050, Channels: 1, Bits: 16}) || len(out.Samples) != len(in.Samples) {
		t.Fatalf("wrote %d samples at 22050 Hz, read %d as %+v", len(in.Samples), len(out.Samples), format)
	}
	for i, s := range in.Samples {
		want := float64(max(min(s, 32767.0/32768), -1))
		if d := math.Abs(float64(out.Samples[i]) - want); d > 0.5/32768+1e-9 {
			t.Fatalf("sample %d: wrote %v, read %v", i, s, out.Samples[i])
		}
	}
	// ReadWAV gives 16 kHz.
	p16, err := ReadWAV(p)
	if err != nil {
		t.Fatal(err)
	}
	if p16.Rate != SampleRate || len(p16.Samples) != int(math.Ceil(float64(len(in.Samples))*16000/22050)) {
		t.Errorf("ReadWAV: %d samples at %d Hz", len(p16.Samples), p16.Rate)
	}
	if err := EncodeWAV(&bytes.Buffer{}, PCM{Rate: 0, Samples: []float32{0}}); err == nil {
		t.Error("EncodeWAV at 0 Hz succeeded")
	}
}

// TestReadWAVFromSox reads files written by another program (SoX) in formats Hark does not
// write itself.
func TestReadWAVFromSox(t *testing.T) {
	if _, err := exec.LookPath("sox"); err != nil {
		t.Fatal("sox is part of the test set-up (scripts/setup.sh): ", err)
	}
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-r", "48000", "-c", "2", "-b", "24"},
		{"-r", "44100", "-c", "1", "-b", "32", "-e", "floating-point"},
		{"-r", "8000", "-c", "1", "-b", "8", "-e", "unsigned-integer"},
		{"-r", "32000", "-c", "6", "-b", "32", "-e", "signed-integer"},
	} {
		name := strings.Join(args, "_")
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".wav")
			cmd := append(append([]string{"-n"}, args...), p, "synth", "1", "sine", "440", "vol", "0.5")
			if out, err := exec.Command("sox", cmd...).CombinedOutput(); err != nil {
				t.Fatalf("sox: %v\n%s", err, out)
			}
			got, err := ReadWAV(p)
			if err != nil {
				t.Fatal(err)
			}
			want := audiotest.Sine(SampleRate, 440, 0.5, SampleRate)
			if len(got.Samples) != len(want) {
				t.Fatalf("%d samples, want %d", len(got.Samples), len(want))
			}
			// SoX's sine starts at phase 0 like ours; allow for quantization and band edges.
			if ncc := audiotest.NCC(want[800:15200], got.Samples[800:15200]); ncc < 0.999 {
				t.Errorf("NCC with the expected sine %.4f", ncc)
			}
			// 0.5 dB: SoX dithers the 8-bit file (two steps of 1/128 at most).
			if l := MeasureLevel(got.Samples[800:15200]); math.Abs(l.Peak-AmplitudeDB(0.5)) > 0.5 {
				t.Errorf("peak %.2f dBFS, want -6.0", l.Peak)
			}
		})
	}
}

// FuzzDecodeWAV: whatever the bytes, DecodeWAV returns audio or a classified error, never a
// panic, and audio is finite and at 16 kHz.
func FuzzDecodeWAV(f *testing.F) {
	for _, spec := range []wavSpec{
		{tag: 1, channels: 1, rate: 16000, bits: 16, data: pcm16(1, -2, 3), dataSize: -1},
		{tag: 1, channels: 2, rate: 44100, bits: 24, data: make([]byte, 60), dataSize: -1},
		{tag: 3, channels: 1, rate: 48000, bits: 32, data: make([]byte, 40), dataSize: 0xFFFFFFFF},
		{tag: 0xFFFE, subTag: 1, channels: 3, rate: 8000, bits: 8, data: make([]byte, 9), dataSize: -1},
	} {
		f.Add(spec.bytes())
	}
	for _, m := range malformed() {
		f.Add(m.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodeWAV(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrNotWAV) && !errors.Is(err, ErrUnsupportedWAV) && !errors.Is(err, ErrTruncatedWAV) {
				t.Fatalf("unclassified error %v", err)
			}
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
