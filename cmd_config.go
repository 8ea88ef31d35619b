package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"hark/app/config"
)

func runConfig(_ context.Context, args []string, stdout, stderr io.Writer) error {
	sub := map[string]func([]string, io.Writer, io.Writer) error{
		"show": configShow, "path": configPath, "check": configCheck, "set": configSet, "unset": configUnset,
		"example": configExample, "init": configInit,
	}
	if len(args) == 0 || sub[args[0]] == nil {
		fmt.Fprint(stderr, configUsage)
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			return errUsage
		}
		return fmt.Errorf("%w: unknown subcommand %q", errUsage, args[0])
	}
	return sub[args[0]](args[1:], stdout, stderr)
}

const configUsage = `usage: hark config show [--json]     the configuration in effect and where each value comes from
       hark config path              the configuration file
       hark config check             report every problem in the file and environment
       hark config set KEY VALUE     change one key in the file (comments and the rest are kept)
       hark config unset KEY...      remove keys from the file (their defaults apply again)
       hark config example           a file with every key, its default and documentation
       hark config init [--force]    write that file to the configuration path
Each takes --config FILE; show and check also --set KEY=VALUE. Reference: docs/config.md.
`

// configFlags parses a config subcommand's flags and returns the Load options and the
// remaining arguments.
func configFlags(name, synopsis string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (config.Options, []string, error) {
	fs := newSubFlags("config "+name, synopsis, stderr)
	cf := config.NewFlags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return config.Options{}, nil, err
	}
	return cf.Options(), fs.Args(), nil
}

// configFile is the file a subcommand reads or writes.
func configFile(opts config.Options) (string, error) {
	if opts.Path != "" {
		return opts.Path, nil
	}
	return config.DefaultPath()
}

func configShow(args []string, stdout, stderr io.Writer) error {
	var asJSON *bool
	opts, rest, err := configFlags("show", "[--json]", args, stderr, func(fs *flag.FlagSet) { asJSON = fs.Bool("json", false, "print JSON") })
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: config show takes no arguments", errUsage)
	}
	cfg, lerr := config.Load(opts)
	var ce *config.Error
	if lerr != nil && !errors.As(lerr, &ce) {
		return lerr
	}
	if *asJSON {
		type entry struct {
			Key, Value, Default, Origin, Env string
		}
		out := struct {
			File     string   `json:"file"`
			Entries  []entry  `json:"entries"`
			Problems []string `json:"problems,omitempty"`
		}{File: cfg.Path()}
		for _, e := range cfg.Entries() {
			out.Entries = append(out.Entries, entry{e.Key, e.Value, e.Default, e.Origin.String(), e.Env})
		}
		if ce != nil {
			for _, p := range ce.Problems {
				out.Problems = append(out.Problems, p.String())
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		fmt.Fprint(stdout, cfg.Show())
	}
	return lerr
}

func configPath(args []string, stdout, stderr io.Writer) error {
	opts, _, err := configFlags("path", "", args, stderr, nil)
	if err != nil {
		return err
	}
	p, err := configFile(opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, p)
	if _, err := os.Stat(p); err != nil {
		fmt.Fprintln(stderr, "(it does not exist yet: Hark uses the defaults; `hark config init` writes a documented one)")
	}
	return nil
}

func configCheck(args []string, stdout, stderr io.Writer) error {
	opts, _, err := configFlags("check", "", args, stderr, nil)
	if err != nil {
		return err
	}
	cfg, err := config.Load(opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok\n", cfg.Path())
	return nil
}

func configSet(args []string, stdout, stderr io.Writer) error {
	opts, rest, err := configFlags("set", "KEY VALUE", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return fmt.Errorf("%w: config set KEY VALUE (e.g. hark config set assistant.mode kiosk)", errUsage)
	}
	p, err := configFile(opts)
	if err != nil {
		return err
	}
	if err := config.Set(p, rest[0], rest[1]); err != nil {
		return err
	}
	cfg, err := config.Load(config.Options{Path: p})
	if err != nil {
		return err
	}
	v, _ := cfg.Get(rest[0])
	fmt.Fprintf(stdout, "%s: %s = %s\n", p, rest[0], v)
	if o := cfg.Origin(rest[0]); o.Source > config.FromFile {
		fmt.Fprintf(stderr, "hark: note: %s overrides it (%s)\n", o, rest[0])
	}
	return nil
}

func configUnset(args []string, stdout, stderr io.Writer) error {
	opts, rest, err := configFlags("unset", "KEY...", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return fmt.Errorf("%w: config unset KEY...", errUsage)
	}
	p, err := configFile(opts)
	if err != nil {
		return err
	}
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stdout, "%s does not exist: nothing to unset\n", p)
		return nil
	}
	if err := config.Unset(p, rest...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: removed %v\n", p, rest)
	return nil
}

func configExample(args []string, stdout, stderr io.Writer) error {
	if _, _, err := configFlags("example", "", args, stderr, nil); err != nil {
		return err
	}
	fmt.Fprint(stdout, config.Reference())
	return nil
}

func configInit(args []string, stdout, stderr io.Writer) error {
	var force *bool
	opts, _, err := configFlags("init", "[--force]", args, stderr, func(fs *flag.FlagSet) { force = fs.Bool("force", false, "replace an existing file") })
	if err != nil {
		return err
	}
	p, err := configFile(opts)
	if err != nil {
		return err
	}
	if _, err := os.Stat(p); err == nil && !*force {
		return fmt.Errorf("%s exists already (use --force to replace it)", p)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, []byte(config.Reference()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", p)
	return nil
}
