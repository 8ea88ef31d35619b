package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"hark/action"
	"hark/app/config"
	"hark/app/history"
)

// openActionsCmd reads the configuration for a command that uses the action layer. synopsis is
// "" for a command of the command table (its usage line is there), else the sub-command's.
func openActionsCmd(name, synopsis string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (*actions, *setup, []string, error) {
	fs := newSubFlags(name, synopsis, stderr)
	if synopsis == "" {
		fs = newFlags(name, stderr)
	}
	cf := config.NewFlags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, nil, err
	}
	// Flags may follow the sentence too (hark do "…" --dry-run): a dry run written last must
	// not run the action. After "--" everything is the sentence.
	words := fs.Args()
	if !slices.Contains(args, "--") {
		words = nil
		for rest := fs.Args(); len(rest) > 0; rest = fs.Args() {
			words = append(words, rest[0])
			if err := parseFlags(fs, rest[1:]); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	s, err := openSetup(cf, stderr, "hark "+name, false)
	if err != nil {
		return nil, nil, nil, err
	}
	if !s.cfg.Actions.Enabled {
		return nil, s, nil, errors.New("commands are off (actions.enabled = false)")
	}
	acts, err := openActions(s)
	if err != nil {
		return nil, nil, nil, err
	}
	if acts.homeErr != nil {
		fmt.Fprintf(stderr, "hark: home connectors: %v\n", acts.homeErr)
	}
	return acts, s, words, nil
}

// sentenceArg joins the arguments into the sentence.
func sentenceArg(cmd string, rest []string) (string, error) {
	s := strings.TrimSpace(strings.Join(rest, " "))
	if s == "" {
		return "", fmt.Errorf("%w: %s needs a sentence, e.g. hark %s \"set a timer for 5 minutes\"", errUsage, cmd, cmd)
	}
	return s, nil
}

// doOutput is `hark do --json`'s document.
type doOutput struct {
	Sentence string         `json:"sentence"`
	Match    action.Match   `json:"match"`
	Risk     string         `json:"risk,omitempty"`
	Question string         `json:"question,omitempty"`
	Ran      bool           `json:"ran"`
	Result   *action.Result `json:"result,omitempty"`
	Error    string         `json:"error,omitempty"`
	Took     float64        `json:"took_ms,omitempty"`
	// Model is what the language model said and did when no template matched.
	Model *doModelResult `json:"model,omitempty"`
}

// runDo is `hark do "sentence"`: the sentence's intent runs at once, as if it had been said.
func runDo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dry, asJSON, yes, noModel *bool
	acts, s, rest, err := openActionsCmd("do", "", args, stderr, func(fs *flag.FlagSet) {
		dry = fs.Bool("dry-run", false, "say what would run, and run nothing")
		asJSON = fs.Bool("json", false, "print the match and the result as JSON")
		yes = fs.Bool("yes", false, "answer yes to a confirmation question without asking")
		noModel = fs.Bool("no-model", false, "only the sentence templates: when none matches, do not ask the language model")
	})
	if err != nil {
		return err
	}
	defer acts.Close()
	sentence, err := sentenceArg("do", rest)
	if err != nil {
		return err
	}
	out := doOutput{Sentence: sentence, Match: acts.act.Match("", sentence)}
	m := out.Match
	print := func() error {
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		return nil
	}
	switch m.Kind {
	case action.NoMatch:
		if *dry && !*noModel {
			if !*asJSON {
				fmt.Fprintln(stdout, "no template matches: the language model would answer, with the tools")
			}
			return print()
		}
		if !*noModel {
			var w io.Writer = stdout
			if *asJSON {
				w = nil
			}
			res, err := doWithModel(ctx, s, acts, sentence, *yes, w, stderr)
			out.Model = &res
			if err != nil {
				out.Error = err.Error()
				_ = print()
				return err
			}
			out.Ran = len(res.Actions) > 0
			return print()
		}
		out.Error = "no template matched"
		if err := print(); err != nil {
			return err
		}
		return fmt.Errorf("I can't do that yet: no sentence template matches %q (`hark intents test` shows why; without --no-model the language model answers)", sentence)
	case action.Ambiguous:
		out.Error = "ambiguous"
		if !*asJSON {
			fmt.Fprintln(stdout, m.Question)
		}
		return print()
	case action.Yes, action.No:
		out.Error = "nothing to confirm"
		if !*asJSON {
			fmt.Fprintln(stdout, "There is nothing to confirm.")
		}
		return print()
	}
	// The reply is in the language the sentence was understood in.
	ctx = action.WithLanguage(ctx, m.Language)
	risk, question, err := acts.act.Check(ctx, m.Tool, m.Args)
	if err != nil {
		return err
	}
	out.Risk, out.Question = risk.String(), question
	if *dry {
		if !*asJSON {
			fmt.Fprintf(stdout, "would run %s %s (%s)\n", m.Tool, m.Args, risk)
			if question != "" {
				fmt.Fprintf(stdout, "after asking: %s\n", question)
			}
		}
		return print()
	}
	confirmed := ""
	if risk == action.Confirm {
		if !*yes && !confirm(os.Stdin, stderr, question) {
			confirmed = "no"
			auditDo(ctx, s, sentence, m, confirmed, action.Result{Say: "not run"}, nil, 0)
			if !*asJSON {
				fmt.Fprintln(stdout, "Okay, I won't.")
			}
			return print()
		}
		confirmed = "yes"
	}
	start := time.Now()
	res, err := acts.act.Run(ctx, m.Tool, m.Args)
	took := time.Since(start)
	auditDo(ctx, s, sentence, m, confirmed, res, err, took)
	out.Ran, out.Result, out.Took = true, &res, float64(took.Microseconds())/1000
	if err != nil {
		out.Error = err.Error()
		if *asJSON {
			_ = print()
		}
		return err
	}
	if !*asJSON {
		say := res.Say
		if say == "" {
			say = "Done."
		}
		fmt.Fprintln(stdout, say)
		if m.Tool == action.ToolTimerStart || m.Tool == action.ToolAlarmSet {
			fmt.Fprintln(stderr, "(it rings in Hark's window or `hark listen`; `hark timers` lists the timers)")
		}
	}
	return print()
}

// auditDo records a `hark do` action in the history's audit trail (when the history is on).
func auditDo(ctx context.Context, s *setup, input string, m action.Match, confirmed string, res action.Result, runErr error, took time.Duration) {
	if !s.cfg.History.Enabled {
		return
	}
	path, err := s.cfg.HistoryPath()
	if err != nil {
		return
	}
	st, err := history.Open(path, history.Options{RetentionDays: s.cfg.History.RetentionDays})
	if err != nil {
		return
	}
	defer st.Close()
	a := history.Action{At: time.Now(), Input: input, Tool: m.Tool, Args: string(m.Args), Source: "intent", Confirmed: confirmed,
		Done: res.Done && runErr == nil, Result: res.Say, Duration: took}
	if runErr != nil {
		a.Error = runErr.Error()
	}
	_, _ = st.AddAction(ctx, a)
}

// runIntents is `hark intents test "sentence"`.
func runIntents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprintln(stderr, `usage: hark intents test [--json] "sentence"   which template matches, with its slots`)
		if len(args) == 0 {
			return errUsage
		}
		return fmt.Errorf("%w: unknown subcommand %q", errUsage, args[0])
	}
	var asJSON *bool
	acts, _, rest, err := openActionsCmd("intents test", `[--json] "sentence"`, args[1:], stderr, func(fs *flag.FlagSet) {
		asJSON = fs.Bool("json", false, "print the match as JSON")
	})
	if err != nil {
		return err
	}
	defer acts.Close()
	sentence, err := sentenceArg("intents test", rest)
	if err != nil {
		return err
	}
	m := acts.act.Match("", sentence)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(m)
	}
	switch m.Kind {
	case action.NoMatch:
		fmt.Fprintf(stdout, "no match (%d templates in %s); the language model would answer\n", acts.act.Templates().Len(), strings.Join(acts.act.Templates().Languages(), ", "))
	case action.Ambiguous:
		fmt.Fprintf(stdout, "ambiguous between %s: Hark would ask %q\n", strings.Join(m.Choices, ", "), m.Question)
	default:
		fmt.Fprintf(stdout, "intent:   %s (%s)\ntemplate: %s\n", m.Intent, m.Language, m.Template)
		if len(m.Slots) > 0 {
			fmt.Fprintln(stdout, "slots:")
			for k, v := range m.Slots {
				fmt.Fprintf(stdout, "  %s = %v\n", k, v)
			}
		}
		if m.Kind == action.Matched {
			fmt.Fprintf(stdout, "call:     %s %s\n", m.Tool, m.Args)
		}
	}
	return nil
}

// runTools is `hark tools`: the tools Hark can run, and their argument schemas with --json.
func runTools(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var asJSON *bool
	acts, _, _, err := openActionsCmd("tools", "", args, stderr, func(fs *flag.FlagSet) {
		asJSON = fs.Bool("json", false, "print the tools with their JSON schemas")
	})
	if err != nil {
		return err
	}
	defer acts.Close()
	tools := acts.act.Tools()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(tools)
	}
	for _, t := range tools {
		fmt.Fprintf(stdout, "%-22s %-8s %s\n", t.Name, t.Risk, t.Description)
	}
	return nil
}

// runTimers is `hark timers`: the running and paused timers and alarms.
func runTimers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var asJSON, all *bool
	acts, _, _, err := openActionsCmd("timers", "", args, stderr, func(fs *flag.FlagSet) {
		asJSON = fs.Bool("json", false, "print JSON")
		all = fs.Bool("all", false, "also list the timers that rang, were missed or were cancelled")
	})
	if err != nil {
		return err
	}
	defer acts.Close()
	list, err := acts.act.Timers().Active(ctx)
	if *all {
		list, err = acts.act.Timers().All(ctx)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		if list == nil {
			list = []action.Timer{}
		}
		return json.NewEncoder(stdout).Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "No timers.")
		return nil
	}
	now := time.Now()
	for _, t := range list {
		left := ""
		if t.State == action.TimerRunning || t.State == action.TimerPaused {
			left = action.SayDuration(t.Remaining(now)) + " left"
		}
		fmt.Fprintf(stdout, "%4d  %-8s %-24s due %s  %s\n", t.ID, t.State, t.Name, t.Due.Local().Format("2006-01-02 15:04:05"), left)
	}
	return nil
}
