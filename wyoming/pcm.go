package wyoming

import (
	"encoding/binary"
	"fmt"
	"math"

	"hark/audio"
)

// maxChannels bounds the channels Hark mixes down (8 covers every microphone array).
const maxChannels = 8

// checkFormat says whether Hark can read audio in f.
func checkFormat(f AudioFormat) error {
	switch {
	case f.Rate < audio.MinRate || f.Rate > audio.MaxRate:
		return fmt.Errorf("sample rate %d Hz: Hark reads %d to %d Hz", f.Rate, audio.MinRate, audio.MaxRate)
	case f.Width != 1 && f.Width != 2 && f.Width != 4:
		return fmt.Errorf("sample width %d bytes: Hark reads 1 (8-bit), 2 (16-bit) or 4 (32-bit) little-endian PCM", f.Width)
	case f.Channels < 1 || f.Channels > maxChannels:
		return fmt.Errorf("%d channels: Hark reads 1 to %d", f.Channels, maxChannels)
	}
	return nil
}

// appendMono decodes interleaved little-endian PCM in f (already checked), mixes it down to
// mono and appends it to dst.
func appendMono(dst []float32, b []byte, f AudioFormat) ([]float32, error) {
	frame := f.Width * f.Channels
	if len(b)%frame != 0 {
		return dst, fmt.Errorf("audio chunk of %d bytes is not whole frames of %d bytes (%d channels × %d bytes)", len(b), frame, f.Channels, f.Width)
	}
	for i := 0; i < len(b); i += frame {
		var sum float32
		for c := range f.Channels {
			s := b[i+c*f.Width:]
			switch f.Width {
			case 1: // 8-bit PCM is unsigned
				sum += (float32(s[0]) - 128) / 128
			case 2:
				sum += float32(int16(binary.LittleEndian.Uint16(s))) / 32768
			case 4:
				sum += float32(float64(int32(binary.LittleEndian.Uint32(s))) / 2147483648)
			}
		}
		dst = append(dst, sum/float32(f.Channels))
	}
	return dst, nil
}

// int16LE encodes samples in [-1, 1] as 16-bit little-endian PCM.
func int16LE(dst []byte, samples []float32) []byte {
	for _, s := range samples {
		v := math.Round(float64(s) * 32767)
		v = max(-32768, min(32767, v))
		dst = binary.LittleEndian.AppendUint16(dst, uint16(int16(v)))
	}
	return dst
}
