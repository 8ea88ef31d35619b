package main

import (
	"fmt"
	"io"

	"hark/app/config"
	"hark/dictation"
)

// keptDictationSet is dictation.store as `hark history wipe` finds it.
type keptDictationSet struct {
	store dictation.Store
	kept  []string
}

func keptDictations(cfg *config.Config) keptDictationSet {
	if cfg == nil {
		return keptDictationSet{}
	}
	dir, err := cfg.DictationStore()
	if err != nil {
		return keptDictationSet{}
	}
	st := dictation.Store{Dir: dir}
	kept, _ := st.Kept()
	return keptDictationSet{store: st, kept: kept}
}

func (k keptDictationSet) question() string {
	return fmt.Sprintf("Delete all %d kept dictations and notes in %s?", len(k.kept), k.store.Dir)
}

func (k keptDictationSet) wipe(stdout io.Writer) error {
	if len(k.kept) == 0 {
		return nil
	}
	n, err := k.store.Wipe()
	fmt.Fprintf(stdout, "Deleted %d kept dictations and notes in %s.\n", n, k.store.Dir)
	return err
}
