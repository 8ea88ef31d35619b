// Package testserver starts real servers on loopback ports for tests: llama.cpp's llama-server
// with the shared test model (the engine an edge server runs, which the remote language model
// backend talks to), and Debian's mosquitto MQTT broker with a generated configuration and
// TLS certificates (the broker the MQTT connector talks to).
package testserver

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/internal/testmodels"
)

// Path finds llama.cpp's llama-server: $HARK_LLAMA_SERVER, bin/llama-server (make
// llama-server, make setup-test), or the native build tree. In CI a missing server fails the
// test: the remote backend must be tested against the real engine there.
func Path(t testing.TB) string {
	t.Helper()
	cands := []string{os.Getenv("HARK_LLAMA_SERVER")}
	if root, err := testmodels.ModuleRoot(); err == nil {
		cands = append(cands, filepath.Join(root, "bin", "llama-server"))
		if out, err := exec.Command(filepath.Join(root, "scripts", "native.sh"), "llama-dir").Output(); err == nil {
			cands = append(cands, strings.TrimSpace(string(out))+".build/bin/llama-server")
		}
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			return c
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("llama-server not found: run make setup-test (or make llama-server), or set HARK_LLAMA_SERVER")
	}
	t.Skip("llama-server not built (make llama-server); CI fails here instead")
	return ""
}

// Server is a llama-server process on a loopback port.
type Server struct {
	cmd      *exec.Cmd
	Endpoint string
	done     chan struct{}
}

// Start starts llama-server with the shared stories260K model (a 260K-parameter
// llama) and waits until it is ready. extra are more flags (--parallel 4, say).
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	return StartModel(t, filepath.Join(testmodels.Dir(), "stories260K.gguf"), extra...)
}

// StartModel is Start with another GGUF file (a bigger model for load figures).
func StartModel(t testing.TB, model string, extra ...string) *Server {
	t.Helper()
	bin := Path(t)
	if _, err := os.Stat(model); err != nil {
		t.Fatalf("test model: %v (see ../shared/models/README.md)", err)
	}
	for attempt := 1; ; attempt++ {
		s, log := startServer(t, bin, model, extra)
		if s != nil {
			return s
		}
		// A process outside the tests took the port between the probe and the bind.
		if attempt < 3 && strings.Contains(log, "couldn't bind") {
			continue
		}
		t.Fatalf("llama-server exited:\n%s", log)
	}
}

// startServer starts llama-server on a reserved port and waits until it is ready; when it
// exits first, it returns its log instead.
func startServer(t testing.TB, bin, model string, extra []string) (*Server, string) {
	t.Helper()
	port := freePort(t)
	args := append([]string{"-m", model, "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		"-c", "2048", "-t", "1", "--chat-template", "chatml", "--no-webui", "--seed", "1",
		// On 2 cores llama-server's default is one HTTP thread, which a kept-alive connection
		// holds: a second client is then turned away with a closed connection.
		"--threads-http", "4"}, extra...)
	cmd := exec.Command(bin, args...)
	logf, err := os.Create(filepath.Join(t.TempDir(), "llama-server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Server{cmd: cmd, Endpoint: fmt.Sprintf("http://127.0.0.1:%d/v1", port), done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.Stop(); logf.Close() })
	// The health checks must not keep a connection open on the server (see --threads-http).
	health := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := health.Get(fmt.Sprintf("http://127.0.0.1:%d/health", port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, ""
			}
		}
		select {
		case <-s.done:
			b, _ := os.ReadFile(logf.Name())
			return nil, string(b)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("llama-server not ready after 60 s")
		}
	}
}

// Stop kills the server (as a crash or a pulled cable would end it) and waits for it.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
	}
	<-s.done
}
