package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// Hark's promise: no network at run time. These tests keep it honest three ways.

// networkPackages are the standard packages that open connections.
func isNetworkPackage(p string) bool {
	return p == "net" || p == "crypto/tls" || p == "net/rpc" || p == "net/smtp" || p == "net/http" || strings.HasPrefix(p, "net/http/")
}

// TestOnlyModelsImportsTheNetwork: no Hark package but models (which downloads models, on
// request) and wyoming (the server `hark serve` opens, on request) may import a package that
// opens network connections.
// networkAllowed are the packages that may import the network, each with the only time it does.
var networkAllowed = map[string]string{
	"hark/models":              "hark models pull",
	"hark/wyoming":             "hark serve",
	"hark/remotellm":           "[llm] backend = \"openai\": a language model server on this machine or the LAN",
	"hark/internal/display":    "asks the X server named by DISPLAY whether it answers, before the window opens",
	"hark/home/hass":           "[home_assistant] url is set: the person's Home Assistant, on this machine or the LAN",
	"hark/home/mqtt":           "[mqtt] broker: the MQTT broker of the devices and sensors the configuration declares",
	"hark/internal/hasstest":   "tests only: a stand-in Home Assistant on a loopback port",
	"hark/internal/testserver": "tests only: starts llama-server and mosquitto on loopback ports",
}

func TestOnlyModelsImportsTheNetwork(t *testing.T) {
	root, err := testmodels.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports,Module", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	checked := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
			Module     *struct{ Path string }
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || p.Module.Path != "hark" {
			continue
		}
		checked++
		for _, imp := range p.Imports {
			if _, ok := networkAllowed[p.ImportPath]; isNetworkPackage(imp) && !ok {
				t.Errorf("%s imports %s: only %v may use the network", p.ImportPath, imp, networkAllowed)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d Hark packages; go list output changed?", checked)
	}
}

// requireNetNS fails unless the test can create a network namespace with no interfaces
// (unshare -n needs root; CI runs as root).
func requireNetNS(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("unshare", "-n", "true").CombinedOutput(); err != nil {
		t.Fatalf("unshare -n does not work here (%v: %s): the offline proof needs root, as in CI", err, out)
	}
}

// offlineEnv is an environment for hark commands with private config and data folders.
// Go's own folders stay where they are: tests locate files in the module cache.
func offlineEnv(t *testing.T) (env []string, home string) {
	home = t.TempDir()
	goenv, err := exec.Command("go", "env", "GOPATH", "GOMODCACHE", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	g := strings.Fields(string(goenv))
	env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_DATA_HOME="+filepath.Join(home, "data"), "HARK_CONFIG=", "LANG=C.UTF-8", "LANGUAGE=en",
		"GOPATH="+g[0], "GOMODCACHE="+g[1], "GOCACHE="+g[2], "GOPROXY=off")
	return env, home
}

// traceConnects runs argv under strace, recording every connect(2) of every thread and child,
// and returns the trace.
func traceConnects(t *testing.T, env []string, timeout time.Duration, argv ...string) (trace string, out []byte, err error) {
	t.Helper()
	tf := filepath.Join(t.TempDir(), "connect.trace")
	args := append([]string{"-f", "-qq", "--seccomp-bpf", "-e", "trace=connect", "-o", tf, "--"}, argv...)
	cmd := exec.Command("strace", args...)
	cmd.Env = env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(timeout):
		cmd.Process.Kill()
		err = <-done
		t.Errorf("%v timed out after %v", argv, timeout)
	}
	b, rerr := os.ReadFile(tf)
	if rerr != nil {
		t.Fatalf("strace wrote no trace: %v\n%s", rerr, buf.Bytes())
	}
	return string(b), buf.Bytes(), err
}

// nonLocalConnects returns the connect(2) calls in an strace log that are not to a local Unix
// socket, and the Unix sockets connected to.
func nonLocalConnects(trace string) (bad, unix []string) {
	for _, line := range strings.Split(trace, "\n") {
		if !strings.Contains(line, "connect(") || strings.Contains(line, "resumed>") {
			continue
		}
		if strings.Contains(line, "sa_family=AF_UNIX") || strings.Contains(line, "sa_family=AF_LOCAL") {
			path := "?"
			if _, after, ok := strings.Cut(line, "sun_path="); ok {
				path, _, _ = strings.Cut(after, "}")
			}
			unix = append(unix, path)
			continue
		}
		bad = append(bad, line)
	}
	return bad, unix
}

// TestTraceDetectsNetworkConnects proves the trace check can fail: a shell that opens a TCP
// connection is caught.
func TestTraceDetectsNetworkConnects(t *testing.T) {
	trace, _, _ := traceConnects(t, os.Environ(), 30*time.Second, "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9 || true")
	if bad, _ := nonLocalConnects(trace); len(bad) == 0 || !strings.Contains(bad[0], "AF_INET") {
		t.Fatalf("a TCP connect was not detected; trace:\n%s", trace)
	}
}

// TestOfflineTurn runs whole assistant turns (jfk.wav → whisper → the language model, through
// the app pipeline: `hark bench`) inside a network namespace with no interfaces, traced: they
// must complete, and the only connections may be to local Unix sockets.
func TestOfflineTurn(t *testing.T) {
	requireNetNS(t)
	bin := harkBinary(t)
	env, _ := offlineEnv(t)
	trace, out, err := traceConnects(t, env, 5*time.Minute, "unshare", "-n", "--", bin, "bench", "--json", "--turns", "2",
		"--wav", testmodels.JFK(t), "--no-guard",
		"--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"),
		"--llm-model", testmodels.Shared(t, "stories260K.gguf"))
	if err != nil {
		t.Fatalf("hark bench failed without a network: %v\n%s", err, out)
	}
	var res struct {
		Stages map[string]struct{ Median float64 } `json:"stages_ms"`
	}
	if i := bytes.IndexByte(out, '{'); i < 0 || json.Unmarshal(out[i:], &res) != nil {
		t.Fatalf("hark bench printed no JSON result:\n%s", out)
	}
	for _, stage := range []string{"asr compute", "llm compute", "end of speech → last token"} {
		if res.Stages[stage].Median <= 0 {
			t.Errorf("offline turns: stage %q took %v ms; the turn did not run through it:\n%s", stage, res.Stages[stage].Median, out)
		}
	}
	bad, unix := nonLocalConnects(trace)
	for _, l := range bad {
		t.Errorf("network connection attempted: %s", l)
	}
	t.Logf("turns ran offline; Unix socket connects: %v; others: %d", unix, len(bad))
}

// TestOfflineCommands runs the model, configuration and history commands inside a network
// namespace: they work offline, and `hark models pull` (the only command that downloads)
// fails with a clear message and leaves nothing behind.
func TestOfflineCommands(t *testing.T) {
	requireNetNS(t)
	bin := harkBinary(t)
	env, home := offlineEnv(t)
	modelsDir := filepath.Join(home, "data", "hark", "models")
	if err := os.MkdirAll(modelsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	vad, err := os.ReadFile(testmodels.Shared(t, "ggml-silero-v6.2.0.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(modelsDir, "ggml-silero-v6.2.0.bin"), vad, 0o644); err != nil {
		t.Fatal(err)
	}
	offline := func(args ...string) (string, int) {
		cmd := exec.Command("unshare", append([]string{"-n", "--", bin}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"config", "set", "assistant.mode", "car"}, 0, `assistant.mode = "car"`},
		{[]string{"config", "show"}, 0, `mode = "car"`},
		{[]string{"models", "list"}, 0, "Device class: car"},
		{[]string{"models", "verify", "silero-vad"}, 0, "matches the published SHA-256"},
		{[]string{"models", "pull", "whisper-tiny.en-q5_1"}, 1, "cannot reach huggingface.co"},
		{[]string{"history", "list"}, 0, "no history yet"},
	}
	for _, s := range steps {
		out, code := offline(s.args...)
		if code != s.code || !strings.Contains(out, s.want) {
			t.Errorf("offline `hark %s`: exit %d, want %d and %q:\n%s", strings.Join(s.args, " "), code, s.code, s.want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(modelsDir, "ggml-tiny.en-q5_1.bin")); err == nil {
		t.Error("a failed pull left a file under the model's name")
	}
}

// childPIDs lists a process's children (from /proc).
func childPIDs(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// TestOfflineWindow opens the real window inside a network namespace, traced: it must answer a
// typed question in its chat, and connect only to local Unix sockets (the X server, the sound
// server, D-Bus).
func TestOfflineWindow(t *testing.T) {
	testenv.Require(t)
	testenv.Deadline(t, 10*time.Minute)
	requireNetNS(t)
	bin := harkBinary(t)
	tf := filepath.Join(t.TempDir(), "connect.trace")
	dir := testenv.ArtifactDir(t, "offline")
	evPath := filepath.Join(dir, "events.jsonl")
	_ = os.Remove(evPath)
	cmd := exec.Command("strace", append([]string{"-f", "-qq", "--seccomp-bpf", "-e", "trace=connect", "-o", tf, "--", "unshare", "-n", "--", bin},
		append(storyArgs(t), "--events", evPath)...)...)
	cmd.Env = harkEnv(t)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	// Its own process group, so strace, unshare and hark end together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}
	defer stop()
	// strace forks a child that becomes unshare and then (by exec) hark: its window has
	// that child's pid.
	var wid string
	harkPID := 0
	for deadline := time.Now().Add(40 * time.Second); wid == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for _, pid := range childPIDs(cmd.Process.Pid) {
			w, _ := exec.Command("xdotool", "search", "--pid", strconv.Itoa(pid), "--name", "^Hark$").Output()
			if f := strings.Fields(string(w)); len(f) > 0 {
				wid, harkPID = f[0], pid
			}
		}
	}
	if wid == "" {
		t.Fatalf("no window appeared without a network; output:\n%s", log.String())
	}
	w := &harkWindow{t: t, wid: wid, shots: dir, events: &eventLog{path: evPath}}
	w.shot("0-drawn") // input before the first frames is lost
	storyTurn(t, w)
	// Ask hark to quit (SIGTERM) so strace writes the whole trace; then end the group.
	syscall.Kill(harkPID, syscall.SIGTERM)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if syscall.Kill(harkPID, 0) != nil {
			break
		}
	}
	stop()
	trace, err := os.ReadFile(tf)
	if err != nil {
		t.Fatal(err)
	}
	bad, unix := nonLocalConnects(string(trace))
	for _, l := range bad {
		t.Errorf("network connection attempted: %s", l)
	}
	if len(unix) == 0 {
		t.Fatalf("no connection to the X server in the trace: is strace tracing?\n%s", trace)
	}
	t.Logf("window answered offline (%s); Unix socket connects: %v; no others", dir, unix)
}

// TestOfflineAudioDevices lists the audio devices inside a network namespace, traced: the sound
// server is reached through its Unix socket, nothing else.
func TestOfflineAudioDevices(t *testing.T) {
	testenv.Require(t)
	requireNetNS(t)
	trace, out, err := traceConnects(t, os.Environ(), time.Minute, "unshare", "-n", "--", harkBinary(t), "devices")
	if err != nil || !bytes.Contains(out, []byte("VirtualMicIn")) {
		t.Fatalf("hark devices offline: %v\n%s", err, out)
	}
	bad, unix := nonLocalConnects(trace)
	for _, l := range bad {
		t.Errorf("network connection attempted: %s", l)
	}
	if len(unix) == 0 {
		t.Fatalf("no connection to the sound server in the trace:\n%s", trace)
	}
	t.Logf("devices listed offline; Unix socket connects: %v; no others", unix)
}
