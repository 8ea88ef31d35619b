package app

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"hark/audio"
)

const msec = time.Millisecond

// pauseSeg is fakeSeg with pauses: one quiet chunk after speech is a pause (the utterance as it
// will end, padded with a chunk of zeros), speech after it resumes the utterance, a second
// quiet chunk ends it.
type pauseSeg struct {
	mu     sync.Mutex
	open   bool
	quiet  int
	cur    []float32
	pauses int
}

func (s *pauseSeg) Push(x []float32) ([]Boundary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	loud := slices.ContainsFunc(x, func(v float32) bool { return v > 0.1 })
	var out []Boundary
	switch {
	case loud && !s.open:
		s.open, s.quiet, s.cur = true, 0, append([]float32(nil), x...)
		out = append(out, Boundary{})
	case s.open:
		s.cur = append(s.cur, x...)
		switch {
		case loud && s.quiet > 0:
			s.quiet = 0
			out = append(out, Boundary{Resumed: true})
		case loud:
		case s.quiet == 0:
			s.quiet++
			s.pauses++
			u := append(slices.Clone(s.cur), make([]float32, len(x))...)
			out = append(out, Boundary{Paused: true, Utterance: audio.PCM{Rate: audio.SampleRate, Samples: u}})
		default:
			out = append(out, Boundary{End: true, Utterance: audio.PCM{Rate: audio.SampleRate, Samples: s.cur}})
			s.open, s.cur = false, nil
		}
	}
	return out, nil
}

func (s *pauseSeg) Current() audio.PCM {
	s.mu.Lock()
	defer s.mu.Unlock()
	return audio.PCM{Rate: audio.SampleRate, Samples: slices.Clone(s.cur)}
}

func (s *pauseSeg) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open, s.cur, s.quiet = false, nil, 0
}

func withPauses(seg *pauseSeg) rigOption {
	return func(_ *rig, o *Options) {
		o.Config.HandsFree = true
		o.Loaders.Segmenter = func(context.Context) (Segmenter, error) { return seg, nil }
	}
}

func (c *fakeChat) primedList() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.primed)
}

// TestSpeculativeTurn: a pause starts the turn privately (the transcript of the utterance as
// it will end, and the prompt evaluated ahead), nothing is published before the silence is
// complete, and then the turn goes exactly as it does without speculation: the same events in
// the same order, the same transcript, one transcription, one question, one history record.
func TestSpeculativeTurn(t *testing.T) {
	run := func(t *testing.T, speculate bool) (*rig, []string) {
		seg := &pauseSeg{}
		opts := []rigOption{withConfig(func(c *Config) { c.HandsFree = true })}
		if speculate {
			opts = append(opts, withPauses(seg))
		}
		r := newRig(t, opts...)
		r.asr.set(func(n int) (string, error) { return fmt.Sprintf("heard %d samples", n), nil })
		i := r.ready(t)
		block := make(chan struct{})
		r.asr.mu.Lock()
		r.asr.block = block
		r.asr.mu.Unlock()
		r.mic.feed(300*msec, 0.5)
		r.mic.feed(32*msec, 0) // one quiet chunk: a pause
		r.drain(t)
		if speculate {
			waitUntil(t, "the speculative transcription", func() bool { return len(r.asr.callList()) == 1 })
			block <- struct{}{} // the transcript comes in during the pause
			waitUntil(t, "the prompt evaluated ahead", func() bool { return len(r.brain.chat(0).primedList()) == 1 })
			for _, e := range r.rec.all()[i:] {
				if e.Kind != EventLevel && e.Kind != EventState && e.Kind != EventSpeech {
					t.Fatalf("published during the pause: %s %q", e.Kind, e.Text)
				}
				if e.Kind == EventState && e.State != StateHearing {
					t.Fatalf("state %s during the pause", e.State)
				}
			}
		}
		r.mic.feed(32*msec, 0) // the silence holds: the end
		if !speculate {
			waitUntil(t, "the transcription", func() bool { return len(r.asr.callList()) == 1 })
			block <- struct{}{}
		}
		_, _ = r.rec.next(t, i, EventTurnDone)
		r.sync(t)
		return r, kinds(r.rec.all()[i:])
	}
	plain, want := run(t, false)
	spec, got := run(t, true)
	if !slices.Equal(got, want) {
		t.Errorf("events with speculation:\n%v\nwithout:\n%v", got, want)
	}
	if a, b := spec.asr.callList(), plain.asr.callList(); !slices.Equal(a, b) {
		t.Errorf("transcribed samples with speculation %v, without %v", a, b)
	}
	if a, b := spec.brain.chat(0).askedList(), plain.brain.chat(0).askedList(); !slices.Equal(a, b) || len(a) != 1 {
		t.Errorf("questions with speculation %q, without %q", a, b)
	}
	if p := spec.brain.chat(0).primedList(); !slices.Equal(p, spec.brain.chat(0).askedList()) {
		t.Errorf("prompt evaluated ahead %q, asked %q", p, spec.brain.chat(0).askedList())
	}
	waitUntil(t, "the history records", func() bool { return len(spec.hist.records()) == 1 && len(plain.hist.records()) == 1 })
	if a, b := spec.hist.records()[0], plain.hist.records()[0]; a.Transcript != b.Transcript || a.Reply != b.Reply || len(a.Audio.Samples) != len(b.Audio.Samples) {
		t.Errorf("history with speculation %q → %q (%d samples), without %q → %q (%d samples)",
			a.Transcript, a.Reply, len(a.Audio.Samples), b.Transcript, b.Reply, len(b.Audio.Samples))
	}
	if st := spec.a.Speculation(); st.Started != 1 || st.Committed != 1 || st.Dropped != 0 {
		t.Errorf("speculation %+v, want 1 started and committed", st)
	}
}

// TestSpeculativeTurnCommitBeforeTranscript: the silence completes while the speculative
// transcription is still running; the turn takes it over (no second transcription).
func TestSpeculativeTurnCommitBeforeTranscript(t *testing.T) {
	seg := &pauseSeg{}
	r := newRig(t, withPauses(seg))
	i := r.ready(t)
	block := make(chan struct{})
	r.asr.mu.Lock()
	r.asr.block = block
	r.asr.mu.Unlock()
	r.mic.feed(300*msec, 0.5)
	r.mic.feed(64*msec, 0) // the pause, then the end
	r.drain(t)
	i = r.rec.state(t, i, StateTranscribing)
	block <- struct{}{}
	tr, _ := r.rec.next(t, i, EventTranscript)
	done, _ := r.rec.next(t, i, EventTurnDone)
	if tr.Text != "hello" || done.Err != nil || done.Interrupted {
		t.Errorf("transcript %q, turn done %+v", tr.Text, done)
	}
	if n := len(r.asr.callList()); n != 1 {
		t.Errorf("%d transcriptions, want 1", n)
	}
	if st := r.a.Speculation(); st.Started != 1 || st.Committed != 1 {
		t.Errorf("speculation %+v", st)
	}
}

// TestSpeculativeTurnResumed: speech after the pause drops the speculative start (its
// transcript never shows); the utterance goes on and is ONE turn with the whole utterance's
// transcript.
func TestSpeculativeTurnResumed(t *testing.T) {
	seg := &pauseSeg{}
	r := newRig(t, withPauses(seg))
	r.asr.set(func(n int) (string, error) { return fmt.Sprintf("heard %d samples", n), nil })
	i := r.ready(t)
	r.mic.feed(300*msec, 0.5)
	r.mic.feed(32*msec, 0) // a pause in the middle of the question
	r.drain(t)
	waitUntil(t, "the speculative transcription", func() bool { return len(r.asr.callList()) == 1 })
	r.mic.feed(300*msec, 0.5) // the question goes on
	r.mic.feed(64*msec, 0)    // a pause, and the end
	done, _ := r.rec.next(t, i, EventTurnDone)
	r.sync(t)
	var turns, transcripts []string
	for _, e := range r.rec.all()[i:] {
		switch e.Kind {
		case EventTurnDone:
			turns = append(turns, fmt.Sprint(e.Turn))
		case EventTranscript:
			transcripts = append(transcripts, e.Text)
		}
	}
	calls := r.asr.callList()
	whole := fmt.Sprintf("heard %d samples", calls[len(calls)-1])
	if len(turns) != 1 || len(transcripts) != 1 || transcripts[0] != whole || done.Interrupted {
		t.Errorf("turns %v, transcripts %q; want one turn with %q", turns, transcripts, whole)
	}
	if asked := r.brain.chat(0).askedList(); !slices.Equal(asked, []string{whole}) {
		t.Errorf("asked %q, want %q", asked, whole)
	}
	if st := r.a.Speculation(); st.Started != 2 || st.Dropped != 1 || st.Committed != 1 {
		t.Errorf("speculation %+v, want 2 started, 1 dropped, 1 committed", st)
	}
}

func (c *fakeChat) primedTools() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.primedToolN)
}

// TestSpeculativeTurnWithTools: when the model may call tools, the system prompt and the tools
// are evaluated ahead as the conversation starts (the model loaded, a new conversation), and a
// pause evaluates the turn's prompt with the same tools the turn then offers.
func TestSpeculativeTurnWithTools(t *testing.T) {
	seg := &pauseSeg{}
	act := &fakeActor{}
	var h *auditHist
	tc := &toolChat{}
	r := newRig(t, withPauses(seg), withActor(act, &h), withToolModel(tc))
	i := r.readyModel(t)
	nTools := len(act.Tools())
	waitUntil(t, "the tools evaluated ahead", func() bool { return len(tc.primedList()) == 1 })
	if p, n := tc.primedList(), tc.primedTools(); p[0] != "" || n[0] != nTools {
		t.Fatalf("after loading: prefilled %q with %v tools; want the prefix (\"\") with %d", p, n, nTools)
	}
	r.mic.feed(300*msec, 0.5)
	r.mic.feed(32*msec, 0) // a pause
	r.drain(t)
	waitUntil(t, "the prompt evaluated ahead", func() bool { return len(tc.primedList()) == 2 })
	r.mic.feed(32*msec, 0) // the silence holds
	tr, _ := r.rec.next(t, i, EventTranscript)
	_, i = r.rec.next(t, i, EventTurnDone)
	if p, n := tc.primedList(), tc.primedTools(); p[1] != tr.Text || n[1] != nTools {
		t.Errorf("prefilled %q with %v tools; want %q with %d", p, n, tr.Text, nTools)
	}
	tc.mu.Lock()
	offered := len(tc.offered)
	tc.mu.Unlock()
	if offered != nTools {
		t.Errorf("the turn offered %d tools, the prefill %d", offered, nTools)
	}
	r.a.Ask("new conversation")
	r.rec.next(t, i, EventCleared)
	waitUntil(t, "the tools evaluated ahead again", func() bool { return len(tc.primedList()) == 3 })
	if p := tc.primedList(); p[2] != "" {
		t.Errorf("after a new conversation: prefilled %q", p)
	}
}
