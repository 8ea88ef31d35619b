package models

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Phase is the stage a download is in.
type Phase int

// The phases of Store.Pull, in order. Retrying may repeat; Done comes once, at the end of a
// successful pull.
const (
	PhaseConnecting  Phase = iota // asking the server for the file (or for the rest of it)
	PhaseResuming                 // re-reading the part downloaded earlier to continue its checksum
	PhaseDownloading              // bytes are arriving
	PhaseRetrying                 // the connection broke; waiting to reconnect and resume
	PhaseVerifying                // checking size, checksum and header
	PhaseDone                     // installed under its final name
)

func (p Phase) String() string {
	return [...]string{"connecting", "resuming", "downloading", "retrying", "verifying", "done"}[p]
}

// Progress reports how a download is going. Pull calls PullOptions.Progress with it at most
// ten times a second while bytes arrive, and at every change of phase.
type Progress struct {
	Model string
	Phase Phase
	// Done and Total are bytes of the file; Total is 0 while the size is unknown.
	Done, Total int64
	// Resumed is how many of the Done bytes came from an earlier, interrupted download.
	Resumed int64
	// Speed is bytes per second, smoothed over the last few seconds; 0 when not known yet.
	Speed float64
	// ETA is the expected time to finish; negative when not known.
	ETA time.Duration
	// Attempt counts reconnections since data last arrived (0 for the first connection); Err is
	// why the last connection broke.
	Attempt int
	Err     error
}

// Fraction is Done/Total, or -1 when the total is unknown.
func (p Progress) Fraction() float64 {
	if p.Total <= 0 {
		return -1
	}
	return math.Min(1, float64(p.Done)/float64(p.Total))
}

// PullOptions tune Store.Pull. The zero value is sensible.
type PullOptions struct {
	// Client makes the requests; nil uses one with connection timeouts and the environment's
	// proxy settings.
	Client *http.Client
	// Progress, when set, is called on the pulling goroutine; it must return quickly.
	Progress func(Progress)
	// Retries is how many times in a row a connection may break without delivering a byte
	// before Pull gives up (default 5; negative: never retry). A connection that delivered
	// data before breaking resets the count, so a long download on a flaky network keeps
	// resuming as long as it makes progress.
	Retries int
	// RetryWait is the first pause before reconnecting; it doubles each time (default 1 s).
	RetryWait time.Duration
	// StallTimeout abandons a connection that delivers nothing for this long (default 60 s).
	StallTimeout time.Duration
	// Force downloads again even when the file is already installed.
	Force bool
	// UserAgent is sent with every request (default "hark").
	UserAgent string
	// Mirror, when set, replaces https://huggingface.co in the manifest's URLs (a company or
	// fleet mirror, or HF_ENDPOINT-style mirrors). Checksums are verified all the same.
	Mirror string
}

// MirrorURL rewrites a Hugging Face URL to a mirror: base + the path after huggingface.co.
// Other URLs, and an empty base, are returned unchanged.
func MirrorURL(u, base string) string {
	const hf = "https://huggingface.co/"
	if base == "" || !strings.HasPrefix(u, hf) {
		return u
	}
	return strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(u, hf)
}

// PullResult describes a finished pull.
type PullResult struct {
	Path string
	Size int64
	// SHA256 is the file's checksum, computed while downloading and recorded in SHA256SUMS.
	SHA256 string
	// Checked names the published checksum the file matched ("published SHA-256" or
	// "published SHA-1"); "" when the manifest knows none and SHA256 was only computed.
	Checked string
	// Resumed is how many bytes an earlier, interrupted download had already fetched.
	Resumed int64
	// AlreadyInstalled is set when the file was there already and nothing was downloaded.
	AlreadyInstalled bool
}

// partMeta is saved next to a partial download so a later Pull can tell whether the part
// belongs to the same remote file before resuming it.
type partMeta struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	Total        int64  `json:"total,omitempty"`
}

// errRetry marks a failure that reconnecting may cure (a dropped connection, a server error).
type errRetry struct{ err error }

func (e errRetry) Error() string { return e.err.Error() }
func (e errRetry) Unwrap() error { return e.err }

// Pull downloads a manifest model into the store. The file grows as NAME.part beside its final
// name, with every byte hashed as it arrives; it is synced and renamed to its final name only
// when it is complete and its size, checksum and header check out, so the final name never
// holds a partial or damaged file. A dropped connection is resumed with an HTTP range request
// (up to PullOptions.Retries times); a part left by an interrupted or cancelled Pull is resumed
// by the next one. A checksum mismatch deletes the download. Cancelling ctx stops the download
// promptly and keeps the part for later.
//
// This is the only code in Hark that opens a network connection.
func (s *Store) Pull(ctx context.Context, e Entry, opts PullOptions) (PullResult, error) {
	final := s.Path(e)
	if !opts.Force {
		if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() && (e.Size == 0 || fi.Size() == e.Size) {
			sum, _ := s.Recorded(e.File)
			return PullResult{Path: final, Size: fi.Size(), SHA256: sum, AlreadyInstalled: true}, nil
		}
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return PullResult{}, fmt.Errorf("models: cannot create the models folder: %w", err)
	}
	e.URL = MirrorURL(e.URL, opts.Mirror)
	p := &puller{s: s, e: e, opts: opts, final: final, part: s.partPath(e)}
	p.defaults()
	res, err := p.run(ctx)
	if err != nil {
		return res, fmt.Errorf("models: download %s: %w", e.Name, err)
	}
	return res, nil
}

type puller struct {
	s           *Store
	e           Entry
	opts        PullOptions
	final, part string

	f        *os.File
	meta     partMeta
	h256, h1 hash.Hash
	done     int64 // bytes in the part file, all hashed
	resumed  int64
	total    int64
	attempt  int

	lastReport time.Time
	lastPhase  Phase
	lastDone   int64
	speed      float64
}

func (p *puller) defaults() {
	if p.opts.Client == nil {
		p.opts.Client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   30 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			ForceAttemptHTTP2:     true,
		}}
	}
	if p.opts.Retries == 0 {
		p.opts.Retries = 5
	}
	if p.opts.RetryWait <= 0 {
		p.opts.RetryWait = time.Second
	}
	if p.opts.StallTimeout <= 0 {
		p.opts.StallTimeout = 60 * time.Second
	}
	if p.opts.UserAgent == "" {
		p.opts.UserAgent = "hark"
	}
	p.total = p.e.Size
}

func (p *puller) run(ctx context.Context) (PullResult, error) {
	if err := p.openPart(ctx); err != nil {
		return PullResult{}, err
	}
	defer func() {
		if p.f != nil {
			p.f.Sync()
			p.f.Close()
		}
	}()
	if err := p.checkSpace(); err != nil {
		return PullResult{}, err
	}
	for {
		before := p.done
		err := p.fetch(ctx)
		if err == nil {
			break
		}
		if p.done > before {
			p.attempt = 0 // it made progress: count failures afresh
		}
		if ctx.Err() != nil {
			p.f.Sync()
			return PullResult{}, fmt.Errorf("stopped with %s of %s downloaded; `hark models pull %s` resumes it: %w",
				FormatBytes(p.done), sizeOrUnknown(p.total), p.e.Name, ctx.Err())
		}
		var retry errRetry
		if !errors.As(err, &retry) || p.opts.Retries < 0 || p.attempt >= p.opts.Retries {
			p.f.Sync()
			if errors.As(err, &retry) && p.done > 0 {
				return PullResult{}, fmt.Errorf("%w (gave up after %d attempts; %s downloaded so far is kept, run the pull again to resume)",
					err, p.attempt+1, FormatBytes(p.done))
			}
			return PullResult{}, err
		}
		p.attempt++
		wait := p.opts.RetryWait << min(p.attempt-1, 6)
		p.report(PhaseRetrying, err, true)
		select {
		case <-ctx.Done():
			return PullResult{}, fmt.Errorf("stopped with %s downloaded; `hark models pull %s` resumes it: %w", FormatBytes(p.done), p.e.Name, ctx.Err())
		case <-time.After(wait):
		}
	}
	return p.finish(ctx)
}

// openPart opens NAME.part, discarding it if it belongs to another URL, and hashes what an
// earlier download already fetched.
func (p *puller) openPart(ctx context.Context) error {
	metaPath := p.part + ".json"
	if b, err := os.ReadFile(metaPath); err == nil {
		json.Unmarshal(b, &p.meta)
	}
	if p.meta.URL != p.e.URL || (p.e.Size > 0 && p.meta.Total > 0 && p.meta.Total != p.e.Size) {
		os.Remove(p.part)
		p.meta = partMeta{URL: p.e.URL}
	}
	f, err := os.OpenFile(p.part, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("cannot write in the models folder: %w", err)
	}
	p.f = f
	if p.total == 0 {
		p.total = p.meta.Total
	}
	p.h256, p.h1 = newHashers(p.e)
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if p.e.Size > 0 && fi.Size() > p.e.Size {
		return p.restart()
	}
	if fi.Size() > 0 {
		p.done = fi.Size()
		p.report(PhaseResuming, nil, true)
		if err := copyCtx(ctx, p.hashers(), io.LimitReader(f, p.done)); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("stopped: %w", ctx.Err())
			}
			return fmt.Errorf("cannot read the earlier partial download: %w", err)
		}
		p.resumed = p.done
	}
	_, err = f.Seek(p.done, io.SeekStart)
	return err
}

func (p *puller) hashers() io.Writer {
	if p.h1 != nil {
		return io.MultiWriter(p.h256, p.h1)
	}
	return p.h256
}

// restart throws the partial download away.
func (p *puller) restart() error {
	if err := p.f.Truncate(0); err != nil {
		return err
	}
	if _, err := p.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	p.h256, p.h1 = newHashers(p.e)
	p.done, p.resumed = 0, 0
	return nil
}

func (p *puller) saveMeta() {
	b, _ := json.Marshal(p.meta)
	os.WriteFile(p.part+".json", b, 0o644)
}

// checkSpace fails early when the rest of the file cannot fit on the disk.
func (p *puller) checkSpace() error {
	if p.total <= 0 {
		return nil
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(p.s.Dir, &st); err != nil {
		return nil // unknown: let the write fail if it must
	}
	free := int64(st.Bavail) * st.Bsize
	if need := p.total - p.done; need > free {
		return fmt.Errorf("not enough disk space in %s: %s more is needed, %s is free", p.s.Dir, FormatBytes(need), FormatBytes(free))
	}
	return nil
}

// fetch makes one request and appends what arrives to the part file.
func (p *puller) fetch(ctx context.Context) error {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(actx, http.MethodGet, p.e.URL, nil)
	if err != nil {
		return fmt.Errorf("bad download address %q: %w", p.e.URL, err)
	}
	req.Header.Set("User-Agent", p.opts.UserAgent)
	if p.done > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(p.done, 10)+"-")
		// If-Range makes the server send the whole file (200) if it changed since the part
		// was fetched, instead of a range of the new file.
		switch {
		case p.meta.ETag != "" && !strings.HasPrefix(p.meta.ETag, "W/"):
			req.Header.Set("If-Range", p.meta.ETag)
		case p.meta.LastModified != "":
			req.Header.Set("If-Range", p.meta.LastModified)
		}
	}
	p.report(PhaseConnecting, nil, true)
	resp, err := p.opts.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errRetry{fmt.Errorf("cannot reach %s: %w; check the network connection (Hark needs it only to download models)", hostOf(p.e.URL), unwrapURLError(err))}
	}
	defer resp.Body.Close()

	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		if p.done > 0 {
			// The server ignored the range or the file changed: start over.
			if err := p.restart(); err != nil {
				return err
			}
		}
		if resp.ContentLength > 0 {
			p.total = resp.ContentLength
		}
	case code == http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != p.done {
			if err := p.restart(); err != nil {
				return err
			}
			return errRetry{fmt.Errorf("the server answered the resume request with another part of the file (%q)", resp.Header.Get("Content-Range"))}
		}
		if total > 0 {
			p.total = total
		}
	case code == http.StatusRequestedRangeNotSatisfiable:
		if p.total > 0 && p.done == p.total {
			return nil // the part was complete already
		}
		if err := p.restart(); err != nil {
			return err
		}
		return errRetry{errors.New("the server would not resume the download; starting again")}
	case code == http.StatusNotFound || code == http.StatusGone:
		return fmt.Errorf("the server has no file at %s (HTTP %d); the manifest may be out of date: update Hark, or download the file yourself and set its path in the configuration", p.e.URL, code)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%s refused the download (HTTP %d): the file needs a login or licence acceptance; download it in a browser and set its path in the configuration", hostOf(p.e.URL), code)
	case code == http.StatusTooManyRequests || code >= 500:
		return errRetry{fmt.Errorf("%s is busy or failing (HTTP %d)", hostOf(p.e.URL), code)}
	default:
		return fmt.Errorf("%s answered HTTP %d %s", hostOf(p.e.URL), code, http.StatusText(code))
	}
	if p.e.Size > 0 && p.total != p.e.Size {
		return fmt.Errorf("%w: the server offers %s but the manifest says %s: the published file has changed; update Hark",
			ErrChecksum, FormatBytes(p.total), FormatBytes(p.e.Size))
	}
	p.meta = partMeta{URL: p.e.URL, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), Total: p.total}
	p.saveMeta()
	if err := p.checkSpace(); err != nil {
		return err
	}

	stall := time.AfterFunc(p.opts.StallTimeout, func() {
		cancel(fmt.Errorf("no data for %s", p.opts.StallTimeout))
	})
	defer stall.Stop()
	buf := make([]byte, 256<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			stall.Reset(p.opts.StallTimeout)
			if _, err := p.f.Write(buf[:n]); err != nil {
				if errors.Is(err, syscall.ENOSPC) {
					return fmt.Errorf("the disk holding %s is full", p.s.Dir)
				}
				return fmt.Errorf("cannot write the download: %w", err)
			}
			p.hashers().Write(buf[:n])
			p.done += int64(n)
			p.report(PhaseDownloading, nil, false)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if cause := context.Cause(actx); cause != nil && actx.Err() != nil {
				return errRetry{fmt.Errorf("the download stalled: %w", cause)}
			}
			return errRetry{fmt.Errorf("the connection broke after %s: %w", FormatBytes(p.done), rerr)}
		}
	}
	if p.total > 0 && p.done < p.total {
		return errRetry{fmt.Errorf("the server closed the connection after %s of %s", FormatBytes(p.done), FormatBytes(p.total))}
	}
	if p.total <= 0 {
		p.total = p.done
	}
	return nil
}

// finish verifies the complete part and renames it to the final name.
func (p *puller) finish(ctx context.Context) (PullResult, error) {
	p.report(PhaseVerifying, nil, true)
	res := PullResult{Path: p.final, Size: p.done, SHA256: hex.EncodeToString(p.h256.Sum(nil)), Resumed: p.resumed}
	fail := func(err error) (PullResult, error) {
		p.f.Close()
		p.f = nil
		os.Remove(p.part)
		os.Remove(p.part + ".json")
		return PullResult{}, err
	}
	if p.e.Size > 0 && p.done != p.e.Size {
		return fail(fmt.Errorf("%w: got %d bytes, the manifest says %d; the download was deleted, try again", ErrChecksum, p.done, p.e.Size))
	}
	if p.e.SHA256 != "" {
		if res.SHA256 != p.e.SHA256 {
			return fail(fmt.Errorf("%w: the download hashes to SHA-256 %s, but the published value (%s) is %s; it was deleted. Try again; if it fails again the published file has changed: update Hark",
				ErrChecksum, res.SHA256, p.e.ChecksumSource, p.e.SHA256))
		}
		res.Checked = "published SHA-256"
	}
	if p.e.SHA1 != "" {
		if got := hex.EncodeToString(p.h1.Sum(nil)); got != p.e.SHA1 {
			return fail(fmt.Errorf("%w: the download hashes to SHA-1 %s, but the published value (%s) is %s; it was deleted. Try again",
				ErrChecksum, got, p.e.ChecksumSource, p.e.SHA1))
		}
		if res.Checked == "" {
			res.Checked = "published SHA-1"
		}
	}
	if err := p.f.Sync(); err != nil {
		return PullResult{}, fmt.Errorf("cannot save the download: %w", err)
	}
	if info, err := CheckKind(p.part, p.e.Kind); err != nil {
		return fail(fmt.Errorf("the downloaded file is not a usable %s (%v); it was deleted", p.e.Kind.Describe(), err))
	} else if info.Kind != p.e.Kind {
		return fail(fmt.Errorf("the downloaded file is a %s, not a %s; it was deleted", info.Kind.Describe(), p.e.Kind.Describe()))
	}
	if err := p.f.Close(); err != nil {
		p.f = nil
		return PullResult{}, fmt.Errorf("cannot save the download: %w", err)
	}
	p.f = nil
	if err := os.Rename(p.part, p.final); err != nil {
		return PullResult{}, fmt.Errorf("cannot install the download: %w", err)
	}
	if err := syncDir(p.s.Dir); err != nil {
		return PullResult{}, fmt.Errorf("cannot install the download: %w", err)
	}
	os.Remove(p.part + ".json")
	if err := p.s.record(p.e.File, res.SHA256); err != nil {
		return res, fmt.Errorf("installed, but could not record its checksum in %s: %w", SumsFile, err)
	}
	p.report(PhaseDone, nil, true)
	return res, nil
}

// report sends progress to the callback, at most every 100 ms unless forced.
func (p *puller) report(phase Phase, err error, force bool) {
	if p.opts.Progress == nil {
		return
	}
	now := time.Now()
	dt := now.Sub(p.lastReport)
	if !force && phase == p.lastPhase && dt < 100*time.Millisecond {
		return
	}
	if phase == PhaseDownloading && !p.lastReport.IsZero() && dt > 0 {
		inst := float64(p.done-p.lastDone) / dt.Seconds()
		if p.speed == 0 {
			p.speed = inst
		} else {
			alpha := 1 - math.Exp(-dt.Seconds()/3) // about a 3-second average
			p.speed += alpha * (inst - p.speed)
		}
	}
	p.lastReport, p.lastDone, p.lastPhase = now, p.done, phase
	pr := Progress{Model: p.e.Name, Phase: phase, Done: p.done, Total: p.total, Resumed: p.resumed,
		Speed: p.speed, ETA: -1, Attempt: p.attempt, Err: err}
	if p.speed > 0 && p.total > 0 {
		pr.ETA = time.Duration(float64(p.total-p.done) / p.speed * float64(time.Second))
	}
	if phase == PhaseDone {
		pr.ETA = 0
	}
	p.opts.Progress(pr)
}

func parseContentRange(s string) (start, total int64, ok bool) {
	// "bytes 100-199/200" or "bytes 100-199/*"
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	first, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

// unwrapURLError drops the "Get URL:" prefix net/http adds; the message names the host already.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func sizeOrUnknown(n int64) string {
	if n <= 0 {
		return "an unknown size"
	}
	return FormatBytes(n)
}
