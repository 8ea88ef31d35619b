package asr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"hark/internal/ggml"
)

// ErrNotModel is wrapped by every error CheckFile (and so Load) returns for a file that is not a
// whisper.cpp speech model this build can load: wrong format, truncated, inconsistent. A file
// that cannot be read at all returns the os error instead (errors.Is(err, fs.ErrNotExist)...).
var ErrNotModel = errors.New("not a usable whisper.cpp speech model")

// Info describes a whisper.cpp model file (from CheckFile) and, for a loaded model, its memory.
type Info struct {
	Path string `json:"path"`
	// Type is whisper's size name from the layer count ("tiny", "base", "small", "medium",
	// "large", "large-v3"), with ".en" for English-only models, or "custom (N layers)".
	Type string `json:"type"`
	// Multilingual models transcribe Languages and can translate into English; English-only
	// models (the ".en" files) have Languages ["en"].
	Multilingual bool     `json:"multilingual"`
	Languages    []string `json:"languages"`
	// WeightType is the type of the large matrices: "f32", "f16", "q5_1", "q8_0", ...
	WeightType string `json:"weight_type"`

	Vocab       int `json:"vocab"`
	AudioCtx    int `json:"audio_ctx"` // encoder positions: 1500 = 30 s
	AudioState  int `json:"audio_state"`
	AudioHeads  int `json:"audio_heads"`
	AudioLayers int `json:"audio_layers"`
	TextCtx     int `json:"text_ctx"`
	TextState   int `json:"text_state"`
	TextHeads   int `json:"text_heads"`
	TextLayers  int `json:"text_layers"`
	Mels        int `json:"mels"`

	FileBytes   int64 `json:"file_bytes"`
	Tensors     int   `json:"tensors"`
	WeightBytes int64 `json:"weight_bytes"` // what the weights take in memory once loaded

	// Set by Model.Info for a loaded model: the memory of one transcription state (KV caches
	// and compute buffers, as whisper.cpp reports them when it allocates the state), how many
	// states exist (one per concurrent Transcribe, kept for reuse), and the total.
	StateBytes  int64 `json:"state_bytes,omitempty"`
	States      int   `json:"states,omitempty"`
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
}

// whisper.cpp 1.9.3's limits and vocabulary layout (whisper.cpp, ggml.h).
const (
	qntVersion     = 2     // GGML_QNT_VERSION: the quantisation format this build reads
	qntFactor      = 1000  // GGML_QNT_VERSION_FACTOR
	nFFTBins       = 201   // WHISPER_N_FFT/2 + 1
	vocabEnglish   = 51864 // n_vocab of the English-only models
	vocabMultiV3   = 51866 // n_vocab of large-v3 (100 languages)
	firstLangVocab = 51765 // n_vocab - firstLangVocab - multilingual = number of languages
	maxAudioCtx    = 1500  // 30 s: whisper's mel window is fixed at 3000 frames
	maxTextCtx     = 4096
	maxState       = 8192
	maxLayers      = 128
)

// typeOf returns ggml tensor type t's layout from the table shared with models and llm
// (TestTypeTableMatchesGGML checks it against whisper.cpp's ggml).
func typeOf(t int32) (ggml.Type, bool) {
	if t < 0 {
		return ggml.Type{}, false
	}
	return ggml.TypeOf(uint32(t))
}

const (
	typeF32 = 0
	typeF16 = 1
)

// CheckFile reads a whisper.cpp ggml model file's header, vocabulary and every tensor header,
// and returns what it describes. Load calls it first, so that whisper.cpp only ever sees files
// that are complete and consistent: its loader trusts the file and aborts or reads garbage on a
// bad one. Errors name what is wrong in words a user can act on, and wrap ErrNotModel (or the
// error from opening the file). Other model formats are recognised: a GGUF language model, the
// Silero voice-activity model (whisper.cpp's VAD format), llama.cpp's older formats.
func CheckFile(path string) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, fmt.Errorf("asr: speech model: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("asr: speech model: %w", err)
	}
	if st.IsDir() {
		return Info{}, fmt.Errorf("asr: speech model %s is a folder, not a file: %w", path, ErrNotModel)
	}
	info, err := checkModel(f, st.Size())
	if err != nil {
		var rerr readError
		if errors.As(err, &rerr) {
			return Info{}, fmt.Errorf("asr: speech model %s: %w", path, rerr.err)
		}
		return Info{}, fmt.Errorf("asr: %s: %w (%w)", path, err, ErrNotModel)
	}
	info.Path = path
	return info, nil
}

// readError marks an I/O error (not a format problem) while checking a file.
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }

// headerError words an error of the header reader.
func headerError(err error) error {
	var e *ggml.Error
	switch {
	case !errors.As(err, &e):
		return readError{err}
	case e.Err == ggml.ErrTruncated && e.Data:
		return fmt.Errorf("the file is truncated: %v (an incomplete download or copy?)", e)
	case e.Err == ggml.ErrTruncated:
		what := e.What
		if what == "the header" {
			what = "the model header"
		}
		return fmt.Errorf("the file is truncated: it ends at byte %d, inside %s (an incomplete download or copy?)", e.Size, what)
	}
	return fmt.Errorf("%v (damaged file?)", e)
}

func checkModel(f *os.File, size int64) (Info, error) {
	info := Info{FileBytes: size}
	if size == 0 {
		return info, errors.New("the file is empty")
	}
	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if len(head) < 4 {
		return info, fmt.Errorf("the file is only %d bytes long: too short to be a model", len(head))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return info, readError{err}
	}
	if binary.LittleEndian.Uint32(head) != ggml.Magic {
		return info, foreignFormat(head, f, size)
	}
	if ggml.IsSilero(head) {
		return info, errors.New("this is the Silero voice-activity (VAD) model, not a whisper.cpp speech model: use it as the VAD model")
	}
	w, rerr := ggml.ReadWhisper(f, size)
	var herr *ggml.Error
	if rerr != nil && (!errors.As(rerr, &herr) || w.Mels == 0) {
		return info, headerError(rerr) // the hyperparameters were not all read
	}
	info.Vocab, info.AudioCtx, info.AudioState, info.AudioHeads, info.AudioLayers = int(w.Vocab), int(w.AudioCtx), int(w.AudioState), int(w.AudioHeads), int(w.AudioLayers)
	info.TextCtx, info.TextState, info.TextHeads, info.TextLayers, info.Mels = int(w.TextCtx), int(w.TextState), int(w.TextHeads), int(w.TextLayers), int(w.Mels)
	if err := checkHparams(info); err != nil {
		return info, err
	}
	ftype := w.FType
	if q := ftype / qntFactor; q > qntVersion {
		return info, fmt.Errorf("the model was quantised with a newer ggml format (version %d; this build of whisper.cpp %s reads up to %d): quantise it again or use an unquantised model", q, Version(), qntVersion)
	} else if q < 0 {
		return info, fmt.Errorf("bad weight type %d in the model header", ftype)
	}
	wt, ok := ggml.WeightType(ftype % qntFactor)
	if !ok {
		return info, fmt.Errorf("unknown weight type %d in the model header (a newer or damaged file?)", ftype%qntFactor)
	}
	wtype := int32(wt)
	info.WeightType = expName(wtype)
	info.Multilingual = info.Vocab >= vocabEnglish+1
	info.Type = modelType(info)
	nLang := info.Vocab - firstLangVocab
	if info.Multilingual {
		nLang--
		info.Languages = languageCodes(nLang)
	} else {
		info.Languages = []string{"en"}
	}
	if nMel, nFFT := w.MelFilters[0], w.MelFilters[1]; nFFT != 0 && (int(nMel) != info.Mels || nFFT != nFFTBins) {
		return info, fmt.Errorf("the mel filter bank is %d×%d; the header says %d mel bands (×%d)", nMel, nFFT, info.Mels, nFFTBins)
	}
	if int(w.Words) > info.Vocab {
		return info, fmt.Errorf("the vocabulary has %d entries; the header says at most %d", w.Words, info.Vocab)
	}

	// The tensors read before any error must be the ones whisper.cpp creates for this header.
	want := expectedTensors(info, wtype)
	seen := make(map[string]bool, len(want))
	for _, t := range w.Tensors {
		exp, ok := want[t.Name]
		switch {
		case !ok:
			return info, fmt.Errorf("unexpected tensor %q (at byte %d): not part of a whisper model with this header", printable(t.Name), t.At)
		case seen[t.Name]:
			return info, fmt.Errorf("tensor %q appears twice", t.Name)
		case len(t.Dims) == 0:
			return info, fmt.Errorf("tensor %q (at byte %d) has 0 dimensions", t.Name, t.At)
		}
		seen[t.Name] = true
		ne := [4]int64{1, 1, 1, 1}
		copy(ne[:], t.Dims)
		if ne != exp.ne {
			return info, fmt.Errorf("tensor %q has shape %v; the header implies %v", t.Name, dims(ne), dims(exp.ne))
		}
		if int32(t.Type) != exp.typ {
			return info, fmt.Errorf("tensor %q is %s; a model of weight type %s needs %s", t.Name, expName(int32(t.Type)), info.WeightType, expName(exp.typ))
		}
		info.WeightBytes += t.Bytes
	}
	if rerr != nil {
		return info, headerError(rerr)
	}
	info.Tensors = len(seen)
	if len(seen) == 0 {
		return info, errors.New("the file has a whisper header and vocabulary but no weights (a tokenizer-only test file?)")
	}
	if len(seen) != len(want) {
		var missing []string
		for name := range want {
			if !seen[name] {
				missing = append(missing, name)
			}
		}
		sort.Strings(missing)
		return info, fmt.Errorf("the file is incomplete: %d of %d tensors, missing %s", len(seen), len(want), firstFew(missing))
	}
	return info, nil
}

func checkHparams(i Info) error {
	switch {
	case i.Vocab < vocabEnglish || i.Vocab > vocabMultiV3:
		return fmt.Errorf("the header gives a vocabulary of %d tokens; whisper models have %d to %d (not a whisper model, or a damaged one)", i.Vocab, vocabEnglish, vocabMultiV3)
	case i.AudioCtx < 1 || i.AudioCtx > maxAudioCtx, i.TextCtx < 1 || i.TextCtx > maxTextCtx:
		return fmt.Errorf("the header gives context sizes audio %d, text %d: out of range (damaged file?)", i.AudioCtx, i.TextCtx)
	case i.AudioState < 1 || i.AudioState > maxState || i.TextState != i.AudioState:
		return fmt.Errorf("the header gives widths audio %d, text %d: they must be equal and at most %d (damaged file?)", i.AudioState, i.TextState, maxState)
	case i.AudioHeads < 1 || i.TextHeads < 1 || i.AudioState%i.AudioHeads != 0 || i.TextState%i.TextHeads != 0:
		return fmt.Errorf("the header gives %d/%d attention heads for width %d (damaged file?)", i.AudioHeads, i.TextHeads, i.AudioState)
	case i.AudioLayers < 1 || i.AudioLayers > maxLayers || i.TextLayers < 1 || i.TextLayers > maxLayers:
		return fmt.Errorf("the header gives %d encoder and %d decoder layers (damaged file?)", i.AudioLayers, i.TextLayers)
	case i.Mels != 80 && i.Mels != 128:
		return fmt.Errorf("the header gives %d mel bands; whisper models use 80 or 128", i.Mels)
	}
	return nil
}

func modelType(i Info) string {
	name := map[int]string{4: "tiny", 6: "base", 12: "small", 24: "medium", 32: "large"}[i.AudioLayers]
	if name == "" {
		name = fmt.Sprintf("custom (%d layers)", i.AudioLayers)
	}
	if i.AudioLayers == 32 && i.Vocab == vocabMultiV3 {
		name = "large-v3"
	}
	if !i.Multilingual {
		name += ".en"
	}
	return name
}

type tensorSpec struct {
	ne  [4]int64
	typ int32
}

// expectedTensors lists the tensors whisper.cpp 1.9.3 creates for a model with this header
// (whisper_model_load, names from whisper-arch.h), with their shapes and types.
func expectedTensors(i Info, wtype int32) map[string]tensorSpec {
	n, nA, nT := int64(i.AudioState), int64(i.AudioCtx), int64(i.TextCtx)
	vtype := int32(typeF16) // the convolutions: f16 unless the whole model is f32
	if wtype == typeF32 {
		vtype = typeF32
	}
	t := map[string]tensorSpec{}
	add := func(name string, typ int32, ne ...int64) {
		s := tensorSpec{ne: [4]int64{1, 1, 1, 1}, typ: typ}
		copy(s.ne[:], ne)
		t[name] = s
	}
	add("encoder.positional_embedding", typeF32, n, nA)
	add("encoder.conv1.weight", vtype, 3, int64(i.Mels), n)
	add("encoder.conv1.bias", typeF32, 1, n)
	add("encoder.conv2.weight", vtype, 3, n, n)
	add("encoder.conv2.bias", typeF32, 1, n)
	add("encoder.ln_post.weight", typeF32, n)
	add("encoder.ln_post.bias", typeF32, n)
	block := func(p string, attn string) {
		add(p+attn+"_ln.weight", typeF32, n)
		add(p+attn+"_ln.bias", typeF32, n)
		add(p+attn+".query.weight", wtype, n, n)
		add(p+attn+".query.bias", typeF32, n)
		add(p+attn+".key.weight", wtype, n, n)
		add(p+attn+".value.weight", wtype, n, n)
		add(p+attn+".value.bias", typeF32, n)
		add(p+attn+".out.weight", wtype, n, n)
		add(p+attn+".out.bias", typeF32, n)
	}
	mlp := func(p string) {
		add(p+"mlp_ln.weight", typeF32, n)
		add(p+"mlp_ln.bias", typeF32, n)
		add(p+"mlp.0.weight", wtype, n, 4*n)
		add(p+"mlp.0.bias", typeF32, 4*n)
		add(p+"mlp.2.weight", wtype, 4*n, n)
		add(p+"mlp.2.bias", typeF32, n)
	}
	for l := range i.AudioLayers {
		p := fmt.Sprintf("encoder.blocks.%d.", l)
		mlp(p)
		block(p, "attn")
	}
	add("decoder.positional_embedding", typeF32, n, nT)
	add("decoder.token_embedding.weight", wtype, n, int64(i.Vocab))
	add("decoder.ln.weight", typeF32, n)
	add("decoder.ln.bias", typeF32, n)
	for l := range i.TextLayers {
		p := fmt.Sprintf("decoder.blocks.%d.", l)
		mlp(p)
		block(p, "attn")
		block(p, "cross_attn")
	}
	return t
}

// foreignFormat names the format of a file that is not a ggml file, as far as its first bytes tell.
func foreignFormat(head []byte, f *os.File, size int64) error {
	s := string(head)
	switch {
	case strings.HasPrefix(s, "GGUF"):
		g, _ := ggml.ReadGGUF(f, size) // what it read before any problem is enough
		if arch := printable(g.String("general.architecture")); arch == "whisper" {
			return errors.New("this is a GGUF whisper model; whisper.cpp " + Version() + " loads whisper models in the ggml .bin format (ggml-*.bin)")
		} else if arch != "" {
			return fmt.Errorf("this is a GGUF language model (architecture %q), not a whisper.cpp speech model: use it as the language model", arch)
		}
		return errors.New("this is a GGUF file (a language model format), not a whisper.cpp speech model")
	case strings.HasPrefix(s, "tjgg"), strings.HasPrefix(s, "fmgg"), strings.HasPrefix(s, "algg"):
		return errors.New("this is a model in an old llama.cpp format (ggjt/ggmf/ggla), not a whisper.cpp speech model")
	case strings.HasPrefix(s, "RIFF"):
		return errors.New("this is a RIFF file (a WAV recording?), not a model")
	case strings.HasPrefix(s, "PK\x03\x04"):
		return errors.New("this is a zip archive (a PyTorch checkpoint?): convert it to whisper.cpp's ggml format first")
	case len(head) >= 9 && head[8] == '{' && binary.LittleEndian.Uint64(head) < 1<<30:
		return errors.New("this is a safetensors file: convert it to whisper.cpp's ggml format first")
	case strings.HasPrefix(strings.TrimSpace(strings.ToLower(s)), "<!doctype"), strings.HasPrefix(strings.TrimSpace(strings.ToLower(s)), "<html"):
		return errors.New("this is a web page, not a model (a failed download?)")
	case strings.HasPrefix(s, "version https://git-lfs"):
		return errors.New("this is a Git LFS pointer, not the model itself: fetch the real file")
	}
	return fmt.Errorf("this is not a whisper.cpp model: it starts with % x, not the ggml signature", head[:4])
}

func dims(ne [4]int64) []int64 {
	d := ne[:]
	for len(d) > 1 && d[len(d)-1] == 1 {
		d = d[:len(d)-1]
	}
	return d
}

func firstFew(names []string) string {
	if len(names) > 3 {
		return strings.Join(names[:3], ", ") + fmt.Sprintf(" and %d more", len(names)-3)
	}
	return strings.Join(names, ", ")
}

// printable keeps a name read from a file safe to show: at most 64 printable characters.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return '?'
		}
		return r
	}, s)
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return s
}

func expName(t int32) string {
	tt, _ := typeOf(t)
	return tt.Name
}
