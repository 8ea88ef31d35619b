package tts

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"hark/audio"
)

// fakeSynth "speaks" a text as 1 ms of audio per character at 1 kHz; every sample holds the
// text's number in the order of calls, so the player can tell chunks apart.
type fakeSynth struct {
	mu      sync.Mutex
	texts   []string
	started chan string // receives each text as its synthesis starts (if not nil)
	delay   time.Duration
	failOn  string
}

func (f *fakeSynth) Synthesize(ctx context.Context, text string, v Voice) (audio.PCM, error) {
	if f.started != nil {
		select {
		case f.started <- text:
		case <-ctx.Done():
			return audio.PCM{}, ctx.Err()
		}
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return audio.PCM{}, ctx.Err()
		}
	}
	if f.failOn != "" && strings.Contains(text, f.failOn) {
		return audio.PCM{}, errors.New("synthesizer broke")
	}
	f.mu.Lock()
	f.texts = append(f.texts, text)
	id := float32(len(f.texts))
	f.mu.Unlock()
	s := make([]float32, len(text))
	for i := range s {
		s[i] = id
	}
	return audio.PCM{Rate: 1000, Samples: s}, nil
}

// fakePlayer records what it plays. hold, if set, is called at the start of each Play and may
// block it; otherwise Play returns at once.
type fakePlayer struct {
	mu     sync.Mutex
	played []audio.PCM
	hold   func(ctx context.Context, n int) error
	err    error
}

func (p *fakePlayer) Play(ctx context.Context, pcm audio.PCM) error {
	p.mu.Lock()
	n := len(p.played)
	p.played = append(p.played, pcm)
	p.mu.Unlock()
	if p.hold != nil {
		if err := p.hold(ctx, n); err != nil {
			return err
		}
	}
	return p.err
}

// ids returns the chunk numbers in the order their audio was played (several chunks may come
// in one Play), and fails when a chunk's audio is split or repeated.
func (p *fakePlayer) ids(t *testing.T) []int {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []int
	for _, pcm := range p.played {
		for _, s := range pcm.Samples {
			if len(ids) == 0 || ids[len(ids)-1] != int(s) {
				ids = append(ids, int(s))
			}
		}
	}
	seen := map[int]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("chunk %d played in two pieces: %v", id, ids)
		}
		seen[id] = true
	}
	return ids
}

func stream(pieces ...string) <-chan string {
	ch := make(chan string, len(pieces))
	for _, p := range pieces {
		ch <- p
	}
	close(ch)
	return ch
}

func words(s string) []string { // "a b c" -> "a", " b", " c": how LLM tokens look
	f := strings.SplitAfter(s, " ")
	out := make([]string, 0, len(f))
	for i, w := range f {
		if i > 0 {
			w = " " + strings.TrimSuffix(w, " ")
		} else {
			w = strings.TrimSuffix(w, " ")
		}
		out = append(out, w)
	}
	return out
}

func TestSpeakerSpeaksEverySentenceInOrder(t *testing.T) {
	reply := "Sure! Here is **the answer**: it costs $5. \n```\nskip this code\n```\n🎉\nEnjoy your day. Bye"
	synth, player := &fakeSynth{}, &fakePlayer{}
	sp := NewSpeaker(synth, player, Voice{})
	st, err := sp.Speak(context.Background(), stream(words(reply)...))
	if err != nil {
		t.Fatal(err)
	}
	wantTexts := []string{"Sure!", "Here is the answer: it costs 5 dollars.", "Enjoy your day.", "Bye"}
	if !reflect.DeepEqual(synth.texts, wantTexts) {
		t.Errorf("synthesized %q, want %q", synth.texts, wantTexts)
	}
	if ids, want := player.ids(t), []int{1, 2, 3, 4}; !reflect.DeepEqual(ids, want) {
		t.Errorf("played chunks %v, want %v", ids, want)
	}
	if st.Chunks != 4 || st.Played != 4 || st.Interrupted {
		t.Errorf("stats %+v, want 4 chunks, 4 played, not interrupted", st)
	}
	if want := "Sure! Here is **the answer**: it costs $5. Enjoy your day. Bye"; st.Spoken != want {
		t.Errorf("Spoken = %q, want %q", st.Spoken, want)
	}
	var chars int
	for _, s := range wantTexts {
		chars += len(s)
	}
	if want := time.Duration(chars) * time.Millisecond; st.Audio != want {
		t.Errorf("Audio = %v, want %v", st.Audio, want)
	}
}

// TestSpeakerStartsBeforeStreamEnds: the rest of the reply is only generated once the first
// sentence is playing, so a Speaker that waited for the whole stream would never play.
func TestSpeakerStartsBeforeStreamEnds(t *testing.T) {
	firstPlaying := make(chan struct{})
	player := &fakePlayer{hold: func(ctx context.Context, n int) error {
		if n == 0 {
			close(firstPlaying)
		}
		return nil
	}}
	pieces := make(chan string)
	go func() {
		defer close(pieces)
		for _, p := range words("The first sentence is here. And") {
			pieces <- p
		}
		select {
		case <-firstPlaying:
		case <-time.After(10 * time.Second):
			return // the test fails below: nothing was played while the stream was open
		}
		for _, p := range words(" the second one follows.") {
			pieces <- p
		}
	}()
	sp := NewSpeaker(&fakeSynth{}, player, Voice{})
	st, err := sp.Speak(context.Background(), pieces)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-firstPlaying:
	default:
		t.Fatal("the first sentence was not played while the stream was still open")
	}
	if ids, want := player.ids(t), []int{1, 2}; !reflect.DeepEqual(ids, want) {
		t.Errorf("played chunks %v, want %v", ids, want)
	}
	if st.FirstAudio <= 0 {
		t.Errorf("FirstAudio = %v, want > 0", st.FirstAudio)
	}
}

// TestSpeakerSynthesizesAhead: the player holds the first chunk until the second one has been
// synthesized, so a Speaker that only synthesized after each Play returned would stall.
func TestSpeakerSynthesizesAhead(t *testing.T) {
	synth := &fakeSynth{started: make(chan string, 10)}
	player := &fakePlayer{hold: func(ctx context.Context, n int) error {
		if n != 0 {
			return nil
		}
		for i := 0; i < 2; i++ { // chunk 1 started before Play; wait for chunk 2's start
			select {
			case <-synth.started:
			case <-time.After(10 * time.Second):
				return errors.New("second chunk not synthesized while the first played")
			}
		}
		return nil
	}}
	sp := NewSpeaker(synth, player, Voice{})
	if _, err := sp.Speak(context.Background(), stream("One. Two. Three.")); err != nil {
		t.Fatal(err)
	}
	if ids, want := player.ids(t), []int{1, 2, 3}; !reflect.DeepEqual(ids, want) {
		t.Errorf("played chunks %v, want %v", ids, want)
	}
}

func TestSpeakerStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	playing := make(chan struct{})
	firstPlayed := make(chan struct{})
	stopped := make(chan error, 1)
	player := &fakePlayer{hold: func(ctx context.Context, n int) error {
		if n == 0 {
			close(firstPlayed)
			return nil
		}
		close(playing)
		<-ctx.Done() // plays until stopped
		stopped <- ctx.Err()
		return ctx.Err()
	}}
	pieces := make(chan string) // never closed: the LLM is still generating
	go func() {
		send := func(s string) bool {
			for _, p := range words(s) {
				select {
				case pieces <- p:
				case <-ctx.Done():
					return false
				}
			}
			return true
		}
		// The second sentence comes after the first is played, so the two are not merged.
		if !send("First one. Second") {
			return
		}
		<-firstPlayed
		send(" one. Third")
	}()
	sp := NewSpeaker(&fakeSynth{}, player, Voice{})
	st, err := cancelWhilePlaying(t, func() (SpeakStats, error) { return sp.Speak(ctx, pieces) }, playing, cancel)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Speak error %v, want context.Canceled", err)
	}
	if e := <-stopped; !errors.Is(e, context.Canceled) {
		t.Errorf("player saw %v, want its context cancelled", e)
	}
	if !st.Interrupted || st.Played != 1 || st.Spoken != "First one." {
		t.Errorf("stats %+v, want interrupted after 1 chunk spoken", st)
	}
}

func TestSpeakerErrors(t *testing.T) {
	t.Run("synthesizer error stops speech", func(t *testing.T) {
		player := &fakePlayer{}
		sp := NewSpeaker(&fakeSynth{failOn: "Two"}, player, Voice{})
		_, err := sp.Speak(context.Background(), stream("One. Two. Three."))
		if err == nil || !strings.Contains(err.Error(), "synthesizer broke") {
			t.Errorf("Speak error %v, want the synthesizer's", err)
		}
		if ids := player.ids(t); len(ids) > 1 {
			t.Errorf("played %v after the synthesizer failed", ids)
		}
	})
	t.Run("player error stops speech", func(t *testing.T) {
		lost := errors.New("device lost")
		player := &fakePlayer{err: lost}
		sp := NewSpeaker(&fakeSynth{}, player, Voice{})
		st, err := sp.Speak(context.Background(), stream("One. Two. Three."))
		if !errors.Is(err, lost) {
			t.Errorf("Speak error %v, want %v", err, lost)
		}
		if st.Played != 0 || st.Interrupted {
			t.Errorf("stats %+v: want nothing played, not interrupted", st)
		}
	})
	t.Run("empty stream", func(t *testing.T) {
		player := &fakePlayer{}
		st, err := NewSpeaker(&fakeSynth{}, player, Voice{}).Speak(context.Background(), stream())
		if err != nil || st.Chunks != 0 || len(player.played) != 0 {
			t.Errorf("Speak(empty) = %+v, %v; played %d", st, err, len(player.played))
		}
	})
	t.Run("nothing speakable", func(t *testing.T) {
		player := &fakePlayer{}
		st, err := NewSpeaker(&fakeSynth{}, player, Voice{}).Speak(context.Background(), stream("```\ncode\n```\n", "👍 ---"))
		if err != nil || st.Chunks != 0 || len(player.played) != 0 {
			t.Errorf("Speak(markup only) = %+v, %v; played %d", st, err, len(player.played))
		}
	})
}

// fakeQueue is a QueuePlayer whose "device" plays the queued audio in order on a goroutine;
// finish, if set, is called before each item counts as played and may block it.
type fakeQueue struct {
	fakePlayer
	mu       sync.Mutex
	items    []queuedItem
	wake     chan struct{}
	started  bool
	finish   func(ctx context.Context, n int) error
	enqueued chan int // receives the number of each item as it is queued (if not nil)
}

type queuedItem struct {
	ctx  context.Context
	done chan error
}

func (q *fakeQueue) Enqueue(ctx context.Context, pcm audio.PCM) <-chan error {
	q.fakePlayer.mu.Lock()
	n := len(q.played)
	q.played = append(q.played, pcm)
	q.fakePlayer.mu.Unlock()
	done := make(chan error, 1)
	q.mu.Lock()
	q.items = append(q.items, queuedItem{ctx, done})
	if !q.started {
		q.started, q.wake = true, make(chan struct{}, 1)
		go q.device()
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	if q.enqueued != nil {
		q.enqueued <- n
	}
	return done
}

func (q *fakeQueue) device() {
	for n := 0; ; n++ {
		var it queuedItem
		for {
			q.mu.Lock()
			if len(q.items) > 0 {
				it, q.items = q.items[0], q.items[1:]
				q.mu.Unlock()
				break
			}
			q.mu.Unlock()
			select {
			case <-q.wake:
			case <-time.After(10 * time.Second):
				return
			}
		}
		var err error
		if q.finish != nil {
			err = q.finish(it.ctx, n)
		}
		if err == nil {
			err = it.ctx.Err()
		}
		it.done <- err
		close(it.done)
	}
}

func TestSpeakerQueued(t *testing.T) {
	t.Run("gap-free: the next sentence is queued while one plays", func(t *testing.T) {
		q := &fakeQueue{enqueued: make(chan int, 10)}
		q.finish = func(ctx context.Context, n int) error {
			for {
				select { // item n finishes only once item n+1 is queued (or the reply ended)
				case m := <-q.enqueued:
					if m > n {
						return nil
					}
				case <-time.After(300 * time.Millisecond):
					if n < 2 {
						return errors.New("nothing queued behind a playing sentence")
					}
					return nil
				}
			}
		}
		st, err := NewSpeaker(&fakeSynth{}, q, Voice{}).Speak(context.Background(), stream("One. Two. Three."))
		if err != nil {
			t.Fatal(err)
		}
		if ids, want := q.ids(t), []int{1, 2, 3}; !reflect.DeepEqual(ids, want) {
			t.Errorf("played chunks %v, want %v", ids, want)
		}
		if st.Played != 3 || st.Spoken != "One. Two. Three." || st.Waited != 0 {
			t.Errorf("stats %+v, want 3 played without waiting", st)
		}
	})
	t.Run("cancel stops everything queued", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		playing := make(chan struct{})
		q := &fakeQueue{finish: func(ctx context.Context, n int) error {
			if n == 1 {
				close(playing)
				<-ctx.Done()
			}
			return nil
		}}
		st, err := cancelWhilePlaying(t, func() (SpeakStats, error) {
			return NewSpeaker(&fakeSynth{}, q, Voice{}).Speak(ctx, stream("One. Two. Three. Four."))
		}, playing, cancel)
		if !errors.Is(err, context.Canceled) || !st.Interrupted || st.Played != 1 || st.Spoken != "One." {
			t.Errorf("Speak = %+v, %v; want interrupted after one chunk", st, err)
		}
	})
}

// TestSpeakerMergesReadyChunks: with a plain Player, chunks synthesized by the time a Play
// starts go into that Play (one gap fewer each).
func TestSpeakerMergesReadyChunks(t *testing.T) {
	synth := &gatedSynth{gate: make(chan struct{})}
	player := &fakePlayer{hold: func(ctx context.Context, n int) error {
		if n == 0 { // the first sentence plays while the rest is synthesized
			close(synth.gate)
			for deadline := time.Now().Add(10 * time.Second); synth.done() < 4 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond) // and handed to the player's side
		}
		return nil
	}}
	sp := NewSpeaker(synth, player, Voice{})
	sp.Ahead = 4
	st, err := sp.Speak(context.Background(), stream("One. Two. Three. Four."))
	if err != nil {
		t.Fatal(err)
	}
	if ids, want := player.ids(t), []int{1, 2, 3, 4}; !reflect.DeepEqual(ids, want) {
		t.Errorf("played chunks %v, want %v", ids, want)
	}
	if n := len(player.played); n > 3 || len(player.played[0].Samples) != len("One.") {
		t.Errorf("%d Play calls, the first of %d samples: want the first sentence alone, then the ready ones together", n, len(player.played[0].Samples))
	}
	if st.Played != 4 || st.Spoken != "One. Two. Three. Four." {
		t.Errorf("stats %+v, want 4 played", st)
	}
}

// gatedSynth is a fakeSynth whose chunks after the first wait for gate.
type gatedSynth struct {
	fakeSynth
	gate chan struct{}
}

func (g *gatedSynth) Synthesize(ctx context.Context, text string, v Voice) (audio.PCM, error) {
	if text != "One." {
		<-g.gate
	}
	return g.fakeSynth.Synthesize(ctx, text, v)
}

func (g *gatedSynth) done() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.texts)
}

// cancelWhilePlaying runs speak, cancels once playing is closed, and returns what speak
// returned; the test fails if it does not return within 10 s of the cancel.
func cancelWhilePlaying(t *testing.T, speak func() (SpeakStats, error), playing <-chan struct{}, cancel context.CancelFunc) (SpeakStats, error) {
	t.Helper()
	done := make(chan struct{})
	var st SpeakStats
	var err error
	go func() {
		st, err = speak()
		close(done)
	}()
	<-playing
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Speak did not return after cancel")
	}
	return st, err
}
