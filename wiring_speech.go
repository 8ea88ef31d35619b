package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"hark/app"
	"hark/audio"
	"hark/audio/aec"
	"hark/audio/bargein"
	"hark/audio/device"
	"hark/audio/vad"
	"hark/models"
	"hark/tts"
)

// Speech output and barge-in: package tts speaks the replies; audio/aec removes that speech
// from the microphone; audio/bargein decides, in hands-free mode, when the person talks over the
// assistant. The player and the microphone meet in an echoLink, which outlives either (the app
// reloads them separately).

// echoLink joins the speaker and the microphone: the player reports what it plays, the
// microphone cancels it.
type echoLink struct {
	mu     sync.Mutex
	stream *aec.Stream                   // nil until the microphone opens
	barge  bargeStats                    // the last barge-in
	cuts   map[uint64]context.CancelFunc // stop the sounds playing or queued
	nextID uint64
	muted  time.Time       // when a barge-in silenced this reply (zero: it did not)
	earcon chan tts.Earcon // to the speaker's earcon player (nil: no speaker)
	spoke  tts.SpeakStats  // the last reply's speech
	trace  *echoTrace      // set before the microphone opens: records what the gate sees (tests)
	vol    *volume         // speech and earcon volume ("set the volume to 40")
}

// echoTrace records what the barge-in gate gets, lined up sample for sample, and its
// decision for each frame, for tests and debugging.
type echoTrace struct {
	mu              sync.Mutex
	raw, clean, far []float32
	frames          []bargein.Frame
	barged          []int // sample indices (of raw) where a barge-in was let through
}

func (tr *echoTrace) add(in bargein.Input, barged bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.raw = append(tr.raw, in.Raw...)
	tr.clean = append(tr.clean, in.Mic...)
	tr.far = append(tr.far, in.Far...)
	if barged {
		tr.barged = append(tr.barged, len(tr.raw))
	}
}

func (tr *echoTrace) frame(f bargein.Frame) {
	tr.mu.Lock()
	tr.frames = append(tr.frames, f)
	tr.mu.Unlock()
}

// playEarcon asks the speaker to play an earcon, unless it is busy with another.
func (l *echoLink) playEarcon(e tts.Earcon) {
	l.mu.Lock()
	ch := l.earcon
	l.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- e:
	default:
	}
}

// bargeGrace is how long a reply silenced by a barge-in waits for the assistant to cancel it
// before it carries on unheard (the assistant's detector did not agree: nobody was talking).
const bargeGrace = 2 * time.Second

// bargeIn silences the reply at once, without waiting for the assistant to cancel the turn
// (which it does when its own voice activity detector has heard enough of the person).
func (l *echoLink) bargeIn() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.muted = time.Now()
	for _, cut := range l.cuts {
		cut()
	}
}

// unmute starts a new reply.
func (l *echoLink) unmute() {
	l.mu.Lock()
	l.muted = time.Time{}
	l.mu.Unlock()
}

// bargeStats time the last barge-in, for logs and tests.
type bargeStats struct {
	// Heard is the microphone audio from where it first rose above -50 dBFS during the reply
	// to the decision: the person's voice the decision took, when nothing else was heard
	// before (no echo).
	Heard   time.Duration
	Decided time.Time // when the decision let the person's voice through
	Stopped time.Time // when the player had faded out and returned
}

func (l *echoLink) lastSpoken() tts.SpeakStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.spoke
}

func (l *echoLink) lastBarge() bargeStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.barge
}

// attach gives the link the microphone's echo canceller (nil detaches it).
func (l *echoLink) attach(s *aec.Stream) {
	l.mu.Lock()
	l.stream = s
	l.mu.Unlock()
}

// played and stopped forward the player's reports to the canceller, if there is one.
func (l *echoLink) played(samples []float32) {
	l.mu.Lock()
	if l.stream != nil {
		l.stream.Played(samples)
	}
	l.mu.Unlock()
}

func (l *echoLink) stopped() {
	l.mu.Lock()
	if l.stream != nil {
		l.stream.Stop()
	}
	l.mu.Unlock()
}

// echoPlayer plays through the speaker and tells the echo canceller what it plays. Speech is
// converted to 16 kHz here once, so the canceller's reference is exactly what the device gets.
// It is a tts.QueuePlayer: the Speaker queues each sentence behind the one playing, so the
// sentences follow each other without a gap, and the canceller's reference continues without
// one too.
type echoPlayer struct {
	p    *device.Player
	link *echoLink
}

var _ tts.QueuePlayer = (*echoPlayer)(nil)

func (e *echoPlayer) Play(ctx context.Context, pcm audio.PCM) error {
	pcm = e.link.vol.apply(audio.Resample(pcm, audio.SampleRate))
	pctx, id, muted := e.start(ctx)
	if pctx == nil {
		return waitCancel(ctx, muted)
	}
	e.link.played(pcm.Samples)
	return e.finish(ctx, pctx, id, e.p.Play(pctx, pcm))
}

func (e *echoPlayer) Enqueue(ctx context.Context, pcm audio.PCM) <-chan error {
	pcm = e.link.vol.apply(audio.Resample(pcm, audio.SampleRate))
	out := make(chan error, 1)
	pctx, id, muted := e.start(ctx)
	if pctx == nil {
		go func() {
			out <- waitCancel(ctx, muted)
			close(out)
		}()
		return out
	}
	// The canceller's reference is queued with the sound: it continues where the previous
	// sound's ends, as the device's output does.
	e.link.played(pcm.Samples)
	done := e.p.Enqueue(pctx, pcm)
	go func() {
		out <- e.finish(ctx, pctx, id, <-done)
		close(out)
	}()
	return out
}

// start registers a sound that a barge-in can cut; it returns a nil context, and when, if a
// barge-in has silenced this reply already.
func (e *echoPlayer) start(ctx context.Context) (context.Context, uint64, time.Time) {
	l := e.link
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.muted.IsZero() {
		return nil, 0, l.muted
	}
	pctx, cut := context.WithCancel(ctx)
	if l.cuts == nil {
		l.cuts = map[uint64]context.CancelFunc{}
	}
	l.nextID++
	l.cuts[l.nextID] = cut
	return pctx, l.nextID, time.Time{}
}

// finish unregisters a sound that ended with err. A sound cut by a barge-in (or dropped from
// the queue behind one) waits for the assistant to cancel the reply.
func (e *echoPlayer) finish(ctx, pctx context.Context, id uint64, err error) error {
	l := e.link
	l.mu.Lock()
	if cut := l.cuts[id]; cut != nil {
		cut()
		delete(l.cuts, id)
	}
	muted := l.muted
	cutShort := err != nil && ctx.Err() == nil &&
		(pctx.Err() != nil || errors.Is(err, device.ErrInterrupted) && !muted.IsZero())
	// The first of the sounds that a barge-in (or the assistant's cancel) stopped tells when.
	if err != nil && pctx.Err() != nil && (muted.IsZero() || l.barge.Stopped.Before(muted)) {
		l.barge.Stopped = time.Now()
	}
	l.mu.Unlock()
	if err != nil {
		l.stopped()
		if cutShort {
			return waitCancel(ctx, muted)
		}
	}
	return err
}

// waitCancel holds a reply silenced by a barge-in at muted until the assistant cancels it
// (ctx), so that it ends as interrupted; after bargeGrace it lets the reply carry on, unheard.
func waitCancel(ctx context.Context, muted time.Time) error {
	t := time.NewTimer(time.Until(muted.Add(bargeGrace)))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// speaker adapts tts.Speaker to app.Speaker.
type speaker struct {
	sp     *tts.Speaker
	voice  tts.Voice // the configured voice (speech.voice, rate, pitch)
	link   *echoLink
	synth  *tts.Espeak
	player *device.Player

	earcons chan tts.Earcon
	done    chan struct{}
}

func (s *setup) loadSpeaker() func(context.Context) (app.Speaker, error) {
	voice, out, link := speechVoice(s.cfg), s.cfg.Audio.OutputDevice, s.echo
	return func(ctx context.Context) (app.Speaker, error) {
		synth, err := tts.NewEspeak()
		if err != nil {
			return nil, app.Explain(err, "Speech output is not available",
				"Install the espeak-ng-data package (scripts/setup.sh does).")
		}
		if _, err := synth.Synthesize(ctx, "", voice); err != nil {
			synth.Close()
			return nil, app.Explain(err, "The voice "+voice.Name+" is not installed",
				"Choose a voice from `hark voices` in Settings (speech.voice).")
		}
		// Hands-free, a barge-in must silence the reply at once; a button press can wait
		// for the click-free fade.
		p, err := device.OpenPlayer(device.PlayerOptions{Device: out, CutOnCancel: s.handsFree(), FreshStart: s.freshStart})
		if err != nil {
			synth.Close()
			return nil, app.Explain(err, "The speaker cannot be opened",
				"Check that it is connected, or choose another one (audio.output_device; `hark devices` lists them).")
		}
		ep := &echoPlayer{p: p, link: link}
		ts := tts.NewSpeaker(synth, ep, voice)
		ts.Chunking.FirstClause = s.firstClause // 0: the default
		sp := &speaker{sp: ts, voice: voice, link: link, synth: synth, player: p,
			earcons: make(chan tts.Earcon, 1), done: make(chan struct{})}
		go sp.playEarcons(ep)
		link.mu.Lock()
		link.earcon = sp.earcons
		link.mu.Unlock()
		return sp, nil
	}
}

// playEarcons plays the earcons asked for, one at a time, through the echo-cancelled player.
func (s *speaker) playEarcons(p *echoPlayer) {
	for {
		select {
		case e := <-s.earcons:
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = p.Play(ctx, e.PCM())
			cancel()
		case <-s.done:
			return
		}
	}
}

func (s *speaker) Speak(ctx context.Context, pieces <-chan string) error {
	s.link.unmute()
	sp := s.sp
	// Listening for any language, the reply is spoken in the question's language, unless
	// speech.voice names a voice.
	if lang := app.LanguageOf(ctx); lang != "" && s.voice.Name == "" && lang != sp.Voice.Language {
		v := s.voice
		v.Language = lang
		sp = sp.WithVoice(v)
	}
	st, err := sp.Speak(ctx, pieces)
	s.link.mu.Lock()
	s.link.spoke = st
	s.link.mu.Unlock()
	return err
}

func (s *speaker) Close() error {
	s.link.mu.Lock()
	if s.link.earcon == s.earcons {
		s.link.earcon = nil
	}
	s.link.mu.Unlock()
	close(s.done)
	return errors.Join(s.player.Close(), s.synth.Close())
}

// withEarcons plays the earcons for what the assistant does, then passes each event on:
// "listening" when a push-to-talk press opens the microphone or the wake phrase was heard,
// "got it" when a spoken question was understood, "error" when something failed. (No earcon
// when hands-free speech starts: it would play over the person.)
func (s *setup) withEarcons(next app.Sink) app.Sink {
	link, handsFree := s.echo, s.handsFree()
	hearing := false
	return app.SinkFunc(func(e app.Event) {
		if e, ok := earconFor(e, handsFree, &hearing); ok {
			link.playEarcon(e)
		}
		if next != nil {
			next.Publish(e)
		}
	})
}

// earconFor maps an event to its earcon; hearing tracks the push-to-talk state between events.
func earconFor(e app.Event, handsFree bool, hearing *bool) (tts.Earcon, bool) {
	switch e.Kind {
	case app.EventState:
		was := *hearing
		*hearing = e.State == app.StateHearing
		if !handsFree && *hearing && !was {
			return tts.EarconListening, true
		}
	case app.EventWake:
		return tts.EarconListening, true
	case app.EventTranscript:
		if e.Input == app.InputVoice {
			return tts.EarconGotIt, true
		}
	case app.EventError:
		return tts.EarconError, true
	}
	if ec, ok := earconForAlert(e); ok {
		return ec, true
	}
	return 0, false
}

// echoMic is the microphone with the assistant's own voice taken out: echo cancellation, and
// in hands-free mode the barge-in gate, which passes the microphone to the voice activity
// detector during a reply only once a person talks over it.
type echoMic struct {
	src     app.Source
	link    *echoLink
	stream  *aec.Stream
	gate    *bargein.Gate // nil: push-to-talk
	det     *bargein.Detector
	vads    []*vad.Silero // the barge-in detector's, closed with the microphone
	buf     []float32
	pending []float32
	samples int64 // raw microphone samples processed
	onset   int64 // during playback: where the microphone first rose above -50 dBFS (-1: not yet)
	cut     bool  // a barge-in silences the reply at once (app.Config.BargeIn)
	trace   *echoTrace
}

// bargeInCapturePeriodMs is the microphone's period where a barge-in may have to be decided
// (hands-free with speech on): the decision can only come at the end of a period, so the
// default 50 ms would add up to 50 ms to the barge-in's latency; 20 ms adds at most 20.
const bargeInCapturePeriodMs = 20

// capturePeriodMs is the microphone's period for this setup (0: audio/device's default).
func (s *setup) capturePeriodMs() int {
	if s.handsFree() && s.speak() {
		return bargeInCapturePeriodMs
	}
	return 0
}

// withEcho wraps the microphone loader: in hands-free mode with speech on, the microphone
// cancels the assistant's echo and gates barge-in; otherwise it is the plain microphone.
func (s *setup) withEcho(open func(context.Context) (app.Source, error)) func(context.Context) (app.Source, error) {
	if !s.handsFree() || !s.speak() {
		return open
	}
	link, vadRef, cut := s.echo, s.cfg.Models.VAD, s.assistantConfig().BargeIn
	vadPath, vadErr := s.modelPath(models.VAD, vadRef)
	if vadErr != nil {
		vadPath = "" // the barge-in decision falls back to the energy detector
	}
	return func(ctx context.Context) (app.Source, error) {
		src, err := open(ctx)
		if err != nil {
			return nil, err
		}
		stream, err := aec.NewStream(aec.Config{})
		if err != nil {
			src.Close()
			return nil, err
		}
		m := &echoMic{src: src, link: link, stream: stream, buf: make([]float32, 512), onset: -1, cut: cut}
		m.det, m.vads = bargeInDetector(vadPath)
		m.gate = bargein.NewGate(m.det, 0)
		if m.trace = link.trace; m.trace != nil {
			m.det.Trace(m.trace.frame)
		}
		link.attach(stream)
		return m, nil
	}
}

// bargeInDetector returns the barge-in decision on the Silero model at path: two instances
// half a frame apart (a decision every 16 ms; bargein.NewInterleaved), or one where a second
// does not load, or the energy detector where none does (path ""). It returns the instances,
// to be closed with the detector.
func bargeInDetector(path string) (*bargein.Detector, []*vad.Silero) {
	var vads []*vad.Silero
	for range 2 {
		if path == "" {
			break
		}
		v, err := vad.Load(path)
		if err != nil {
			break
		}
		vads = append(vads, v)
	}
	switch len(vads) {
	case 0:
		return bargein.New(audio.NewEnergyDetector(audio.EnergyConfig{}), bargein.Config{}), nil
	case 1:
		return bargein.New(vads[0], bargein.Config{}), vads
	}
	if d, err := bargein.NewInterleaved(vads[0], vads[1], bargein.Config{}); err == nil {
		return d, vads
	}
	return bargein.New(vads[0], bargein.Config{}), vads
}

func (m *echoMic) Read(ctx context.Context, p []float32) (int, error) {
	for len(m.pending) == 0 {
		n, err := m.src.Read(ctx, m.buf)
		if n > 0 {
			r, perr := m.stream.Process(m.buf[:n])
			if perr != nil {
				return 0, fmt.Errorf("echo cancellation: %w", perr)
			}
			out := r.Clean
			if m.gate != nil {
				var barged bool
				in := bargein.Input{Mic: r.Clean, Raw: r.Raw, Far: r.Far, Settled: r.Settled}
				out, barged, perr = m.gate.Process(in)
				if perr != nil {
					return 0, perr
				}
				if m.trace != nil {
					m.trace.add(in, barged)
				}
				m.timeBarge(r.Raw, barged)
			}
			m.pending = append(m.pending, out...)
		}
		if err != nil && len(m.pending) == 0 {
			return 0, err
		}
		if err != nil {
			break
		}
	}
	n := copy(p, m.pending)
	m.pending = m.pending[:copy(m.pending, m.pending[n:])]
	return n, nil
}

// timeBarge notes where the microphone woke up during playback and, at a barge-in, how much
// of the person's voice the decision took.
func (m *echoMic) timeBarge(raw []float32, barged bool) {
	if !m.det.Last().Playing {
		m.onset = -1
	} else if m.onset < 0 && audio.MeasureLevel(raw).RMS > -50 {
		m.onset = m.samples
	}
	m.samples += int64(len(raw))
	if barged {
		heard := time.Duration(0)
		if m.onset >= 0 {
			heard = time.Duration(m.samples-m.onset) * time.Second / audio.SampleRate
		}
		m.link.mu.Lock()
		m.link.barge = bargeStats{Heard: heard, Decided: time.Now()}
		m.link.mu.Unlock()
		if m.cut {
			m.link.bargeIn()
		}
	}
}

func (m *echoMic) Close() error {
	m.link.attach(nil)
	err := errors.Join(m.src.Close(), m.stream.Close())
	for _, v := range m.vads {
		err = errors.Join(err, v.Close())
	}
	return err
}
