// Package localeinit gives Fyne a language it can parse before Fyne reads the environment.
//
// Fyne's lang package reads the locale in its init function and logs "Error parsing user
// locale C" for Debian's default LANG=C.UTF-8 when LANGUAGE is unset. Go initializes packages
// in import-path order among those whose imports are ready; this package imports only os
// (which Fyne's lang needs through log), so "hark/..." is initialized before "log" and with it
// before Fyne. Import it for its side effect from package main.
//
// It imports nothing but os on purpose: every other import could delay it past Fyne.
package localeinit

import "os"

// Original is LANGUAGE as the process found it ("" when unset), before this package set it.
var Original = os.Getenv("LANGUAGE")

// Patched reports whether init set LANGUAGE.
var Patched bool

func init() {
	if Original != "" {
		return
	}
	if cLocale(effective()) {
		// gettext's LANGUAGE names the messages' language only; "en" is what a C locale means.
		Patched = os.Setenv("LANGUAGE", "en") == nil
	}
}

// effective is the locale gettext uses for messages: the first of LC_ALL, LC_MESSAGES and
// LANG that is set.
func effective() string {
	for _, k := range [...]string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// cLocale reports whether loc is the C or POSIX locale with a codeset or modifier ("C.UTF-8",
// "POSIX@x"), which Fyne cannot parse. Plain "C" and "POSIX" Fyne already treats as English.
func cLocale(loc string) bool {
	for _, base := range [...]string{"C", "POSIX"} {
		if len(loc) > len(base) && loc[:len(base)] == base && (loc[len(base)] == '.' || loc[len(base)] == '@') {
			return true
		}
	}
	return false
}
