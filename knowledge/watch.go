package knowledge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Sources lists the added files and folders, as Add recorded them.
func (s *Store) Sources() ([]string, error) { return s.sources() }

// Refresh brings the index up to date with every added file and folder: new and changed
// documents are read, documents gone are dropped, unchanged ones are not read again (Rebuild
// reads everything). An added file or folder that is gone has its documents dropped but
// stays added, so it is read again if it comes back (a USB stick, a network share).
func (s *Store) Refresh(ctx context.Context) (Report, error) {
	src, err := s.sources()
	if err != nil {
		return Report{}, err
	}
	var rep Report
	for _, p := range src {
		if _, err := os.Stat(p); err != nil {
			gone, err := s.docsUnder(ctx, p)
			if err != nil {
				return rep, err
			}
			for _, d := range gone {
				if err := s.dropDoc(ctx, d); err != nil {
					return rep, err
				}
				rep.Removed = append(rep.Removed, d)
			}
			continue
		}
		if err := s.addTree(ctx, p, true, &rep); err != nil {
			return rep, err
		}
	}
	return rep, s.embedNew(ctx, &rep)
}

// Changed reports whether a Refresh or Rebuild changed the index.
func (r Report) Changed() bool { return len(r.Indexed) > 0 || len(r.Removed) > 0 }

// Watch keeps the index in step with the added files and folders until ctx ends: a document
// added, changed or removed is re-indexed without a restart. Changes are taken together once
// none has come for settle (an editor saves in several steps, a copy brings many files), then
// Refresh runs and changed hears what it did, when it did something or failed. Files and
// folders added to the index meanwhile (`hark knowledge add` in a terminal, the kiosk's admin
// settings) are watched from then on. Watch returns ctx's error, or why watching could not
// start.
func (s *Store) Watch(ctx context.Context, settle time.Duration, changed func(Report, error)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("knowledge: cannot watch the documents: %w", err)
	}
	defer w.Close()
	ws := &watchSet{w: w, watched: map[string]bool{}, list: s.sourcesPath()}
	if err := ws.sync(); err != nil {
		return err
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err, ok := <-w.Errors:
			if !ok {
				return ctx.Err()
			}
			// An overflowed event queue loses changes: look at everything.
			changed(Report{}, fmt.Errorf("knowledge: watching the documents: %w", err))
			timer.Reset(settle)
		case ev, ok := <-w.Events:
			if !ok {
				return ctx.Err()
			}
			if ws.relevant(ev) {
				timer.Reset(settle)
			}
		case <-timer.C:
			if err := ws.sync(); err != nil {
				changed(Report{}, err)
			}
			rep, err := s.Refresh(ctx)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil || rep.Changed() || len(rep.Skipped) > 0 {
				changed(rep, err)
			}
		}
	}
}

// watchSet is the folders a Watch has asked the system to report on: every folder under an
// added folder, the folder of an added file, and the folder of the list of added sources.
type watchSet struct {
	w       *fsnotify.Watcher
	watched map[string]bool
	list    string   // the sources list: a change to it adds or drops sources
	sources []string // as of the last sync
}

// sync watches the folders the sources now need, and no others.
func (ws *watchSet) sync() error {
	b, err := os.ReadFile(ws.list)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("knowledge: %w", err)
	}
	ws.sources = strings.Fields(string(b))
	want := map[string]bool{filepath.Dir(ws.list): true}
	for _, p := range ws.sources {
		fi, err := os.Stat(p)
		if err != nil || !fi.IsDir() {
			want[filepath.Dir(p)] = true // a file, or a folder that is gone: its parent shows it (re)appear
			continue
		}
		_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if q != p && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			want[q] = true
			return nil
		})
	}
	for d := range ws.watched {
		if !want[d] {
			_ = ws.w.Remove(d)
			delete(ws.watched, d)
		}
	}
	var failed []string
	for d := range want {
		if ws.watched[d] {
			continue
		}
		if err := ws.w.Add(d); err != nil {
			if _, serr := os.Stat(d); serr == nil {
				failed = append(failed, d+": "+err.Error())
			}
			continue
		}
		ws.watched[d] = true
	}
	if len(failed) > 0 {
		return fmt.Errorf("knowledge: cannot watch %s", strings.Join(failed, "; "))
	}
	return nil
}

// relevant says whether an event can change the index: the sources list changed, or a
// document (or a folder, which may hold documents) under a source was created, written,
// removed or renamed. The index's own files and editors' hidden temporary files are not.
func (ws *watchSet) relevant(ev fsnotify.Event) bool {
	if ev.Name == ws.list {
		return true
	}
	if ev.Op == fsnotify.Chmod || strings.HasPrefix(filepath.Base(ev.Name), ".") {
		return false
	}
	under := false
	for _, p := range ws.sources {
		if ev.Name == p || strings.HasPrefix(ev.Name, strings.TrimSuffix(p, "/")+"/") {
			under = true
			break
		}
	}
	if !under {
		return false
	}
	if kindOf(ev.Name) != "" {
		return true
	}
	// A folder created, removed or renamed: its documents come or go with it. Whether a
	// removed name was a folder cannot be asked any more; a write to a file of another kind
	// changes nothing.
	return !ev.Has(fsnotify.Write)
}
