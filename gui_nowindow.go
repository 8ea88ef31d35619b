//go:build nowindow

package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"hark/app"
)

// The nowindow build is the `hark` that `make build` installs: every command but the window.
// Linking Fyne costs every other command start-up memory it never uses (its translations reach
// text/template, whose reflection makes Go's linker keep every exported method in the binary,
// and the Go runtime touches tables of all of them at start-up), so the window is a second
// executable, windowExe, built from the same sources without this tag. `hark` with no
// command, or with window options, becomes that program (exec: same process, same PID, same
// signals), which supervisors, desktop files and tests rely on.

func runGUI(_ context.Context, args []string, _ io.Writer) error {
	exe, err := findWindow()
	if err != nil {
		return err
	}
	// A window executable that is this build again (a copy under the wrong name) would exec
	// itself for ever; the real window clears the mark as it starts (gui.go).
	if os.Getenv(windowExecEnv) != "" {
		return &app.UserError{
			Msg:  exe + " is not Hark's window: it is the command-line hark again",
			Hint: "Reinstall Hark, or run `make build`, which builds both executables",
		}
	}
	env := append(os.Environ(), windowExecEnv+"=1")
	err = syscall.Exec(exe, append([]string{exe}, args...), env)
	return app.Explain(err, "Hark's window could not start ("+exe+")", "Reinstall Hark; `hark listen` runs the assistant without a window")
}

// findWindow looks for the window's executable: $HARK_WINDOW; beside this executable (through
// symbolic links, so a link in ~/bin still finds the install) under this executable's name
// plus windowSuffix, then as windowExe; then windowExe on PATH.
func findWindow() (string, error) {
	if p := os.Getenv(windowEnv); p != "" {
		return p, nil
	}
	var tried []string
	if self, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		for _, name := range []string{filepath.Base(self) + windowSuffix, windowExe} {
			p := filepath.Join(filepath.Dir(self), name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p, nil
			}
		}
		tried = append(tried, filepath.Dir(self))
	}
	if p, err := exec.LookPath(windowExe); err == nil {
		return p, nil
	}
	tried = append(tried, "PATH")
	return "", &app.UserError{
		Msg:  "Hark's window is not installed (" + windowExe + " was looked for in " + strings.Join(tried, " and ") + ")",
		Hint: "Reinstall Hark or run `make build`, which builds it; `hark listen` runs the assistant without a window",
	}
}

// windowVersion is `hark version`'s line about the window: which executable has it.
func windowVersion(string) string {
	exe, err := findWindow()
	if err != nil {
		return "window: not installed (" + windowExe + " not found)"
	}
	return "window: " + exe + " (a separate executable: Fyne is not linked into this one)"
}
