package main

import (
	"fmt"
	"os"
)

// openPrivateLog opens path for appending events: they hold what a person said and typed, so
// the file is the user's alone (0600), even one that existed with a looser mode. A pipe or a
// device (/dev/stdout) keeps its mode.
func openPrivateLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, fmt.Errorf("making %s private: %w", path, err)
		}
	}
	return f, nil
}
