package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hark/internal/testenv"
)

// listenRun is a running `hark listen`: its events (stdout) and log (stderr) are kept, and
// written into the test's artifact folder as events.jsonl and stderr.log when the test ends.
type listenRun struct {
	t              *testing.T
	cmd            *exec.Cmd
	dir            string // the artifact folder
	stdout, stderr syncBuffer
	stdin          io.WriteCloser // typed questions, with --typed
	done           chan struct{}  // closed when the process has exited
	err            error          // its exit status, once done
	// The events parsed so far and how much of stdout they took: each look parses only what
	// is new (a 1,000-turn soak writes tens of MB; parsing it all every 50 ms made the test,
	// not Hark, the busiest process).
	evMu sync.Mutex
	evs  []event
	evAt int
}

// startListen starts `hark listen args...` with harkEnv and env (env wins), its artifacts in
// the folder name.
func startListen(t *testing.T, name string, env []string, args ...string) *listenRun {
	t.Helper()
	testenv.Require(t)
	r := &listenRun{t: t, dir: testenv.ArtifactDir(t, name), done: make(chan struct{})}
	r.cmd = exec.Command(harkBinary(t), append([]string{"listen"}, args...)...)
	r.cmd.Env = append(harkEnv(t), env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	var err error
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.done
		_ = os.WriteFile(filepath.Join(r.dir, "events.jsonl"), []byte(r.stdout.String()), 0o644)
		_ = os.WriteFile(filepath.Join(r.dir, "stderr.log"), []byte(r.stderr.String()), 0o644)
	})
	return r
}

// events parses the JSON lines written so far; every whole line must be JSON.
func (r *listenRun) events() []event {
	r.t.Helper()
	r.evMu.Lock()
	defer r.evMu.Unlock()
	rest := r.stdout.from(r.evAt)
	for {
		n := strings.IndexByte(rest, '\n')
		if n < 0 {
			break // nothing more, or a line not yet whole
		}
		var e event
		if err := json.Unmarshal([]byte(rest[:n]), &e); err != nil {
			r.t.Fatalf("hark listen wrote a line that is not JSON: %q", rest[:n])
		}
		r.evs = append(r.evs, e)
		r.evAt += n + 1
		rest = rest[n+1:]
	}
	return r.evs[:len(r.evs):len(r.evs)]
}

// waitEvent waits up to d for an event from index from on that matches, and returns the index
// after it. The process exiting first fails the test.
func (r *listenRun) waitEvent(what string, from int, d time.Duration, match func(event) bool) int {
	r.t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		evs := r.events()
		for i := from; i < len(evs); i++ {
			if match(evs[i]) {
				return i + 1
			}
		}
		select {
		case <-r.done:
			r.t.Fatalf("hark listen exited (%v) waiting for %s; stderr:\n%s", r.err, what, r.stderr.String())
		default:
		}
	}
	r.t.Fatalf("no %s within %v; stderr:\n%s\nevents since the wait began:\n%s", what, d, r.stderr.String(), r.recent(from))
	return 0
}

// recent lists the events from index from on (the last 30, without the per-frame level and
// component progress events), for a failure message: what Hark heard instead.
func (r *listenRun) recent(from int) string {
	var lines []string
	evs := r.events()
	for _, e := range evs[min(from, len(evs)):] {
		if k := e.kind(); k != "level" && k != "component" {
			lines = append(lines, fmt.Sprint(map[string]any(e)))
		}
	}
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// count is how many events so far match.
func (r *listenRun) count(match func(event) bool) int {
	n := 0
	for _, e := range r.events() {
		if match(e) {
			n++
		}
	}
	return n
}

// exit waits up to d for hark listen to end by itself, successfully.
func (r *listenRun) exit(d time.Duration) {
	r.t.Helper()
	select {
	case <-r.done:
		if r.err != nil {
			r.t.Fatalf("hark listen: %v\n%s", r.err, r.stderr.String())
		}
	case <-time.After(d):
		r.t.Fatalf("hark listen did not exit within %v; stderr:\n%s", d, r.stderr.String())
	}
}

// isMic matches the microphone's component event in phase ("failed", "ready").
func isMic(phase string) func(event) bool {
	return func(e event) bool {
		return e.kind() == "component" && e.str("component") == "microphone" && e.str("phase") == phase
	}
}
