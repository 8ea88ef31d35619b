package main

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hark/app/config"
	"hark/internal/testmodels"

	_ "modernc.org/sqlite"
)

// TestPowerLoss kills hark with SIGKILL (what a power cut does to a process) at random moments
// while it sets timers, writes notes, saves a setting and downloads a model, over and over
// (HARK_POWERLOSS_ROUNDS, 200 by default). After every kill the configuration loads and holds
// either the old or the new value; a model appears at its final path only whole; at the end
// both databases pass SQLite's integrity check, `hark timers` works, and the download resumes
// and completes.
func TestPowerLoss(t *testing.T) {
	rounds := 200
	if v, err := strconv.Atoi(os.Getenv("HARK_POWERLOSS_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	bin := harkBinary(t)
	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"), "HARK_CONFIG=",
		"HARK_SPEECH_ENABLED=false")
	vad, err := os.ReadFile(testmodels.Shared(t, "ggml-silero-v6.2.0.bin"))
	if err != nil {
		t.Fatal(err)
	}
	// A slow mirror (about 2 MB/s), so that kills land in the middle of the download.
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/ggml-silero-v6.2.0.bin") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(&slowWriter{w}, r, "", time.Time{}, bytes.NewReader(vad))
	}))
	defer mirror.Close()
	modelPath := filepath.Join(home, "data", "hark", "models", "ggml-silero-v6.2.0.bin")
	cfgPath := filepath.Join(home, "config", "hark", "config.toml")

	rng := rand.New(rand.NewSource(20))
	wake := "" // the last value a finished save wrote
	kills := map[string]int{}
	// How long each command takes when nothing kills it (the longest seen): kills are drawn
	// within it, so they land mid-way on a fast machine and a slow one alike. Until a command
	// has run through once, within 700 ms.
	took := map[int]time.Duration{}
	for round := 0; round < rounds; round++ {
		var args []string
		var saving string
		op := rng.Intn(4)
		switch op {
		case 0:
			args = []string{"do", fmt.Sprintf("set a timer for %d minutes", 1+rng.Intn(90))}
		case 1:
			args = []string{"do", fmt.Sprintf("take a note buy %d apples", rng.Intn(1000))}
		case 2:
			saving = fmt.Sprintf("hey hark %d", round)
			args = []string{"config", "set", "assistant.wake_phrase", saving}
		case 3:
			args = []string{"models", "pull", "--set", "models.mirror=" + mirror.URL, "silero-vad"}
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		limit := 700 * time.Millisecond
		if d, ok := took[op]; ok {
			limit = d + d/5
		}
		delay := time.Duration(rng.Int63n(int64(limit)))
		started := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		killed := false
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("round %d: hark %s failed before the kill: %v\n%s", round, strings.Join(args, " "), err, out.String())
			}
			took[op] = max(took[op], time.Since(started))
		case <-time.After(delay):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			killed = cmd.ProcessState.Sys().(syscall.WaitStatus).Signaled()
		}
		if killed {
			kills[[]string{"timer", "note", "settings save", "model download"}[op]]++
		} else if saving != "" {
			wake = saving
		}
		// The configuration is never half written: it loads, with the old or the new value.
		if _, err := os.Stat(cfgPath); err == nil {
			c, err := config.Load(config.Options{Path: cfgPath, Env: []string{}})
			if err != nil {
				t.Fatalf("round %d: the configuration does not load after a kill: %v", round, err)
			}
			if got := c.Assistant.WakePhrase; got != wake && got != saving {
				t.Fatalf("round %d: wake_phrase = %q, want %q or %q", round, got, wake, saving)
			}
			if killed && saving != "" {
				wake = c.Assistant.WakePhrase
			}
		}
		// A model at its final path is whole.
		if b, err := os.ReadFile(modelPath); err == nil && sha256.Sum256(b) != sha256.Sum256(vad) {
			t.Fatalf("round %d: a partial model (%d of %d bytes) is at %s", round, len(b), len(vad), modelPath)
		}
		if op == 3 && !killed {
			_ = os.Remove(modelPath) // download it again in later rounds
		}
	}
	t.Logf("%d rounds, kills: %v; longest runs without a kill: %v", rounds, kills, took)
	if total := kills["timer"] + kills["note"] + kills["settings save"] + kills["model download"]; total < rounds/4 {
		t.Errorf("only %d of %d rounds were killed mid-way: the delays are too long to test anything", total, rounds)
	}
	for _, db := range []string{"actions.db", "history.db"} {
		p := filepath.Join(home, "data", "hark", db)
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", db, err)
			continue
		}
		d, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		var check string
		if err := d.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Errorf("%s after %d kills: integrity check %q, %v", db, rounds, check, err)
		}
		d.Close()
	}
	for _, args := range [][]string{{"timers"}, {"models", "pull", "--set", "models.mirror=" + mirror.URL, "silero-vad"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("hark %s after the kills: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if b, err := os.ReadFile(modelPath); err != nil || sha256.Sum256(b) != sha256.Sum256(vad) {
		t.Errorf("the download did not complete after the kills (%v)", err)
	}
}

// slowWriter sends at most 32 KiB every 15 ms.
type slowWriter struct{ http.ResponseWriter }

func (s *slowWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), 32<<10)
		m, err := s.ResponseWriter.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		s.ResponseWriter.(http.Flusher).Flush()
		p = p[k:]
		time.Sleep(15 * time.Millisecond)
	}
	return n, nil
}
