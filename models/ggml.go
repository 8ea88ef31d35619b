package models

import (
	"errors"
	"fmt"
	"io"
)

// ggmlMagic is "ggml" as a little-endian uint32; whisper.cpp's .bin files (speech models and
// the Silero VAD) start with it, so the bytes on disk read "lmgg".
const ggmlMagic = 0x67676d6c

// ggmlQuantVersion is the newest quantization format whisper.cpp 1.9.3 reads (GGML_QNT_VERSION).
const ggmlQuantVersion = 2

// whisperSizes names whisper models by their number of encoder layers (whisper.cpp's e_model).
var whisperSizes = map[int32]string{4: "tiny", 6: "base", 12: "small", 24: "medium", 32: "large"}

// checkGGML tells a whisper model from a Silero VAD model (both start with the ggml magic) and
// checks it. A Silero file continues with a short model-type string; a whisper file with its
// vocabulary size (51864 or more).
func checkGGML(r *reader, info *Info) error {
	if _, err := r.u32(); err != nil {
		return err
	}
	first, err := r.i32()
	if err != nil {
		return err
	}
	if first > 0 && first <= 64 {
		return checkSilero(r, info, first)
	}
	return checkWhisper(r, info, first)
}

func checkWhisper(r *reader, info *Info, nVocab int32) error {
	info.Format, info.Kind, info.Architecture = FormatWhisper, ASR, "whisper"
	var hp [10]int32 // audio ctx, state, head, layer; text ctx, state, head, layer; mels; ftype
	for i := range hp {
		v, err := r.i32()
		if err != nil {
			return err
		}
		hp[i] = v
	}
	audioCtx, audioState, audioHead, audioLayer := hp[0], hp[1], hp[2], hp[3]
	textCtx, textState, textHead, textLayer := hp[4], hp[5], hp[6], hp[7]
	nMels, ftype := hp[8], hp[9]
	switch {
	case nVocab < 51864 || nVocab > 52000:
		return corrupt("is not a whisper model: its vocabulary size %d is not whisper's (51864 to 51866)", nVocab)
	case audioCtx <= 0 || audioCtx > 1<<16 || textCtx <= 0 || textCtx > 1<<16:
		return corrupt("has impossible context sizes (audio %d, text %d)", audioCtx, textCtx)
	case audioState <= 0 || audioState > 1<<16 || textState != audioState:
		return corrupt("has impossible widths (audio %d, text %d)", audioState, textState)
	case audioHead <= 0 || audioState%audioHead != 0 || textHead <= 0 || textState%textHead != 0:
		return corrupt("has an impossible number of attention heads (%d, %d)", audioHead, textHead)
	case audioLayer <= 0 || audioLayer > 256 || textLayer <= 0 || textLayer > 256:
		return corrupt("has an impossible number of layers (%d, %d)", audioLayer, textLayer)
	case nMels != 80 && nMels != 128:
		return corrupt("has %d mel bands (whisper uses 80 or 128)", nMels)
	}
	qntvr, ft := ftype/1000, ftype%1000
	info.Version = int(qntvr)
	if qntvr > ggmlQuantVersion {
		return &formatError{ErrVersion,
			fmt.Sprintf("uses ggml quantization version %d, newer than this version of Hark reads (%d)", qntvr, ggmlQuantVersion),
			"Update Hark, or download the model from whisper.cpp's own list (`hark models list`)"}
	}
	name, ok := whisperFileTypes[ft]
	if !ok || ftype < 0 {
		return corrupt("has an unknown weight type %d", ftype)
	}
	info.FileType = name
	info.Name = whisperSizes[audioLayer]
	if info.Name == "" {
		info.Name = fmt.Sprintf("%d-layer", audioLayer)
	}
	if audioLayer == 32 && textLayer == 4 {
		info.Name = "large-v3-turbo"
	}
	info.Multilingual = nVocab >= 51865

	// Mel filters: n_mel, n_fft, then n_mel*n_fft float32.
	fm, err := r.i32()
	if err != nil {
		return err
	}
	ff, err := r.i32()
	if err != nil {
		return err
	}
	if fm <= 0 || ff <= 0 || int64(fm)*int64(ff) > 1<<24 {
		return corrupt("has an impossible mel filter bank (%d x %d)", fm, ff)
	}
	if err := r.skip(4 * int64(fm) * int64(ff)); err != nil {
		return err
	}
	// Vocabulary: count, then (uint32 length, bytes) per token.
	nWords, err := r.i32()
	if err != nil {
		return err
	}
	if nWords < 0 || nWords > 1<<20 {
		return corrupt("has an impossible vocabulary of %d words", nWords)
	}
	for i := int32(0); i < nWords; i++ {
		n, err := r.u32()
		if err != nil {
			return err
		}
		if n > 1<<10 {
			return corrupt("vocabulary word %d is %d bytes long", i, n)
		}
		if err := r.skip(int64(n)); err != nil {
			return err
		}
	}
	// whisper.cpp's tensor list: 7 encoder tensors, 15 per encoder layer, 4 decoder tensors,
	// 24 per decoder layer (self and cross attention).
	want := 7 + 15*int(audioLayer) + 4 + 24*int(textLayer)
	return checkGGMLTensors(r, info, want, "whisper.cpp's for-tests files have no weights; use a real model")
}

func checkSilero(r *reader, info *Info, typeLen int32) error {
	info.Format, info.Kind = FormatSilero, VAD
	b, err := r.bytes(int64(typeLen))
	if err != nil {
		return err
	}
	info.Architecture = string(b)
	if info.Architecture != "silero-16k" {
		return &formatError{ErrUnsupported, fmt.Sprintf("is a voice activity model of type %q; Hark's VAD reads silero-16k", info.Architecture),
			"Download the Silero VAD (`hark models pull silero-vad`)"}
	}
	var v [5]int32 // major, minor, patch, window, context
	for i := range v {
		if v[i], err = r.i32(); err != nil {
			return err
		}
	}
	info.Name = fmt.Sprintf("v%d.%d.%d", v[0], v[1], v[2])
	layers, err := r.i32()
	if err != nil {
		return err
	}
	if layers <= 0 || layers > 64 {
		return corrupt("has an impossible number of encoder layers (%d)", layers)
	}
	if err := r.skip(4 * (3*int64(layers) + 4)); err != nil {
		return err
	}
	// whisper_vad_init_with_params: 1 STFT tensor, 2 per encoder layer, 4 LSTM, 2 output.
	return checkGGMLTensors(r, info, 2*int(layers)+7, "")
}

// checkGGMLTensors walks the tensor records that end a whisper.cpp ggml file (each: n_dims,
// name length, type, dims, name, data) up to the end of the file, and checks that the last
// one is complete and that all the tensors the model needs are there.
func checkGGMLTensors(r *reader, info *Info, want int, noWeightsFix string) error {
	n := 0
	for !r.atEOF() {
		start := r.off
		var hdr [3]int32
		for i := range hdr {
			v, err := r.i32()
			if err != nil {
				return tensorTruncated(r, n, start, err)
			}
			hdr[i] = v
		}
		nDims, nameLen, typ := hdr[0], hdr[1], hdr[2]
		if nDims < 0 || nDims > maxDims || nameLen <= 0 || nameLen > 256 || typ < 0 {
			return corrupt("tensor %d at byte %d has an impossible header", n+1, start)
		}
		ne := make([]int64, nDims)
		for d := range ne {
			v, err := r.i32()
			if err != nil {
				return tensorTruncated(r, n, start, err)
			}
			if v <= 0 {
				return corrupt("tensor %d at byte %d has dimension %d", n+1, start, v)
			}
			ne[d] = int64(v)
		}
		name, err := r.bytes(int64(nameLen))
		if err != nil {
			return tensorTruncated(r, n, start, err)
		}
		size, err := tensorBytes(uint32(typ), ne)
		if err != nil {
			return corrupt("tensor %q: %v", name, err)
		}
		if size > r.size-r.off {
			return truncated(r.size, r.off+size)
		}
		if err := r.skip(size); err != nil {
			return err
		}
		n++
	}
	info.Tensors = n
	switch {
	case n == 0:
		return &formatError{ErrCorrupt, "holds no weights, only the model's header and vocabulary", noWeightsFix}
	case n < want:
		return &formatError{ErrTruncated,
			fmt.Sprintf("is incomplete: it holds %d of the %d tensors the model needs", n, want),
			"The download or copy stopped early. " + fixRedownload}
	case n > want:
		return corrupt("holds %d tensors where the model has %d", n, want)
	}
	return nil
}

func tensorTruncated(r *reader, n int, start int64, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &formatError{ErrTruncated,
			fmt.Sprintf("is truncated: it ends at byte %d, inside tensor %d which starts at byte %d", r.size, n+1, start),
			"The download or copy stopped early. " + fixRedownload}
	}
	return err
}
