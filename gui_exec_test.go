package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nowindowBinary is the `hark` make build installs (-tags nowindow): $HARK_BIN, which must be
// that build, or one built into a temporary folder.
func nowindowBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("HARK_BIN")
	if bin == "" {
		bin = buildHark(t, "-tags", "nowindow")
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("hark version: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("build -tags=nowindow\n")) || bytes.Contains(out, []byte("window: fyne")) {
		t.Fatalf("%s is not the nowindow build that make build installs as bin/hark:\n%s", bin, out)
	}
	return bin
}

// `hark` without a command becomes the window's executable: the same process (PID), the same
// arguments; found by $HARK_WINDOW, else as NAME-window beside an executable called NAME; and
// where there is none, or it is the command-line build again, a clear error, not a crash or a
// loop.
func TestNoWindowBuildExecsTheWindow(t *testing.T) {
	bin := nowindowBinary(t)
	dir := t.TempDir()
	fakeWindow := func(path string) string {
		t.Helper()
		got := path + ".ran"
		script := "#!/bin/sh\necho \"$$ $*\" > '" + got + "'\n"
		if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		return got
	}
	start := func(exe string, env []string, args ...string) (pid int, out string, err error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // an exec loop must not hang the test
		defer cancel()
		cmd := exec.CommandContext(ctx, exe, args...)
		// PATH without the build folder: only the lookups under test can find a window.
		cmd.Env = append(os.Environ(), append([]string{"PATH=/usr/bin:/bin", windowEnv + "="}, env...)...)
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		return cmd.Process.Pid, buf.String(), err
	}
	check := func(ran string, pid int, args string) {
		t.Helper()
		b, err := os.ReadFile(ran)
		if err != nil {
			t.Fatalf("the window's executable did not run: %v", err)
		}
		want := strconv.Itoa(pid) + " " + args + "\n"
		if string(b) != want {
			t.Errorf("the window ran as %q, want %q (same PID, same arguments)", b, want)
		}
	}

	// $HARK_WINDOW names it.
	ran := fakeWindow(filepath.Join(dir, "elsewhere"))
	pid, out, err := start(bin, []string{windowEnv + "=" + filepath.Join(dir, "elsewhere")}, "--mode", "kiosk", "--no-supervise")
	if err != nil {
		t.Fatalf("hark --mode kiosk: %v\n%s", err, out)
	}
	check(ran, pid, "--mode kiosk --no-supervise")

	// A window executable that is the command-line build again: an error, not an exec loop.
	_, out, err = start(bin, []string{windowEnv + "=" + bin})
	if err == nil || !strings.Contains(out, "is not Hark's window") {
		t.Errorf("hark whose window is hark again: err %v, output:\n%s", err, out)
	}

	// A copy called hark-x with nothing beside it: the error says what is missing.
	exe := filepath.Join(dir, "hark-x")
	copyFile(t, bin, exe)
	if err := os.Chmod(exe, 0o755); err != nil {
		t.Fatal(err)
	}
	_, out, err = start(exe, nil)
	if err == nil || !strings.Contains(out, "Hark's window is not installed") || !strings.Contains(out, windowExe) {
		t.Errorf("hark with no window installed: err %v, output:\n%s", err, out)
	}
	// hark-x-window beside it.
	ran = fakeWindow(exe + windowSuffix)
	pid, out, err = start(exe, nil)
	if err != nil {
		t.Fatalf("hark-x: %v\n%s", err, out)
	}
	check(ran, pid, "")
}
