package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDeadline runs a test that hangs past its Deadline in a child test binary: the child must
// fail, naming the test.
func TestDeadline(t *testing.T) {
	if os.Getenv("TESTENV_HANG") == "1" {
		Deadline(t, 100*time.Millisecond)
		select {} // hangs
	}
	Deadline(t, 2*time.Minute)
	cmd := exec.Command(os.Args[0], "-test.run", "^TestDeadline$", "-test.timeout", "10m")
	cmd.Env = append(os.Environ(), "TESTENV_HANG=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "TestDeadline still running after 100ms: it hangs") {
		t.Errorf("a hung test past its deadline: %v\n%s", err, out)
	}
}

// TestDeadlineStops: a test that ends in time is not failed after it.
func TestDeadlineStops(t *testing.T) {
	t.Run("quick", func(t *testing.T) { Deadline(t, 50*time.Millisecond) })
	time.Sleep(200 * time.Millisecond) // past the subtest's deadline: its timer must be stopped
}
