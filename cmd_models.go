package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"hark/asr"
	"hark/audio/vad"
	"hark/internal/buildinfo"
	"hark/llm"
	"hark/models"
)

func runModels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"list": modelsList, "pull": modelsPull, "verify": modelsVerify, "rm": modelsRemove, "path": modelsPath,
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || sub[args[0]] == nil {
		fmt.Fprint(stderr, modelsUsage)
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			return errUsage
		}
		return fmt.Errorf("%w: unknown subcommand %q", errUsage, args[0])
	}
	return sub[args[0]](ctx, args[1:], stdout, stderr)
}

const modelsUsage = `usage: hark models list [--json]            the manifest, what is installed, sizes, which is active
       hark models pull NAME... | --class CLASS  download (resumes, verifies the checksum)
       hark models verify [NAME|FILE...]     check headers and checksums (default: everything installed)
       hark models rm NAME...                delete downloaded models
       hark models path [NAME]               the models folder, or where NAME is stored
Each takes --models-dir DIR, --config FILE and --set KEY=VALUE (models.asr, models.mirror, ...).
`

type listedModel struct {
	models.Entry
	Installed bool     `json:"installed"`
	Partial   int64    `json:"partial_bytes,omitempty"`
	Path      string   `json:"path"`
	Active    bool     `json:"active"`
	DefaultOf []string `json:"default_for,omitempty"`
}

func modelsList(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newSubFlags("models list", "[--json]", stderr)
	cf := modelsFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	e, err := openSetup(cf, stderr, "hark", false)
	if err != nil {
		return err
	}
	var rows []listedModel
	for _, m := range e.manifest.Models {
		st := e.store.Status(m)
		r := listedModel{Entry: m, Installed: st.Installed, Partial: st.Partial, Path: e.store.Path(m)}
		if sel := e.selection(m.Kind); sel.Ref == m.Name {
			r.Active = true
		}
		for _, cn := range models.ClassNames() {
			if c, _ := e.manifest.Class(cn); c.For(e.cfg.Assistant.Language).Model(m.Kind) == m.Name {
				r.DefaultOf = append(r.DefaultOf, cn)
			}
		}
		rows = append(rows, r)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	fmt.Fprintf(stdout, "Models folder: %s\n", e.store.Dir)
	fmt.Fprintf(stdout, "Device class: %s (models.device_class %s, assistant.mode %s)\n\n", e.cfg.DeviceClass(), e.cfg.Models.DeviceClass, e.cfg.Assistant.Mode)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tKIND\tSIZE\tRAM\tLANGUAGES\tINSTALLED\tDEFAULT FOR\tCHECKSUM")
	for _, r := range rows {
		mark := " "
		if r.Active {
			mark = "*"
		}
		inst := "-"
		switch {
		case r.Installed:
			inst = "yes"
		case r.Partial > 0 && r.Size > 0:
			inst = fmt.Sprintf("%d%% (resumable)", r.Partial*100/r.Size)
		case r.Partial > 0:
			inst = models.FormatBytes(r.Partial) + " (resumable)"
		}
		size := "unknown"
		if r.Size > 0 {
			size = models.FormatBytes(r.Size)
		}
		sum := "SHA-256"
		if r.SHA256 == "" && r.SHA1 != "" {
			sum = "SHA-1"
		} else if r.SHA256 == "" {
			sum = "unknown"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%d MB\t%s\t%s\t%s\t%s\n", mark, r.Name, r.Kind, size, r.RAMMB, languagesOf(r.Entry, e.cfg.Assistant.Language), inst, strings.Join(r.DefaultOf, ", "), sum)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\n* = active (set with models.asr / models.llm / models.vad, or the device class's default)")
	fmt.Fprintf(stdout, "Defaults are for assistant.language %s; ! = does not handle it.\n", e.cfg.Assistant.Language)

	// Active models that are local files or unknown names, and files in the folder that are
	// not in the manifest.
	for _, sel := range e.selections() {
		if sel.Entry != nil && sel.Entry.Name == sel.Ref {
			continue
		}
		status := "ok"
		if sel.Err != nil {
			status = sel.Err.Error()
		}
		fmt.Fprintf(stdout, "* %s: %s (%s)\n", sel.Kind, sel.Ref, status)
	}
	files, err := e.store.Files(e.manifest)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.Entry == nil {
			fmt.Fprintf(stdout, "  other file in the folder: %s (%s)\n", f.Path, models.FormatBytes(f.Size))
		}
	}
	return nil
}

// languagesOf is a model's languages for the list: "multilingual", or the codes; marked with
// "!" when the model cannot handle lang, the configured spoken language.
func languagesOf(m models.Entry, lang string) string {
	s := strings.Join(m.Languages, " ")
	if len(m.Languages) == 1 && m.Languages[0] == "multi" {
		s = "multilingual"
		if m.Kind == models.ASR {
			s = "multilingual (99)"
		}
	}
	if m.Kind != models.VAD && !m.Speaks(lang) {
		s = "! " + s
	}
	return s
}

func modelsPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newSubFlags("models pull", "NAME... | --class CLASS", stderr)
	cf := modelsFlags(fs)
	class := fs.String("class", "", "download the default models of a device `class` (laptop, kiosk, car); with no names, the configured class")
	force := fs.Bool("force", false, "download again even if installed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	e, err := openSetup(cf, stderr, "hark", false)
	if err != nil {
		return err
	}
	var entries []models.Entry
	names := fs.Args()
	if len(names) == 0 || *class != "" {
		cn := *class
		if cn == "" {
			cn = e.cfg.DeviceClass()
		}
		defs, err := e.manifest.Defaults(cn)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		fmt.Fprintf(stdout, "The %s defaults: %s\n", cn, strings.Join(entryNames(defs), ", "))
		entries = append(entries, defs...)
	}
	for _, n := range names {
		m, ok := e.manifest.Lookup(n)
		if !ok {
			msg := fmt.Sprintf("no model named %q (`hark models list` shows them)", n)
			if s := e.manifest.Suggest(n); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, ", ") + "?"
			}
			return fmt.Errorf("%w: %s", errUsage, msg)
		}
		entries = append(entries, m)
	}
	tty := isTerminal(stderr)
	for i, m := range entries {
		if slices.ContainsFunc(entries[:i], func(x models.Entry) bool { return x.Name == m.Name }) {
			continue
		}
		bar := &progressBar{w: stderr, tty: tty}
		res, err := e.store.Pull(ctx, m, models.PullOptions{Force: *force, Progress: bar.update,
			UserAgent: "hark/" + buildinfo.Version(), Mirror: e.cfg.Models.Mirror})
		bar.finish()
		if err != nil {
			return err
		}
		switch {
		case res.AlreadyInstalled:
			fmt.Fprintf(stdout, "%s: already installed at %s (`hark models verify %s` checks it)\n", m.Name, res.Path, m.Name)
		case res.Checked != "":
			fmt.Fprintf(stdout, "%s: installed at %s; SHA-256 %s, matches the %s\n", m.Name, res.Path, res.SHA256, res.Checked)
		default:
			fmt.Fprintf(stdout, "%s: installed at %s; SHA-256 %s (no checksum is published: computed and recorded in %s)\n",
				m.Name, res.Path, res.SHA256, filepath.Join(e.store.Dir, models.SumsFile))
		}
	}
	return nil
}

func entryNames(es []models.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

func modelsVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newSubFlags("models verify", "[NAME|FILE...]", stderr)
	cf := modelsFlags(fs)
	noHash := fs.Bool("no-hash", false, "check headers only, not checksums (fast)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	e, err := openSetup(cf, stderr, "hark", false)
	if err != nil {
		return err
	}
	type target struct {
		path  string
		entry *models.Entry
		kind  models.Kind
	}
	var targets []target
	add := func(t target) {
		if !slices.ContainsFunc(targets, func(x target) bool { return x.path == t.path }) {
			targets = append(targets, t)
		}
	}
	if fs.NArg() == 0 {
		files, err := e.store.Files(e.manifest)
		if err != nil {
			return err
		}
		for _, f := range files {
			t := target{path: f.Path, entry: f.Entry}
			if f.Entry != nil {
				t.kind = f.Entry.Kind
			}
			add(t)
		}
		for _, sel := range e.selections() { // active local files outside the folder
			if sel.Installed {
				add(target{sel.Path, sel.Entry, sel.Kind})
			}
		}
		if len(targets) == 0 {
			fmt.Fprintf(stdout, "No models in %s. `hark models pull` downloads the defaults.\n", e.store.Dir)
			return nil
		}
	}
	for _, a := range fs.Args() {
		if m, ok := e.manifest.Lookup(a); ok {
			add(target{e.store.Path(m), &m, m.Kind})
			continue
		}
		p, err := models.ExpandPath(a)
		if err != nil {
			return err
		}
		t := target{path: p}
		if m, ok := e.manifest.ByFile(filepath.Base(p)); ok {
			t.entry = &m
		}
		add(t)
	}
	checkers := modelCheckers()
	failed := 0
	for _, t := range targets {
		info, err := checkers.CheckKind(t.path, t.kind)
		label := t.path
		if t.entry != nil {
			label = t.entry.Name
		}
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL  %s: %v\n", label, err)
			continue
		}
		sum := "checksum not checked"
		if !*noHash {
			vr, err := e.store.Verify(ctx, t.path, t.entry)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				failed++
				fmt.Fprintf(stdout, "FAIL  %s: %v\n", label, err)
				continue
			}
			sum = "SHA-256 " + vr.Sums.SHA256
			if vr.Against != "" {
				sum += ", matches the " + vr.Against
			} else {
				sum += " (nothing to compare with)"
			}
		}
		fmt.Fprintf(stdout, "ok    %s: %s; %s\n", label, info.Describe(), sum)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d model files failed the check", failed, len(targets))
	}
	return nil
}

// modelCheckers are the engines' deep file checks, run after the pure-Go header check: each
// engine knows what its own loader needs (hyper-parameter ranges, supported architectures).
func modelCheckers() models.Checkers {
	return models.Checkers{
		models.FormatWhisper: func(path string) error { _, err := asr.CheckFile(path); return err },
		models.FormatGGUF:    func(path string) error { _, err := llm.CheckFile(path); return err },
		models.FormatSilero:  func(path string) error { _, err := vad.CheckFile(path); return err },
	}
}

func modelsRemove(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newSubFlags("models rm", "NAME...", stderr)
	cf := modelsFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: name the models to delete (`hark models list` shows them)", errUsage)
	}
	e, err := openSetup(cf, stderr, "hark", false)
	if err != nil {
		return err
	}
	for _, n := range fs.Args() {
		m, ok := e.manifest.Lookup(n)
		if !ok {
			m, ok = e.manifest.ByFile(n)
		}
		if !ok {
			return fmt.Errorf("%w: no model named %q", errUsage, n)
		}
		size := e.store.Status(m).Size
		if err := e.store.Remove(m); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: deleted (%s freed)\n", m.Name, models.FormatBytes(size))
		if sel := e.selection(m.Kind); sel.Ref == m.Name {
			how := "models." + string(m.Kind)
			if sel.ByDefault {
				how = "the " + e.cfg.DeviceClass() + " default"
			}
			fmt.Fprintf(stderr, "hark: note: %s was the active %s (%s); download it again or choose another\n", m.Name, m.Kind.Describe(), how)
		}
	}
	return nil
}

func modelsPath(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newSubFlags("models path", "[NAME]", stderr)
	cf := modelsFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	e, err := openSetup(cf, stderr, "hark", false)
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stdout, e.store.Dir)
		return nil
	}
	m, ok := e.manifest.Lookup(fs.Arg(0))
	if !ok {
		return fmt.Errorf("%w: no model named %q", errUsage, fs.Arg(0))
	}
	fmt.Fprintln(stdout, e.store.Path(m))
	if !e.store.Status(m).Installed {
		return fmt.Errorf("%s is not downloaded yet (`hark models pull %s`)", m.Name, m.Name)
	}
	return nil
}

// progressBar draws download progress: a redrawn bar on a terminal, a line every few seconds
// otherwise (logs, pipes).
type progressBar struct {
	w        io.Writer
	tty      bool
	drawn    bool
	lastLine time.Time
	last     models.Progress
}

func (b *progressBar) update(p models.Progress) {
	b.last = p
	switch {
	case p.Phase == models.PhaseRetrying:
		b.clear()
		fmt.Fprintf(b.w, "%s: %v; resuming (attempt %d)\n", p.Model, p.Err, p.Attempt+1)
	case p.Phase == models.PhaseResuming:
		b.clear()
		fmt.Fprintf(b.w, "%s: resuming an earlier download (%s already here)\n", p.Model, models.FormatBytes(p.Done))
	case b.tty:
		fmt.Fprintf(b.w, "\r%s\x1b[K", progressLine(p, 30))
		b.drawn = true
	case p.Phase == models.PhaseDone || p.Phase == models.PhaseVerifying || time.Since(b.lastLine) >= 5*time.Second:
		fmt.Fprintln(b.w, progressLine(p, 20))
		b.lastLine = time.Now()
	}
}

func (b *progressBar) clear() {
	if b.tty && b.drawn {
		fmt.Fprint(b.w, "\r\x1b[K")
		b.drawn = false
	}
}

func (b *progressBar) finish() {
	if b.tty && b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}

// progressLine renders one progress report: name, bar, percentage, bytes, speed and ETA.
func progressLine(p models.Progress, width int) string {
	var s strings.Builder
	s.WriteString(p.Model + " ")
	if f := p.Fraction(); f >= 0 {
		n := int(f * float64(width))
		s.WriteString("[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]")
		fmt.Fprintf(&s, " %3.0f%%  %s / %s", f*100, models.FormatBytes(p.Done), models.FormatBytes(p.Total))
	} else {
		fmt.Fprintf(&s, "%s", models.FormatBytes(p.Done))
	}
	switch p.Phase {
	case models.PhaseConnecting:
		s.WriteString("  connecting")
	case models.PhaseVerifying:
		s.WriteString("  verifying")
	case models.PhaseDone:
		s.WriteString("  done")
	default:
		if p.Speed > 0 {
			fmt.Fprintf(&s, "  %s/s", models.FormatBytes(int64(p.Speed)))
		}
		if p.ETA >= 0 {
			fmt.Fprintf(&s, "  ETA %s", formatETA(p.ETA))
		}
	}
	return s.String()
}

func formatETA(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}

// isTerminal tells whether w is a terminal (so a redrawn progress bar makes sense).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}

// confirm asks a yes/no question on a terminal; elsewhere it answers no.
func confirm(stdin *os.File, w io.Writer, question string) bool {
	if !isTerminal(stdin) {
		return false
	}
	fmt.Fprintf(w, "%s [y/N] ", question)
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	return strings.EqualFold(strings.TrimSpace(line), "y") || strings.EqualFold(strings.TrimSpace(line), "yes")
}
