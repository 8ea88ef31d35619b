package audio

// #cgo LDFLAGS: -l:libvorbisfile.a -l:libvorbis.a -l:libogg.a -lm
// #include <stdlib.h>
// #include <vorbis/codec.h>
// #include "vorbis_glue.h"
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// maxOggBytes bounds what decodeOgg reads into memory: about 9 hours of speech-quality Vorbis.
const maxOggBytes = 1 << 30

// decodeOgg decodes an Ogg Vorbis stream with Xiph's libvorbisfile into mono at the file's
// rate. Other codecs in an Ogg container (Opus, FLAC, Speex) are refused by name.
func decodeOgg(r io.Reader) (PCM, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxOggBytes+1))
	if err != nil {
		return PCM{}, fmt.Errorf("audio: reading Ogg: %w", err)
	}
	if len(data) > maxOggBytes {
		return PCM{}, fmt.Errorf("audio: reading Ogg: the file is over %d MiB (split it, or convert it to WAV or FLAC, which are streamed)", maxOggBytes>>20)
	}
	var (
		out    *C.float
		frames C.long
		rate   C.long
	)
	rc := C.hark_vorbis_decode((*C.uchar)(unsafe.Pointer(unsafe.SliceData(data))), C.size_t(len(data)), &out, &frames, &rate)
	defer C.free(unsafe.Pointer(out))
	if rc != 0 && frames == 0 {
		return PCM{}, fmt.Errorf("audio: reading Ogg: %w", oggError(int(rc), data))
	}
	// Audio before a damaged page is kept (as the FLAC and MP3 readers keep theirs): a
	// recording cut off by a full disk or a crash is still worth transcribing.
	samples := make([]float32, int(frames))
	if frames > 0 {
		copy(samples, unsafe.Slice((*float32)(unsafe.Pointer(out)), int(frames)))
	}
	return PCM{Rate: int(rate), Samples: samples}, nil
}

var errNotVorbis = errors.New("not Ogg Vorbis")

// oggError words libvorbisfile's error code for a person, naming the codec inside the Ogg
// container when it is not Vorbis.
func oggError(rc int, data []byte) error {
	for _, c := range []struct{ magic, name string }{{"OpusHead", "Opus"}, {"\x7fFLAC", "FLAC"}, {"Speex", "Speex"}, {"\x80theora", "Theora video"}} {
		if bytes.Contains(data[:min(len(data), 512)], []byte(c.magic)) {
			return fmt.Errorf("%w: the file holds %s (convert it: sox IN.ogg OUT.wav, or ffmpeg -i IN.ogg OUT.wav)", errNotVorbis, c.name)
		}
	}
	switch rc {
	case C.OV_ENOTVORBIS, C.OV_ENOTAUDIO:
		return fmt.Errorf("%w: the file holds no Vorbis audio", errNotVorbis)
	case C.OV_EBADHEADER, C.OV_EVERSION, C.OV_EBADPACKET, C.OV_EBADLINK, C.OV_EREAD, C.OV_EFAULT:
		return fmt.Errorf("the file is damaged (libvorbisfile error %d)", rc)
	case C.HARK_VORBIS_ENOMEM:
		return errors.New("out of memory")
	}
	return fmt.Errorf("libvorbisfile error %d", rc)
}
