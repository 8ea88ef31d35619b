package asr

import (
	"bufio"
	"bytes"
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

// ggml constants from whisper.cpp 1.9.3's ggml.h and whisper.cpp.
const (
	ggmlMagic       = 0x67676d6c // "ggml", stored little-endian: "lmgg"
	ggufMagic       = 0x46554747 // "GGUF"
	qntVersion      = 2          // GGML_QNT_VERSION: the quantisation format this build reads
	qntFactor       = 1000       // GGML_QNT_VERSION_FACTOR
	nFFTBins        = 201        // WHISPER_N_FFT/2 + 1
	maxTokenBytes   = 1 << 10    // longest vocabulary entry accepted (real ones are < 200 bytes)
	maxNameBytes    = 256        // longest tensor name accepted
	vocabEnglish    = 51864      // n_vocab of the English-only models
	vocabMultiV3    = 51866      // n_vocab of large-v3 (100 languages)
	firstLangVocab  = 51765      // n_vocab - firstLangVocab - multilingual = number of languages
	maxAudioCtx     = 1500       // 30 s: whisper's mel window is fixed at 3000 frames
	maxTextCtx      = 4096
	maxState        = 8192
	maxLayers       = 128
	tensorHeaderLen = 12 // n_dims, name length, type: three int32
)

// typeOf returns ggml tensor type t's layout from the table shared with models and llm
// (TestTypeTableMatchesGGML checks it against whisper.cpp's ggml).
func typeOf(t int32) (ggml.Type, bool) {
	if t < 0 {
		return ggml.Type{}, false
	}
	return ggml.TypeOf(uint32(t))
}

// ftypeWeight maps a model's ftype (ggml_ftype) to the type of its large matrices, as
// ggml_ftype_to_ggml_type does. Any other ftype makes whisper.cpp abort the process.
var ftypeWeight = map[int32]int32{
	0: 0, 1: 1, 2: 2, 3: 3, 7: 8, 8: 6, 9: 7, 10: 10, 11: 11, 12: 12, 13: 13, 14: 14,
	15: 16, 16: 17, 17: 18, 18: 19, 19: 20, 20: 21, 21: 22, 22: 23, 23: 29, 24: 30,
	25: 39, 26: 40, 27: 41, 28: 42,
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
	info, err := checkModel(bufio.NewReaderSize(f, 1<<16), st.Size())
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

// modelReader reads little-endian values and counts the offset, reporting truncation as a
// format error that says where the file ends.
type modelReader struct {
	r    *bufio.Reader
	off  int64
	size int64
}

var errShort = errors.New("short")

func (m *modelReader) read(p []byte) error {
	n, err := io.ReadFull(m.r, p)
	m.off += int64(n)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errShort
	}
	if err != nil {
		return readError{err}
	}
	return nil
}

func (m *modelReader) i32() (int32, error) {
	var b [4]byte
	if err := m.read(b[:]); err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(b[:])), nil
}

// skip moves n bytes on, failing (without reading them) when the file is shorter.
func (m *modelReader) skip(n int64) error {
	if n < 0 || m.off+n > m.size {
		return errShort
	}
	d, err := m.r.Discard(int(n))
	m.off += int64(d)
	if err != nil {
		if err == io.EOF {
			return errShort
		}
		return readError{err}
	}
	return nil
}

// truncated wraps a short read with what was being read and where the file ends.
func (m *modelReader) truncated(what string, err error) error {
	if errors.Is(err, errShort) {
		return fmt.Errorf("the file is truncated: it ends at byte %d, inside %s (an incomplete download or copy?)", m.size, what)
	}
	return err
}

func checkModel(r *bufio.Reader, size int64) (Info, error) {
	info := Info{FileBytes: size}
	if size == 0 {
		return info, errors.New("the file is empty")
	}
	head, _ := r.Peek(64)
	if len(head) < 4 {
		return info, fmt.Errorf("the file is only %d bytes long: too short to be a model", len(head))
	}
	if magic := binary.LittleEndian.Uint32(head); magic != ggmlMagic {
		return info, foreignFormat(head, r)
	}
	if isSilero(head) {
		return info, errors.New("this is the Silero voice-activity (VAD) model, not a whisper.cpp speech model: use it as the VAD model")
	}
	m := &modelReader{r: r, size: size}
	_ = m.skip(4)

	var hp [11]int32
	for i := range hp {
		v, err := m.i32()
		if err != nil {
			return info, m.truncated("the model header", err)
		}
		hp[i] = v
	}
	info.Vocab, info.AudioCtx, info.AudioState, info.AudioHeads, info.AudioLayers = int(hp[0]), int(hp[1]), int(hp[2]), int(hp[3]), int(hp[4])
	info.TextCtx, info.TextState, info.TextHeads, info.TextLayers, info.Mels = int(hp[5]), int(hp[6]), int(hp[7]), int(hp[8]), int(hp[9])
	ftype := hp[10]
	if err := checkHparams(info); err != nil {
		return info, err
	}
	if q := ftype / qntFactor; q > qntVersion {
		return info, fmt.Errorf("the model was quantised with a newer ggml format (version %d; this build of whisper.cpp %s reads up to %d): quantise it again or use an unquantised model", q, Version(), qntVersion)
	} else if q < 0 {
		return info, fmt.Errorf("bad weight type %d in the model header", ftype)
	}
	wtype, ok := ftypeWeight[ftype%qntFactor]
	if !ok {
		return info, fmt.Errorf("unknown weight type %d in the model header (a newer or damaged file?)", ftype%qntFactor)
	}
	wt, _ := typeOf(wtype)
	info.WeightType = wt.Name
	info.Multilingual = info.Vocab >= vocabEnglish+1
	info.Type = modelType(info)
	nLang := info.Vocab - firstLangVocab
	if info.Multilingual {
		nLang--
		info.Languages = languageCodes(nLang)
	} else {
		info.Languages = []string{"en"}
	}

	// mel filters
	nMel, err := m.i32()
	if err != nil {
		return info, m.truncated("the mel filters", err)
	}
	nFFT, err := m.i32()
	if err != nil {
		return info, m.truncated("the mel filters", err)
	}
	if int(nMel) != info.Mels || nFFT != nFFTBins {
		return info, fmt.Errorf("the mel filter bank is %d×%d; the header says %d mel bands (×%d)", nMel, nFFT, info.Mels, nFFTBins)
	}
	if err := m.skip(int64(nMel) * int64(nFFT) * 4); err != nil {
		return info, m.truncated("the mel filters", err)
	}

	// vocabulary
	nWords, err := m.i32()
	if err != nil {
		return info, m.truncated("the vocabulary", err)
	}
	if nWords < 0 || int(nWords) > info.Vocab {
		return info, fmt.Errorf("the vocabulary has %d entries; the header says at most %d", nWords, info.Vocab)
	}
	for i := range nWords {
		n, err := m.i32()
		if err != nil {
			return info, m.truncated(fmt.Sprintf("vocabulary entry %d", i), err)
		}
		if n < 0 || n > maxTokenBytes {
			return info, fmt.Errorf("vocabulary entry %d is %d bytes long (damaged file?)", i, uint32(n))
		}
		if err := m.skip(int64(n)); err != nil {
			return info, m.truncated(fmt.Sprintf("vocabulary entry %d", i), err)
		}
	}

	// tensors, up to the end of the file
	want := expectedTensors(info, wtype)
	seen := make(map[string]bool, len(want))
	for m.off < m.size {
		start := m.off
		var h [3]int32
		for i := range h {
			v, err := m.i32()
			if err != nil {
				return info, m.truncated(fmt.Sprintf("the header of tensor %d (at byte %d)", len(seen)+1, start), err)
			}
			h[i] = v
		}
		nDims, nameLen, typ := h[0], h[1], h[2]
		if nDims < 1 || nDims > 4 {
			return info, fmt.Errorf("tensor %d (at byte %d) has %d dimensions (damaged file?)", len(seen)+1, start, nDims)
		}
		if nameLen < 1 || nameLen > maxNameBytes {
			return info, fmt.Errorf("tensor %d (at byte %d) has a %d-byte name (damaged file?)", len(seen)+1, start, nameLen)
		}
		ne := [4]int64{1, 1, 1, 1}
		for i := range nDims {
			v, err := m.i32()
			if err != nil {
				return info, m.truncated(fmt.Sprintf("the header of tensor %d (at byte %d)", len(seen)+1, start), err)
			}
			if v < 1 {
				return info, fmt.Errorf("tensor %d (at byte %d) has dimension %d = %d", len(seen)+1, start, i, v)
			}
			ne[i] = int64(v)
		}
		nameB := make([]byte, nameLen)
		if err := m.read(nameB); err != nil {
			return info, m.truncated(fmt.Sprintf("the header of tensor %d (at byte %d)", len(seen)+1, start), err)
		}
		name := string(nameB)
		exp, ok := want[name]
		if !ok {
			return info, fmt.Errorf("unexpected tensor %q (at byte %d): not part of a whisper model with this header", printable(name), start)
		}
		if seen[name] {
			return info, fmt.Errorf("tensor %q appears twice", name)
		}
		seen[name] = true
		if ne != exp.ne {
			return info, fmt.Errorf("tensor %q has shape %v; the header implies %v", name, dims(ne), dims(exp.ne))
		}
		t, ok := typeOf(typ)
		if !ok {
			return info, fmt.Errorf("tensor %q has unknown type %d", name, typ)
		}
		if typ != exp.typ {
			return info, fmt.Errorf("tensor %q is %s; a model of weight type %s needs %s", name, t.Name, info.WeightType, expName(exp.typ))
		}
		if ne[0]%t.Block != 0 {
			return info, fmt.Errorf("tensor %q: a row of %d values cannot be stored as %s (blocks of %d)", name, ne[0], t.Name, t.Block)
		}
		n := ne[0] * ne[1] * ne[2] * ne[3] / t.Block * t.Size
		if err := m.skip(n); err != nil {
			return info, fmt.Errorf("the file is truncated: tensor %q needs %d bytes from byte %d, but the file ends at byte %d (an incomplete download or copy?)", name, n, m.off, m.size)
		}
		info.WeightBytes += n
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

// isSilero recognises whisper.cpp's VAD model file: the ggml magic, then a length-prefixed model
// type string such as "silero-16k" where a speech model has its vocabulary size.
func isSilero(head []byte) bool {
	if len(head) < 14 {
		return false
	}
	n := binary.LittleEndian.Uint32(head[4:])
	return n >= 6 && n <= 32 && bytes.HasPrefix(head[8:], []byte("silero"))
}

// foreignFormat names the format of a file that is not a ggml file, as far as its first bytes tell.
func foreignFormat(head []byte, r *bufio.Reader) error {
	s := string(head)
	switch {
	case strings.HasPrefix(s, "GGUF"):
		if arch := ggufArchitecture(r); arch == "whisper" {
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

// ggufArchitecture reads general.architecture from a GGUF header, or "" when it cannot.
func ggufArchitecture(r *bufio.Reader) string {
	m := &modelReader{r: r, size: 1 << 40}
	var b8 [8]byte
	u64 := func() (uint64, bool) {
		if m.read(b8[:]) != nil {
			return 0, false
		}
		return binary.LittleEndian.Uint64(b8[:]), true
	}
	str := func() (string, bool) {
		n, ok := u64()
		if !ok || n > 1<<16 {
			return "", false
		}
		b := make([]byte, n)
		if m.read(b) != nil {
			return "", false
		}
		return string(b), true
	}
	// sizes of GGUF's fixed-size value types (gguf.h: uint8 ... float64)
	fixed := map[int32]int64{0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
	const ggufString, ggufArray = 8, 9
	skipValue := func(typ int32) bool {
		if n, ok := fixed[typ]; ok {
			return m.skip(n) == nil
		}
		if typ == ggufString {
			_, ok := str()
			return ok
		}
		if typ != ggufArray {
			return false
		}
		et, err := m.i32()
		if err != nil {
			return false
		}
		count, ok := u64()
		if !ok || count > 1<<24 {
			return false
		}
		if n, ok := fixed[et]; ok {
			return m.skip(n*int64(count)) == nil
		}
		if et != ggufString {
			return false
		}
		for range count {
			if _, ok := str(); !ok {
				return false
			}
		}
		return true
	}
	if m.skip(8) != nil { // magic, version
		return ""
	}
	if _, ok := u64(); !ok { // tensor count
		return ""
	}
	nKV, ok := u64()
	if !ok {
		return ""
	}
	for range min(nKV, 64) {
		key, ok := str()
		if !ok {
			return ""
		}
		typ, err := m.i32()
		if err != nil {
			return ""
		}
		if key == "general.architecture" && typ == ggufString {
			val, _ := str()
			return printable(val)
		}
		if !skipValue(typ) {
			return ""
		}
	}
	return ""
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
