package main

import (
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
	"hark/internal/textdist"
)

// TestE2EDictationWindow: the real window on the virtual display, driven with xdotool: the
// Dictate button opens the dictation window; Start records the virtual microphone while a
// synthetic dictation plays into it, the running transcript grows, Pause and Stop change the
// recording indicator, and Write note fills the note beside the transcript with every SOAP
// heading; Copy note puts it on the clipboard. The assistant is hands-free, and must not take
// the dictation for questions. The whisper model is [dictationModel]'s (the trained test model
// unless HARK_DICTATION_ASR says otherwise), the language model the random test one (the
// note's words are gibberish, so its structure is checked). Screenshots are kept (testenv's artifacts/e2e-dictation).
//
// HARK_DICTATION_SECONDS lengthens the dictation (40 s by default): the 10 minutes are
// HARK_DICTATION_SECONDS=600 go test -run TestE2EDictationWindow -timeout 60m -v . (under the
// test environment), which also logs the window process's peak RSS and CPU time and the words
// heard, and fails if the microphone dropped any sound.
func TestE2EDictationWindow(t *testing.T) {
	length := 40 * time.Second
	if v, err := strconv.Atoi(os.Getenv("HARK_DICTATION_SECONDS")); err == nil && v > 0 {
		length = time.Duration(v) * time.Second
		prev := windowDeadline
		windowDeadline = 10*time.Minute + 2*length
		t.Cleanup(func() { windowDeadline = prev })
	}
	m := dictationModel(t)
	w := startWindow(t, "dictation", append([]string{"--asr-model", m.path,
		"--llm-model", testmodels.Shared(t, "llama-2-tiny-random.gguf"),
		"--vad-model", testmodels.Shared(t, "ggml-silero-v6.2.0.bin"), "--set", "assistant.language=en",
		"--set", "assistant.hands_free=true"}, m.args...)...)
	testenv.LockAudio(t)
	w.ready(60 * time.Second)
	w.shot("1-main")
	w.click(290, 22) // Dictate, in the toolbar
	d := w.child(t, "Dictation")
	time.Sleep(time.Second)
	idle := d.shot("2-idle")
	if c := pixel(t, idle, 13, 13); c.R > 150 && c.G < 100 {
		t.Errorf("the indicator is red before recording: %v", c)
	}
	wav := filepath.Join(t.TempDir(), "dictation.wav")
	spans := writeDictationWAVOf(t, wav, length, m.sentences)
	// Only what comes after Start counts below: sound left in the virtual microphone by an
	// earlier test may reach the hands-free listener while the window starts.
	recording := time.Now()
	d.click(697, 22) // Start
	time.Sleep(500 * time.Millisecond)
	player := playInto(t, "vmic_in", wav, 0)
	time.Sleep(15 * time.Second)
	rec := d.shot("3-recording")
	if c := pixel(t, rec, 13, 13); !(c.R > 150 && c.G < 100) {
		t.Errorf("no red recording indicator: %v", c)
	}
	d.click(780, 22) // Pause
	paused := d.shot("4-paused")
	if c := pixel(t, paused, 13, 13); c.R > 150 && c.G < 100 {
		t.Errorf("the indicator is still red when paused: %v", c)
	}
	d.click(780, 22) // Resume
	if err := player.Wait(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	d.click(862, 22) // Stop
	time.Sleep(8 * time.Second)
	transcript := d.copyFrom(t, 225, 300)
	// A long dictation on a loaded machine may still have windows to transcribe after Stop:
	// wait until the transcript stops growing.
	for grown := true; grown && length > 40*time.Second; {
		time.Sleep(10 * time.Second)
		now := d.copyFrom(t, 225, 300)
		grown = now != transcript
		transcript = now
	}
	// The window may draw a moment after its text changed (seconds on a loaded machine).
	stopped := d.shotWhenChanged("5-stopped", idle, image.Rect(8, 92, 444, 550))
	lines := strings.Split(strings.TrimSpace(transcript), "\n")
	if transcript == "" || len(lines) < len(spans)/3 {
		t.Errorf("%d sentences said, the transcript has %d lines:\n%s", len(spans), len(lines), transcript)
	}
	// Hands-free listening was off while the dictation recorded: the assistant took none of it.
	for _, e := range w.events.snapshot() {
		at, _ := e["time"].(string)
		if when, err := time.Parse(time.RFC3339Nano, at); err == nil && when.Before(recording) {
			continue
		}
		if e.kind() == "transcript" || e.kind() == "speech" {
			t.Errorf("the assistant heard the dictation: %v", e)
		}
	}
	// Sound the microphone dropped is in the window's log and its status line.
	dropped := regexp.MustCompile(`dictation: ([\d.]+) s of sound was dropped`).FindStringSubmatch(w.out.String())
	if length > 40*time.Second {
		rss, cpu := procUsage(w.cmd.Process.Pid)
		t.Logf("%v dictated with %s: %d sentences, %d transcript lines; the window's process: peak RSS %.1f MiB, CPU %v; sound dropped: %v",
			length, filepath.Base(m.path), len(spans), len(lines), rss, cpu, dropped)
		if m.trained {
			var said []string
			for _, s := range spans {
				said = append(said, s.text)
			}
			a, b := strings.Fields(strings.ToLower(strings.Join(said, " "))), strings.Fields(strings.ToLower(transcript))
			t.Logf("%d words said, %d in the transcript, %d edits apart (the sound while paused is not transcribed)",
				len(a), len(b), textdist.Levenshtein(a, b))
		}
		// The proof run: a long dictation must lose nothing of what was said (on a short one, a
		// stall of seconds on a loaded machine may drop a little; it is logged).
		if dropped != nil {
			t.Errorf("%s s of sound was dropped", dropped[1])
		}
	} else if dropped != nil {
		t.Logf("%s s of sound was dropped (the machine was too busy)", dropped[1])
	}
	d.click(838, 67) // Write note
	var note string
	// A long transcript is written in parts and combined (minutes on a loaded machine).
	for deadline := time.Now().Add(60*time.Second + length); time.Now().Before(deadline) && !strings.Contains(note, "## Plan"); time.Sleep(time.Second) {
		note = d.copyFrom(t, 675, 300)
	}
	d.shotWhenChanged("6-note", stopped, image.Rect(458, 92, 894, 510))
	for _, h := range []string{"# Clinic visit (SOAP)", "## Subjective", "## Objective", "## Assessment", "## Plan"} {
		if !strings.Contains(note, h) {
			t.Errorf("the note has no %q:\n%s", h, note)
		}
	}
	d.click(510, 539) // Copy note
	time.Sleep(300 * time.Millisecond)
	if got := clipboard(t); got != note {
		t.Errorf("Copy note put %q on the clipboard", got)
	}
}

// procUsage is process pid's peak RSS (VmHWM, MiB) and its CPU time so far (Linux).
func procUsage(pid int) (float64, time.Duration) {
	var rss float64
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			rss = kb / 1024
		}
	}
	var cpu time.Duration
	b, _ = os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if i := strings.LastIndexByte(string(b), ')'); i > 0 {
		// Fields after the name: state is the 3rd field of the line, utime and stime the 14th and 15th.
		if f := strings.Fields(string(b[i+1:])); len(f) > 12 {
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			cpu = time.Duration(ut+st) * time.Second / 100 // USER_HZ
		}
	}
	return rss, cpu
}

// copyFrom selects all the text of the entry at (x, y) and copies it (Ctrl+A, Ctrl+C).
func (w *harkWindow) copyFrom(t *testing.T, x, y int) string {
	w.click(x, y)
	time.Sleep(200 * time.Millisecond)
	w.xdo("key", "ctrl+a", "ctrl+c")
	time.Sleep(300 * time.Millisecond)
	return clipboard(t)
}

func clipboard(t *testing.T) string {
	out, _ := exec.Command("xclip", "-o", "-selection", "clipboard").Output()
	return string(out)
}

type colour struct{ R, G, B int }

func pixel(t *testing.T, png string, x, y int) colour {
	r, g, b := rgb(readPNG(t, png), x, y)
	return colour{r, g, b}
}

// child is another window of the same process, found by a part of its title.
func (w *harkWindow) child(t *testing.T, title string) *harkWindow {
	t.Helper()
	c := *w
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, _ := exec.Command("xdotool", "search", "--name", title).Output()
		if f := strings.Fields(string(out)); len(f) > 0 {
			c.wid = f[0]
			return &c
		}
	}
	t.Fatalf("no window titled %q appeared", title)
	return nil
}
