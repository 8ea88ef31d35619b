package config

import (
	"flag"
	"fmt"
	"strings"
)

// Flags binds command-line flags to configuration keys. Create it on a FlagSet before Parse,
// bind the flags the command offers, and after Parse call Options:
//
//	f := config.NewFlags(fs)   // adds --config FILE and --set KEY=VALUE (repeatable)
//	f.Bind("mode", "assistant.mode")
//	fs.Parse(args)
//	cfg, err := config.Load(f.Options())
type Flags struct {
	fs    *flag.FlagSet
	path  string
	sets  []Override
	bound map[string]string // flag name -> key
	vals  map[string]*string
}

// NewFlags adds --config and --set to fs.
func NewFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs, bound: map[string]string{}, vals: map[string]*string{}}
	fs.StringVar(&f.path, "config", "", "configuration `file` (default ~/.config/hark/config.toml, or $HARK_CONFIG)")
	fs.Func("set", "set a configuration `key=value` for this run (repeatable), e.g. --set assistant.mode=kiosk", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("want KEY=VALUE, e.g. assistant.mode=kiosk")
		}
		k = strings.TrimSpace(k)
		if _, found := lookup(k); !found {
			return unknownKeyError(k)
		}
		f.sets = append(f.sets, Override{Key: k, Value: v, Flag: "--set " + k})
		return nil
	})
	return f
}

// Bind adds a string flag that sets key; its help text is the key's documentation.
func (f *Flags) Bind(name, key string) {
	s, ok := lookup(key)
	if !ok {
		panic("config: Bind to unknown key " + key)
	}
	f.bound[name] = key
	f.vals[name] = f.fs.String(name, "", fmt.Sprintf("%s (sets %s)", s.doc, key))
}

// Options returns the Load options the parsed flags ask for: the file named by --config and the
// values of the flags actually given, in the order given, bound flags before --set.
func (f *Flags) Options() Options {
	opts := Options{Path: f.path}
	f.fs.Visit(func(fl *flag.Flag) {
		if key, ok := f.bound[fl.Name]; ok {
			opts.Flags = append(opts.Flags, Override{Key: key, Value: *f.vals[fl.Name], Flag: "--" + fl.Name})
		}
	})
	opts.Flags = append(opts.Flags, f.sets...)
	return opts
}
