package models

import (
	"errors"
	"fmt"
	"os"

	"hark/internal/ggml"
)

// ggmlQuantVersion is the newest quantization format whisper.cpp 1.9.3 reads (GGML_QNT_VERSION).
const ggmlQuantVersion = 2

// whisperSizes names whisper models by their number of encoder layers (whisper.cpp's e_model).
var whisperSizes = map[int32]string{4: "tiny", 6: "base", 12: "small", 24: "medium", 32: "large"}

// checkGGML tells a whisper model from a Silero VAD model (both start with the ggml magic) and
// checks it.
func checkGGML(f *os.File, head []byte, info *Info) error {
	if ggml.IsSilero(head) {
		return checkSilero(f, info)
	}
	return checkWhisper(f, info)
}

func checkWhisper(f *os.File, info *Info) error {
	info.Format, info.Kind, info.Architecture = FormatWhisper, ASR, "whisper"
	w, err := ggml.ReadWhisper(f, info.Size)
	var e *ggml.Error
	if err != nil && (!errors.As(err, &e) || w.FType == 0 && w.Mels == 0) {
		return fromGGML(err) // not even the hyperparameters were read
	}
	switch {
	case w.Vocab < 51864 || w.Vocab > 52000:
		return corrupt("is not a whisper model: its vocabulary size %d is not whisper's (51864 to 51866)", w.Vocab)
	case w.AudioCtx <= 0 || w.AudioCtx > 1<<16 || w.TextCtx <= 0 || w.TextCtx > 1<<16:
		return corrupt("has impossible context sizes (audio %d, text %d)", w.AudioCtx, w.TextCtx)
	case w.AudioState <= 0 || w.AudioState > 1<<16 || w.TextState != w.AudioState:
		return corrupt("has impossible widths (audio %d, text %d)", w.AudioState, w.TextState)
	case w.AudioHeads <= 0 || w.AudioState%w.AudioHeads != 0 || w.TextHeads <= 0 || w.TextState%w.TextHeads != 0:
		return corrupt("has an impossible number of attention heads (%d, %d)", w.AudioHeads, w.TextHeads)
	case w.AudioLayers <= 0 || w.AudioLayers > 256 || w.TextLayers <= 0 || w.TextLayers > 256:
		return corrupt("has an impossible number of layers (%d, %d)", w.AudioLayers, w.TextLayers)
	case w.Mels != 80 && w.Mels != 128:
		return corrupt("has %d mel bands (whisper uses 80 or 128)", w.Mels)
	}
	qntvr, ft := w.FType/1000, w.FType%1000
	info.Version = int(qntvr)
	if qntvr > ggmlQuantVersion {
		return &formatError{ErrVersion,
			fmt.Sprintf("uses ggml quantization version %d, newer than this version of Hark reads (%d)", qntvr, ggmlQuantVersion),
			"Update Hark, or download the model from whisper.cpp's own list (`hark models list`)"}
	}
	wt, ok := ggml.WeightType(ft)
	if !ok || w.FType < 0 {
		return corrupt("has an unknown weight type %d", w.FType)
	}
	tt, _ := ggml.TypeOf(wt)
	info.FileType = tt.Name
	info.Name = whisperSizes[w.AudioLayers]
	if info.Name == "" {
		info.Name = fmt.Sprintf("%d-layer", w.AudioLayers)
	}
	if w.AudioLayers == 32 && w.TextLayers == 4 {
		info.Name = "large-v3-turbo"
	}
	info.Multilingual = w.Vocab >= 51865
	if err != nil {
		return fromGGML(err)
	}
	// whisper.cpp's tensor list: 7 encoder tensors, 15 per encoder layer, 4 decoder tensors,
	// 24 per decoder layer (self and cross attention).
	want := 7 + 15*int(w.AudioLayers) + 4 + 24*int(w.TextLayers)
	return countTensors(info, len(w.Tensors), want, "whisper.cpp's for-tests files have no weights; use a real model")
}

func checkSilero(f *os.File, info *Info) error {
	info.Format, info.Kind = FormatSilero, VAD
	s, err := ggml.ReadSilero(f, info.Size)
	info.Architecture = s.Type
	switch {
	case errors.Is(err, ggml.ErrVersion):
		return &formatError{ErrUnsupported, fmt.Sprintf("is a voice activity model of type %q; Hark's VAD reads silero-16k", s.Type),
			"Download the Silero VAD (`hark models pull silero-vad`)"}
	case err != nil:
		return fromGGML(err)
	}
	info.Name = fmt.Sprintf("v%d.%d.%d", s.Version[0], s.Version[1], s.Version[2])
	// whisper_vad_init_with_params: 1 STFT tensor, 2 per encoder layer, 4 LSTM, 2 output.
	return countTensors(info, len(s.Tensors), 2*int(s.Layers)+7, "")
}

// countTensors checks that a ggml .bin file holds all the tensors its model needs.
func countTensors(info *Info, n, want int, noWeightsFix string) error {
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
