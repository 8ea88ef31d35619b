package testserver

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// FreePort asks the system for an unused loopback port (for a server that is not there yet)
// and reserves it for the rest of the test.
func FreePort(t testing.TB) int { return freePort(t) }

// freePort picks an unused loopback port and reserves it, with a lock file, until the test
// ends. The system forgets a port once the probing listener closes, so two test processes
// (go test runs packages in parallel) could be handed the same one before either server
// binds it; llama-server binds with SO_REUSEPORT, so both then listen on it and the kernel
// deals each connection to either one: a test stopping its server broke the other's
// requests, and a "dead" server still answered. The lock is on an open file, so it goes
// away with the process that holds it, even after a crash.
func freePort(t testing.TB) int {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "hark-testports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprint(port)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close() // another test holds it
			continue
		}
		t.Cleanup(func() { f.Close() })
		return port
	}
	t.Fatal("testserver: no free loopback port after 50 tries")
	return 0
}
