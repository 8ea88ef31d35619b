package tts

import (
	"regexp"
	"sync"
)

// lazyRegexp is a regular expression compiled on its first use. tts holds some fifty of them;
// compiled at package initialisation they cost every Hark process (`hark ask`, `hark
// transcribe`, ...) half a megabyte of heap and their start-up time even when it never speaks.
// An invalid pattern still panics, on first use, which the cleaning tests reach.
type lazyRegexp struct {
	re func() *regexp.Regexp
}

func lazyRE(pattern string) *lazyRegexp {
	return &lazyRegexp{re: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })}
}

func (l *lazyRegexp) FindString(s string) string             { return l.re().FindString(s) }
func (l *lazyRegexp) FindStringSubmatch(s string) []string   { return l.re().FindStringSubmatch(s) }
func (l *lazyRegexp) MatchString(s string) bool              { return l.re().MatchString(s) }
func (l *lazyRegexp) ReplaceAllString(s, repl string) string { return l.re().ReplaceAllString(s, repl) }
func (l *lazyRegexp) ReplaceAllStringFunc(s string, repl func(string) string) string {
	return l.re().ReplaceAllStringFunc(s, repl)
}
