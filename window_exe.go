package main

// Where the nowindow build (gui_nowindow.go) finds the window's executable.

// windowExe is the window's executable, installed beside hark. An executable named otherwise
// (make portable's hark-portable) looks first for its own name with windowSuffix.
const (
	windowExe    = "hark-window"
	windowSuffix = "-window"
)

// windowEnv names another window executable (for a relocated install or a test).
const windowEnv = "HARK_WINDOW"

// windowExecEnv marks a process the nowindow build exec'd as the window; the window clears it.
const windowExecEnv = "HARK_WINDOW_EXEC"
