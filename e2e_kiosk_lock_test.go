package main

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hark/internal/testmodels"
)

// wmDelete asks the window to close the way a window manager's close button or Alt+F4 does: a
// WM_DELETE_WINDOW client message (ICCCM). The test display has no window manager to send it,
// so python3-xlib sends it.
const wmDeleteScript = `
import sys
from Xlib import X, display, protocol
d = display.Display()
w = d.create_resource_object('window', int(sys.argv[1]))
proto = d.intern_atom('WM_PROTOCOLS')
delete = d.intern_atom('WM_DELETE_WINDOW')
ev = protocol.event.ClientMessage(window=w, client_type=proto, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
w.send_event(ev, event_mask=X.NoEventMask)
d.flush()
`

func wmDelete(t *testing.T, wid string) {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", wmDeleteScript, wid).CombinedOutput(); err != nil {
		t.Fatalf("sending WM_DELETE_WINDOW (python3-xlib, installed by make setup-test): %v\n%s", err, out)
	}
}

// TestE2EKioskLockedDown: a kiosk window survives what a passer-by can do to close it — Alt+F4,
// Ctrl+Q, Ctrl+W, Escape and the window manager's close request — keeps answering, and closes
// only with the admin chord (status 0, which also tells a supervisor not to restart it).
func TestE2EKioskLockedDown(t *testing.T) {
	w := startWindow(t, "kiosk-lock", "--mode", "kiosk", "--no-supervise",
		"--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"), "--llm-model", testmodels.Shared(t, "stories260K.gguf"))
	exited := make(chan error, 1)
	go func() { exited <- w.cmd.Wait() }()
	i := w.ready(60 * time.Second)
	w.click(640, 400) // a tap dismisses the attract screen
	stillThere := func(what string) {
		t.Helper()
		select {
		case err := <-exited:
			t.Fatalf("the kiosk closed after %s (%v); output:\n%s", what, err, w.out.String())
		case <-time.After(1500 * time.Millisecond):
		}
		out, _ := exec.Command("xdotool", "search", "--pid", strconv.Itoa(w.cmd.Process.Pid), "--name", "^Hark$").Output()
		if !strings.Contains(string(out), w.wid) {
			t.Fatalf("the kiosk window is gone after %s", what)
		}
	}
	for _, keys := range []string{"alt+F4", "ctrl+q", "ctrl+w", "Escape", "ctrl+alt+BackSpace"} {
		w.click(640, 300) // no window manager: focus follows the pointer, and xdotool types through XTEST as a keyboard would
		w.xdo("key", keys)
		stillThere(keys)
	}
	wmDelete(t, w.wid)
	stillThere("a window manager's close request")
	w.shot("1-after-close-attempts")
	// It still answers.
	w.typeQuestion(600, 777, "hello")
	w.events.waitFor(t, i, 60*time.Second, "a reply after the close attempts", isKind("turn_done"))
	w.shot("2-still-answering")
	// The admin chord (kiosk.admin_chord, by default Ctrl+Alt+Shift+A) closes it cleanly. (The
	// window is looked up again: going fullscreen may have given it a new X window.)
	if out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--pid", strconv.Itoa(w.cmd.Process.Pid), "--name", "^Hark$").Output(); len(strings.Fields(string(out))) > 0 {
		w.wid = strings.Fields(string(out))[0]
	}
	w.click(640, 300)
	w.xdo("key", "ctrl+alt+shift+a")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the admin chord ended the kiosk with %v, want status 0", err)
		}
	case <-time.After(20 * time.Second):
		w.shot("3-chord-did-not-close")
		// Still running: its goroutines say whether it is shutting down and stuck, or never
		// saw the chord.
		_ = w.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
		t.Fatalf("the admin chord did not close the kiosk; output:\n%s", w.out.String())
	}
}
