package audio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hajimehoshi/go-mp3"
	"github.com/mewkiz/flac"
)

// ErrUnknownAudio is wrapped by ReadAudio's error for a file that is none of the formats it reads.
var ErrUnknownAudio = errors.New("not a WAV, FLAC, MP3 or Ogg Vorbis file")

// ReadAudio reads a sound file into 16 kHz mono: WAV (as [ReadWAV]), FLAC, MP3 or Ogg Vorbis, told apart
// by their first bytes, not by the name. Channels are averaged and the rate converted with
// [Resample].
func ReadAudio(path string) (PCM, error) {
	f, err := os.Open(path)
	if err != nil {
		return PCM{}, fmt.Errorf("audio: %w", err)
	}
	defer f.Close()
	p, err := DecodeAudio(bufio.NewReader(f))
	if err != nil {
		return PCM{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// DecodeAudio reads a WAV, FLAC, MP3 or Ogg Vorbis stream into 16 kHz mono.
func DecodeAudio(r *bufio.Reader) (PCM, error) {
	head, _ := r.Peek(12)
	var (
		p   PCM
		err error
	)
	switch {
	case bytes.HasPrefix(head, []byte("RIFF")) || bytes.HasPrefix(head, []byte("RF64")):
		return DecodeWAV(r)
	case bytes.HasPrefix(head, []byte("fLaC")):
		p, err = guard("FLAC", func() (PCM, error) { return decodeFLAC(r) })
	case bytes.HasPrefix(head, []byte("ID3")) || len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0:
		// An ID3v2 tag, or an MPEG audio frame's sync word.
		p, err = guard("MP3", func() (PCM, error) { return decodeMP3(r) })
	case bytes.HasPrefix(head, []byte("OggS")):
		p, err = guard("Ogg", func() (PCM, error) { return decodeOgg(r) })
	case len(head) == 0:
		return PCM{}, fmt.Errorf("audio: %w: the file is empty", ErrUnknownAudio)
	default:
		return PCM{}, fmt.Errorf("audio: %w (it starts with %q)", ErrUnknownAudio, printable(head[:min(4, len(head))]))
	}
	if err != nil {
		return PCM{}, err
	}
	if p.Rate < MinRate || p.Rate > MaxRate {
		return PCM{}, fmt.Errorf("audio: sample rate %d Hz (%d..%d Hz are supported)", p.Rate, MinRate, MaxRate)
	}
	return Resample(p, SampleRate), nil
}

// guard turns a decoder's panic on a damaged file into an error: a bad file must not take
// the assistant down.
func guard(format string, decode func() (PCM, error)) (p PCM, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = PCM{}, fmt.Errorf("audio: reading %s: the file is damaged (%v)", format, r)
		}
	}()
	return decode()
}

// decodeFLAC decodes a FLAC stream with mewkiz/flac into mono at the file's rate.
func decodeFLAC(r io.Reader) (PCM, error) {
	s, err := flac.New(r)
	if err != nil {
		return PCM{}, fmt.Errorf("audio: reading FLAC: %w", err)
	}
	defer s.Close()
	info := s.Info
	if info.NChannels == 0 || info.BitsPerSample == 0 {
		return PCM{}, fmt.Errorf("audio: reading FLAC: the stream header declares %d channels of %d bits", info.NChannels, info.BitsPerSample)
	}
	var out []float32
	if info.NSamples > 0 && info.NSamples < 1<<26 {
		out = make([]float32, 0, info.NSamples)
	}
	for {
		fr, err := s.ParseNext()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return PCM{}, fmt.Errorf("audio: reading FLAC: %w", err)
		}
		bits := fr.BitsPerSample
		if bits == 0 || bits > 32 {
			bits = info.BitsPerSample
		}
		if len(fr.Subframes) == 0 || bits == 0 || bits > 32 {
			return PCM{}, fmt.Errorf("audio: reading FLAC: frame %d has %d channels of %d bits", fr.Num, len(fr.Subframes), bits)
		}
		scale := 1 / (float32(int64(1)<<(bits-1)) * float32(len(fr.Subframes)))
		n := int(fr.BlockSize)
		for _, sub := range fr.Subframes {
			n = min(n, len(sub.Samples))
		}
		for i := range n {
			var sum float32
			for _, sub := range fr.Subframes {
				sum += float32(sub.Samples[i])
			}
			out = append(out, sum*scale)
		}
	}
	return PCM{Rate: int(info.SampleRate), Samples: out}, nil
}

// decodeMP3 decodes an MP3 stream with go-mp3, which always yields 16-bit stereo.
func decodeMP3(r io.Reader) (PCM, error) {
	d, err := mp3.NewDecoder(r)
	if err != nil {
		return PCM{}, fmt.Errorf("audio: reading MP3: %w", err)
	}
	b, err := io.ReadAll(d)
	if err != nil {
		return PCM{}, fmt.Errorf("audio: reading MP3: %w", err)
	}
	pcm := PCM{Rate: d.SampleRate(), Samples: make([]float32, len(b)/4)}
	for i := range pcm.Samples {
		l := int16(uint16(b[4*i]) | uint16(b[4*i+1])<<8)
		r := int16(uint16(b[4*i+2]) | uint16(b[4*i+3])<<8)
		pcm.Samples[i] = (float32(l) + float32(r)) / 65536
	}
	return pcm, nil
}
