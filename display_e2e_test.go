package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// envWithout is harkEnv without the given variables, and with more added.
func envWithout(t *testing.T, drop []string, add ...string) []string {
	var env []string
	for _, kv := range harkEnv(t) {
		k, _, _ := strings.Cut(kv, "=")
		keep := k != "LANG" && k != "LC_ALL" // fyne logs a warning for the C locale
		for _, d := range drop {
			keep = keep && k != d
		}
		if keep {
			env = append(env, kv)
		}
	}
	return append(env, append([]string{"LANG=en_US.UTF-8"}, add...)...)
}

// TestNoDisplayDesktop: started over SSH or from a service, the desktop window says in one
// line what is missing and where to go, and exits with status 1 (GLFW used to panic).
func TestNoDisplayDesktop(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"unset", nil, "hark: no graphical display: DISPLAY and WAYLAND_DISPLAY are not set; Hark's window needs one: `hark listen` runs the assistant without a window\n"},
		{"unreachable", []string{"DISPLAY=:1999"}, "hark: no graphical display: cannot connect to DISPLAY=:1999 (is the X server running?); Hark's window needs one: `hark listen` runs the assistant without a window\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(harkBinary(t))
			cmd.Env = envWithout(t, []string{"DISPLAY", "WAYLAND_DISPLAY"}, tc.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != 1 {
				t.Errorf("exit status %d (%v), want 1", code, err)
			}
			if stderr.String() != tc.want || stdout.Len() > 0 {
				t.Errorf("stderr:\n%s\nwant:\n%s\nstdout: %q", stderr.String(), tc.want, stdout.String())
			}
		})
	}
}

// TestKioskWaitsForTheDisplay starts a kiosk before its X server (as at boot, before the
// compositor), then starts the server: the kiosk says once that it waits, and its window
// comes up on the new display.
func TestKioskWaitsForTheDisplay(t *testing.T) {
	testenv.Require(t)
	testenv.Deadline(t, 5*time.Minute)
	n := 150
	for ; n < 300; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); os.IsNotExist(err) {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); os.IsNotExist(err) {
				break
			}
		}
	}
	disp := fmt.Sprintf(":%d", n)
	out := &syncBuffer{}
	cmd := exec.Command(harkBinary(t), "--mode", "kiosk", "--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"),
		"--llm-model", testmodels.Shared(t, "stories260K.gguf"))
	cmd.Env = envWithout(t, []string{"DISPLAY", "WAYLAND_DISPLAY"}, "DISPLAY="+disp)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		for _, pid := range childPIDs(cmd.Process.Pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = cmd.Process.Kill()
	})
	waiting := "hark: no graphical display: cannot connect to DISPLAY=" + disp + " (is the X server running?); waiting for it (checking every 2 s)\n"
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), waiting); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the kiosk did not say it waits; output:\n%s", out.String())
		}
	}
	select { // a few checks while the display is still missing
	case err := <-exited:
		t.Fatalf("the kiosk exited (%v); output:\n%s", err, out.String())
	case <-time.After(3 * time.Second):
	}
	xvfb := exec.Command("Xvfb", disp, "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	if err := xvfb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = xvfb.Process.Kill(); _ = xvfb.Wait() })
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		search := exec.Command("xdotool", "search", "--name", "^Hark$")
		search.Env = append(os.Environ(), "DISPLAY="+disp)
		if wid, _ := search.Output(); len(bytes.TrimSpace(wid)) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no window on %s after the display came; output:\n%s", disp, out.String())
		}
	}
	if c := strings.Count(out.String(), "waiting for it"); c != 1 {
		t.Errorf("said it waits %d times, want once; output:\n%s", c, out.String())
	}
}
