package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"hark/audio"
)

// waitLimit bounds every wait in these tests; it is generous because the machine is shared, and
// no test asserts on how fast anything happened.
const waitLimit = 10 * time.Second

// recorder is a Sink that keeps every event and lets a test wait for one.
type recorder struct {
	mu     sync.Mutex
	events []Event
	wake   chan struct{}
}

func newRecorder() *recorder { return &recorder{wake: make(chan struct{}, 1)} }

func (r *recorder) Publish(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// waitFor waits for the first event after index from that matches, and returns it and its
// index + 1 (where to continue).
func (r *recorder) waitFor(t *testing.T, from int, what string, match func(Event) bool) (Event, int) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		evs := r.all()
		for i := from; i < len(evs); i++ {
			if match(evs[i]) {
				return evs[i], i + 1
			}
		}
		select {
		case <-r.wake:
		case <-deadline:
			t.Fatalf("no %s event after #%d; events:\n%s", what, from, describe(evs))
		}
	}
}

// next waits for an event of kind k after index from.
func (r *recorder) next(t *testing.T, from int, k EventKind) (Event, int) {
	t.Helper()
	return r.waitFor(t, from, string(k), func(e Event) bool { return e.Kind == k })
}

// state waits for the state s after index from.
func (r *recorder) state(t *testing.T, from int, s State) int {
	t.Helper()
	_, i := r.waitFor(t, from, "state "+s.String(), func(e Event) bool { return e.Kind == EventState && e.State == s })
	return i
}

// kinds lists the kinds of evs[from:] (levels and components left out), for sequence checks.
func kinds(evs []Event) []string {
	var out []string
	for _, e := range evs {
		switch e.Kind {
		case EventLevel, EventComponent, EventReadiness:
			continue
		case EventState:
			out = append(out, "state:"+e.State.String())
		default:
			out = append(out, string(e.Kind))
		}
	}
	return out
}

func describe(evs []Event) string {
	var b strings.Builder
	for i, e := range evs {
		if e.Kind == EventLevel {
			continue
		}
		fmt.Fprintf(&b, "  #%d %s turn=%d state=%s text=%q reason=%q err=%v interrupted=%v\n", i, e.Kind, e.Turn, e.State, e.Text, e.Reason, e.Err, e.Interrupted)
	}
	return b.String()
}

// fakeASR "transcribes" by calling text with the number of samples it got.
type fakeASR struct {
	mu     sync.Mutex
	calls  []int                       // samples per call
	text   func(n int) (string, error) // nil: "hello"
	block  chan struct{}               // non-nil: each call waits for a receive (or ctx)
	panics bool
	closed bool
	lang   string // the language it says it heard
}

func (f *fakeASR) Transcribe(ctx context.Context, pcm audio.PCM) (Transcript, error) {
	f.mu.Lock()
	f.calls = append(f.calls, len(pcm.Samples))
	text, block, panics, lang := f.text, f.block, f.panics, f.lang
	f.mu.Unlock()
	if panics {
		panic("fake asr exploded")
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return Transcript{}, ctx.Err()
		}
	}
	if text == nil {
		return Transcript{Text: "hello", Compute: time.Millisecond, Language: lang}, nil
	}
	s, err := text(len(pcm.Samples))
	return Transcript{Text: s, Compute: time.Millisecond, Language: lang}, err
}

func (f *fakeASR) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func (f *fakeASR) set(fn func(n int) (string, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.text = fn
}

// fakeBrain makes fakeChats that answer with fixed pieces.
type fakeBrain struct {
	mu      sync.Mutex
	pieces  []string
	gate    chan struct{} // non-nil: each piece after the first waits for a receive (or ctx)
	err     error         // returned by Send after the pieces
	chats   []*fakeChat
	systems []string
	closed  bool
}

func (b *fakeBrain) NewChat(system string) (Chat, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := &fakeChat{brain: b}
	b.chats = append(b.chats, c)
	b.systems = append(b.systems, system)
	return c, nil
}

func (b *fakeBrain) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

type fakeChat struct {
	brain       *fakeBrain
	mu          sync.Mutex
	asked       []string
	langs       []string // LanguageOf each Send's context
	primed      []string // Prefill's messages
	primedToolN []int    // ... and how many tools each offered
	resets      int
	closed      bool
}

func (c *fakeChat) Send(ctx context.Context, user string, emit func(string) error) (Reply, error) {
	c.mu.Lock()
	c.asked = append(c.asked, user)
	c.langs = append(c.langs, LanguageOf(ctx))
	c.mu.Unlock()
	c.brain.mu.Lock()
	pieces, gate, ferr := c.brain.pieces, c.brain.gate, c.brain.err
	c.brain.mu.Unlock()
	if pieces == nil {
		pieces = []string{"Hi", " there", "."}
	}
	var text strings.Builder
	for i, p := range pieces {
		if i > 0 && gate != nil {
			select {
			case <-gate:
			case <-ctx.Done():
				return Reply{Text: text.String(), Tokens: i, Interrupted: true}, ctx.Err()
			}
		}
		if err := emit(p); err != nil {
			return Reply{Text: text.String(), Tokens: i, Interrupted: true}, err
		}
		text.WriteString(p)
	}
	return Reply{Text: text.String(), Tokens: len(pieces), Compute: 2 * time.Millisecond}, ferr
}

func (c *fakeChat) Prefill(_ context.Context, user string, tools []Tool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.primed = append(c.primed, user)
	c.primedToolN = append(c.primedToolN, len(tools))
	return nil
}

func (c *fakeChat) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resets++
}

func (c *fakeChat) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

// fakeMic delivers the chunks a test feeds it.
type fakeMic struct {
	ch     chan []float32
	fail   chan error
	mu     sync.Mutex
	closed bool
	fed    int // chunks fed (by the test goroutine)
}

func newFakeMic() *fakeMic {
	return &fakeMic{ch: make(chan []float32, 256), fail: make(chan error, 1)}
}

func (m *fakeMic) Read(ctx context.Context, p []float32) (int, error) {
	select {
	case s := <-m.ch:
		return copy(p, s), nil
	case err := <-m.fail:
		return 0, err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (m *fakeMic) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// feed sends d of audio at value v (0 = silence) in 512-sample chunks.
func (m *fakeMic) feed(d time.Duration, v float32) {
	n := int(d * audio.SampleRate / time.Second)
	for n > 0 {
		k := min(n, readChunk)
		c := make([]float32, k)
		for i := range c {
			c[i] = v
		}
		m.ch <- c
		m.mu.Lock()
		m.fed++
		m.mu.Unlock()
		n -= k
	}
}

// fakeSeg is an energy endpointer: speech is any sample above 0.1; an utterance ends after
// two chunks without speech.
type fakeSeg struct {
	mu      sync.Mutex
	open    bool
	quiet   int
	cur     []float32
	resets  int
	failing bool
	panics  bool
}

func (s *fakeSeg) Push(x []float32) ([]Boundary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.panics {
		panic("fake vad exploded")
	}
	if s.failing {
		return nil, errors.New("fake vad failed")
	}
	loud := false
	for _, v := range x {
		if v > 0.1 {
			loud = true
			break
		}
	}
	var out []Boundary
	switch {
	case loud && !s.open:
		s.open, s.quiet, s.cur = true, 0, append([]float32(nil), x...)
		out = append(out, Boundary{})
	case s.open:
		s.cur = append(s.cur, x...)
		if loud {
			s.quiet = 0
		} else if s.quiet++; s.quiet >= 2 {
			out = append(out, Boundary{End: true, Utterance: audio.PCM{Rate: audio.SampleRate, Samples: s.cur}})
			s.open, s.cur = false, nil
		}
	}
	return out, nil
}

func (s *fakeSeg) Current() audio.PCM {
	s.mu.Lock()
	defer s.mu.Unlock()
	return audio.PCM{Rate: audio.SampleRate, Samples: append([]float32(nil), s.cur...)}
}

func (s *fakeSeg) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open, s.cur = false, nil
	s.resets++
}

// fakeSpeaker collects what it is asked to say; with hold set it keeps "speaking" until ctx is
// done or hold is closed.
type fakeSpeaker struct {
	mu        sync.Mutex
	said      []string
	langs     []string // LanguageOf each Speak's context
	hold      chan struct{}
	cancelled int
	err       error
	active    int // Speak calls running now
	overlap   int // the most that ran at once
}

func (s *fakeSpeaker) Speak(ctx context.Context, pieces <-chan string) error {
	var b strings.Builder
	for p := range pieces {
		b.WriteString(p)
	}
	s.mu.Lock()
	s.said = append(s.said, b.String())
	s.langs = append(s.langs, LanguageOf(ctx))
	hold, err := s.hold, s.err
	s.active++
	s.overlap = max(s.overlap, s.active)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
	}()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			s.mu.Lock()
			s.cancelled++
			s.mu.Unlock()
			return ctx.Err()
		}
	}
	return err
}

// clock is a settable fake time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// memHistory keeps records in memory: begun turns, then replaced by their finished record.
type memHistory struct {
	mu    sync.Mutex
	recs  []TurnRecord
	begun int
	wiped []string
	fail  error // Begin and Finish return it (a full disk)
	calls int   // Begin and Finish calls, failed ones too
	note  error // StartNotice's answer
}

func (h *memHistory) StartNotice() error { return h.note }

func (h *memHistory) callCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

func (h *memHistory) failing(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fail = err
}

func (h *memHistory) Begin(_ context.Context, r TurnRecord) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if h.fail != nil {
		return h.fail
	}
	h.begun++
	h.recs = append(h.recs, r)
	return nil
}

func (h *memHistory) Finish(_ context.Context, r TurnRecord) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if h.fail != nil {
		return h.fail
	}
	for i := range h.recs {
		if h.recs[i].Conversation == r.Conversation && h.recs[i].Turn == r.Turn {
			if !h.recs[i].Ended.IsZero() {
				return errors.New("turn finished twice")
			}
			h.recs[i] = r
			return nil
		}
	}
	return errors.New("Finish without Begin")
}

func (h *memHistory) Wipe(_ context.Context, conv string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wiped = append(h.wiped, conv)
	var keep []TurnRecord
	for _, r := range h.recs {
		if r.Conversation != conv {
			keep = append(keep, r)
		}
	}
	h.recs = keep
	return nil
}

func (h *memHistory) records() []TurnRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]TurnRecord(nil), h.recs...)
}

// rig is an assistant with fake engines, running until the test ends.
type rig struct {
	a     *Assistant
	rec   *recorder
	asr   *fakeASR
	brain *fakeBrain
	mic   *fakeMic
	seg   *fakeSeg
	spk   *fakeSpeaker
	hist  *memHistory
	clock *clock
	stop  func() // ends Run and waits for it
}

type rigOption func(*rig, *Options)

func withConfig(f func(*Config)) rigOption {
	return func(_ *rig, o *Options) { f(&o.Config) }
}

func withSpeaker(hold bool) rigOption {
	return func(r *rig, o *Options) {
		r.spk = &fakeSpeaker{}
		if hold {
			r.spk.hold = make(chan struct{})
		}
		o.Loaders.Speaker = func(context.Context) (Speaker, error) { return r.spk, nil }
		o.Config.Speak = true
	}
}

func withClock() rigOption {
	return func(r *rig, o *Options) {
		r.clock = newClock()
		o.Now = r.clock.Now
	}
}

func newRig(t *testing.T, opts ...rigOption) *rig {
	t.Helper()
	r := &rig{rec: newRecorder(), asr: &fakeASR{}, brain: &fakeBrain{}, mic: newFakeMic(), seg: &fakeSeg{}, hist: &memHistory{}}
	o := Options{
		Config: DefaultConfig(),
		Loaders: Loaders{
			Transcriber: func(context.Context, func(float64)) (Transcriber, error) { return r.asr, nil },
			Brain:       func(context.Context, func(float64)) (Brain, error) { return r.brain, nil },
			Segmenter:   func(context.Context) (Segmenter, error) { return r.seg, nil },
			Microphone:  func(context.Context) (Source, error) { return r.mic, nil },
		},
		Sink:    r.rec,
		History: r.hist,
		Logf:    t.Logf,
	}
	o.Config.PartialEvery = -1
	for _, f := range opts {
		f(r, &o)
	}
	r.a = New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.a.Run(ctx) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(waitLimit):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(r.stop)
	return r
}

// ready waits until typed and spoken questions can be asked, and the resting state that
// follows.
func (r *rig) ready(t *testing.T) int {
	t.Helper()
	_, i := r.rec.waitFor(t, 0, "readiness (voice)", func(e Event) bool { return e.Kind == EventReadiness && e.Readiness.Voice && e.Readiness.Type })
	_, i = r.rec.next(t, i, EventState)
	if r.spk != nil {
		_, j := r.rec.waitFor(t, 0, "speech ready", func(e Event) bool {
			return e.Kind == EventComponent && e.Component == ComponentSpeech && e.Phase == PhaseReady
		})
		i = max(i, j)
	}
	return i
}

// drain waits until the loop has taken every chunk fed to the microphone, and everything sent
// before.
func (r *rig) drain(t *testing.T) {
	t.Helper()
	waitUntil(t, "audio taken", func() bool {
		r.mic.mu.Lock()
		fed := r.mic.fed
		r.mic.mu.Unlock()
		got := make(chan int, 1)
		if !r.a.send(func() { got <- r.a.chunks }) {
			return false
		}
		return <-got >= fed
	})
	r.sync(t)
}

// sync waits until the loop has handled everything sent before it.
func (r *rig) sync(t *testing.T) {
	t.Helper()
	done := make(chan struct{})
	if !r.a.send(func() { close(done) }) {
		t.Fatal("assistant stopped")
	}
	select {
	case <-done:
	case <-time.After(waitLimit):
		t.Fatal("loop did not answer")
	}
}

// tick runs the loop's periodic work now (timers read the fake clock).
func (r *rig) tick(t *testing.T) {
	t.Helper()
	r.a.send(r.a.onTick)
	r.sync(t)
}

// say feeds an utterance of d (speech at 0.5) followed by enough silence to end it.
func (r *rig) say(d time.Duration) {
	r.mic.feed(d, 0.5)
	r.mic.feed(100*time.Millisecond, 0)
}

func (f *fakeASR) callList() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.calls...)
}

func (b *fakeBrain) chat(i int) *fakeChat {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.chats[i]
}

func (b *fakeBrain) systemList() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.systems...)
}

func (c *fakeChat) askedList() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.asked...)
}

func (c *fakeChat) resetCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resets
}

func (c *fakeChat) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (s *fakeSpeaker) cancelCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancelled
}

func (s *fakeSpeaker) saidList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.said...)
}
