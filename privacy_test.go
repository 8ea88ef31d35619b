package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"os/exec"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

func TestOpenPrivateLog(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "old.jsonl")
	if err := os.WriteFile(loose, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "new.jsonl"), loose} {
		f, err := openPrivateLog(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", p, fi.Mode().Perm(), err)
		}
	}
	if b, _ := os.ReadFile(loose); string(b) != "{}\n" {
		t.Errorf("the old events were not kept: %q", b)
	}
}

// listeningSockets lists the listening TCP, UDP-bound and Unix sockets the process pid holds:
// its socket inodes (/proc/PID/fd) looked up in the kernel's tables (/proc/PID/net/...), so
// other processes' listeners on the machine do not count.
func listeningSockets(t *testing.T, pid int) []string {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	if len(inodes) == 0 {
		t.Fatalf("process %d holds no socket at all: the check would prove nothing (it talks to X and the sound server)", pid)
	}
	var found []string
	for _, table := range []string{"tcp", "tcp6", "udp", "udp6"} {
		// Columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode.
		// A TCP listener is in state 0A; any bound UDP socket receives from anyone (07).
		scanTable(t, pid, table, func(f []string) {
			if len(f) > 9 && inodes[f[9]] && (f[3] == "0A" || strings.HasPrefix(table, "udp")) {
				found = append(found, table+" "+f[1])
			}
		})
	}
	// Columns: Num RefCount Protocol Flags Type St Inode Path; __SO_ACCEPTCON (00010000) in
	// Flags marks a listening socket.
	scanTable(t, pid, "unix", func(f []string) {
		if len(f) > 6 && inodes[f[6]] && f[3] == "00010000" {
			found = append(found, "unix "+strings.Join(f[7:], " "))
		}
	})
	return found
}

func scanTable(t *testing.T, pid int, table string, row func([]string)) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
	if err != nil {
		if os.IsNotExist(err) { // no IPv6 in this kernel
			return
		}
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		row(strings.Fields(sc.Text()))
	}
}

// TestListeningSocketsCheckCanFail: a process that does listen (a shell running nc, or Python)
// is caught, so the tests below can fail.
func TestListeningSocketsCheckCanFail(t *testing.T) {
	cmd := exec.Command("/usr/bin/python3", "-c", `import socket,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen()
u=socket.socket(socket.AF_UNIX); u.bind("\0hark-listen-test-`+strconv.Itoa(os.Getpid())+`"); u.listen()
print("ok", flush=True); time.sleep(30)`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("python3: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ok\n" {
		t.Fatalf("python said %q", line)
	}
	got := strings.Join(listeningSockets(t, cmd.Process.Pid), "; ")
	if !strings.Contains(got, "tcp 0100007F:") || !strings.Contains(got, "unix @hark-listen-test") {
		t.Errorf("found %q, want the TCP and the Unix listener", got)
	}
}

// TestNoListeningSockets: neither the window (after a typed turn) nor `hark listen` opens a
// socket others could connect to; and the window's --events file is private.
func TestNoListeningSockets(t *testing.T) {
	testenv.Deadline(t, 5*time.Minute)
	w := startWindow(t, "nosockets", storyArgs(t)...)
	storyTurn(t, w)
	if l := listeningSockets(t, w.cmd.Process.Pid); len(l) > 0 {
		t.Errorf("the window listens on %v", l)
	}
	if fi, err := os.Stat(w.events.path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("--events file mode %v (%v), want 0600: it holds what a person typed", fi.Mode().Perm(), err)
	}

	testenv.LockAudio(t)
	cmd := exec.Command(harkBinary(t), append([]string{"listen"}, voiceModels(t, testmodels.Shared(t, "stories260K.gguf"))...)...)
	cmd.Env = harkEnv(t)
	var stdout syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(stdout.String(), `"listening"`); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("hark listen did not start listening:\n%s", stdout.String())
		}
	}
	if l := listeningSockets(t, cmd.Process.Pid); len(l) > 0 {
		t.Errorf("hark listen listens on %v", l)
	}
}
