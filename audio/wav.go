package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// ErrNotWAV, ErrUnsupportedWAV and ErrTruncatedWAV classify why a WAV file cannot be read; the
// errors DecodeWAV returns wrap one of them and say what exactly is wrong.
var (
	ErrNotWAV         = errors.New("not a WAV file")
	ErrUnsupportedWAV = errors.New("unsupported WAV file")
	ErrTruncatedWAV   = errors.New("truncated WAV file")
)

// WAVFormat describes the samples of a WAV file.
type WAVFormat struct {
	Rate     int
	Channels int
	Bits     int  // bits per sample: 8, 16, 24 or 32 (integer), 32 or 64 (float)
	Float    bool // IEEE float samples
}

const (
	wavPCM        = 1
	wavFloat      = 3
	wavExtensible = 0xFFFE
	maxChannels   = 64
)

// ReadWAV reads a WAV file into 16 kHz mono.
func ReadWAV(path string) (PCM, error) {
	f, err := os.Open(path)
	if err != nil {
		return PCM{}, fmt.Errorf("audio: %w", err)
	}
	defer f.Close()
	p, err := DecodeWAV(bufio.NewReader(f))
	if err != nil {
		return PCM{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// DecodeWAV reads a WAV stream (8/16/24/32-bit integer or 32/64-bit float PCM, any rate within
// MinRate..MaxRate, up to 64 channels) into 16 kHz mono: channels are averaged, the rate is
// converted with Resample.
func DecodeWAV(r io.Reader) (PCM, error) {
	p, _, err := DecodeWAVFormat(r)
	if err != nil {
		return PCM{}, err
	}
	return Resample(p, SampleRate), nil
}

// DecodeWAVFormat reads a WAV stream into mono at the file's own rate and reports the file's
// format.
//
// A data chunk whose declared size is 0 or 0xFFFFFFFF (written by a recorder that could not seek
// back to fill it in) extends to the end of the stream; any other data chunk that is longer than
// the stream is an error wrapping ErrTruncatedWAV.
func DecodeWAVFormat(r io.Reader) (PCM, WAVFormat, error) {
	f, blockAlign, size, err := readWAVHeader(r)
	if err != nil {
		return PCM{}, WAVFormat{}, err
	}
	samples, err := readData(r, size, f, blockAlign)
	if err != nil {
		return PCM{}, WAVFormat{}, err
	}
	return PCM{Rate: f.Rate, Samples: samples}, f, nil
}

// readWAVHeader reads a WAV stream up to the start of its data chunk and returns the format,
// the block size and the data chunk's declared size.
func readWAVHeader(r io.Reader) (WAVFormat, int, uint32, error) {
	var hdr [12]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		if n == 0 {
			return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: the file is empty", ErrNotWAV)
		}
		if n < 4 || string(hdr[:4]) != "RIFF" {
			return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: no RIFF header", ErrNotWAV)
		}
		return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: the RIFF header is cut short", ErrTruncatedWAV)
	}
	if string(hdr[:4]) != "RIFF" {
		if string(hdr[:4]) == "RF64" {
			return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: RF64 (WAV over 4 GB) is not supported", ErrUnsupportedWAV)
		}
		return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: no RIFF header", ErrNotWAV)
	}
	if string(hdr[8:12]) != "WAVE" {
		return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: a RIFF file of type %q, not WAVE", ErrNotWAV, printable(hdr[8:12]))
	}
	var (
		f          WAVFormat
		haveFmt    bool
		blockAlign int
	)
	for {
		var ch [8]byte
		n, err := io.ReadFull(r, ch[:])
		if err != nil {
			if n == 0 {
				if !haveFmt {
					return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: no format (fmt) chunk", ErrTruncatedWAV)
				}
				return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: no data chunk", ErrTruncatedWAV)
			}
			return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: a chunk header is cut short", ErrTruncatedWAV)
		}
		id := string(ch[:4])
		size := binary.LittleEndian.Uint32(ch[4:])
		switch id {
		case "fmt ":
			if haveFmt {
				return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: two format chunks", ErrUnsupportedWAV)
			}
			if size < 16 || size > 1024 {
				return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: format chunk of %d bytes", ErrUnsupportedWAV, size)
			}
			buf := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, buf); err != nil {
				return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: the format chunk is cut short", ErrTruncatedWAV)
			}
			f, blockAlign, err = parseFmt(buf[:size])
			if err != nil {
				return WAVFormat{}, 0, 0, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: the data chunk comes before the format chunk", ErrUnsupportedWAV)
			}
			return f, blockAlign, size, nil
		default:
			// LIST, fact, cue and the like: skip, with the pad byte of odd sizes.
			skip := int64(size) + int64(size&1)
			if _, err := io.CopyN(io.Discard, r, skip); err != nil {
				return WAVFormat{}, 0, 0, fmt.Errorf("audio: %w: chunk %q is cut short", ErrTruncatedWAV, printable(ch[:4]))
			}
		}
	}
}

func parseFmt(b []byte) (WAVFormat, int, error) {
	le := binary.LittleEndian
	tag := le.Uint16(b[0:])
	f := WAVFormat{
		Channels: int(le.Uint16(b[2:])),
		Rate:     int(le.Uint32(b[4:])),
		Bits:     int(le.Uint16(b[14:])),
	}
	blockAlign := int(le.Uint16(b[12:]))
	if tag == wavExtensible {
		if len(b) < 40 {
			return f, 0, fmt.Errorf("audio: %w: extensible format chunk of %d bytes", ErrUnsupportedWAV, len(b))
		}
		// The sub-format GUID's first two bytes are the real format tag; the valid-bits field
		// (b[18:20]) may be smaller than the container, which reading the container handles.
		tag = le.Uint16(b[24:])
	}
	switch tag {
	case wavPCM:
		switch f.Bits {
		case 8, 16, 24, 32:
		default:
			return f, 0, fmt.Errorf("audio: %w: %d-bit integer samples (8, 16, 24 and 32 are supported)", ErrUnsupportedWAV, f.Bits)
		}
	case wavFloat:
		f.Float = true
		if f.Bits != 32 && f.Bits != 64 {
			return f, 0, fmt.Errorf("audio: %w: %d-bit float samples (32 and 64 are supported)", ErrUnsupportedWAV, f.Bits)
		}
	default:
		return f, 0, fmt.Errorf("audio: %w: compressed or unknown encoding (format tag 0x%04x); only PCM and float WAV files are supported", ErrUnsupportedWAV, tag)
	}
	if f.Channels < 1 || f.Channels > maxChannels {
		return f, 0, fmt.Errorf("audio: %w: %d channels (1..%d are supported)", ErrUnsupportedWAV, f.Channels, maxChannels)
	}
	if f.Rate < MinRate || f.Rate > MaxRate {
		return f, 0, fmt.Errorf("audio: %w: sample rate %d Hz (%d..%d Hz are supported)", ErrUnsupportedWAV, f.Rate, MinRate, MaxRate)
	}
	if want := f.Channels * f.Bits / 8; blockAlign != want {
		return f, 0, fmt.Errorf("audio: %w: block size %d bytes, but %d channels of %d bits need %d", ErrUnsupportedWAV, blockAlign, f.Channels, f.Bits, want)
	}
	return f, blockAlign, nil
}

// readData reads the data chunk in blocks and averages the channels.
func readData(r io.Reader, size uint32, f WAVFormat, blockAlign int) ([]float32, error) {
	toEOF := size == 0 || size == math.MaxUint32
	remaining := int64(size)
	bytesPer := f.Bits / 8
	buf := make([]byte, blockAlign*4096)
	var out []float32
	if !toEOF && int64(size)/int64(blockAlign) < 1<<20 {
		out = make([]float32, 0, int64(size)/int64(blockAlign))
	}
	scale := 1 / float32(f.Channels)
	var carry int // bytes of a partial block kept at the start of buf
	for toEOF || remaining > 0 {
		want := len(buf) - carry
		if !toEOF && int64(want) > remaining {
			want = int(remaining)
		}
		n, err := io.ReadFull(r, buf[carry:carry+want])
		remaining -= int64(n)
		n += carry
		frames := n / blockAlign
		for i := 0; i < frames; i++ {
			block := buf[i*blockAlign : (i+1)*blockAlign]
			var sum float32
			for c := 0; c < f.Channels; c++ {
				sum += sample(block[c*bytesPer:(c+1)*bytesPer], f)
			}
			out = append(out, sum*scale)
		}
		carry = copy(buf, buf[frames*blockAlign:n])
		if err != nil {
			if toEOF && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
				break
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("audio: %w: the data chunk declares %d bytes, the file ends after %d", ErrTruncatedWAV, size, int64(size)-remaining)
			}
			return nil, fmt.Errorf("audio: reading WAV data: %w", err)
		}
	}
	// A partial last block (a recorder killed mid-write) is dropped: it holds no whole frame.
	return out, nil
}

func sample(b []byte, f WAVFormat) float32 {
	le := binary.LittleEndian
	switch {
	case f.Float && f.Bits == 32:
		v := math.Float32frombits(le.Uint32(b))
		if v != v || v > 1e6 || v < -1e6 { // NaN or absurd: treat as silence rather than poison the stream
			return 0
		}
		return v
	case f.Float:
		v := math.Float64frombits(le.Uint64(b))
		if v != v || v > 1e6 || v < -1e6 {
			return 0
		}
		return float32(v)
	case f.Bits == 8:
		return (float32(b[0]) - 128) / 128
	case f.Bits == 16:
		return float32(int16(le.Uint16(b))) / 32768
	case f.Bits == 24:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float32(v) / 8388608
	default:
		return float32(float64(int32(le.Uint32(b))) / 2147483648)
	}
}

// WriteWAV writes p as a 16-bit PCM mono WAV file at p's rate: the format every tool reads.
// Samples beyond [-1, 1] are clipped. A new file is readable by the user only.
func WriteWAV(path string, p PCM) error {
	// Recordings hold what a person said: private to the user (0600), as the history is.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("audio: %w", err)
	}
	w := bufio.NewWriter(f)
	if err := EncodeWAV(w, p); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("audio: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("audio: writing %s: %w", path, err)
	}
	return nil
}

// EncodeWAV writes p to w as a 16-bit PCM mono WAV stream (see WriteWAV).
func EncodeWAV(w io.Writer, p PCM) error {
	if p.Rate < MinRate || p.Rate > MaxRate {
		return fmt.Errorf("audio: cannot write a WAV file at %d Hz (%d..%d Hz are supported)", p.Rate, MinRate, MaxRate)
	}
	const maxSamples = (math.MaxUint32 - 44) / 2
	if len(p.Samples) > maxSamples {
		return fmt.Errorf("audio: %s of audio is too long for one WAV file", p.Duration())
	}
	dataSize := uint32(2 * len(p.Samples))
	le := binary.LittleEndian
	var h [44]byte
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], 36+dataSize)
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], wavPCM)
	le.PutUint16(h[22:], 1)
	le.PutUint32(h[24:], uint32(p.Rate))
	le.PutUint32(h[28:], uint32(p.Rate)*2)
	le.PutUint16(h[32:], 2)
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], dataSize)
	if _, err := w.Write(h[:]); err != nil {
		return fmt.Errorf("audio: writing WAV: %w", err)
	}
	buf := make([]byte, 0, 8192)
	for i, s := range p.Samples {
		buf = le.AppendUint16(buf, uint16(toInt16(s)))
		if len(buf) == cap(buf) || i == len(p.Samples)-1 {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("audio: writing WAV: %w", err)
			}
			buf = buf[:0]
		}
	}
	return nil
}

// toInt16 rounds a sample to 16 bits, clipping at full scale.
func toInt16(s float32) int16 {
	v := math.Round(float64(s) * 32768)
	switch {
	case v > 32767:
		return 32767
	case v < -32768:
		return -32768
	case v != v:
		return 0
	}
	return int16(v)
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}
