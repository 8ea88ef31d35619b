package audio

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"testing"
)

// TestWAVStreamMatchesDecodeWAV: streaming gives exactly what DecodeWAV gives, at 16 kHz and
// at rates that need resampling, for files longer than one read.
func TestWAVStreamMatchesDecodeWAV(t *testing.T) {
	for _, rate := range []int{16000, 44100, 8000} {
		p := PCM{Rate: rate, Samples: make([]float32, rate*3+17)}
		for i := range p.Samples {
			p.Samples[i] = float32(0.5 * math.Sin(float64(i)*0.01))
		}
		var b bytes.Buffer
		if err := EncodeWAV(&b, p); err != nil {
			t.Fatal(err)
		}
		want, err := DecodeWAV(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewWAVStream(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if l := s.Length(); l != p.Duration() {
			t.Errorf("%d Hz: Length %v, want %v", rate, l, p.Duration())
		}
		var got []float32
		for {
			c, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, c...)
		}
		if !slices.Equal(got, want.Samples) {
			t.Errorf("%d Hz: streamed %d samples, DecodeWAV %d (or they differ)", rate, len(got), len(want.Samples))
		}
	}
}

func TestWAVStreamTruncated(t *testing.T) {
	var b bytes.Buffer
	if err := EncodeWAV(&b, PCM{Rate: 16000, Samples: make([]float32, 100000)}); err != nil {
		t.Fatal(err)
	}
	s, err := NewWAVStream(bytes.NewReader(b.Bytes()[:b.Len()-1000]))
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = s.Next()
	}
	if !errors.Is(err, ErrTruncatedWAV) {
		t.Errorf("truncated file: %v", err)
	}
	if _, err := NewWAVStream(bytes.NewReader([]byte("not a wav file at all"))); !errors.Is(err, ErrNotWAV) {
		t.Errorf("not a WAV: %v", err)
	}
}
