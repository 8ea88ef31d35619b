package models

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Format is the container format of a model file.
type Format string

// The formats Hark's engines read.
const (
	FormatGGUF    Format = "gguf"         // llama.cpp language models
	FormatWhisper Format = "whisper-ggml" // whisper.cpp speech models (legacy ggml .bin)
	FormatSilero  Format = "silero-ggml"  // whisper.cpp's Silero VAD (legacy ggml .bin)
)

// Kind returns the kind of model a format holds.
func (f Format) Kind() Kind {
	switch f {
	case FormatGGUF:
		return LLM
	case FormatWhisper:
		return ASR
	case FormatSilero:
		return VAD
	}
	return ""
}

// Info is what the header check learned about a model file.
type Info struct {
	Path   string
	Size   int64
	Format Format
	Kind   Kind
	// Version is the GGUF version, or the ggml quantization version of a whisper/Silero file.
	Version int
	// Architecture is GGUF's general.architecture (e.g. "qwen2", "llama"), "whisper", or the
	// VAD model type ("silero-16k").
	Architecture string
	// Name is GGUF's general.name, the whisper size ("base", "small", ...) or the Silero version.
	Name string
	// FileType is the weight encoding: "Q4_K_M", "f16", "q5_1", ...
	FileType string
	// Multilingual is set for whisper models that transcribe languages other than English.
	Multilingual bool
	// ContextLength is the GGUF model's training context, 0 if it does not say.
	ContextLength int
	// ChatTemplate tells whether a GGUF model carries a chat template.
	ChatTemplate bool
	Tensors      int
}

// Describe returns a one-line description of the file for people.
func (i Info) Describe() string {
	var b strings.Builder
	switch i.Format {
	case FormatGGUF:
		fmt.Fprintf(&b, "GGUF v%d language model", i.Version)
		if i.Architecture != "" {
			fmt.Fprintf(&b, ", architecture %s", i.Architecture)
		}
		if i.Name != "" {
			fmt.Fprintf(&b, " (%s)", i.Name)
		}
	case FormatWhisper:
		fmt.Fprintf(&b, "whisper.cpp speech model, size %s", i.Name)
		if i.Multilingual {
			b.WriteString(", multilingual")
		} else {
			b.WriteString(", English only")
		}
	case FormatSilero:
		fmt.Fprintf(&b, "Silero voice activity detector %s (%s)", i.Name, i.Architecture)
	default:
		b.WriteString("unknown format")
	}
	if i.FileType != "" {
		fmt.Fprintf(&b, ", %s", i.FileType)
	}
	fmt.Fprintf(&b, ", %d tensors, %s", i.Tensors, FormatBytes(i.Size))
	return b.String()
}

// Problems a check reports; test with errors.Is on the returned error.
var (
	ErrMissing     = errors.New("model file not found")
	ErrEmpty       = errors.New("model file is empty")
	ErrTruncated   = errors.New("model file is truncated")
	ErrNotAModel   = errors.New("not a model file Hark can read")
	ErrVersion     = errors.New("unsupported model format version")
	ErrCorrupt     = errors.New("model file is damaged")
	ErrWrongKind   = errors.New("wrong kind of model")
	ErrUnsupported = errors.New("model uses a feature this version of Hark cannot load")
)

// CheckError is a failed model check: which file, what is wrong, and what to do about it.
type CheckError struct {
	Path    string
	Problem string // what is wrong, in words
	Fix     string // what the person can do
	Err     error  // one of the Err* values above
}

func (e *CheckError) Error() string {
	msg := e.Path + ": " + e.Problem
	if e.Fix != "" {
		msg += ". " + e.Fix
	}
	return msg
}

func (e *CheckError) Unwrap() error { return e.Err }

const fixRedownload = "Delete it and download it again (`hark models pull`), or pick another file"

// Check reads a model file's header and structure without loading its weights, and reports
// what the file is. It dispatches on the file's magic bytes (GGUF, or whisper.cpp's ggml for
// whisper and Silero VAD models), checks the format version, that every tensor the header
// lists lies inside the file (no truncation), and that the file's name does not claim another
// kind of model. Every failure is a *CheckError naming the file and what to do.
//
// Check is pure Go and never calls into the engines; the engines' own CheckFile functions
// (injected through Checkers) go deeper.
func Check(path string) (Info, error) {
	info := Info{Path: path}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return info, &CheckError{path, "no such file", "Check the path, or download a model with `hark models pull`", ErrMissing}
	case err != nil:
		return info, &CheckError{path, "cannot be read: " + err.Error(), "", ErrMissing}
	case st.IsDir():
		return info, &CheckError{path, "is a folder, not a model file", "Point to the .bin or .gguf file inside it", ErrNotAModel}
	case st.Size() == 0:
		return info, &CheckError{path, "is empty (0 bytes): the download or copy did not finish", fixRedownload, ErrEmpty}
	}
	info.Size = st.Size()
	f, err := os.Open(path)
	if err != nil {
		return info, &CheckError{path, "cannot be opened: " + err.Error(), "", ErrMissing}
	}
	defer f.Close()

	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return info, &CheckError{path, "cannot be read: " + err.Error(), "", ErrMissing}
	}
	r := newReader(f, info.Size)
	switch {
	case bytes.HasPrefix(head, []byte("GGUF")):
		err = checkGGUF(r, &info)
	case len(head) >= 4 && binary.LittleEndian.Uint32(head) == ggmlMagic:
		err = checkGGML(r, &info)
	default:
		return info, notAModel(path, head)
	}
	if err != nil {
		return info, asCheckError(path, r, err)
	}
	if err := checkName(path, info); err != nil {
		return info, err
	}
	return info, nil
}

// CheckKind is Check for a file that must hold a model of the given kind (the one a setting
// such as models.asr names).
func CheckKind(path string, want Kind) (Info, error) {
	info, err := Check(path)
	if err != nil {
		return info, err
	}
	// Any GGUF model can embed (a language model is mean-pooled); the header cannot tell an
	// embedding model from a language model, so Check calls both LLM.
	if want != "" && info.Kind != want && !(want == Embed && info.Kind == LLM) {
		return info, &CheckError{path,
			fmt.Sprintf("is a %s (%s), not a %s", info.Kind.Describe(), info.Describe(), want.Describe()),
			fmt.Sprintf("Use it as models.%s, and set models.%s to a %s", info.Kind, want, want.FileHint()), ErrWrongKind}
	}
	return info, nil
}

// A Checker is an engine's own deep check of a file (asr.CheckFile, llm.CheckFile), adapted
// by main. It runs after Check has accepted the file's header.
type Checker func(path string) error

// Checkers holds the engines' deep checks by format. main fills it in; the models package
// stays free of cgo.
type Checkers map[Format]Checker

// CheckKind runs models.CheckKind and then the engine check registered for the file's format.
func (c Checkers) CheckKind(path string, want Kind) (Info, error) {
	info, err := CheckKind(path, want)
	if err != nil {
		return info, err
	}
	if deep := c[info.Format]; deep != nil {
		if err := deep(path); err != nil {
			return info, err
		}
	}
	return info, nil
}

// checkName rejects a file whose name promises another kind of model than it holds, such as
// a GGUF language model saved as ggml-base.en.bin: loading it in the wrong engine would fail
// with a far less helpful message.
func checkName(path string, info Info) error {
	base := strings.ToLower(filepath.Base(path))
	var named Kind
	switch {
	case strings.Contains(base, "silero") || strings.Contains(base, "-vad"):
		named = VAD
	case strings.HasSuffix(base, ".gguf"):
		named = LLM
	case strings.HasPrefix(base, "ggml-") && strings.HasSuffix(base, ".bin"), strings.Contains(base, "whisper"):
		named = ASR
	}
	if named == "" || named == info.Kind {
		return nil
	}
	return &CheckError{path,
		fmt.Sprintf("is named like a %s but holds a %s (%s)", named.Describe(), info.Kind.Describe(), info.Describe()),
		"The file was probably saved under the wrong name; download the right file again, or rename it and use it as models." + string(info.Kind),
		ErrWrongKind}
}

// notAModel explains what a file that is no model file probably is instead.
func notAModel(path string, head []byte) error {
	what := "does not start with a model signature (its first bytes are " + printable(head) + ")"
	fix := "Hark reads whisper.cpp .bin, Silero VAD .bin and GGUF files; download one with `hark models pull`"
	lower := bytes.ToLower(bytes.TrimSpace(head))
	switch {
	case bytes.HasPrefix(lower, []byte("<!doctype")) || bytes.HasPrefix(lower, []byte("<html")) || bytes.HasPrefix(lower, []byte("<?xml")):
		what = "is a web page, not a model: the download saved an error or login page"
		fix = fixRedownload
	case bytes.HasPrefix(head, []byte("version https://git-lfs")):
		what = "is a Git LFS pointer, not the model: the repository was cloned without git-lfs"
		fix = "Download the file itself (`hark models pull`), or run `git lfs pull` in the clone"
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		what = "is a zip archive or PyTorch checkpoint, not a ggml/GGUF model"
		fix = "Use the whisper.cpp ggml .bin or the GGUF version of the model, or unpack the archive first"
	case len(head) >= 10 && bytes.HasPrefix(head[8:], []byte("{\"")):
		what = "is a safetensors checkpoint, not a GGUF model"
		fix = "Download the GGUF version of the model (Hugging Face repositories named ...-GGUF)"
	case bytes.HasPrefix(head, []byte("ggjt")) || bytes.HasPrefix(head, []byte("tjgg")) || bytes.HasPrefix(head, []byte("ggmf")) || bytes.HasPrefix(head, []byte("fmgg")) || bytes.HasPrefix(head, []byte("ggla")):
		what = "is in an old llama.cpp format (GGML/GGJT, before GGUF replaced it in August 2023)"
		fix = "Download the GGUF version of the model"
	case bytes.HasPrefix(head, []byte("FUGG")):
		what = "is a big-endian GGUF file, made for another kind of processor"
		fix = "Download the ordinary (little-endian) GGUF file"
	}
	return &CheckError{path, what, fix, ErrNotAModel}
}

func printable(b []byte) string {
	if len(b) > 8 {
		b = b[:8]
	}
	var s strings.Builder
	s.WriteByte('"')
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, "\\x%02x", c)
		}
	}
	s.WriteByte('"')
	return s.String()
}

// formatError is raised by the format parsers; asCheckError turns it into a CheckError.
type formatError struct {
	kind    error
	problem string
	fix     string
}

func (e *formatError) Error() string { return e.problem }

func corrupt(format string, args ...any) error {
	return &formatError{ErrCorrupt, fmt.Sprintf(format, args...), fixRedownload}
}

func asCheckError(path string, r *reader, err error) error {
	var fe *formatError
	switch {
	case errors.As(err, &fe):
		return &CheckError{path, fe.problem, fe.fix, fe.kind}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &CheckError{path,
			fmt.Sprintf("is truncated: it ends at byte %d, inside its header", r.size),
			"The download or copy stopped early. " + fixRedownload, ErrTruncated}
	}
	return &CheckError{path, "cannot be read: " + err.Error(), "", ErrCorrupt}
}

// truncated reports a file that is shorter than its own header says.
func truncated(size, want int64) error {
	return &formatError{ErrTruncated,
		fmt.Sprintf("is truncated: it has %d bytes but its header describes %d (the last %s are missing)",
			size, want, FormatBytes(want-size)),
		"The download or copy stopped early. " + fixRedownload}
}

// reader reads little-endian values through a buffer and tracks the offset, so errors can
// say where a file ends. Large skips seek instead of reading.
type reader struct {
	f    io.ReadSeeker
	br   *bufio.Reader
	buf  [8]byte
	off  int64
	size int64
}

func newReader(f io.ReadSeeker, size int64) *reader {
	return &reader{f: f, br: bufio.NewReaderSize(f, 64<<10), size: size}
}

func (r *reader) read(n int) ([]byte, error) {
	if _, err := io.ReadFull(r.br, r.buf[:n]); err != nil {
		return nil, err
	}
	r.off += int64(n)
	return r.buf[:n], nil
}

func (r *reader) u32() (uint32, error) {
	b, err := r.read(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (r *reader) i32() (int32, error) {
	v, err := r.u32()
	return int32(v), err
}

func (r *reader) u64() (uint64, error) {
	b, err := r.read(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// bytes reads n bytes. n is checked against the file size first, so a damaged length cannot
// make it allocate gigabytes.
func (r *reader) bytes(n int64) ([]byte, error) {
	if n < 0 || n > r.size-r.off {
		return nil, io.ErrUnexpectedEOF
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.br, b); err != nil {
		return nil, err
	}
	r.off += n
	return b, nil
}

// skip moves n bytes forward, failing if that passes the end of the file.
func (r *reader) skip(n int64) error {
	if n < 0 || n > r.size-r.off {
		return io.ErrUnexpectedEOF
	}
	if n <= int64(r.br.Buffered()) {
		_, err := r.br.Discard(int(n))
		r.off += n
		return err
	}
	if _, err := r.f.Seek(r.off+n, io.SeekStart); err != nil {
		return err
	}
	r.br.Reset(r.f)
	r.off += n
	return nil
}

// atEOF tells whether every byte of the file has been read.
func (r *reader) atEOF() bool { return r.off >= r.size }

// FormatBytes formats a size for people: "142.0 MB".
func FormatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
