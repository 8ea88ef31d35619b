// Package testenv connects tests to the environment `make test` starts (scripts/testenv): a
// virtual X display and a PulseAudio server with a virtual microphone and speaker.
//
// Tests that need them call Require, which fails (never skips) when the environment is missing,
// so a green run always means the real device and window tests ran. Tests that use the shared
// virtual audio devices hold LockAudio, so that test binaries running in parallel never mix
// their sound. Tests that could hang (on a channel, a device, a child process) call Deadline, so
// a hang fails that test by name instead of surfacing at `go test`'s 40-minute timeout.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// Deadline fails the test binary, naming t and showing every goroutine, if t is still running
// after d. d is a bound on a hang, far above any normal run, never a measure of speed: use
// minutes. (A test cannot be failed from another goroutine and then stopped, so Deadline panics,
// as `go test -timeout` does, but after this test's own bound.)
func Deadline(t testing.TB, d time.Duration) {
	t.Helper()
	name := t.Name()
	timer := time.AfterFunc(d, func() {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		panic(fmt.Sprintf("%s still running after %v: it hangs\n\n%s", name, d, buf))
	})
	t.Cleanup(func() { timer.Stop() })
}

// Require fails t unless the test display and sound server are configured.
func Require(t testing.TB) {
	t.Helper()
	for _, v := range []string{"HARK_TESTENV", "DISPLAY", "PULSE_SERVER"} {
		if os.Getenv(v) == "" {
			t.Fatalf("%s is not set: run the tests with `make test`, or start the test environment "+
				"(scripts/testenv/start.sh) and source scripts/testenv/env.sh", v)
		}
	}
}

// Dir returns the test environment's folder.
func Dir(t testing.TB) string {
	t.Helper()
	Require(t)
	return os.Getenv("HARK_TESTENV")
}

// ArtifactDir returns a folder for files a person should look at after the run (screenshots,
// recordings, event logs): $HARK_TEST_ARTIFACTS/NAME, default under the environment's folder.
func ArtifactDir(t testing.TB, name string) string {
	t.Helper()
	root := os.Getenv("HARK_TEST_ARTIFACTS")
	if root == "" {
		root = filepath.Join(Dir(t), "artifacts")
	}
	d := filepath.Join(root, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// LockAudio holds an exclusive lock on the virtual audio devices until the test ends.
func LockAudio(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(Dir(t), "audio.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}
