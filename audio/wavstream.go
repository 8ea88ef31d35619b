package audio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

// WAVStream reads a WAV file as 16 kHz mono chunk by chunk, so that hours of audio need no
// more memory than one chunk: the streaming counterpart of ReadWAV (same formats, same
// result, by way of the streaming Resampler).
type WAVStream struct {
	r          io.Reader
	closer     io.Closer
	f          WAVFormat
	blockAlign int
	remaining  int64
	toEOF      bool
	length     time.Duration
	rs         *Resampler // nil at 16 kHz
	buf        []byte
	carry      int
	mono, out  []float32
	done       bool
}

// OpenWAVStream opens a WAV file for streaming; Close it when done.
func OpenWAVStream(path string) (*WAVStream, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	s, err := NewWAVStream(bufio.NewReader(file))
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.closer = file
	return s, nil
}

// NewWAVStream reads a WAV stream's header from r; Next then reads its samples.
func NewWAVStream(r io.Reader) (*WAVStream, error) {
	f, blockAlign, size, err := readWAVHeader(r)
	if err != nil {
		return nil, err
	}
	s := &WAVStream{
		r: r, f: f, blockAlign: blockAlign,
		remaining: int64(size), toEOF: size == 0 || size == math.MaxUint32,
		buf: make([]byte, blockAlign*4096),
	}
	if !s.toEOF {
		s.length = time.Duration(int64(size)/int64(blockAlign)) * time.Second / time.Duration(f.Rate)
	}
	if f.Rate != SampleRate {
		if s.rs, err = NewResampler(f.Rate, SampleRate); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Format is the file's own format.
func (s *WAVStream) Format() WAVFormat { return s.f }

// Length is how long the file is by its header, or 0 when the header does not say (a stream
// written before its end was known).
func (s *WAVStream) Length() time.Duration { return s.length }

// Next returns the next chunk of 16 kHz mono samples (valid until the next call), or io.EOF
// after the last. A partial last block is dropped, as ReadWAV does.
func (s *WAVStream) Next() ([]float32, error) {
	for !s.done {
		want := len(s.buf) - s.carry
		if !s.toEOF && int64(want) > s.remaining {
			want = int(s.remaining)
		}
		n, err := io.ReadFull(s.r, s.buf[s.carry:s.carry+want])
		s.remaining -= int64(n)
		n += s.carry
		frames := n / s.blockAlign
		s.mono = s.mono[:0]
		bytesPer, scale := s.f.Bits/8, 1/float32(s.f.Channels)
		for i := range frames {
			block := s.buf[i*s.blockAlign : (i+1)*s.blockAlign]
			var sum float32
			for c := range s.f.Channels {
				sum += sample(block[c*bytesPer:(c+1)*bytesPer], s.f)
			}
			s.mono = append(s.mono, sum*scale)
		}
		s.carry = copy(s.buf, s.buf[frames*s.blockAlign:n])
		switch {
		case err == nil:
			s.done = !s.toEOF && s.remaining == 0
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			if !s.toEOF {
				return nil, fmt.Errorf("audio: %w: the data chunk ends early", ErrTruncatedWAV)
			}
			s.done = true
		default:
			return nil, fmt.Errorf("audio: reading WAV data: %w", err)
		}
		out := s.mono
		if s.rs != nil {
			out = s.rs.Process(s.out[:0], s.mono)
			if s.done {
				out = s.rs.Flush(out)
			}
			s.out = out
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, io.EOF
}

// Close closes the file OpenWAVStream opened.
func (s *WAVStream) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}
