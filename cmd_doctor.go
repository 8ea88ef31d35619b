package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"hark/app"
	"hark/app/config"
	"hark/audio"
	"hark/audio/device"
	"hark/internal/cpucheck"
	"hark/models"
)

// doctorStatus is one check's outcome: a failure makes `hark doctor` exit with status 1, a
// warning is reported but leaves the status 0.
type doctorStatus string

const (
	doctorOK   doctorStatus = "ok"
	doctorWarn doctorStatus = "warn"
	doctorFail doctorStatus = "fail"
)

// doctorCheck is one line of the report, and one object of --json.
type doctorCheck struct {
	Check  string       `json:"check"`
	Status doctorStatus `json:"status"`
	Detail string       `json:"detail"`
	Fix    string       `json:"fix,omitempty"`
}

const doctorArgs = "[--json] [--no-mic] [--mic-seconds S] [--config FILE] [--set KEY=VALUE]"

func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("doctor", stderr)
	cf := bindConfigFlags(fs, true)
	asJSON := fs.Bool("json", false, "print the checks as a JSON list of {check, status, detail, fix}")
	noMic := fs.Bool("no-mic", false, "skip the microphone level test (it records from the microphone)")
	micSeconds := fs.Float64("mic-seconds", 1, "how long the microphone level test records")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var checks []doctorCheck
	s, err := newSetup(cf.Options())
	if err != nil {
		checks = append(checks, doctorCheck{"configuration", doctorFail, err.Error(), "Fix the file, or `hark config path` to find it and `hark config init --force` to start again."})
	} else {
		checks = doctorChecks(ctx, s, !*noMic, time.Duration(*micSeconds*float64(time.Second)))
	}
	failed := 0
	for _, c := range checks {
		if c.Status == doctorFail {
			failed++
		}
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(checks); err != nil {
			return err
		}
	} else {
		for _, c := range checks {
			fmt.Fprintf(stdout, "%-4s  %-14s %s\n", c.Status, c.Check, strings.ReplaceAll(c.Detail, "\n", "\n                     "))
			if c.Fix != "" {
				fmt.Fprintf(stdout, "      %-14s fix: %s\n", "", c.Fix)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("doctor: %d of %d checks failed", failed, len(checks))
	}
	return nil
}

// doctorChecks runs every check, in the order a person would fix them.
func doctorChecks(ctx context.Context, s *setup, mic bool, micFor time.Duration) []doctorCheck {
	out := []doctorCheck{doctorCPU(), doctorConfig(s)}
	out = append(out, doctorSound(ctx, s, mic, micFor)...)
	out = append(out, doctorModels(s)...)
	out = append(out, doctorDisk(), doctorFont())
	out = append(out, doctorPermissions(s)...)
	out = append(out, doctorHome(ctx, s)...)
	return out
}

func doctorCPU() doctorCheck {
	// A CPU without what the build needs never gets here: the program stops at start with the
	// list of what is missing (internal/cpucheck).
	return doctorCheck{"cpu", doctorOK, fmt.Sprintf("built for %s; this CPU has %s", cpucheck.CompiledISA(), strings.Join(cpucheck.Features(), " ")), ""}
}

func doctorConfig(s *setup) doctorCheck {
	where := s.cfg.Path()
	if _, err := os.Stat(where); errors.Is(err, os.ErrNotExist) {
		where += " (no file: the defaults apply)"
	}
	if s.problems != nil {
		return doctorCheck{"configuration", doctorFail, s.problems.Error(),
			"Correct those lines (`hark config example` documents every key), or `hark config unset KEY` to go back to the default."}
	}
	return doctorCheck{"configuration", doctorOK, where, ""}
}

func doctorSound(ctx context.Context, s *setup, mic bool, micFor time.Duration) []doctorCheck {
	devs, err := device.List()
	if err != nil {
		return []doctorCheck{{"sound", doctorFail, "no sound server or devices: " + err.Error(),
			"Start the sound server (PipeWire: `systemctl --user start pipewire-pulse`; PulseAudio: `pulseaudio --start`) and check `pactl info`."}}
	}
	var ins, outs []string
	for _, d := range devs {
		name := d.Name
		if d.IsDefault {
			name += " (default)"
		}
		if d.Kind == device.KindCapture {
			ins = append(ins, name)
		} else {
			outs = append(outs, name)
		}
	}
	var out []doctorCheck
	if len(ins) == 0 {
		out = append(out, doctorCheck{"microphones", doctorFail, "none", "Plug in a microphone, or check that the sound server sees it (`pactl list short sources`)."})
	} else {
		out = append(out, doctorCheck{"microphones", doctorOK, strings.Join(ins, "; "), ""})
	}
	if len(outs) == 0 {
		out = append(out, doctorCheck{"speakers", doctorWarn, "none: replies are shown but not spoken", "Connect a speaker or headphones (`pactl list short sinks`)."})
	} else {
		out = append(out, doctorCheck{"speakers", doctorOK, strings.Join(outs, "; "), ""})
	}
	if mic && len(ins) > 0 {
		out = append(out, doctorMicLevel(ctx, s.cfg.Audio.InputDevice, micFor))
	}
	return out
}

// doctorMicLevel records from the configured microphone and reports its level: a muted or
// wrong microphone records digital silence.
func doctorMicLevel(ctx context.Context, dev string, d time.Duration) doctorCheck {
	c, err := device.OpenCapture(device.CaptureOptions{Device: dev})
	if err != nil {
		return doctorCheck{"microphone", doctorFail, "cannot open: " + err.Error(),
			"Choose a microphone from `hark devices` (audio.input_device), or unplug and plug it in again."}
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, d+2*time.Second)
	defer cancel()
	want := int(d.Seconds() * audio.SampleRate)
	got := make([]float32, 0, want)
	buf := make([]float32, 1024)
	for len(got) < want {
		n, err := c.Read(ctx, buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if len(got) < want/2 {
		return doctorCheck{"microphone", doctorFail, fmt.Sprintf("%s gave %d ms of sound in %v", c.Device().Name, len(got)*1000/audio.SampleRate, d),
			"The device stalls: unplug and plug it in again, or choose another in `hark devices`."}
	}
	l := audio.MeasureLevel(got)
	detail := fmt.Sprintf("%s: level %s dBFS, peak %s dBFS over %v", c.Device().Name, dbfs(l.RMS), dbfs(l.Peak), d)
	if l.Peak <= -90 {
		return doctorCheck{"microphone", doctorWarn, detail + " (silent)",
			"It records nothing: unmute it (`pactl set-source-mute @DEFAULT_SOURCE@ 0`, or the mixer), raise its volume, or choose another in `hark devices`."}
	}
	return doctorCheck{"microphone", doctorOK, detail, ""}
}

func dbfs(v float64) string {
	if math.IsInf(v, -1) || v < -120 {
		return "-inf"
	}
	return fmt.Sprintf("%.0f", v)
}

func doctorModels(s *setup) []doctorCheck {
	var out []doctorCheck
	type ref struct {
		kind models.Kind
		ref  string
	}
	refs := []ref{{models.ASR, s.cfg.Models.ASR}, {models.LLM, s.cfg.Models.LLM}, {models.VAD, s.cfg.Models.VAD}}
	if e := s.cfg.Knowledge.EmbeddingModel; e != "" { // optional: checked only when configured
		refs = append(refs, ref{models.Embed, e})
	}
	for _, m := range refs {
		name := "model " + string(m.kind)
		path, err := s.modelPath(m.kind, m.ref)
		if err != nil {
			out = append(out, doctorCheck{name, doctorFail, app.Message(err), app.Hint(err)})
			continue
		}
		info, err := modelCheckers().CheckKind(path, m.kind)
		if err != nil {
			out = append(out, doctorCheck{name, doctorFail, err.Error(), "Download it again (`hark models pull`), or choose another file; `hark models verify` checks every model."})
			continue
		}
		out = append(out, doctorCheck{name, doctorOK, fmt.Sprintf("%s (%s, %s)", path, info.Describe(), models.FormatBytes(info.Size)), ""})
	}
	return out
}

// doctorDisk checks the space left where the history and models are written: a full disk
// stops the history and model downloads.
func doctorDisk() doctorCheck {
	dir, err := config.DataDir()
	if err != nil {
		return doctorCheck{"disk", doctorWarn, err.Error(), "Set HOME or XDG_DATA_HOME."}
	}
	p := dir
	for { // the data folder may not exist yet: measure the file system it will be on
		if _, err := os.Stat(p); err == nil || p == "/" || p == "." {
			break
		}
		p = parentDir(p)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(p, &st); err != nil {
		return doctorCheck{"disk", doctorWarn, err.Error(), ""}
	}
	free := int64(st.Bavail) * st.Bsize
	detail := fmt.Sprintf("%s free for %s", models.FormatBytes(free), dir)
	fix := "Free some space on that disk (`hark history wipe`, `hark models rm` for unused models), or move the data with XDG_DATA_HOME."
	switch {
	case free < 100<<20:
		return doctorCheck{"disk", doctorFail, detail + ": the history and downloads will fail", fix}
	case free < 1<<30:
		return doctorCheck{"disk", doctorWarn, detail + ": a model download may not fit", fix}
	}
	return doctorCheck{"disk", doctorOK, detail, ""}
}

func parentDir(p string) string {
	if i := strings.LastIndexByte(strings.TrimSuffix(p, "/"), '/'); i > 0 {
		return p[:i]
	}
	return "/"
}

// doctorFont looks for a font with Chinese characters: without one, Chinese replies show as
// boxes.
func doctorFont() doctorCheck {
	out, err := exec.Command("fc-list", ":lang=zh", "family").Output()
	fix := "Install a CJK font (Debian/Ubuntu: `sudo apt install fonts-noto-cjk`)."
	if err != nil {
		return doctorCheck{"cjk font", doctorWarn, "cannot list fonts (fc-list: " + err.Error() + ")", "Install fontconfig, then: " + fix}
	}
	fams := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(fams) == 0 || fams[0] == "" {
		return doctorCheck{"cjk font", doctorWarn, "none: Chinese text shows as boxes", fix}
	}
	return doctorCheck{"cjk font", doctorOK, fmt.Sprintf("%s (%d in all)", strings.Split(fams[0], ",")[0], len(fams)), ""}
}

// doctorPermissions: the history holds what people said; the configuration may hold
// credentials. Neither may be readable by other users.
func doctorPermissions(s *setup) []doctorCheck {
	var files []string
	if p := s.cfg.Path(); p != "" {
		files = append(files, p)
	}
	if hp, err := s.cfg.HistoryPath(); err == nil {
		files = append(files, hp, hp+"-wal", hp+"-shm")
	}
	var bad, fine []string
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			continue
		}
		if fi.Mode().Perm()&0o077 != 0 {
			bad = append(bad, fmt.Sprintf("%s is %04o", f, fi.Mode().Perm()))
		} else {
			fine = append(fine, f)
		}
	}
	switch {
	case len(bad) > 0:
		return []doctorCheck{{"permissions", doctorFail, strings.Join(bad, "; ") + ": other users can read it",
			"chmod 600 " + strings.Join(badPaths(bad), " ")}}
	case len(fine) == 0:
		return []doctorCheck{{"permissions", doctorOK, "no configuration or history files yet", ""}}
	}
	return []doctorCheck{{"permissions", doctorOK, strings.Join(fine, ", ") + ": private", ""}}
}

func badPaths(bad []string) []string {
	var out []string
	for _, b := range bad {
		out = append(out, b[:strings.LastIndex(b, " is ")])
	}
	return out
}
