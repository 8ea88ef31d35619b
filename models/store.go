package models

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"hark/internal/atomicfile"
)

// SumsFile is the name of the checksum record in the models folder, in sha256sum's format,
// so `sha256sum -c SHA256SUMS` works there too.
const SumsFile = "SHA256SUMS"

// ErrNotInstalled is returned for a manifest model that has not been downloaded.
var ErrNotInstalled = errors.New("model not installed")

// Store is the folder that holds downloaded models.
type Store struct {
	Dir string
}

// DefaultDir is ~/.local/share/hark/models ($XDG_DATA_HOME/hark/models).
func DefaultDir() (string, error) {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" || !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("models: no home folder to keep models in (set models.dir): %w", err)
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "hark", "models"), nil
}

// NewStore returns the store in dir ("" = DefaultDir).
func NewStore(dir string) (*Store, error) {
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	return &Store{Dir: dir}, nil
}

// Path is where a manifest model lives in the store.
func (s *Store) Path(e Entry) string { return filepath.Join(s.Dir, e.File) }

func (s *Store) partPath(e Entry) string { return s.Path(e) + ".part" }

// Status describes a manifest model in the store.
type Status struct {
	Installed bool
	Size      int64 // bytes on disk (installed file)
	Partial   int64 // bytes of an interrupted download that `pull` resumes, 0 if none
}

// Status reports whether a model is installed or partly downloaded.
func (s *Store) Status(e Entry) Status {
	var st Status
	if fi, err := os.Stat(s.Path(e)); err == nil && fi.Mode().IsRegular() {
		st.Installed, st.Size = true, fi.Size()
	}
	if fi, err := os.Stat(s.partPath(e)); err == nil {
		st.Partial = fi.Size()
	}
	return st
}

// LocalFile is a model file found in the store.
type LocalFile struct {
	Path  string
	Size  int64
	Entry *Entry // nil for a file that is not in the manifest
}

// Files lists the model files (.bin, .gguf) in the store, by name.
func (s *Store) Files(m *Manifest) ([]LocalFile, error) {
	des, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	var out []LocalFile
	for _, de := range des {
		name := de.Name()
		if !de.Type().IsRegular() || !(strings.HasSuffix(name, ".bin") || strings.HasSuffix(name, ".gguf")) {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue
		}
		lf := LocalFile{Path: filepath.Join(s.Dir, name), Size: fi.Size()}
		if e, ok := m.ByFile(name); ok {
			lf.Entry = &e
		}
		out = append(out, lf)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Remove deletes a model's file, any partial download of it and its recorded checksum.
func (s *Store) Remove(e Entry) error {
	var errs []error
	found := false
	for _, p := range []string{s.Path(e), s.partPath(e), s.partPath(e) + ".json"} {
		err := os.Remove(p)
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, fs.ErrNotExist):
			errs = append(errs, err)
		}
	}
	if err := s.record(e.File, ""); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("models: remove %s: %w", e.Name, err)
	}
	if !found {
		return fmt.Errorf("models: %s: %w", e.Name, ErrNotInstalled)
	}
	return nil
}

// Recorded returns the SHA-256 the store recorded for a file when it was downloaded.
func (s *Store) Recorded(file string) (string, bool) {
	sums, err := s.readSums()
	if err != nil {
		return "", false
	}
	sum, ok := sums[file]
	return sum, ok
}

func (s *Store) readSums() (map[string]string, error) {
	f, err := os.Open(filepath.Join(s.Dir, SumsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, file, ok := strings.Cut(sc.Text(), "  ")
		if ok && hexSHA256.MatchString(sum) {
			sums[file] = sum
		}
	}
	return sums, sc.Err()
}

// record stores (or, with sum "", forgets) a file's SHA-256 in SHA256SUMS. A lock file keeps
// concurrent pulls from losing each other's lines.
func (s *Store) record(file, sum string) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(s.Dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	sums, err := s.readSums()
	if err != nil {
		return err
	}
	if sums[file] == sum {
		return nil
	}
	if sum == "" {
		delete(sums, file)
	} else {
		sums[file] = sum
	}
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return atomicfile.WriteFile(filepath.Join(s.Dir, SumsFile), []byte(b.String()), 0o644)
}

// Sums are a file's checksums.
type Sums struct {
	SHA256, SHA1 string
}

// HashFile computes a file's SHA-256 and SHA-1, stopping early when ctx is cancelled.
func HashFile(ctx context.Context, path string) (Sums, error) {
	f, err := os.Open(path)
	if err != nil {
		return Sums{}, err
	}
	defer f.Close()
	h256, h1 := sha256.New(), sha1.New()
	if err := copyCtx(ctx, io.MultiWriter(h256, h1), f); err != nil {
		return Sums{}, err
	}
	return Sums{hex.EncodeToString(h256.Sum(nil)), hex.EncodeToString(h1.Sum(nil))}, nil
}

func copyCtx(ctx context.Context, w io.Writer, r io.Reader) error {
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// VerifyResult says how a file's checksum was checked.
type VerifyResult struct {
	Sums Sums
	// Against names the reference: "published SHA-256", "published SHA-1", "SHA-256 recorded at
	// download", or "" when nothing was known to compare with.
	Against string
}

// ErrChecksum is returned when a file's checksum differs from the published or recorded one.
var ErrChecksum = errors.New("checksum mismatch")

// Verify hashes a file and compares it with the manifest entry's published checksums, or with
// the one the store recorded when it downloaded the file. e may be nil for a file outside the
// manifest.
func (s *Store) Verify(ctx context.Context, path string, e *Entry) (VerifyResult, error) {
	sums, err := HashFile(ctx, path)
	if err != nil {
		return VerifyResult{}, fmt.Errorf("models: verify %s: %w", path, err)
	}
	res := VerifyResult{Sums: sums}
	var want, against string
	switch {
	case e != nil && e.SHA256 != "":
		want, against = e.SHA256, "published SHA-256"
	case e != nil && e.SHA1 != "":
		want, against = e.SHA1, "published SHA-1"
	default:
		if rec, ok := s.Recorded(filepath.Base(path)); ok && filepath.Dir(path) == filepath.Clean(s.Dir) {
			want, against = rec, "SHA-256 recorded at download"
		}
	}
	res.Against = against
	got := sums.SHA256
	if against == "published SHA-1" {
		got = sums.SHA1
	}
	if want != "" && got != want {
		return res, fmt.Errorf("models: %s: %w: it hashes to %s, the %s is %s; the file is damaged or was replaced: delete it and download it again",
			path, ErrChecksum, got, against, want)
	}
	if e != nil && e.SHA1 != "" && e.SHA256 != "" && sums.SHA1 != e.SHA1 {
		return res, fmt.Errorf("models: %s: %w: SHA-1 %s, published %s", path, ErrChecksum, sums.SHA1, e.SHA1)
	}
	return res, nil
}

// Resolve turns a model reference from the configuration into a file path. A reference is a
// manifest name ("whisper-base.en"), or a path to a local .bin/.gguf file (absolute, relative
// to the working folder, or starting with ~/). It does not check the file's content (Check
// does).
func (s *Store) Resolve(m *Manifest, ref string, kind Kind) (string, *Entry, error) {
	if ref == "" {
		return "", nil, fmt.Errorf("models: no %s configured", kind.Describe())
	}
	if isPathRef(ref) {
		p, err := ExpandPath(ref)
		if err != nil {
			return "", nil, err
		}
		if _, err := os.Stat(p); err != nil {
			return "", nil, fmt.Errorf("models: %s file %s: %w", kind.Describe(), p, err)
		}
		var ent *Entry
		if e, ok := m.ByFile(filepath.Base(p)); ok {
			ent = &e
		}
		return p, ent, nil
	}
	e, ok := m.Lookup(ref)
	if !ok {
		msg := fmt.Sprintf("models: no model named %q in the manifest (`hark models list` shows them; a file path must end in .bin or .gguf)", ref)
		if sug := m.Suggest(ref); len(sug) > 0 {
			msg += "; did you mean " + strings.Join(sug, ", ") + "?"
		}
		return "", nil, errors.New(msg)
	}
	if e.Kind != kind {
		return "", nil, fmt.Errorf("models: %s is a %s, not a %s", e.Name, e.Kind.Describe(), kind.Describe())
	}
	p := s.Path(e)
	if _, err := os.Stat(p); err != nil {
		return p, &e, fmt.Errorf("models: %s is not downloaded yet (run `hark models pull %s`): %w", e.Name, e.Name, ErrNotInstalled)
	}
	return p, &e, nil
}

// Selection is the model in use for one kind: the configured reference (or the device class's
// default), and where its file is.
type Selection struct {
	Kind Kind
	// Ref is the manifest name or file path; ByDefault is set when it is the class's default
	// because the configuration names none.
	Ref       string
	ByDefault bool
	Entry     *Entry // the manifest entry, nil for a file outside the manifest
	Path      string
	Installed bool  // the file exists
	Err       error // why it cannot be used (not downloaded, missing file, unknown name)
}

// Select resolves the models for every kind: configured names the references from the
// configuration (models.asr, models.llm, models.vad; "" for the class default), class the
// device class. The first-run window uses it to see what is missing: selections with an Entry
// and !Installed can be downloaded with Pull; others need another file.
func (s *Store) Select(m *Manifest, class, lang string, configured map[Kind]string) []Selection {
	var out []Selection
	for _, k := range Kinds() {
		sel := Selection{Kind: k, Ref: configured[k]}
		if sel.Ref == "" {
			c, err := m.Class(class)
			if err != nil {
				sel.Err = err
				out = append(out, sel)
				continue
			}
			sel.Ref, sel.ByDefault = c.For(lang).Model(k), true
		}
		sel.Path, sel.Entry, sel.Err = s.Resolve(m, sel.Ref, k)
		sel.Installed = sel.Err == nil
		out = append(out, sel)
	}
	return out
}

func isPathRef(ref string) bool {
	return strings.ContainsRune(ref, filepath.Separator) || strings.HasPrefix(ref, "~") ||
		strings.HasSuffix(ref, ".bin") || strings.HasSuffix(ref, ".gguf")
}

// ExpandPath expands a leading ~/ and makes the path absolute.
func ExpandPath(p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("models: expand %s: %w", p, err)
		}
		p = filepath.Join(home, p[1:])
	}
	return filepath.Abs(p)
}

// newHashers returns the hashes a download of e needs.
func newHashers(e Entry) (h256, h1 hash.Hash) {
	h256 = sha256.New()
	if e.SHA1 != "" {
		h1 = sha1.New()
	}
	return h256, h1
}
