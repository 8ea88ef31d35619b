package app

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// moveMic makes the rig's microphone report a new default device, "Headset", and opens a new
// fake microphone for it; it waits for the announcement and the microphone's reopening, and
// returns the index after the announcement: what the change causes (the notice) may come
// before the reopened microphone's ready event.
func moveMic(t *testing.T, r *rig, from int) int {
	t.Helper()
	first, second := r.mic, newFakeMic()
	r.a.send(func() { r.a.loaders.Microphone = func(context.Context) (Source, error) { return second, nil } })
	r.sync(t)
	r.mic = second
	first.fail <- &DeviceChanged{Name: "Headset", Err: errors.New("audio: the default microphone changed")}
	_, i := r.rec.next(t, from, EventDevice)
	r.rec.waitFor(t, i, "mic ready again", func(e Event) bool {
		return e.Kind == EventComponent && e.Component == ComponentMicrophone && e.Phase == PhaseReady
	})
	return i
}

// notices returns the EventNotice events so far.
func notices(r *rig) []Event {
	var out []Event
	for _, e := range r.rec.all() {
		if e.Kind == EventNotice {
			out = append(out, e)
		}
	}
	return out
}

// waiting reports whether a notice waits to be said, and none is being said.
func waiting(t *testing.T, r *rig) bool {
	t.Helper()
	got := make(chan bool, 1)
	if !r.a.send(func() { got <- r.a.notice != nil && r.a.noticeStop == nil }) {
		t.Fatal("assistant stopped")
	}
	return <-got
}

// quietNow reports whether no notice waits or is being said.
func quietNow(t *testing.T, r *rig) bool {
	t.Helper()
	got := make(chan bool, 1)
	if !r.a.send(func() { got <- r.a.notice == nil && r.a.noticeStop == nil }) {
		t.Fatal("assistant stopped")
	}
	return <-got
}

// TestNoticeSaidOnce: a new default microphone is said aloud once, in the conversation's
// language, wherever replies are spoken; never without speech output, muted, or while a
// dictation records.
func TestNoticeSaidOnce(t *testing.T) {
	cases := []struct {
		name  string
		opts  []rigOption
		first string // a typed question before the change ("" none)
		want  string // the notice said, "" none
		lang  string // the language it was said in
	}{
		{name: "speech on", opts: []rigOption{withSpeaker(false)}, want: "Now listening on Headset."},
		{name: "Chinese configured", opts: []rigOption{withSpeaker(false), withConfig(func(c *Config) { c.Language = "zh" })},
			want: "现在使用Headset收音。", lang: "zh"},
		{name: "a Chinese conversation (any language)", opts: []rigOption{withSpeaker(false), withConfig(func(c *Config) { c.Language = "auto" })},
			first: "今天天气怎么样", want: "现在使用Headset收音。", lang: "zh"},
		{name: "an English conversation (any language)", opts: []rigOption{withSpeaker(false), withConfig(func(c *Config) { c.Language = "auto" })},
			first: "what is the weather like", want: "Now listening on Headset."},
		{name: "no speech output"},
		{name: "muted", opts: []rigOption{withSpeaker(false), withConfig(func(c *Config) { c.Speak = false })}},
		{name: "dictating", opts: []rigOption{withSpeaker(false), withConfig(func(c *Config) { c.Dictating = true })}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.opts...)
			i := r.ready(t)
			if tc.first != "" {
				r.a.Ask(tc.first)
				_, i = r.rec.next(t, i, EventTurnDone)
			}
			i = moveMic(t, r, i)
			if tc.want == "" {
				r.tick(t)
				if n := notices(r); len(n) != 0 || !quietNow(t, r) {
					t.Errorf("a notice was said: %+v", n)
				}
				if r.spk != nil && len(r.spk.saidList()) != 0 {
					t.Errorf("said %q", r.spk.saidList())
				}
				return
			}
			e, _ := r.rec.next(t, i, EventNotice)
			if e.Text != tc.want || e.Interrupted || e.Err != nil {
				t.Errorf("notice %+v, want %q said whole", e, tc.want)
			}
			r.tick(t)
			r.tick(t)
			said := r.spk.saidList()
			if n := len(notices(r)); n != 1 || said[len(said)-1] != tc.want || strings.Count(strings.Join(said, "|"), tc.want) != 1 {
				t.Errorf("said %q (%d notice events), want %q once", said, n, tc.want)
			}
			r.spk.mu.Lock()
			lang := r.spk.langs[len(r.spk.langs)-1]
			r.spk.mu.Unlock()
			if lang != tc.lang {
				t.Errorf("said in %q, want %q", lang, tc.lang)
			}
		})
	}
}

// TestNoticeWaitsForTheReply: a change during a spoken reply is said after the reply, not
// over it.
func TestNoticeWaitsForTheReply(t *testing.T) {
	r := newRig(t, withSpeaker(true))
	i := r.ready(t)
	r.a.Ask("hello")
	i = r.rec.state(t, i, StateSpeaking)
	// The speaking state comes before the reply reaches the speaker (which holds it).
	waitUntil(t, "the reply begun", func() bool { return len(r.spk.saidList()) == 1 })
	i = moveMic(t, r, i)
	r.tick(t)
	if said := r.spk.saidList(); !waiting(t, r) || len(said) != 1 || len(notices(r)) != 0 {
		t.Fatalf("during the reply, said %q and %d notices", said, len(notices(r)))
	}
	close(r.spk.hold)
	_, i = r.rec.next(t, i, EventTurnDone)
	e, _ := r.rec.next(t, i, EventNotice)
	if want := []string{"Hi there.", "Now listening on Headset."}; !reflect.DeepEqual(r.spk.saidList(), want) || e.Interrupted {
		t.Errorf("said %q (notice %+v), want %q", r.spk.saidList(), e, want)
	}
}

// TestNoticeWaitsForThePerson: a notice that comes during a reply, over which the person
// then talks (a barge-in), waits until their question has been answered too.
func TestNoticeWaitsForThePerson(t *testing.T) {
	r := newRig(t, withSpeaker(true), withConfig(func(c *Config) { c.HandsFree, c.BargeIn = true, true }))
	i := r.ready(t)
	r.a.Ask("hello")
	i = r.rec.state(t, i, StateSpeaking)
	// The speaking state comes before the reply reaches the speaker (which holds it).
	waitUntil(t, "the reply begun", func() bool { return len(r.spk.saidList()) == 1 })
	i = moveMic(t, r, i)
	r.mic.feed(300*time.Millisecond, 0.5) // the person talks over the reply, on the new microphone
	r.drain(t)
	_, i = r.rec.next(t, i, EventSpeech)
	_, i = r.rec.next(t, i, EventTurnDone) // the reply, cut
	r.tick(t)
	if !waiting(t, r) || len(notices(r)) != 0 || len(r.spk.saidList()) != 1 {
		t.Fatalf("said %q while the person talked", r.spk.saidList())
	}
	close(r.spk.hold)
	r.mic.feed(100*time.Millisecond, 0) // ... and ends
	_, i = r.rec.next(t, i, EventTurnDone)
	r.rec.next(t, i, EventNotice)
	if want := []string{"Hi there.", "Hi there.", "Now listening on Headset."}; !reflect.DeepEqual(r.spk.saidList(), want) {
		t.Errorf("said %q, want %q", r.spk.saidList(), want)
	}
}

// TestNoticeCutByATurn: a question asked while the notice is said stops it; it is said again,
// once, after the reply.
func TestNoticeCutByATurn(t *testing.T) {
	r := newRig(t, withSpeaker(true))
	i := r.ready(t)
	i = moveMic(t, r, i)
	waitUntil(t, "the notice begun", func() bool { return len(r.spk.saidList()) == 1 })
	r.a.Ask("hello")
	e, i := r.rec.next(t, i, EventNotice)
	if !e.Interrupted {
		t.Errorf("notice %+v, want it cut short", e)
	}
	close(r.spk.hold)
	_, i = r.rec.next(t, i, EventTurnDone)
	e, _ = r.rec.next(t, i, EventNotice)
	if e.Interrupted || e.Text != "Now listening on Headset." {
		t.Errorf("the notice said again: %+v", e)
	}
	r.tick(t)
	r.tick(t)
	want := []string{"Now listening on Headset.", "Hi there.", "Now listening on Headset."}
	if !reflect.DeepEqual(r.spk.saidList(), want) || len(notices(r)) != 2 || !quietNow(t, r) {
		t.Errorf("said %q with %d notice events, want %q", r.spk.saidList(), len(notices(r)), want)
	}
}

// TestNoticeCutByAnAlert: a timer that comes due while the notice is said stops it; the
// alert is said once the notice has stopped (never over it), then the notice again, once.
func TestNoticeCutByAnAlert(t *testing.T) {
	r := newRig(t, withSpeaker(true))
	i := r.ready(t)
	i = moveMic(t, r, i)
	waitUntil(t, "the notice begun", func() bool { return len(r.spk.saidList()) == 1 })
	r.a.Alert(Alert{Name: "egg timer"})
	e, i := r.rec.next(t, i, EventNotice)
	if !e.Interrupted {
		t.Errorf("notice %+v, want it cut short", e)
	}
	waitUntil(t, "the alert said", func() bool { return len(r.spk.saidList()) == 2 })
	r.tick(t)
	if waiting(t, r) != true || len(notices(r)) != 1 {
		t.Errorf("the notice did not wait for the alert: %d notice events", len(notices(r)))
	}
	close(r.spk.hold)
	e, _ = r.rec.next(t, i, EventNotice)
	if e.Interrupted || e.Text != "Now listening on Headset." {
		t.Errorf("the notice said again: %+v", e)
	}
	r.tick(t)
	want := []string{"Now listening on Headset.", "Your egg timer is done.", "Now listening on Headset."}
	r.spk.mu.Lock()
	overlap := r.spk.overlap
	r.spk.mu.Unlock()
	if !reflect.DeepEqual(r.spk.saidList(), want) || overlap != 1 || !quietNow(t, r) {
		t.Errorf("said %q (at most %d at once), want %q one at a time", r.spk.saidList(), overlap, want)
	}
}

// TestMicrophoneChangeMidUtterance: a new default microphone while the person talks (a
// headset plugged in) keeps the utterance: what they say into the new one finishes it, one
// turn from all of it, hands-free or push-to-talk. A microphone that fails instead drops the
// utterance, whose end was never heard, and the first one after its return is heard whole
// and alone.
func TestMicrophoneChangeMidUtterance(t *testing.T) {
	const part = 300 * time.Millisecond
	partN := int(part * 16000 / time.Second)
	cases := []struct {
		name     string
		push     bool // push-to-talk, else hands-free
		fail     bool // the microphone fails instead of a new default
		min, max int  // samples transcribed
	}{
		{name: "hands-free", min: 2 * partN, max: 3 * partN},
		{name: "push-to-talk", push: true, min: 2 * partN, max: 3 * partN},
		{name: "hands-free, the microphone fails", fail: true, min: partN, max: 2 * partN},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []rigOption
			if !tc.push {
				opts = append(opts, withConfig(handsFree))
			}
			r := newRig(t, opts...)
			i := r.ready(t)
			if tc.push {
				r.a.StartTalking()
				i = r.rec.state(t, i, StateHearing)
			}
			r.mic.feed(part, 0.5)
			r.drain(t)
			if !tc.push {
				_, i = r.rec.next(t, i, EventSpeech)
			}
			if tc.fail {
				first, second := r.mic, newFakeMic()
				r.a.send(func() { r.a.loaders.Microphone = func(context.Context) (Source, error) { return second, nil } })
				r.sync(t)
				r.mic = second
				first.fail <- errors.New("the device is gone")
				_, i = r.rec.waitFor(t, i, "the microphone failed", func(e Event) bool {
					return e.Kind == EventComponent && e.Component == ComponentMicrophone && e.Phase == PhaseFailed
				})
				_, i = r.rec.waitFor(t, i, "the microphone back", func(e Event) bool {
					return e.Kind == EventComponent && e.Component == ComponentMicrophone && e.Phase == PhaseReady
				})
			} else {
				i = moveMic(t, r, i)
			}
			taken := func() int {
				got := make(chan int, 1)
				if !r.a.send(func() { got <- r.a.chunks }) {
					t.Fatal("assistant stopped")
				}
				return <-got
			}
			before := taken()
			r.mic.feed(part, 0.5)
			if tc.push {
				// (drain counts the new microphone's chunks against all the loop has taken)
				waitUntil(t, "the second part taken", func() bool { return taken() >= before+(partN+readChunk-1)/readChunk })
				r.a.StopTalking()
			} else {
				r.mic.feed(100*time.Millisecond, 0)
			}
			_, i = r.rec.next(t, i, EventTurnDone)
			r.drain(t)
			calls := r.asr.callList()
			if len(calls) != 1 || calls[0] < tc.min || calls[0] > tc.max {
				t.Errorf("transcribed %v samples, want one utterance of %d to %d", calls, tc.min, tc.max)
			}
		})
	}
}
