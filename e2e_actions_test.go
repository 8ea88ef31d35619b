package main

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// actionEnv is what a window's or a command's environment needs beyond harkEnv's: speech on
// (the timer's ring and name are heard on the virtual speaker) and the given folders for
// settings and data (the timers' store), shared by the processes of one test.
func actionEnv(t *testing.T, dir string) []string {
	return []string{"XDG_CONFIG_HOME=" + dir, "XDG_DATA_HOME=" + dir, "XDG_CACHE_HOME=" + dir, "HARK_SPEECH_ENABLED=true"}
}

// timerDue is when the timer in an action event rings.
func timerDue(t *testing.T, e event) time.Time {
	t.Helper()
	a, _ := e["action"].(map[string]any)
	d, _ := a["data"].(map[string]any)
	s, _ := d["due"].(string)
	due, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("action event without a due time: %v", e)
	}
	return due
}

// TestE2ETimerRingsInWindow: "set a timer for 5 seconds" typed in the window shows a timer card
// and, 5 seconds later, rings on the speaker (the timer earcon, then its name spoken).
func TestE2ETimerRingsInWindow(t *testing.T) {
	w := startWindowEnv(t, "timer", actionEnv(t, t.TempDir()), "--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"),
		"--llm-model", slowModel(t))
	testenv.LockAudio(t)
	i := w.ready(60 * time.Second)
	spk := recordSource(t, "vspeaker.monitor")
	w.typeQuestion(200, 697, "set a timer for 5 seconds")
	act, i := w.events.waitFor(t, i, 20*time.Second, "action", isKind("action"))
	a, _ := act["action"].(map[string]any)
	if a["tool"] != "timer_start" || a["done"] != true || a["source"] != "intent" {
		t.Fatalf("action = %v", act)
	}
	due := timerDue(t, act)
	w.shot("timer-1-running")
	alert, j := w.events.waitFor(t, i, 20*time.Second, "alert", isKind("alert"))
	if al, _ := alert["alert"].(map[string]any); al["name"] != "5 second timer" || al["missed"] == true {
		t.Errorf("alert = %v", alert)
	}
	time.Sleep(1500 * time.Millisecond) // the ring and the name, played
	w.shot("timer-2-rang")
	// The reply "Timer set for 5 seconds." is spoken first; the ring is the first sound after
	// the silence that follows it. On a busy machine the reply can start late and play until
	// close to the due time, with pauses of its own: look only after its end.
	from := due.Add(-3 * time.Second)
	if end := speakingEnd(t, w.events.snapshot()[i-1:j]); end.After(from) {
		from = end
	}
	quiet, ok := spk.silence(from, due, 300*time.Millisecond, -50)
	if !ok && from.After(due.Add(-300*time.Millisecond)) {
		quiet, ok = from, true // the reply played up to the due time: the ring follows it
	}
	if !ok {
		t.Fatalf("no silence before the timer was due at %s", due.Format("15:04:05.000"))
	}
	first, _ := spk.soundSpan(quiet, -40)
	if first.IsZero() {
		t.Fatalf("nothing was heard on the speaker after %s (due %s)", quiet.Format("15:04:05.000"), due.Format("15:04:05.000"))
	}
	if first.Before(due.Add(-500 * time.Millisecond)) {
		t.Errorf("a sound at %s, before the timer was due at %s", first.Format("15:04:05.000"), due.Format("15:04:05.000"))
	}
	t.Logf("timer ring on the speaker %+.0f ms from its due time", float64(first.Sub(due).Microseconds())/1000)
}

// speakingEnd is when the first spoken stretch in evs ended (the state after "speaking"), or
// the zero time.
func speakingEnd(t *testing.T, evs []event) time.Time {
	t.Helper()
	speaking := false
	for _, e := range evs {
		if e.kind() != "state" {
			continue
		}
		if e.str("state") == "speaking" {
			speaking = true
		} else if speaking {
			return e.at(t)
		}
	}
	return time.Time{}
}

// TestE2ETimerSurvivesKill: a window killed with a timer running; the next start rings it (it
// came due while Hark was down, less than a minute ago).
func TestE2ETimerSurvivesKill(t *testing.T) {
	dir, model := t.TempDir(), slowModel(t)
	asrModel := testmodels.Shared(t, "whisper-tiny-random.en.bin")
	w := startWindowEnv(t, "timer-kill-1", actionEnv(t, dir), "--asr-model", asrModel, "--llm-model", model)
	i := w.ready(60 * time.Second)
	w.typeQuestion(200, 697, "set an egg timer for 3 seconds")
	act, _ := w.events.waitFor(t, i, 20*time.Second, "action", isKind("action"))
	due := timerDue(t, act)
	if err := w.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = w.cmd.Process.Wait()
	time.Sleep(time.Until(due) + time.Second)

	w2 := startWindowEnv(t, "timer-kill-2", actionEnv(t, dir), "--asr-model", asrModel, "--llm-model", model)
	alert, _ := w2.events.waitFor(t, 0, 60*time.Second, "alert", isKind("alert"))
	if al, _ := alert["alert"].(map[string]any); al["name"] != "egg timer" {
		t.Errorf("alert = %v", alert)
	}
	w2.shot("after-restart")
}

// TestE2EListenRingsATimerFromDo: `hark do` sets a timer while `hark listen` runs; listen picks
// it up from the store, prints the alert event and rings on the speaker.
func TestE2EListenRingsATimerFromDo(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	env := append(harkEnv(t), actionEnv(t, t.TempDir())...)
	bin := harkBinary(t)
	cmd := exec.Command(bin, "listen", "--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"), "--llm-model", slowModel(t))
	cmd.Env = env
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	wait := func(what string, match func(event) bool) event {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			sc := bufio.NewScanner(strings.NewReader(stdout.String()))
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				var e event
				if json.Unmarshal(sc.Bytes(), &e) == nil && match(e) {
					return e
				}
			}
		}
		t.Fatalf("no %s; stdout:\n%s\nstderr:\n%s", what, stdout.String(), stderr.String())
		return nil
	}
	wait("listening", isState("listening"))
	spk := recordSource(t, "vspeaker.monitor")
	do := exec.Command(bin, "do", "--json", "set a tea timer for 3 seconds")
	do.Env = env
	out, err := do.Output()
	if err != nil {
		t.Fatalf("hark do: %v\n%s", err, out)
	}
	var res struct {
		Ran    bool
		Result struct {
			Data struct{ Due time.Time }
		}
	}
	if err := json.Unmarshal(out, &res); err != nil || !res.Ran {
		t.Fatalf("hark do --json = %s (%v)", out, err)
	}
	due := res.Result.Data.Due
	alert := wait("alert", isKind("alert"))
	if al, _ := alert["alert"].(map[string]any); al["name"] != "tea timer" {
		t.Errorf("alert = %v", alert)
	}
	time.Sleep(time.Second)
	first, _ := spk.soundSpan(due.Add(-time.Second), -40)
	if first.IsZero() {
		t.Fatalf("the timer did not ring on the speaker (due %s)", due.Format("15:04:05.000"))
	}
	if first.Before(due.Add(-500 * time.Millisecond)) {
		t.Errorf("a sound at %s, before the timer was due at %s", first.Format("15:04:05.000"), due.Format("15:04:05.000"))
	}
	// hark listen rescans the store every second, so a timer set by another process rings up
	// to a second late only if it is due within a second of being set.
	t.Logf("timer set by hark do rang in hark listen %+.0f ms from its due time", float64(first.Sub(due).Microseconds())/1000)
}

// TestE2EConfirmInWindow: a tool that must be confirmed asks in the window (a card with Yes and
// No), does nothing on "no", and runs on "yes".
func TestE2EConfirmInWindow(t *testing.T) {
	w := startWindowEnv(t, "confirm", nil, "--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"),
		"--llm-model", slowModel(t))
	i := w.ready(60 * time.Second)
	w.typeQuestion(200, 697, "remind me to buy milk")
	_, i = w.events.waitFor(t, i, 20*time.Second, "action", isKind("action"))
	w.typeQuestion(200, 697, "clear my notes")
	c, i := w.events.waitFor(t, i, 20*time.Second, "confirm", isKind("confirm"))
	if a, _ := c["action"].(map[string]any); a["confirmed"] != "pending" || a["question"] != "Delete all 1 note?" {
		t.Fatalf("confirm = %v", c)
	}
	w.shot("confirm-1-asked")
	w.typeQuestion(200, 697, "no")
	c, i = w.events.waitFor(t, i, 20*time.Second, "confirm answered", isKind("confirm"))
	if a, _ := c["action"].(map[string]any); a["confirmed"] != "no" {
		t.Errorf("answer = %v", c)
	}
	_, i = w.events.waitFor(t, i, 20*time.Second, "turn_done", isKind("turn_done"))
	for _, e := range w.events.snapshot() {
		if a, _ := e["action"].(map[string]any); e.kind() == "action" && a["tool"] == "note_clear" {
			t.Fatalf("note_clear ran without a yes: %v", e)
		}
	}
	w.typeQuestion(200, 697, "clear my notes")
	_, i = w.events.waitFor(t, i, 20*time.Second, "confirm", isKind("confirm"))
	w.typeQuestion(200, 697, "yes")
	act, _ := w.events.waitFor(t, i, 20*time.Second, "action", isKind("action"))
	if a, _ := act["action"].(map[string]any); a["tool"] != "note_clear" || a["confirmed"] != "yes" || a["say"] != "Deleted 1 note." {
		t.Errorf("action = %v", act)
	}
	w.shot("confirm-2-done")
}

// TestE2EChineseTimerInWindow: a Chinese timer command typed (pasted, as an input method
// commits it) into the window of a Chinese desktop is answered in Chinese, with the length
// said the Chinese way; the timer card shows; it rings with its Chinese name.
func TestE2EChineseTimerInWindow(t *testing.T) {
	env := append(actionEnv(t, t.TempDir()), "LANG=zh_CN.UTF-8", "LANGUAGE=zh_CN", "LC_ALL=")
	w := startWindowEnv(t, "timer-zh", env, "--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"),
		"--llm-model", slowModel(t))
	i := w.ready(60 * time.Second)
	w.click(200, 697)
	time.Sleep(200 * time.Millisecond)
	paste(t, "设置一个五秒的计时器")
	w.xdo("key", "ctrl+v")
	w.xdo("key", "Return")
	act, i := w.events.waitFor(t, i, 20*time.Second, "action", isKind("action"))
	a, _ := act["action"].(map[string]any)
	if a["tool"] != "timer_start" || a["done"] != true || a["say"] != "好的，五秒的计时器开始了。" {
		t.Fatalf("action = %v", act)
	}
	rep, i := w.events.waitFor(t, i, 20*time.Second, "reply", isKind("reply"))
	if rep.str("text") != "好的，五秒的计时器开始了。" {
		t.Errorf("reply %q", rep.str("text"))
	}
	time.Sleep(500 * time.Millisecond)
	w.shot("1-running")
	alert, _ := w.events.waitFor(t, i, 20*time.Second, "alert", isKind("alert"))
	al, _ := alert["alert"].(map[string]any)
	if al["name"] != "五秒计时器" || al["say"] != "五秒计时器时间到了。" || alert.str("text") != "五秒计时器时间到了。" {
		t.Errorf("alert = %v", alert)
	}
	time.Sleep(1500 * time.Millisecond)
	w.shot("2-rang")
}
