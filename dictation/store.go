package dictation

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"hark/internal/atomicfile"
)

// A Store is the folder where dictations are kept when the person asks for it: one folder
// per dictation, named by when it was kept, holding its files (transcript, note). Folders are
// 0700 and files 0600: a dictation is often a clinic visit or a meeting. Retention deletes
// whole dictations by the time in their name.
type Store struct {
	Dir string
}

// stampLayout names a dictation's folder; it sorts in time order and has no ':' (Windows).
const stampLayout = "2006-01-02T15-04-05"

// Keep writes files (name → content) into a new dictation folder named by at, and returns
// the folder. Two dictations kept in the same second get "-2", "-3" after the name.
func (s Store) Keep(at time.Time, files map[string][]byte) (string, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		if n != filepath.Base(n) || strings.HasPrefix(n, ".") {
			return "", fmt.Errorf("keeping the dictation: bad file name %q", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return "", fmt.Errorf("keeping the dictation: %w", err)
	}
	base := filepath.Join(s.Dir, at.UTC().Format(stampLayout))
	dir := base
	for i := 2; ; i++ {
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i > 100 {
			return "", fmt.Errorf("keeping the dictation: %w", err)
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
	for _, n := range names {
		if err := atomicfile.WriteFile(filepath.Join(dir, n), files[n], 0o600); err != nil {
			return dir, fmt.Errorf("keeping the dictation: %w", err)
		}
	}
	return dir, nil
}

// Kept lists the kept dictations' folders, oldest first.
func (s Store) Kept() ([]string, error) {
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if _, ok := keptAt(e.Name()); ok && e.IsDir() {
			out = append(out, filepath.Join(s.Dir, e.Name()))
		}
	}
	return out, nil
}

func keptAt(name string) (time.Time, bool) {
	if len(name) < len(stampLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(stampLayout, name[:len(stampLayout)])
	return t, err == nil
}

// Prune deletes the dictations kept before now minus age (age 0: none) and returns how many.
func (s Store) Prune(now time.Time, age time.Duration) (int, error) {
	if age <= 0 {
		return 0, nil
	}
	kept, err := s.Kept()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range kept {
		if at, _ := keptAt(filepath.Base(d)); at.Before(now.Add(-age)) {
			if err := os.RemoveAll(d); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Wipe deletes every kept dictation and returns how many there were. Other files in the
// folder are left alone: it may be a folder the person also uses.
func (s Store) Wipe() (int, error) {
	kept, err := s.Kept()
	if err != nil {
		return 0, err
	}
	for i, d := range kept {
		if err := os.RemoveAll(d); err != nil {
			return i, err
		}
	}
	return len(kept), nil
}
