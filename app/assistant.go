package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"hark/audio"
)

// Options are what [New] needs. Only Loaders is required to do anything useful.
type Options struct {
	Config  Config
	Loaders Loaders
	Sink    Sink    // nil: events are dropped
	History History // nil: turns are not stored
	Actor   Actor   // nil: the assistant only talks
	// Knowledge answers questions from local documents; its zero value turns it off.
	Knowledge KnowledgeOptions
	Now       func() time.Time // nil: time.Now (tests pass a fake clock)
	// Logf, when set, receives diagnostics people do not see (a recovered panic's stack).
	Logf func(format string, args ...any)
}

// Assistant runs the conversation. See the package documentation for how to use it.
type Assistant struct {
	inbox   chan func()
	audioIn chan chunk
	done    chan struct{} // closed when Run has returned
	started atomic.Bool
	dropped atomic.Int64 // microphone samples dropped because the loop was behind

	pubMu sync.Mutex
	sink  Sink
	now   func() time.Time
	logf  func(string, ...any)
	hist  History
	actor Actor
	know  KnowledgeOptions // read-only after New

	// Everything below is owned by the Run goroutine.
	ctx      context.Context
	closing  bool
	workers  sync.WaitGroup
	cfg      Config
	loaders  Loaders
	comps    map[Component]*component
	chat     *held // the conversation (a Chat), made when the language model is ready
	state    State
	reason   string
	ready    Readiness
	histQ    chan func(context.Context)
	histDone chan struct{}
	// histFailing is set, on the history goroutine, while writes fail: a full disk warns once,
	// not on every turn, and warns again only after writing worked in between.
	histFailing bool
	restarts    int
	crashAt     time.Time // the last panic, and how many came in quick succession
	crashRun    int

	convID     string
	convN      int
	convActive bool // a turn happened since the conversation began
	turn       *turn
	turnN      int
	pending    *pendingConfirm // a confirmation question waiting for an answer
	held       []Alert         // alerts that came while speech output was still loading
	followTo   time.Time       // follow-up window: utterances starting before this need no wake phrase
	armedTo    time.Time       // the wake phrase alone was said: the next utterance is a question
	activity   time.Time       // last thing anyone did (idle wipe)

	// Microphone input.
	micGen      int
	preroll     []float32 // the last PreRoll of audio (ring, oldest first after rotation)
	prerollAt   int
	recording   bool // push-to-talk is held
	rec         []float32
	recStart    time.Time
	hearing     bool // the segmenter has an utterance open
	hearIgnored bool // ... that started while busy without barge-in
	hearWake    bool // ... that needs the wake phrase
	heardAt     time.Time
	utterN      int
	levelAt     time.Time
	chunks      int                // microphone chunks taken (tests wait on it)
	partial     context.CancelFunc // live transcript in flight
	partialAt   time.Time
	spec        *speculation // a speculative start on the utterance in progress (speculate.go)
	specN       specCounters
	micRetryAt  time.Time
	micBackoff  time.Duration

	// Spoken notices (notice.go).
	notice     *notice            // waiting to be said
	noticeStop context.CancelFunc // a notice is being said
	noticeCut  bool               // ... and was cut short
	noticeN    int
	alertsSay  []alertSpeech // alerts waiting for a cut notice to stop
	alerting   int           // alerts being said
	micMoving  bool          // the microphone is reopened for a new default device
	convLang   string        // the language of the conversation's last turn
}

// chunk is a block of microphone samples from reader generation gen.
type chunk struct {
	gen     int
	samples []float32
}

// held is an engine value in use; workers register in users so that it is closed only after
// the last one is done with it.
type held struct {
	val   any
	users sync.WaitGroup
	stop  context.CancelFunc // stops the goroutine feeding from it (microphone reader)
}

// component is one engine slot and its loading state.
type component struct {
	name     Component
	phase    Phase
	err      error
	progress float64
	cur      *held
	gen      int // load generation: results of superseded loads are closed, not used
	cancel   context.CancelFunc
}

// componentOrder is the order engines load in; they are closed in reverse.
var componentOrder = [...]Component{ComponentASR, ComponentLLM, ComponentVAD, ComponentMicrophone, ComponentSpeech}

// New returns an assistant; nothing is loaded until [Assistant.Run].
func New(o Options) *Assistant {
	a := &Assistant{
		inbox:   make(chan func(), 256),
		audioIn: make(chan chunk, 64),
		done:    make(chan struct{}),
		sink:    o.Sink,
		now:     o.Now,
		logf:    o.Logf,
		hist:    o.History,
		actor:   o.Actor,
		know:    o.Knowledge,
		cfg:     o.Config.withDefaults(),
		loaders: o.Loaders,
		comps:   map[Component]*component{},
		state:   -1, // so that the first state is published
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.logf == nil {
		a.logf = func(string, ...any) {}
	}
	for _, c := range componentOrder {
		a.comps[c] = &component{name: c, phase: PhaseOff}
	}
	return a
}

// Run loads the engines and runs the assistant until ctx is done; then it cancels the turn in
// progress, waits for the workers and closes the engines. It returns nil after a normal stop.
// A panic inside the pipeline is recovered: the turn fails with an error event, a new
// conversation starts and the assistant carries on (kiosks must heal themselves).
func (a *Assistant) Run(ctx context.Context) error {
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("app: Run called twice")
	}
	defer close(a.done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.ctx = ctx
	a.activity = a.now()
	a.newConversationID()
	a.startHistory()
	a.setState(StateLoading, "")
	for _, c := range componentOrder {
		a.load(c)
	}
	a.refresh()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		a.serve(ctx, tick.C)
	}
	a.shutdown()
	return nil
}

// serve runs the loop until ctx is done or a panic, which it reports.
func (a *Assistant) serve(ctx context.Context, tick <-chan time.Time) {
	defer func() {
		if r := recover(); r != nil {
			a.crashed(r)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-a.inbox:
			f()
		case c := <-a.audioIn:
			if c.gen == a.micGen {
				a.onAudio(c.samples)
			}
		case <-tick:
			a.onTick()
		}
	}
}

// crashed recovers the pipeline after a panic on the loop goroutine.
func (a *Assistant) crashed(r any) {
	defer func() {
		if r2 := recover(); r2 != nil {
			a.logf("app: panic while recovering from a panic: %v\n%s", r2, debug.Stack())
		}
	}()
	a.restarts++
	a.logf("app: pipeline panic (restart %d): %v\n%s", a.restarts, r, debug.Stack())
	// A fault that comes back at once (every audio block, say) must not spin: pause a little
	// longer each time it happens in quick succession.
	now := time.Now()
	if now.Sub(a.crashAt) < 10*time.Second {
		a.crashRun++
	} else {
		a.crashRun = 0
	}
	a.crashAt = now
	time.Sleep(min(time.Duration(a.crashRun)*200*time.Millisecond, 2*time.Second))
	a.publish(Event{Kind: EventError, Err: &UserError{
		Msg:  "The assistant hit an internal error and restarted",
		Hint: "The conversation starts afresh. If this keeps happening, please report it.",
		Err:  fmt.Errorf("panic: %v", r)}})
	// Everything in flight is suspect: drop it and start a clean conversation.
	a.dropUtterance()
	a.clear("restart")
	a.refresh()
}

// shutdown cancels everything, waits for the workers and closes the engines in reverse order.
func (a *Assistant) shutdown() {
	a.closing = true
	a.cancelTurn()
	a.stopPartial()
	for _, c := range a.comps {
		if c.cancel != nil {
			c.cancel()
		}
		if c.cur != nil && c.cur.stop != nil {
			c.cur.stop()
		}
	}
	// Workers still report back through the inbox: keep serving it until they are all gone.
	allDone := make(chan struct{})
	go func() { a.workers.Wait(); close(allDone) }()
	for waiting := true; waiting; {
		select {
		case f := <-a.inbox:
			a.safely(f)
		case <-a.audioIn:
		case <-allDone:
			waiting = false
		}
	}
	for {
		select {
		case f := <-a.inbox:
			a.safely(f)
			continue
		default:
		}
		break
	}
	if a.histQ != nil {
		close(a.histQ)
		<-a.histDone
	}
	if a.chat != nil {
		closeValue(a.chat.val)
		a.chat = nil
	}
	for i := len(componentOrder) - 1; i >= 0; i-- {
		if c := a.comps[componentOrder[i]]; c.cur != nil {
			closeValue(c.cur.val)
			c.cur = nil
		}
	}
}

// safely runs f, logging a panic instead of dying of it (shutdown must finish: it closes the
// engines).
func (a *Assistant) safely(f func()) {
	defer func() {
		if r := recover(); r != nil {
			a.logf("app: panic during shutdown: %v\n%s", r, debug.Stack())
		}
	}()
	f()
}

// send runs f on the loop goroutine. It reports false, and f never runs, once Run has returned.
func (a *Assistant) send(f func()) bool {
	select {
	case a.inbox <- f:
		return true
	case <-a.done:
		return false
	}
}

// publish hands e to the sink, one event at a time.
func (a *Assistant) publish(e Event) {
	if e.At.IsZero() {
		e.At = a.now()
	}
	if a.sink == nil {
		return
	}
	a.pubMu.Lock()
	defer a.pubMu.Unlock()
	a.sink.Publish(e)
}

// spawn runs work on a worker goroutine that uses the held values hs; work returns what the
// loop should do with the result. A panic in work becomes onPanic's result.
func (a *Assistant) spawn(hs []*held, work func() func(), onPanic func(error) func()) {
	for _, h := range hs {
		h.users.Add(1)
	}
	a.workers.Add(1)
	go func() {
		defer a.workers.Done()
		defer func() {
			for _, h := range hs {
				h.users.Done()
			}
		}()
		var next func()
		func() {
			defer func() {
				if r := recover(); r != nil {
					a.logf("app: worker panic: %v\n%s", r, debug.Stack())
					next = onPanic(fmt.Errorf("internal error: %v", r))
				}
			}()
			next = work()
		}()
		if next != nil {
			a.send(next)
		}
	}()
}

// closeValue closes v if it is an io.Closer.
func closeValue(v any) {
	if c, ok := v.(io.Closer); ok {
		_ = c.Close()
	}
}

// ---- Commands (any goroutine) ----

// StartTalking starts a push-to-talk utterance (button or key pressed). It interrupts a reply in
// progress.
func (a *Assistant) StartTalking() { a.send(a.startTalking) }

// StopTalking ends the push-to-talk utterance and asks it.
func (a *Assistant) StopTalking() { a.send(a.stopTalking) }

// ToggleTalking starts an utterance, or ends the one in progress (a tap instead of a hold).
func (a *Assistant) ToggleTalking() {
	a.send(func() {
		if a.recording {
			a.stopTalking()
		} else {
			a.startTalking()
		}
	})
}

// Stop cancels whatever is happening: a push-to-talk utterance is dropped, transcription,
// generation and speech end at once. The partial reply stays in the conversation, marked
// interrupted.
func (a *Assistant) Stop() { a.send(a.stop) }

// Ask asks a typed question. It interrupts a reply in progress.
func (a *Assistant) Ask(text string) { a.send(func() { a.ask(text) }) }

// Submit asks the question spoken in pcm (16 kHz mono), as if it had been said with
// push-to-talk: no wake phrase is needed. For benchmarks, tests and files.
func (a *Assistant) Submit(pcm audio.PCM) {
	a.send(func() {
		a.touch()
		now := a.now()
		a.beginVoiceTurn(pcm, now.Add(-pcm.Duration()), false)
	})
}

// NewConversation forgets the conversation (the language model's memory and the follow-up
// window) and cancels a turn in progress.
func (a *Assistant) NewConversation() { a.send(func() { a.touch(); a.clear("new") }) }

// Touch tells the assistant someone is using it (a tap on the screen), which postpones the idle
// wipe.
func (a *Assistant) Touch() { a.send(a.touch) }

// Configure applies new settings. A changed system prompt starts a new conversation.
func (a *Assistant) Configure(c Config) { a.send(func() { a.configure(c.withDefaults()) }) }

// Replace swaps the engines whose loaders are set in l (other models, another microphone):
// the old ones are closed once no turn uses them, and the new ones load in the background.
func (a *Assistant) Replace(l Loaders) {
	a.send(func() {
		if l.Transcriber != nil {
			a.loaders.Transcriber = l.Transcriber
			a.load(ComponentASR)
		}
		if l.Brain != nil {
			a.loaders.Brain = l.Brain
			a.load(ComponentLLM)
		}
		if l.Segmenter != nil {
			a.loaders.Segmenter = l.Segmenter
			a.load(ComponentVAD)
		}
		if l.Microphone != nil {
			a.loaders.Microphone = l.Microphone
			a.load(ComponentMicrophone)
		}
		if l.Speaker != nil {
			a.loaders.Speaker = l.Speaker
			a.load(ComponentSpeech)
		}
		a.refresh()
	})
}

// Dropped is how many microphone samples were thrown away because the assistant fell behind.
func (a *Assistant) Dropped() int64 { return a.dropped.Load() }

// ---- Loop-side handlers ----

func (a *Assistant) touch() { a.activity = a.now() }

func (a *Assistant) configure(c Config) {
	old := a.cfg
	a.cfg = c
	if old.HandsFree != c.HandsFree {
		a.hearing, a.hearIgnored = false, false
		a.stopPartial()
		if v := a.comps[ComponentVAD].cur; v != nil {
			v.val.(Segmenter).Reset()
		}
	}
	if old.SystemPrompt != c.SystemPrompt {
		a.clear("new")
		a.remakeChat()
	}
	a.refresh()
}

func (a *Assistant) stop() {
	a.touch()
	if a.recording {
		a.recording, a.rec = false, nil
	}
	if a.hearing {
		// The person pressed stop while speaking: drop the utterance.
		a.hearing, a.hearIgnored = false, false
		if v := a.comps[ComponentVAD].cur; v != nil {
			v.val.(Segmenter).Reset()
		}
	}
	a.stopPartial()
	a.cancelTurn()
	a.refresh()
}

func (a *Assistant) startTalking() {
	a.touch()
	if a.recording || a.closing {
		return
	}
	if !a.ready.Voice {
		a.publish(Event{Kind: EventError, Err: &UserError{Msg: "Cannot listen yet", Hint: a.ready.VoiceReason}})
		return
	}
	a.cancelTurn()
	if a.hearing {
		// The button takes over from voice activity detection.
		a.hearing, a.hearIgnored = false, false
		a.stopPartial()
		if v := a.comps[ComponentVAD].cur; v != nil {
			v.val.(Segmenter).Reset()
		}
	}
	a.recording = true
	a.rec = a.prerollSamples()
	a.recStart = a.now()
	a.utterN++
	a.partialAt = a.recStart
	a.refresh()
}

func (a *Assistant) stopTalking() {
	a.touch()
	if !a.recording {
		return
	}
	pcm := audio.PCM{Rate: audio.SampleRate, Samples: a.rec}
	a.recording, a.rec = false, nil
	a.stopPartial()
	if pcm.Duration() < a.cfg.MinUtterance+a.cfg.PreRoll {
		a.publish(Event{Kind: EventIgnored, Ignored: IgnoredTooShort, Reason: string(IgnoredTooShort) + ": hold the button while you speak"})
		a.refresh()
		return
	}
	a.beginVoiceTurn(pcm, a.recStart, false)
}

func (a *Assistant) ask(text string) {
	a.touch()
	if a.closing || text == "" {
		return
	}
	if !a.ready.Type && a.actor == nil {
		a.publish(Event{Kind: EventError, Err: &UserError{Msg: "Cannot answer yet", Hint: a.ready.TypeReason}})
		return
	}
	if err := CheckQuestion(text); err != nil {
		a.publish(Event{Kind: EventError, Err: err})
		return
	}
	a.cancelTurn()
	t := a.newTurn(InputTyped)
	now := a.now()
	t.heardAt, t.endAt, t.transcribedAt = now, now, now
	t.transcript = text
	a.publish(Event{Kind: EventTranscript, Turn: t.id, Text: text, Input: InputTyped})
	a.think(t)
}

// clear starts a new conversation.
func (a *Assistant) clear(reason string) {
	a.cancelTurn()
	if a.pending != nil {
		a.declined(nil, ConfirmDropped)
	}
	if a.chat != nil {
		a.chat.val.(Chat).Reset()
		a.warmChat()
	}
	old := a.convID
	wasActive := a.convActive
	a.newConversationID()
	a.followTo, a.armedTo = time.Time{}, time.Time{}
	a.convLang = ""
	if reason == "idle" && wasActive && a.cfg.WipeHistory {
		if w, ok := a.hist.(HistoryWiper); ok {
			a.enqueueHistory(func(ctx context.Context) {
				if err := w.Wipe(ctx, old); err != nil {
					a.publish(Event{Kind: EventError, Err: fmt.Errorf("wiping the conversation from the history: %w", err)})
				}
			})
		}
	}
	a.publish(Event{Kind: EventCleared, Reason: reason})
	a.refresh()
}

func (a *Assistant) newConversationID() {
	a.convN++
	a.convID = fmt.Sprintf("%s-%d", a.now().UTC().Format("20060102T150405.000"), a.convN)
	a.convActive = false
}

func (a *Assistant) onTick() {
	now := a.now()
	if a.cfg.IdleWipe > 0 && a.convActive && a.turn == nil && !a.hearing && !a.recording &&
		now.Sub(a.activity) >= a.cfg.IdleWipe {
		a.clear("idle")
	}
	if mic := a.comps[ComponentMicrophone]; mic.phase == PhaseFailed && a.loaders.Microphone != nil &&
		!a.micRetryAt.IsZero() && !now.Before(a.micRetryAt) {
		a.micRetryAt = time.Time{}
		a.loadAgain(ComponentMicrophone, true)
	}
	a.checkConfirmTimeout(now)
	a.maybePartial()
	a.sayNotice()
}

// setState publishes the state when it changed.
func (a *Assistant) setState(s State, reason string) {
	if s == a.state && reason == a.reason {
		return
	}
	a.state, a.reason = s, reason
	a.publish(Event{Kind: EventState, State: s, Text: reason})
}

// refresh recomputes readiness and, between turns, the resting state.
func (a *Assistant) refresh() {
	r := a.readiness()
	if r != a.ready {
		a.ready = r
		a.publish(Event{Kind: EventReadiness, Readiness: r})
	}
	if a.turn != nil {
		return
	}
	switch {
	case a.recording || (a.hearing && !a.hearIgnored):
		a.setState(StateHearing, "")
	case a.pending != nil:
		a.setState(StateConfirming, a.pending.action.Question)
	case r.Voice && a.cfg.HandsFree:
		a.setState(StateListening, "")
	case r.Voice || r.Type:
		a.setState(StateIdle, r.VoiceReason)
	case a.anyLoading():
		a.setState(StateLoading, r.TypeReason)
	default:
		a.setState(StateError, r.TypeReason)
	}
}

func (a *Assistant) anyLoading() bool {
	for _, c := range a.comps {
		if c.phase == PhaseLoading {
			return true
		}
	}
	return false
}

func (a *Assistant) readiness() Readiness {
	var r Readiness
	llm := a.comps[ComponentLLM]
	if llm.phase == PhaseReady && a.chat != nil {
		r.Type = true
	} else {
		r.TypeReason = a.why(llm)
	}
	need := []Component{ComponentMicrophone, ComponentASR, ComponentLLM}
	if a.cfg.HandsFree {
		need = append(need, ComponentVAD)
	}
	for _, n := range need {
		c := a.comps[n]
		if c.phase != PhaseReady || (n == ComponentLLM && a.chat == nil) {
			r.VoiceReason = a.why(c)
			return r
		}
	}
	r.Voice = true
	return r
}

func (a *Assistant) why(c *component) string {
	switch c.phase {
	case PhaseLoading:
		return c.name.Title() + " is loading…"
	case PhaseFailed:
		return c.name.Title() + ": " + Message(c.err)
	case PhaseOff:
		return c.name.Title() + " is not set up"
	}
	return c.name.Title() + " is getting ready…"
}

// ---- History ----

func (a *Assistant) startHistory() {
	if a.hist == nil {
		return
	}
	if n, ok := a.hist.(HistoryNotice); ok {
		if err := n.StartNotice(); err != nil {
			a.publish(Event{Kind: EventError, Err: err})
		}
	}
	a.histQ = make(chan func(context.Context), 256)
	a.histDone = make(chan struct{})
	go func() {
		defer close(a.histDone)
		for f := range a.histQ {
			f(context.Background())
		}
	}()
}

// historyWrote reports the outcome of a history write (on the history goroutine): the first
// failure in a row is published, the ones after it only logged, so that a full disk gives one
// warning while the answers go on.
func (a *Assistant) historyWrote(turn int, err error, msg string) {
	if err == nil {
		a.histFailing = false
		return
	}
	if a.histFailing {
		if a.logf != nil {
			a.logf("history: %v", err)
		}
		return
	}
	a.histFailing = true
	a.publish(Event{Kind: EventError, Turn: turn, Err: Explain(err, msg, "Answers go on; the history resumes by itself once the problem (often a full disk) is gone.")})
}

// enqueueHistory runs f on the history goroutine, after the records queued before it.
func (a *Assistant) enqueueHistory(f func(context.Context)) {
	if a.histQ == nil {
		return
	}
	select {
	case a.histQ <- f:
	default:
		a.publish(Event{Kind: EventError, Err: errors.New("the history is not keeping up; a turn was not saved")})
	}
}
