package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hark/internal/testmodels"
)

// modelServer serves one model file the way Hugging Face's CDN does: ranges, If-Range with an
// ETag. Each test can replace how the first requests behave.
type modelServer struct {
	t    *testing.T
	data []byte
	etag string

	mu       sync.Mutex
	requests []*http.Request
	// before, when set, runs for request n (0-based) and may handle it itself (returns true).
	before func(n int, w http.ResponseWriter, r *http.Request) bool
	srv    *httptest.Server
}

func newModelServer(t *testing.T, data []byte) *modelServer {
	s := &modelServer{t: t, data: data, etag: `"` + sha256hex(data) + `"`}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *modelServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, r.Clone(context.Background()))
	before := s.before
	s.mu.Unlock()
	if before != nil && before(n, w, r) {
		return
	}
	w.Header().Set("ETag", s.etag)
	http.ServeContent(w, r, "model", time.Unix(1700000000, 0), bytes.NewReader(s.data))
}

func (s *modelServer) reqs() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

// dropAfter sends the full Content-Length but only n bytes, then breaks the connection.
func (s *modelServer) dropAfter(w http.ResponseWriter, n int) {
	w.Header().Set("ETag", s.etag)
	w.Header().Set("Content-Length", strconv.Itoa(len(s.data)))
	w.WriteHeader(http.StatusOK)
	w.Write(s.data[:n])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// testEntry is a manifest entry for data served at url.
func testEntry(url string, data []byte) Entry {
	return Entry{Name: "test-llm", Kind: LLM, Title: "test", File: "test-model.gguf", URL: url + "/test-model.gguf",
		Size: int64(len(data)), SHA256: sha256hex(data), ChecksumSource: "test", License: "MIT", RAMMB: 1, Languages: []string{"en"}}
}

// testModel is a real (random-weight) GGUF of about 150 kB.
func testModel(t *testing.T) []byte {
	return readFile(t, testmodels.Llama(t, testmodels.TinyLlama()))
}

func fastRetries(o PullOptions) PullOptions {
	o.RetryWait = time.Millisecond
	return o
}

// assertInstalled checks the final file holds exactly data and no partial file is left.
func assertInstalled(t *testing.T, s *Store, e Entry, data []byte) {
	t.Helper()
	got, err := os.ReadFile(s.Path(e))
	if err != nil {
		t.Fatalf("installed file: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("installed file differs from the served one (%d vs %d bytes)", len(got), len(data))
	}
	for _, p := range []string{s.Path(e) + ".part", s.Path(e) + ".part.json"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
}

func assertNotInstalled(t *testing.T, s *Store, e Entry) {
	t.Helper()
	if _, err := os.Stat(s.Path(e)); err == nil {
		t.Fatalf("%s exists under its final name after a failed pull", s.Path(e))
	}
}

func TestPullProgress(t *testing.T) {
	data := testModel(t)
	srv := newModelServer(t, data)
	// Deliver the file in 20 pieces with short pauses, as a slow network would.
	srv.before = func(_ int, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		step := len(data)/20 + 1
		for i := 0; i < len(data); i += step {
			w.Write(data[i:min(i+step, len(data))])
			w.(http.Flusher).Flush()
			time.Sleep(15 * time.Millisecond)
		}
		return true
	}
	s := &Store{Dir: t.TempDir()}
	e := testEntry(srv.srv.URL, data)
	var reports []Progress
	res, err := s.Pull(context.Background(), e, PullOptions{Progress: func(p Progress) { reports = append(reports, p) }})
	if err != nil {
		t.Fatal(err)
	}
	assertInstalled(t, s, e, data)
	if res.Checked != "published SHA-256" || res.SHA256 != e.SHA256 || res.Size != int64(len(data)) {
		t.Errorf("result %+v", res)
	}
	var downloading []Progress
	var last int64
	for _, p := range reports {
		if p.Done < last && p.Phase != PhaseConnecting {
			t.Errorf("progress went backwards: %d after %d", p.Done, last)
		}
		last = p.Done
		if p.Phase == PhaseDownloading {
			downloading = append(downloading, p)
			if p.Total != int64(len(data)) || p.Model != "test-llm" {
				t.Errorf("progress %+v: wrong total or model", p)
			}
		}
	}
	if len(downloading) < 2 {
		t.Fatalf("got %d downloading reports (%+v), want several", len(downloading), reports)
	}
	if p := downloading[len(downloading)-1]; p.Speed <= 0 || p.ETA < 0 {
		t.Errorf("late progress report has no speed or ETA: %+v", p)
	}
	if p := reports[len(reports)-1]; p.Phase != PhaseDone || p.Done != int64(len(data)) || p.Fraction() != 1 {
		t.Errorf("last report %+v, want done with every byte", p)
	}
	if got, ok := s.Recorded(e.File); !ok || got != e.SHA256 {
		t.Errorf("SHA256SUMS records %q, want %s", got, e.SHA256)
	}

	// A second pull finds it installed and downloads nothing.
	before := len(srv.reqs())
	res, err = s.Pull(context.Background(), e, PullOptions{})
	if err != nil || !res.AlreadyInstalled || len(srv.reqs()) != before {
		t.Errorf("second pull: %+v, %v, %d requests", res, err, len(srv.reqs())-before)
	}
}

// TestPullResumesAfterDrop: the server breaks the connection halfway; Pull reconnects with a
// range request and finishes the same file without fetching it again.
func TestPullResumesAfterDrop(t *testing.T) {
	data := testModel(t)
	srv := newModelServer(t, data)
	half := len(data) / 2
	srv.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 0 {
			srv.dropAfter(w, half)
		}
		return false
	}
	s := &Store{Dir: t.TempDir()}
	e := testEntry(srv.srv.URL, data)
	var retries []Progress
	res, err := s.Pull(context.Background(), e, fastRetries(PullOptions{Progress: func(p Progress) {
		if p.Phase == PhaseRetrying {
			retries = append(retries, p)
		}
	}}))
	if err != nil {
		t.Fatal(err)
	}
	assertInstalled(t, s, e, data)
	reqs := srv.reqs()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	rng := reqs[1].Header.Get("Range")
	if rng != fmt.Sprintf("bytes=%d-", half) || reqs[1].Header.Get("If-Range") != srv.etag {
		t.Errorf("resume request: Range %q If-Range %q, want bytes=%d- and the ETag", rng, reqs[1].Header.Get("If-Range"), half)
	}
	if len(retries) != 1 || retries[0].Err == nil || !strings.Contains(retries[0].Err.Error(), "connection broke") {
		t.Errorf("retry reports %+v", retries)
	}
	if res.Checked == "" {
		t.Errorf("not checked against the published checksum: %+v", res)
	}
}

// TestPullResumesNextRun: a pull that gives up keeps its part file, and the next pull resumes
// it instead of starting over.
func TestPullResumesNextRun(t *testing.T) {
	data := testModel(t)
	srv := newModelServer(t, data)
	third := len(data) / 3
	srv.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 0 {
			srv.dropAfter(w, third)
		}
		return false
	}
	s := &Store{Dir: t.TempDir()}
	e := testEntry(srv.srv.URL, data)
	_, err := s.Pull(context.Background(), e, PullOptions{Retries: -1})
	if err == nil || !strings.Contains(err.Error(), "run the pull again to resume") {
		t.Fatalf("first pull = %v, want a broken connection that keeps the part", err)
	}
	assertNotInstalled(t, s, e)
	if st := s.Status(e); st.Partial != int64(third) {
		t.Fatalf("status after the broken pull: %+v, want %d bytes partial", st, third)
	}
	res, err := s.Pull(context.Background(), e, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertInstalled(t, s, e, data)
	if res.Resumed != int64(third) {
		t.Errorf("Resumed = %d, want %d", res.Resumed, third)
	}
	if got := srv.reqs()[1].Header.Get("Range"); got != fmt.Sprintf("bytes=%d-", third) {
		t.Errorf("second pull asked for %q", got)
	}
}

// TestPullRestartsWhenFileChanged: the part belongs to an older version of the file; the
// server answers If-Range with the whole new file, and Pull starts over.
func TestPullRestartsWhenFileChanged(t *testing.T) {
	data := testModel(t)
	srv := newModelServer(t, data)
	s := &Store{Dir: t.TempDir()}
	e := testEntry(srv.srv.URL, data)
	os.MkdirAll(s.Dir, 0o755)
	os.WriteFile(s.Path(e)+".part", bytes.Repeat([]byte{'x'}, 1000), 0o644)
	os.WriteFile(s.Path(e)+".part.json", []byte(`{"url":"`+e.URL+`","etag":"\"old\""}`), 0o644)
	if _, err := s.Pull(context.Background(), e, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	assertInstalled(t, s, e, data)
	if got := srv.reqs()[0].Header.Get("If-Range"); got != `"old"` {
		t.Errorf("If-Range = %q", got)
	}
}

func TestPullChecksumMismatch(t *testing.T) {
	data := testModel(t)
	srv := newModelServer(t, data)
	s := &Store{Dir: t.TempDir()}
	e := testEntry(srv.srv.URL, data)
	e.SHA256 = strings.Repeat("0", 64)
	_, err := s.Pull(context.Background(), e, PullOptions{})
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "was deleted") || !strings.Contains(err.Error(), sha256hex(data)) {
		t.Fatalf("Pull = %v, want a checksum mismatch naming the computed sum", err)
	}
	assertNotInstalled(t, s, e)
	if st := s.Status(e); st.Partial != 0 || st.Installed {
		t.Errorf("status after mismatch: %+v, want nothing left", st)
	}
	if _, ok := s.Recorded(e.File); ok {
		t.Error("a rejected file's checksum was recorded")
	}

	// A wrong published SHA-1 is caught too.
	e = testEntry(srv.srv.URL, data)
	e.SHA1 = strings.Repeat("1", 40)
	if _, err := s.Pull(context.Background(), e, PullOptions{}); !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "SHA-1") {
		t.Fatalf("Pull with a wrong SHA-1 = %v", err)
	}
	assertNotInstalled(t, s, e)
}

func TestPullUnknownChecksumIsRecorded(t *testing.T) {
	data := testModel(t)
	srv := newModelServer(t, data)
	s := &Store{Dir: t.TempDir()}
	e := testEntry(srv.srv.URL, data)
	e.SHA256, e.Size = "", 0
	res, err := s.Pull(context.Background(), e, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Checked != "" || res.SHA256 != sha256hex(data) {
		t.Errorf("result %+v", res)
	}
	if got, _ := s.Recorded(e.File); got != sha256hex(data) {
		t.Errorf("recorded %q", got)
	}
	// verify uses the recorded checksum from now on.
	vr, err := s.Verify(context.Background(), s.Path(e), &e)
	if err != nil || vr.Against != "SHA-256 recorded at download" {
		t.Errorf("Verify = %+v, %v", vr, err)
	}
	os.WriteFile(s.Path(e), append(data[:len(data)-1:len(data)-1], 'x'), 0o644)
	if _, err := s.Verify(context.Background(), s.Path(e), &e); !errors.Is(err, ErrChecksum) {
		t.Errorf("Verify of a changed file = %v", err)
	}
}

// TestPullRejectsNonModel: a server that answers with a web page (a login wall, say) never
// leaves that page under the model's name.
func TestPullRejectsNonModel(t *testing.T) {
	srv := newModelServer(t, []byte("<!DOCTYPE html><html>Please log in</html>"))
	s := &Store{Dir: t.TempDir()}
	e := testEntry(srv.srv.URL, nil)
	e.SHA256, e.Size = "", 0
	_, err := s.Pull(context.Background(), e, PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "web page") {
		t.Fatalf("Pull = %v", err)
	}
	assertNotInstalled(t, s, e)
}

func TestPullCancel(t *testing.T) {
	data := testModel(t)
	srv := newModelServer(t, data)
	release := make(chan struct{})
	srv.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n > 0 {
			return false
		}
		// Send a little, then hold the connection open until the test ends.
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:1000])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return true
	}
	defer close(release)
	s := &Store{Dir: t.TempDir()}
	e := testEntry(srv.srv.URL, data)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := s.Pull(ctx, e, PullOptions{Progress: func(p Progress) {
		if p.Phase == PhaseDownloading && p.Done >= 1000 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "resumes it") {
		t.Fatalf("Pull = %v, want cancelled", err)
	}
	assertNotInstalled(t, s, e)
	if st := s.Status(e); st.Partial != 1000 {
		t.Errorf("partial %d bytes kept, want 1000", st.Partial)
	}
	// The next pull picks up where the cancelled one stopped.
	res, err := s.Pull(context.Background(), e, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertInstalled(t, s, e, data)
	if res.Resumed != 1000 {
		t.Errorf("Resumed = %d", res.Resumed)
	}
}

func TestPullStall(t *testing.T) {
	data := testModel(t)
	srv := newModelServer(t, data)
	srv.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n > 0 {
			return false
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:5000])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // never send the rest
		return true
	}
	s := &Store{Dir: t.TempDir()}
	e := testEntry(srv.srv.URL, data)
	var why error
	_, err := s.Pull(context.Background(), e, fastRetries(PullOptions{StallTimeout: 200 * time.Millisecond, Progress: func(p Progress) {
		if p.Phase == PhaseRetrying {
			why = p.Err
		}
	}}))
	if err != nil {
		t.Fatal(err)
	}
	assertInstalled(t, s, e, data)
	if why == nil || !strings.Contains(why.Error(), "stalled") {
		t.Errorf("retry reason %v, want a stall", why)
	}
}

func TestPullHTTPErrors(t *testing.T) {
	data := testModel(t)
	tests := []struct {
		code     int
		requests int // 1 + retries for transient errors
		msg      string
	}{
		{http.StatusNotFound, 1, "has no file at"},
		{http.StatusForbidden, 1, "needs a login"},
		{http.StatusServiceUnavailable, 3, "busy or failing (HTTP 503)"},
		{http.StatusTeapot, 1, "HTTP 418"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			srv := newModelServer(t, data)
			srv.before = func(int, http.ResponseWriter, *http.Request) bool { return false }
			srv.before = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
				http.Error(w, "no", tt.code)
				return true
			}
			s := &Store{Dir: t.TempDir()}
			e := testEntry(srv.srv.URL, data)
			_, err := s.Pull(context.Background(), e, fastRetries(PullOptions{Retries: 2}))
			if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), "download test-llm") {
				t.Fatalf("Pull = %v, want %q", err, tt.msg)
			}
			if n := len(srv.reqs()); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			assertNotInstalled(t, s, e)
		})
	}
}

func TestPullUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	s := &Store{Dir: t.TempDir()}
	e := testEntry(url, []byte("x"))
	_, err := s.Pull(context.Background(), e, fastRetries(PullOptions{Retries: 1}))
	if err == nil || !strings.Contains(err.Error(), "cannot reach 127.0.0.1") || !strings.Contains(err.Error(), "check the network connection") {
		t.Fatalf("Pull = %v", err)
	}
}

func TestPullSizeChanged(t *testing.T) {
	data := testModel(t)
	srv := newModelServer(t, data)
	s := &Store{Dir: t.TempDir()}
	e := testEntry(srv.srv.URL, data)
	e.Size++
	_, err := s.Pull(context.Background(), e, PullOptions{})
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "published file has changed") {
		t.Fatalf("Pull = %v", err)
	}
	assertNotInstalled(t, s, e)
}

// TestPullKeepsResumingWhileProgressing: a connection that breaks again and again, more often
// than Retries, still completes the download as long as every connection delivers data.
func TestPullKeepsResumingWhileProgressing(t *testing.T) {
	data := testModel(t)
	srv := newModelServer(t, data)
	chunk := len(data) / 10
	srv.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n >= 8 {
			return false
		}
		start := 0
		if rng := r.Header.Get("Range"); rng != "" {
			fmt.Sscanf(rng, "bytes=%d-", &start)
		}
		w.Header().Set("ETag", srv.etag)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(data)-1, len(data)))
		w.Header().Set("Content-Length", strconv.Itoa(len(data)-start))
		if start > 0 {
			w.WriteHeader(http.StatusPartialContent)
		} else {
			w.WriteHeader(http.StatusOK)
		}
		w.Write(data[start:min(start+chunk, len(data))])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	s := &Store{Dir: t.TempDir()}
	e := testEntry(srv.srv.URL, data)
	if _, err := s.Pull(context.Background(), e, fastRetries(PullOptions{Retries: 2})); err != nil {
		t.Fatal(err)
	}
	assertInstalled(t, s, e, data)
	if n := len(srv.reqs()); n != 9 {
		t.Errorf("%d requests, want 9 (8 broken, 1 to finish)", n)
	}
}
