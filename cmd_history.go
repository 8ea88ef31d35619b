package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"hark/app/config"
	"hark/app/history"
)

func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"list": historyList, "show": historyShow, "actions": historyActions, "export": historyExport, "wipe": historyWipe, "path": historyPath,
	}
	if len(args) == 0 || sub[args[0]] == nil {
		fmt.Fprint(stderr, historyUsage)
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			return errUsage
		}
		return fmt.Errorf("%w: unknown subcommand %q", errUsage, args[0])
	}
	return sub[args[0]](ctx, args[1:], stdout, stderr)
}

const historyUsage = `usage: hark history list [--limit N]          conversations, most recent first
       hark history show ID                   one conversation, turn by turn, and its actions
       hark history actions [--limit N]       the audit trail of actions (commands and tool calls)
       hark history export [--out FILE] [--since DURATION]   everything as JSON
       hark history wipe [--yes]              delete the whole history (and kept dictations) and shrink the file
       hark history path                      the database file
Each takes --config FILE and --set KEY=VALUE (history.path, history.retention_days, ...).
The history stays on this device; history.enabled = false stops Hark from recording it.
`

// openHistory opens the configured history database (applying its retention).
func openHistory(args []string, name, synopsis string, stderr io.Writer, extra func(*flag.FlagSet)) (*history.Store, *config.Config, []string, error) {
	fs := newSubFlags("history "+name, synopsis, stderr)
	cf := config.NewFlags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, nil, err
	}
	cfg, err := loadConfig(cf, stderr, "hark", false)
	if err != nil {
		return nil, nil, nil, err
	}
	path, err := cfg.HistoryPath()
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return nil, cfg, fs.Args(), errNoHistory{path, cfg.History.Enabled}
	}
	s, err := history.Open(path, history.Options{RetentionDays: cfg.History.RetentionDays, StoreAudio: cfg.History.StoreAudio})
	if err != nil {
		return nil, nil, nil, err
	}
	if aside := s.MovedAside(); aside != "" {
		fmt.Fprintf(os.Stderr, "hark: the history file was damaged; it was moved to %s and a new one started\n", aside)
	}
	return s, cfg, fs.Args(), nil
}

type errNoHistory struct {
	path    string
	enabled bool
}

func (e errNoHistory) Error() string {
	if !e.enabled {
		return "no history: recording is off (history.enabled = false) and " + e.path + " does not exist"
	}
	return "no history yet (" + e.path + " does not exist)"
}

// noHistory turns a missing database into a friendly message instead of an error.
func noHistory(err error, stdout io.Writer) error {
	if nh, ok := err.(errNoHistory); ok {
		fmt.Fprintln(stdout, nh.Error())
		return nil
	}
	return err
}

func historyList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var limit *int
	s, cfg, _, err := openHistory(args, "list", "[--limit N]", stderr, func(fs *flag.FlagSet) { limit = fs.Int("limit", 20, "show at most `N` conversations (0: all)") })
	if err != nil {
		return noHistory(err, stdout)
	}
	defer s.Close()
	list, err := s.Conversations(ctx, history.ListOptions{Limit: *limit})
	if err != nil {
		return err
	}
	if !cfg.History.Enabled {
		fmt.Fprintln(stdout, "(recording is off: history.enabled = false)")
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "The history is empty.")
		return nil
	}
	for _, c := range list {
		fmt.Fprintf(stdout, "%5d  %s  %-7s  %2d turn%s  %s\n", c.ID, c.LastActivity.Local().Format("2006-01-02 15:04"), c.Mode,
			c.TurnCount, plural(c.TurnCount), quoteShort(c.Preview, 60))
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return " "
	}
	return "s"
}

func quoteShort(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	if s == "" {
		return ""
	}
	return "“" + s + "”"
}

func historyShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s, _, rest, err := openHistory(args, "show", "ID", stderr, nil)
	if err != nil {
		return noHistory(err, stdout)
	}
	defer s.Close()
	if len(rest) != 1 {
		return fmt.Errorf("%w: history show ID (`hark history list` shows the IDs)", errUsage)
	}
	id, err := strconv.ParseInt(rest[0], 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not a conversation ID", errUsage, rest[0])
	}
	c, err := s.Conversation(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Conversation %d, %s, started %s\n", c.ID, c.Mode, c.Started.Local().Format("2006-01-02 15:04:05"))
	for _, t := range c.Turns {
		fmt.Fprintf(stdout, "\n[%s] %s\n", t.Started.Local().Format("15:04:05"), t.Status)
		fmt.Fprintf(stdout, "  you:  %s\n", t.Transcript)
		if t.Reply != "" {
			fmt.Fprintf(stdout, "  hark: %s\n", t.Reply)
		}
		if t.Error != "" {
			fmt.Fprintf(stdout, "  error: %s\n", t.Error)
		}
		if w := computedOn(t.Origin); w != "" {
			fmt.Fprintf(stdout, "  computed %s\n", w)
		}
		var tm []string
		for _, x := range []struct {
			name string
			ms   int64
		}{{"speech recognition", t.Timings.ASR}, {"first word", t.Timings.FirstToken}, {"reply", t.Timings.LLM}, {"speech", t.Timings.TTS}, {"total", t.Timings.Total}} {
			if x.ms > 0 {
				tm = append(tm, fmt.Sprintf("%s %d ms", x.name, x.ms))
			}
		}
		if len(tm) > 0 {
			fmt.Fprintf(stdout, "  (%s)\n", strings.Join(tm, ", "))
		}
		if t.AudioSeconds > 0 {
			fmt.Fprintf(stdout, "  (%.1f s of audio stored)\n", t.AudioSeconds)
		}
	}
	acts, err := s.Actions(ctx, c.ID, 0)
	if err != nil {
		return err
	}
	if len(acts) > 0 {
		fmt.Fprintln(stdout, "\nActions:")
		printActions(stdout, acts)
	}
	return nil
}

// computedOn says where a reply was computed ("" when the history does not know).
func computedOn(o history.Origin) string {
	switch o.On {
	case history.ComputedDevice:
		return "on this device"
	case history.ComputedServer:
		return "on " + o.Server
	case history.ComputedFallback:
		return fmt.Sprintf("on this device: fell back, %s did not answer (%s)", o.Server, o.Fallback)
	}
	return ""
}

// printActions lists audit rows, oldest first.
func printActions(w io.Writer, acts []history.Action) {
	for i := len(acts) - 1; i >= 0; i-- {
		a := acts[i]
		state := "done"
		switch {
		case a.Error != "":
			state = "failed: " + a.Error
		case a.Confirmed == "no" || a.Confirmed == "timeout" || a.Confirmed == "dropped":
			state = "not run (confirmation: " + a.Confirmed + ")"
		case !a.Done:
			state = "not done"
		}
		conf := ""
		if a.Confirmed == "yes" {
			conf = ", confirmed"
		}
		fmt.Fprintf(w, "  [%s] %s %s %s (%s%s, %.1f ms) %s\n", a.At.Local().Format("2006-01-02 15:04:05"), quoteShort(a.Input, 50), a.Tool, a.Args,
			a.Source, conf, float64(a.Duration.Microseconds())/1000, state)
		if a.Result != "" && a.Error == "" {
			fmt.Fprintf(w, "      → %s\n", a.Result)
		}
	}
}

func historyActions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var limit *int
	s, _, _, err := openHistory(args, "actions", "[--limit N]", stderr, func(fs *flag.FlagSet) { limit = fs.Int("limit", 50, "show at most `N` actions (0: all)") })
	if err != nil {
		return noHistory(err, stdout)
	}
	defer s.Close()
	acts, err := s.Actions(ctx, 0, *limit)
	if err != nil {
		return err
	}
	if len(acts) == 0 {
		fmt.Fprintln(stdout, "No actions recorded.")
		return nil
	}
	printActions(stdout, acts)
	return nil
}

func historyExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var out *string
	var since *time.Duration
	s, _, _, err := openHistory(args, "export", "[--out FILE] [--since DURATION]", stderr, func(fs *flag.FlagSet) {
		out = fs.String("out", "", "write to `FILE` instead of standard output")
		since = fs.Duration("since", 0, "only conversations active in the last `DURATION` (e.g. 24h)")
	})
	if err != nil {
		return noHistory(err, stdout)
	}
	defer s.Close()
	var from time.Time
	if *since > 0 {
		from = time.Now().Add(-*since)
	}
	w := stdout
	var f *os.File
	if *out != "" {
		if f, err = os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err != nil {
			return err
		}
		w = f
	}
	if err := s.Export(ctx, w, from); err != nil {
		if f != nil {
			f.Close()
		}
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", *out)
	}
	return nil
}

func historyWipe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var yes *bool
	s, cfg, _, err := openHistory(args, "wipe", "[--yes]", stderr, func(fs *flag.FlagSet) { yes = fs.Bool("yes", false, "do not ask for confirmation") })
	if _, none := err.(errNoHistory); err != nil && !none {
		return err
	}
	// Kept dictations and notes go with the history (wiping_dictations.go).
	dict := keptDictations(cfg)
	if s == nil {
		if err := noHistory(err, stdout); err != nil || len(dict.kept) == 0 {
			return err
		}
		if !*yes && !confirm(os.Stdin, stderr, dict.question()) {
			return fmt.Errorf("%w: nothing deleted; add --yes to wipe without asking", errUsage)
		}
		return dict.wipe(stdout)
	}
	defer s.Close()
	list, err := s.Conversations(ctx, history.ListOptions{})
	if err != nil {
		return err
	}
	if !*yes && len(list)+len(dict.kept) > 0 {
		q := fmt.Sprintf("Delete all %d conversations in %s?", len(list), s.Path())
		if len(dict.kept) > 0 {
			q = strings.TrimSuffix(q, "?") + ", and " + strings.TrimPrefix(dict.question(), "Delete ")
		}
		if !confirm(os.Stdin, stderr, q) {
			return fmt.Errorf("%w: nothing deleted; add --yes to wipe without asking", errUsage)
		}
	}
	before := s.Size()
	if err := s.Wipe(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Deleted %d conversations; %s shrank from %d to %d bytes.\n", len(list), s.Path(), before, s.Size())
	return dict.wipe(stdout)
}

func historyPath(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newSubFlags("history path", "", stderr)
	cf := config.NewFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(cf, stderr, "hark", false)
	if err != nil {
		return err
	}
	p, err := cfg.HistoryPath()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, p)
	return nil
}
