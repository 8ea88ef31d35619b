package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// End-to-end tests: the real hark binary on the virtual display, real engines on the shared
// test models, real audio through the virtual microphone, driven with xdotool the way a person
// uses it. Random-weight models produce gibberish; the tests check that every stage ran and
// showed, not the words. Screenshots and event logs stay in the artifact folder.

// event is one line of --events / `hark listen` output.
type event map[string]any

func (e event) kind() string { s, _ := e["event"].(string); return s }
func (e event) str(k string) string {
	s, _ := e[k].(string)
	return s
}
func (e event) num(k string) float64 {
	f, _ := e[k].(float64)
	return f
}
func (e event) flag(k string) bool {
	b, _ := e[k].(bool)
	return b
}

// at is when the event was published (its "time").
func (e event) at(t *testing.T) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, e.str("time"))
	if err != nil {
		t.Fatalf("event without a time: %v", e)
	}
	return at
}

// eventLog follows a JSON-lines file (or stream) written by hark.
type eventLog struct {
	mu     sync.Mutex
	events []event
	path   string
	read   int64
}

// poll reads what was appended to the file since the last call.
func (l *eventLog) poll(t *testing.T) {
	t.Helper()
	f, err := os.Open(l.path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(l.read, 0); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			break // a partial last line is read next time
		}
		l.read += int64(len(line))
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("event log %s: bad line %q: %v", l.path, line, err)
		}
		l.mu.Lock()
		l.events = append(l.events, e)
		l.mu.Unlock()
	}
}

func (l *eventLog) add(e event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) snapshot() []event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]event(nil), l.events...)
}

// waitFor waits up to d for an event after index from that matches, returning it and the
// index after it.
func (l *eventLog) waitFor(t *testing.T, from int, d time.Duration, what string, match func(event) bool) (event, int) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if l.path != "" {
			l.poll(t)
		}
		evs := l.snapshot()
		for i := from; i < len(evs); i++ {
			if match(evs[i]) {
				return evs[i], i + 1
			}
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for i, e := range evs {
				if e.kind() != "level" {
					j, _ := json.Marshal(e)
					fmt.Fprintf(&b, "  #%d %s\n", i, j)
				}
			}
			t.Fatalf("no %s event within %v after #%d; events:\n%s", what, d, from, b.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func isKind(k string) func(event) bool { return func(e event) bool { return e.kind() == k } }

func isState(s string) func(event) bool {
	return func(e event) bool { return e.kind() == "state" && e.str("state") == s }
}

// harkWindow is a running hark window.
type harkWindow struct {
	t      *testing.T
	cmd    *exec.Cmd
	out    *syncBuffer
	wid    string
	shots  string
	events *eventLog
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// from returns what was written after the first off bytes.
func (s *syncBuffer) from(off int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.b.Bytes()
	return string(b[min(off, len(b)):])
}

// harkEnv is the environment for a hark child: the test environment's display and sound, and
// fresh settings with speech output off where the mode allows (a random test model's reply,
// spoken, would take minutes; speech_e2e_test.go tests speaking, and car mode always speaks).
func harkEnv(t *testing.T) []string {
	cfg := t.TempDir()
	return append(os.Environ(), "XDG_CONFIG_HOME="+cfg, "XDG_DATA_HOME="+cfg, "XDG_CACHE_HOME="+cfg, "HARK_SPEECH_ENABLED=false")
}

// windowDeadline is how long a window test may run before it is taken to hang (the long
// dictation raises it).
var windowDeadline = 10 * time.Minute

// startWindow starts `hark args...` and waits until its window is drawn.
func startWindow(t *testing.T, name string, args ...string) *harkWindow {
	t.Helper()
	return startWindowEnv(t, name, nil, args...)
}

// startWindowEnv is startWindow with more environment variables (they win over harkEnv's).
func startWindowEnv(t *testing.T, name string, env []string, args ...string) *harkWindow {
	t.Helper()
	testenv.Require(t)
	testenv.Deadline(t, windowDeadline) // a window that hangs (a stuck engine, a lost event) fails here
	dir := testenv.ArtifactDir(t, "e2e-"+name)
	evPath := filepath.Join(dir, "events.jsonl")
	_ = os.Remove(evPath)
	w := &harkWindow{t: t, out: &syncBuffer{}, shots: dir, events: &eventLog{path: evPath}}
	w.cmd = exec.Command(harkBinary(t), append(args, "--events", evPath)...)
	w.cmd.Env = append(harkEnv(t), env...)
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = w.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = w.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = w.cmd.Process.Kill()
			<-done
		}
		_ = os.WriteFile(filepath.Join(dir, "hark.log"), []byte(w.out.String()), 0o644)
	})
	// A kiosk's window exists unmapped for a while (seconds on a loaded machine) before it is
	// shown fullscreen: wait for it to be shown, then for its first frames.
	for deadline := time.Now().Add(60 * time.Second); w.wid == "" && time.Now().Before(deadline); {
		out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--pid", strconv.Itoa(w.cmd.Process.Pid), "--name", "^Hark$").Output()
		w.wid = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
		if w.wid == "" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if w.wid == "" {
		t.Fatalf("no window titled Hark was shown; output:\n%s", w.out.String())
	}
	w.shot("0-drawn") // input before the first frames is lost: wait until the window is drawn
	return w
}

// shot saves a screenshot of the window and returns its path, after the window has shown at
// least minColours colours (llvmpipe needs a moment for the first frames).
func (w *harkWindow) shot(name string) string {
	w.t.Helper()
	p := filepath.Join(w.shots, name+".png")
	time.Sleep(400 * time.Millisecond) // let the last events reach the screen (repaints are batched)
	var colours int
	// 30 s: a loaded machine (load average 20 on 2 cores) has taken over 15 s for a first frame.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err := exec.Command("import", "-window", w.wid, p).Run(); err != nil {
			continue
		}
		out, err := exec.Command("convert", p, "-format", "%k", "info:").Output()
		if err != nil {
			continue
		}
		if colours, _ = strconv.Atoi(strings.TrimSpace(string(out))); colours > 20 {
			return p
		}
	}
	w.t.Fatalf("window looks blank (%d colours): %s", colours, p)
	return p
}

// Where the conversation is drawn in the two window sizes: below the header, above the status
// line and the controls (the Stop and microphone buttons, the entry), which change with the
// state whatever the chat shows. Replies are left-aligned: replyDesktop leaves out the
// question's bubble on the right.
var (
	chatDesktop  = image.Rect(0, 45, 480, 520)  // 480×720
	replyDesktop = image.Rect(0, 45, 300, 520)  // 480×720
	chatKiosk    = image.Rect(0, 60, 1280, 560) // fullscreen on 1280×800
)

// chatChanged fails the test unless the chat area r of screenshot after differs from before
// in at least a line of text's worth of pixels: a pane that never repainted shows none.
func chatChanged(t *testing.T, before, after string, r image.Rectangle) {
	t.Helper()
	a, b := readPNG(t, before), readPNG(t, after)
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r0, g0, b0, _ := a.At(x, y).RGBA()
			r1, g1, b1, _ := b.At(x, y).RGBA()
			if absDiff(r0, r1)+absDiff(g0, g1)+absDiff(b0, b1) > 3*0x1800 {
				n++
			}
		}
	}
	t.Logf("chat area %v: %d pixels changed from %s to %s", r, n, filepath.Base(before), filepath.Base(after))
	if n < 400 {
		t.Errorf("the chat area %v hardly changed (%d pixels) from %s to %s: the reply was not drawn", r, n, before, after)
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// tokens returns the text of the token events of turn in evs, joined.
func tokens(evs []event, turn float64) string {
	var b strings.Builder
	for _, e := range evs {
		if e.kind() == "token" && e.num("turn") == turn {
			b.WriteString(e.str("text"))
		}
	}
	return b.String()
}

// click moves the pointer onto the window at (x, y) and clicks (no window manager: focus
// follows the pointer).
func (w *harkWindow) click(x, y int) {
	w.t.Helper()
	w.xdo("mousemove", "--window", w.wid, strconv.Itoa(x), strconv.Itoa(y), "click", "1")
}

func (w *harkWindow) xdo(args ...string) {
	w.t.Helper()
	if out, err := exec.Command("xdotool", args...).CombinedOutput(); err != nil {
		w.t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// typeQuestion clicks the text entry at (x, y), types q and presses Enter.
func (w *harkWindow) typeQuestion(x, y int, q string) {
	w.t.Helper()
	w.click(x, y)
	time.Sleep(200 * time.Millisecond)
	w.xdo("type", "--delay", "15", q)
	w.xdo("key", "Return")
}

// slowModel writes a random-weight ~90M-parameter llama (Q4_0): it answers with a few dozen
// tokens a second on one core, slow enough to press Stop in the middle of a reply, as one would
// with a real model.
func slowModel(t *testing.T) string {
	t.Helper()
	o := testmodels.TinyLlama()
	o.Embd, o.FF, o.Layers, o.Heads, o.HeadsKV, o.ContextLength = 768, 3072, 10, 12, 12, 4096
	o.WeightType, o.MinVocab, o.Name = testmodels.TypeQ4_0, 8000, "hark-e2e-slow-random"
	p := filepath.Join(t.TempDir(), "slow.gguf")
	if err := testmodels.WriteLlama(p, o); err != nil {
		t.Fatal(err)
	}
	return p
}

// ready waits until typed questions can be asked.
func (w *harkWindow) ready(d time.Duration) int {
	w.t.Helper()
	_, i := w.events.waitFor(w.t, 0, d, "readiness (type)", func(e event) bool {
		r, _ := e["readiness"].(map[string]any)
		return e.kind() == "readiness" && r["type"] == true
	})
	return i
}

// typedTurnWithStop asks a typed question, presses Stop in the middle of the reply, and checks
// that the reply stopped, was kept, and that a second question works.
func typedTurnWithStop(t *testing.T, w *harkWindow, entry, stop [2]int, chat image.Rectangle) {
	i := w.ready(60 * time.Second)
	before := w.shot("typed-0-ready")
	w.typeQuestion(entry[0], entry[1], "Tell me a long story about a lighthouse")
	tr, i := w.events.waitFor(t, i, 20*time.Second, "transcript", isKind("transcript"))
	if tr.str("input") != "typed" || tr.str("text") != "Tell me a long story about a lighthouse" {
		t.Errorf("transcript = %v", tr)
	}
	_, i = w.events.waitFor(t, i, 20*time.Second, "token", isKind("token"))
	w.shot("typed-1-streaming")
	w.click(stop[0], stop[1])
	rep, r := w.events.waitFor(t, i, 20*time.Second, "reply", isKind("reply"))
	// The reply kept is exactly what was streamed before the Stop (the random model's words
	// are gibberish, and where the Stop lands varies, so this is the text to compare with).
	streamed := tokens(w.events.snapshot()[:r], rep.num("turn"))
	if !rep.flag("interrupted") || rep.str("text") == "" || strings.TrimSpace(rep.str("text")) != strings.TrimSpace(streamed) {
		t.Errorf("after Stop the reply is %v, want interrupted with the partial text streamed, %q", rep, streamed)
	}
	done, i := w.events.waitFor(t, i, 20*time.Second, "turn_done", isKind("turn_done"))
	if !done.flag("interrupted") {
		t.Errorf("turn_done = %v, want interrupted", done)
	}
	stopped := w.shot("typed-2-stopped")
	chatChanged(t, before, stopped, chat)
	// A second question in the same conversation runs to its end.
	w.typeQuestion(entry[0], entry[1], "Hi")
	_, i = w.events.waitFor(t, i, 20*time.Second, "transcript", isKind("transcript"))
	done, _ = w.events.waitFor(t, i, 90*time.Second, "turn_done", isKind("turn_done"))
	if done.flag("interrupted") || done.str("error") != "" {
		t.Errorf("second turn = %v", done)
	}
	chatChanged(t, stopped, w.shot("typed-3-second-answer"), chat)
}

func TestE2EDesktopTypedAndStop(t *testing.T) {
	w := startWindow(t, "desktop-typed", "--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"),
		"--llm-model", slowModel(t))
	w.shot("start")
	// 480×720: the entry along the bottom, the Stop button left of the microphone.
	typedTurnWithStop(t, w, [2]int{200, 697}, [2]int{82, 622}, chatDesktop)
}

func TestE2EKioskTypedAndStop(t *testing.T) {
	w := startWindow(t, "kiosk-typed", "--mode", "kiosk", "--no-supervise",
		"--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"), "--llm-model", slowModel(t))
	w.shot("attract")
	w.click(640, 400) // a tap dismisses the attract screen
	// Fullscreen on the 1280×800 screen: the entry along the bottom, Stop left of the microphone.
	typedTurnWithStop(t, w, [2]int{600, 777}, [2]int{212, 655}, chatKiosk)
}

// TestE2EKioskComesBackAfterACrash: the kiosk runs its window under a supervisor; when the
// window's process dies (kill -9 stands in for a crash in C code) a new one comes up by itself,
// and stopping the supervisor stops it.
func TestE2EKioskComesBackAfterACrash(t *testing.T) {
	testenv.Require(t)
	testenv.Deadline(t, 10*time.Minute)
	dir := testenv.ArtifactDir(t, "e2e-kiosk-supervisor")
	evPath := filepath.Join(dir, "events.jsonl")
	_ = os.Remove(evPath)
	out := &syncBuffer{}
	cmd := exec.Command(harkBinary(t), "--mode", "kiosk", "--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"),
		"--llm-model", testmodels.Shared(t, "stories260K.gguf"), "--events", evPath)
	cmd.Env = harkEnv(t)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// The window is the supervisor's child: killing the supervisor alone would leave it
		// on the display, over the next test's window.
		for _, pid := range childPIDs(cmd.Process.Pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = cmd.Process.Kill()
		_ = os.WriteFile(filepath.Join(dir, "hark.log"), []byte(out.String()), 0o644)
	})
	child := func(not int) int {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			for _, pid := range childPIDs(cmd.Process.Pid) {
				if pid == not {
					continue
				}
				if wid, _ := exec.Command("xdotool", "search", "--pid", strconv.Itoa(pid), "--name", "^Hark$").Output(); len(wid) > 0 {
					return pid
				}
			}
		}
		t.Fatalf("no kiosk window from a child of the supervisor; output:\n%s", out.String())
		return 0
	}
	first := child(0)
	w := &harkWindow{t: t, shots: dir, events: &eventLog{path: evPath}}
	w.wid = strings.Fields(string(must(exec.Command("xdotool", "search", "--pid", strconv.Itoa(first), "--name", "^Hark$").Output())))[0]
	w.ready(60 * time.Second)
	w.shot("1-before-crash")
	// Events from here on are the restarted window's: the first one was ready, and is killed.
	w.events.poll(t)
	killedAt := len(w.events.snapshot())
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := child(first)
	w.wid = strings.Fields(string(must(exec.Command("xdotool", "search", "--pid", strconv.Itoa(second), "--name", "^Hark$").Output())))[0]
	_, i := w.events.waitFor(t, killedAt, 60*time.Second, "loading state (the restarted window)", isState("loading"))
	w.events.waitFor(t, i, 60*time.Second, "the second start ready to type", func(e event) bool {
		r, _ := e["readiness"].(map[string]any)
		return e.kind() == "readiness" && r["type"] == true
	})
	w.shot("2-after-restart")
	if !strings.Contains(out.String(), "starting it again") {
		t.Errorf("the supervisor did not say it restarted the window:\n%s", out.String())
	}
	// SIGTERM to the supervisor ends the window too.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the supervisor did not stop on SIGTERM")
	}
	if err := syscall.Kill(second, 0); err == nil {
		t.Errorf("the kiosk window (pid %d) outlived its supervisor", second)
		_ = syscall.Kill(second, syscall.SIGKILL)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestE2ESettingsAreSaved opens the settings (the gear button) in the real window, changes the
// wake phrase, saves, and finds it in the configuration file, where the next start reads it.
// (Ctrl+, is tested in package ui: X keyboard focus without a window manager is too loose to
// rely on for a chord.)
func TestE2ESettingsAreSaved(t *testing.T) {
	w := startWindow(t, "desktop-settings", "--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"),
		"--llm-model", testmodels.Shared(t, "stories260K.gguf"))
	w.ready(60 * time.Second)
	w.click(458, 21) // 480×720: the gear at the top right
	time.Sleep(time.Second)
	w.shot("1-settings")
	w.click(300, 339) // 480×720: the wake phrase entry
	time.Sleep(200 * time.Millisecond)
	w.xdo("type", "--delay", "15", "hey hark")
	w.shot("2-edited")
	w.click(272, 653) // Save
	var cfgHome string
	for _, kv := range w.cmd.Env {
		if v, ok := strings.CutPrefix(kv, "XDG_CONFIG_HOME="); ok {
			cfgHome = v
		}
	}
	path := filepath.Join(cfgHome, "hark", "config.toml")
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got, _ = os.ReadFile(path); bytes.Contains(got, []byte(`wake_phrase = "hey hark"`)) {
			break
		}
	}
	if !bytes.Contains(got, []byte(`wake_phrase = "hey hark"`)) {
		t.Fatalf("%s after saving the settings:\n%s", path, got)
	}
	if bytes.Contains(got, []byte("stories260K")) {
		t.Errorf("the --llm-model flag was saved into the configuration:\n%s", got)
	}
	show := exec.Command(harkBinary(t), "config", "show")
	show.Env = w.cmd.Env
	out, err := show.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `wake_phrase = "hey hark"`) {
		t.Errorf("hark config show: %v\n%s", err, out)
	}
}
