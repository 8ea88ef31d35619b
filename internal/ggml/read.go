package ggml

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Kinds of header problem; every *Error wraps one.
var (
	ErrTruncated = errors.New("the file is truncated")
	ErrCorrupt   = errors.New("the file is corrupt")
	ErrVersion   = errors.New("unsupported format version")
	ErrType      = errors.New("unknown tensor type")
)

// Error is a problem in a model file's header. For ErrTruncated, What is what was being read
// when the file ended, or (Data) the tensor whose weights run past it; otherwise it says what
// is wrong. The engines' checks put their own words and advice around it.
type Error struct {
	Err  error
	What string
	Size int64 // the file's size
	Data bool
}

func (e *Error) Error() string {
	switch {
	case e.Err != ErrTruncated:
		return e.What
	case e.Data:
		return fmt.Sprintf("%s, but the file ends at byte %d", e.What, e.Size)
	}
	return fmt.Sprintf("it ends at byte %d, inside %s", e.Size, e.What)
}

func (e *Error) Unwrap() error { return e.Err }

// reader reads little-endian values, knows its offset and the file's size (so no damaged
// length makes it allocate or read past the end), and seeks over large spans when it can.
type reader struct {
	src  io.Reader
	br   *bufio.Reader
	off  int64
	size int64
	buf  [8]byte
}

func newReader(r io.Reader, size int64) *reader {
	return &reader{src: r, br: bufio.NewReaderSize(r, 64<<10), size: size}
}

func (r *reader) short(what string) error { return &Error{Err: ErrTruncated, What: what, Size: r.size} }

func (r *reader) corrupt(format string, args ...any) error {
	return &Error{Err: ErrCorrupt, What: fmt.Sprintf(format, args...), Size: r.size}
}

// read fills p; a file that ends first is an *Error naming what.
func (r *reader) read(p []byte, what string) error {
	if int64(len(p)) > r.size-r.off {
		return r.short(what)
	}
	n, err := io.ReadFull(r.br, p)
	r.off += int64(n)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.short(what) // shorter than it said when it was opened
	}
	return err
}

func (r *reader) u32(what string) (uint32, error) {
	err := r.read(r.buf[:4], what)
	return binary.LittleEndian.Uint32(r.buf[:4]), err
}

func (r *reader) i32(what string) (int32, error) {
	v, err := r.u32(what)
	return int32(v), err
}

func (r *reader) u64(what string) (uint64, error) {
	err := r.read(r.buf[:8], what)
	return binary.LittleEndian.Uint64(r.buf[:8]), err
}

func (r *reader) bytes(n uint64, what string) ([]byte, error) {
	if n > uint64(r.size-r.off) {
		return nil, r.short(what)
	}
	b := make([]byte, n)
	return b, r.read(b, what)
}

// skip moves n bytes on without reading them where the source can seek.
func (r *reader) skip(n uint64, what string) error {
	if n > uint64(r.size-r.off) {
		return r.short(what)
	}
	if s, ok := r.src.(io.Seeker); ok && n > uint64(r.br.Buffered()) {
		if _, err := s.Seek(r.off+int64(n), io.SeekStart); err != nil {
			return err
		}
		r.br.Reset(r.src)
		r.off += int64(n)
		return nil
	}
	d, err := r.br.Discard(int(n))
	r.off += int64(d)
	if errors.Is(err, io.EOF) {
		return r.short(what)
	}
	return err
}

// TensorBytes is the stored size of a tensor of type t with dimensions ne: an ErrType error
// for a type ggml does not have, ErrCorrupt for a shape that does not fit the type's blocks.
func TensorBytes(t uint32, ne []int64) (int64, error) {
	tt, ok := TypeOf(t)
	if !ok {
		return 0, &Error{Err: ErrType, What: fmt.Sprintf("tensor type %d", t)}
	}
	if len(ne) == 0 {
		return tt.Size, nil
	}
	if ne[0]%tt.Block != 0 {
		return 0, &Error{Err: ErrCorrupt, What: fmt.Sprintf("a row of %d values does not fit %s blocks of %d", ne[0], tt.Name, tt.Block)}
	}
	n := ne[0] / tt.Block * tt.Size
	for _, d := range ne[1:] {
		if d <= 0 || n > (1<<62)/d {
			return 0, &Error{Err: ErrCorrupt, What: fmt.Sprintf("tensor dimensions %v are impossible", ne)}
		}
		n *= d
	}
	return n, nil
}

// tensorError puts a tensor's name in front of a TensorBytes error.
func tensorError(name string, err error, size int64) error {
	var e *Error
	if errors.As(err, &e) {
		format := "tensor %q: %s"
		if e.Err == ErrType {
			format = "tensor %q has %s"
		}
		return &Error{Err: e.Err, What: fmt.Sprintf(format, name, e.What), Size: size}
	}
	return err
}
