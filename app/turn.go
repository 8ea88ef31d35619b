package app

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode"

	"hark/audio"
)

// turn is one question and its answer, from the end of the utterance (or the typed question)
// to the end of the spoken reply. The loop goroutine owns it.
type turn struct {
	unhandled bool          // the reply says the request cannot be done (Event.Unhandled)
	sources   []Passage     // passages the reply was answered from (knowledge)
	retrieve  time.Duration // time spent finding them
	id        int
	conv      string
	input     Input
	ctx       context.Context
	cancel    context.CancelFunc

	needWake bool
	heardAt  time.Time // speech began (voice) or the question was sent (typed)
	endAt    time.Time // speech ended (voice) or the question was sent (typed)
	speech   time.Duration
	pcm      audio.PCM // the utterance (voice turns)

	transcribedAt time.Time
	firstAt       time.Time
	lastAt        time.Time
	spokenAt      time.Time
	asrCompute    time.Duration
	llmCompute    time.Duration
	tokens        int
	prompt        int // the reply's prompt tokens, and those reused from the cache
	reused        int

	transcript string
	reply      string
	origin     Origin
	lang       string // the question's language ("" = unknown): the reply's and the voice's

	begun       bool // the history has the question
	speaking    bool // a Speaker was started for this turn
	genDone     bool
	spoken      bool
	finished    bool
	ignored     bool
	reason      string // why it was ignored, in words
	why         Ignored
	interrupted bool
	err         error
}

func (a *Assistant) newTurn(in Input) *turn {
	a.turnN++
	a.cutNotice() // a reply is never said over a notice
	ctx, cancel := context.WithCancel(a.ctx)
	t := &turn{id: a.turnN, conv: a.convID, input: in, ctx: ctx, cancel: cancel}
	a.turn = t
	return t
}

// cancelTurn interrupts the current turn; its workers stop and report back, and it finishes
// (marked interrupted) without touching the state again. Callers refresh the state.
func (a *Assistant) cancelTurn() {
	t := a.turn
	if t == nil {
		return
	}
	a.turn = nil
	t.interrupted = true
	t.cancel()
	if a.cfg.FollowUp > 0 {
		a.followTo = a.now().Add(a.cfg.FollowUp)
	}
}

// canAnswerSpeech reports whether a spoken question can be transcribed and answered, and why
// not.
func (a *Assistant) canAnswerSpeech() (bool, string) {
	if asr := a.comps[ComponentASR]; asr.cur == nil {
		return false, a.why(asr)
	}
	if llm := a.comps[ComponentLLM]; (llm.cur == nil || a.chat == nil) && a.actor == nil {
		return false, a.why(llm)
	}
	return true, ""
}

// beginVoiceTurn transcribes an utterance that was heard from heardAt until now.
func (a *Assistant) beginVoiceTurn(pcm audio.PCM, heardAt time.Time, needWake bool) {
	t := a.startVoiceTurn(pcm, heardAt, needWake)
	if t == nil {
		return
	}
	asr := a.comps[ComponentASR].cur
	tr := asr.val.(Transcriber)
	a.spawn([]*held{asr}, func() func() {
		start := a.now()
		res, err := tr.Transcribe(t.ctx, pcm)
		wall := a.now().Sub(start)
		return func() { a.transcribed(t, res, err, wall) }
	}, func(err error) func() { return func() { a.transcribed(t, Transcript{}, err, 0) } })
}

// startVoiceTurn begins the turn of an utterance heard from heardAt until now, up to its
// transcript (which the caller has made); nil when it cannot be answered.
func (a *Assistant) startVoiceTurn(pcm audio.PCM, heardAt time.Time, needWake bool) *turn {
	if a.closing {
		return nil
	}
	a.cancelTurn()
	if ok, why := a.canAnswerSpeech(); !ok {
		a.publish(Event{Kind: EventIgnored, Ignored: IgnoredNotReady, Reason: why})
		a.refresh()
		return nil
	}
	t := a.newTurn(InputVoice)
	t.heardAt, t.endAt, t.speech, t.needWake, t.pcm = heardAt, a.now(), pcm.Duration(), needWake, pcm
	if !needWake {
		a.armedTo = time.Time{} // the wake phrase (if any) has been used
	}
	a.setState(StateTranscribing, "")
	return t
}

func (a *Assistant) transcribed(t *turn, res Transcript, err error, wall time.Duration) {
	t.transcribedAt = a.now()
	t.asrCompute = res.Compute
	if t.asrCompute == 0 {
		t.asrCompute = wall
	}
	switch {
	case t.ctx.Err() != nil:
		a.finish(t)
		return
	case err != nil:
		t.err = Explain(err, "Could not transcribe what you said", "")
		a.publish(Event{Kind: EventError, Turn: t.id, Err: t.err})
		a.finish(t)
		return
	}
	text := strings.TrimSpace(res.Text)
	if text == "" || nonSpeech(text) {
		why, reason := IgnoredNothing, string(IgnoredNothing)
		if res.Dropped != "" {
			why, reason = IgnoredNotSpeech, string(IgnoredNotSpeech)+": "+res.Dropped
		}
		a.ignore(t, text, why, reason)
		return
	}
	if t.needWake {
		ok, rest := MatchWake(text, a.cfg.WakePhrase, a.cfg.WakeSimilarity)
		if !ok {
			a.ignore(t, text, IgnoredNoWake, string(IgnoredNoWake))
			return
		}
		a.publish(Event{Kind: EventWake, Turn: t.id, Text: text})
		if rest == "" {
			// The wake phrase alone: the next utterance is the question.
			window := a.cfg.FollowUp
			if window <= 0 {
				window = DefaultConfig().FollowUp
			}
			a.armedTo = t.transcribedAt.Add(window)
			t.ignored, t.why, t.reason = true, IgnoredWakeOnly, string(IgnoredWakeOnly)
			a.finish(t)
			return
		}
		text = rest
	}
	t.transcript = text
	t.lang = res.Language
	a.publish(Event{Kind: EventTranscript, Turn: t.id, Text: text, Input: InputVoice})
	a.think(t)
}

// nonSpeech reports whether text is only a recogniser's annotation such as "[BLANK_AUDIO]" or
// "(music)".
func nonSpeech(text string) bool {
	depth := 0
	for _, r := range text {
		switch {
		case r == '[' || r == '(' || r == '*':
			depth++
		case r == ']' || r == ')':
			depth--
		case depth <= 0 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			return false
		}
	}
	return true
}

func (a *Assistant) ignore(t *turn, text string, why Ignored, reason string) {
	t.ignored, t.why, t.reason = true, why, reason
	a.publish(Event{Kind: EventIgnored, Turn: t.id, Text: text, Ignored: why, Reason: reason})
	a.finish(t)
}

// think asks the language model, and speaks the reply as it streams when speech is on.
func (a *Assistant) think(t *turn) {
	if a.actor != nil && a.act(t) {
		return
	}
	llm := a.comps[ComponentLLM]
	if llm.cur == nil || a.chat == nil {
		t.err = &UserError{Msg: "Cannot answer yet", Hint: a.why(llm)}
		a.publish(Event{Kind: EventError, Turn: t.id, Err: t.err, Hint: Hint(t.err)})
		a.finish(t)
		return
	}
	a.convActive = true
	a.beginHistory(t)
	a.setState(StateThinking, "")
	if t.lang == "" {
		t.lang = typedLanguage(t.transcript)
	}
	ctx := t.ctx
	if a.cfg.Language == "auto" {
		ctx = WithLanguage(ctx, t.lang)
	}
	var q *pieceQueue
	if spk := a.comps[ComponentSpeech].cur; a.cfg.Speak && spk != nil {
		q = newPieceQueue()
		t.speaking = true
		speaker := spk.val.(Speaker)
		a.spawn([]*held{spk}, func() func() {
			defer q.stop()
			err := speaker.Speak(ctx, q.out)
			end := a.now()
			return func() { a.spoken(t, err, end) }
		}, func(err error) func() {
			q.stop()
			return func() { a.spoken(t, err, a.now()) }
		})
	}
	chatH, brainH := a.chat, llm.cur
	chat := chatH.val.(Chat)
	question := a.turnQuestion(t.transcript, t.lang)
	tc, _ := chat.(ToolChat)
	tools := a.offeredTools()
	actLang := a.actionLang(t)
	a.spawn([]*held{brainH, chatH}, func() func() {
		if q != nil {
			defer q.closeIn()
		}
		var b strings.Builder
		var first time.Time
		n := 0
		emit := func(p string) error {
			if err := t.ctx.Err(); err != nil {
				return err
			}
			if n == 0 {
				first = a.now()
			}
			n++
			b.WriteString(p)
			a.publish(Event{Kind: EventToken, Turn: t.id, Text: p})
			if n == 1 {
				a.send(func() { a.firstToken(t) })
			}
			if q != nil {
				q.push(p)
			}
			return nil
		}
		start := a.now()
		prompt, sources, dontKnow := a.consult(ctx, t.transcript, question)
		retrieve := a.now().Sub(start)
		var rep Reply
		var err error
		switch {
		case dontKnow:
			err = emit(DontKnow)
			rep = Reply{Text: DontKnow, Interrupted: err != nil}
		case tc != nil && len(tools) > 0:
			rep, err = a.sendWithTools(ctx, t, tc, tools, prompt, actLang, emit)
		default:
			rep, err = chat.Send(ctx, prompt, emit)
		}
		end := a.now()
		if rep.Text == "" {
			rep.Text = b.String()
		}
		if rep.Tokens == 0 {
			rep.Tokens = n
		}
		if rep.Compute == 0 {
			rep.Compute = end.Sub(start)
		}
		return func() { t.sources, t.retrieve = sources, retrieve; a.generated(t, rep, err, first, end) }
	}, func(err error) func() {
		return func() { a.generated(t, Reply{}, err, time.Time{}, a.now()) }
	})
}

func (a *Assistant) firstToken(t *turn) {
	if t == a.turn && t.speaking && !t.genDone {
		a.setState(StateSpeaking, "")
	}
}

func (a *Assistant) generated(t *turn, rep Reply, err error, first, end time.Time) {
	t.genDone = true
	t.reply, t.tokens, t.llmCompute = strings.TrimSpace(rep.Text), rep.Tokens, rep.Compute
	t.prompt, t.reused = rep.PromptTokens, rep.ReusedTokens
	t.firstAt, t.lastAt = first, end
	if err == nil || t.reply != "" {
		t.origin = rep.Origin
		if t.origin.On == "" {
			t.origin.On = ComputedDevice
		}
	}
	if t.ctx.Err() != nil || rep.Interrupted {
		t.interrupted = true
	}
	if err != nil && !t.interrupted && !errors.Is(err, context.Canceled) {
		t.err = Explain(err, "The language model could not answer", "")
		a.publish(Event{Kind: EventError, Turn: t.id, Err: t.err})
	}
	if rep.Fallback != nil {
		// The reply's origin says so under the reply (and in the history); a red notice on
		// every turn while the server is away would drown the conversation.
		a.logf("turn %d: the language model server did not answer, this device did: %v", t.id, rep.Fallback)
	}
	a.publish(Event{Kind: EventReply, Turn: t.id, Text: t.reply, Interrupted: t.interrupted, Sources: t.sources, Origin: t.origin, Unhandled: t.unhandled})
	if t == a.turn && t.speaking && !t.spoken && !t.interrupted {
		a.setState(StateSpeaking, "")
	}
	a.maybeFinish(t)
}

func (a *Assistant) spoken(t *turn, err error, end time.Time) {
	t.spoken, t.spokenAt = true, end
	if err != nil && t.ctx.Err() == nil && !errors.Is(err, context.Canceled) {
		a.publish(Event{Kind: EventError, Turn: t.id, Err: Explain(err, "Could not speak the reply", "The reply is shown on screen.")})
	}
	a.maybeFinish(t)
}

func (a *Assistant) maybeFinish(t *turn) {
	if !t.genDone || (t.speaking && !t.spoken) {
		return
	}
	a.finish(t)
}

// finish ends t: one turn_done event, the history record, and (if t is still current) the
// resting state.
func (a *Assistant) finish(t *turn) {
	if t.finished {
		return
	}
	t.finished = true
	t.cancel()
	tm := t.timings()
	e := Event{Kind: EventTurnDone, Turn: t.id, Input: t.input, Interrupted: t.interrupted, Timings: &tm, Err: t.err}
	if t.ignored {
		e.Ignored, e.Reason = t.why, "ignored: "+t.reason
	}
	a.publish(e)
	if t.begun {
		rec := t.record()
		rec.Ended, rec.Reply, rec.Interrupted, rec.Timings, rec.Audio, rec.Origin = a.now(), t.reply, t.interrupted, tm, t.pcm, t.origin
		if t.err != nil {
			rec.Err = t.err.Error()
		}
		a.enqueueHistory(func(ctx context.Context) {
			a.historyWrote(rec.Turn, a.hist.Finish(ctx, rec), "Could not save the turn in the history")
		})
	}
	if !t.ignored {
		if l := a.actionLang(t); l != "" {
			a.convLang = l
		}
	}
	if a.turn == t {
		a.turn = nil
		if !t.ignored && a.cfg.FollowUp > 0 {
			a.followTo = a.now().Add(a.cfg.FollowUp)
		}
		a.touch()
		a.refresh()
	}
}

// beginHistory records the question of t, now that it is known.
func (a *Assistant) beginHistory(t *turn) {
	if a.hist == nil || t.transcript == "" {
		return
	}
	t.begun = true
	rec := t.record()
	a.enqueueHistory(func(ctx context.Context) {
		a.historyWrote(rec.Turn, a.hist.Begin(ctx, rec), "Could not save the question in the history")
	})
}

func (t *turn) record() TurnRecord {
	return TurnRecord{Conversation: t.conv, Turn: t.id, Input: t.input, Started: t.heardAt, Transcript: t.transcript}
}

func (t *turn) timings() Timings {
	tm := Timings{Speech: t.speech, ASRCompute: t.asrCompute, LLMCompute: t.llmCompute, Tokens: t.tokens,
		PromptTokens: t.prompt, ReusedTokens: t.reused, Retrieve: t.retrieve}
	if t.input == InputVoice && !t.transcribedAt.IsZero() {
		tm.Transcribe = t.transcribedAt.Sub(t.endAt)
	}
	if !t.firstAt.IsZero() {
		tm.FirstToken = t.firstAt.Sub(t.transcribedAt)
	}
	if !t.lastAt.IsZero() {
		tm.Generate = t.lastAt.Sub(t.transcribedAt)
		tm.Total = t.lastAt.Sub(t.endAt)
		tm.Overhead = tm.Total - tm.ASRCompute - tm.LLMCompute
	}
	if !t.spokenAt.IsZero() && !t.lastAt.IsZero() {
		tm.Spoken = t.spokenAt.Sub(t.lastAt)
	}
	return tm
}

// pieceQueue hands reply pieces to the speaker without ever slowing generation down: the
// screen should get the whole reply at the model's speed while speech takes its time.
type pieceQueue struct {
	in       chan string
	out      chan string
	quit     chan struct{}
	inOnce   sync.Once
	quitOnce sync.Once
}

func newPieceQueue() *pieceQueue {
	q := &pieceQueue{in: make(chan string, 64), out: make(chan string), quit: make(chan struct{})}
	go q.run()
	return q
}

func (q *pieceQueue) run() {
	defer close(q.out)
	var buf []string
	in := q.in
	for in != nil || len(buf) > 0 {
		var out chan string
		var next string
		if len(buf) > 0 {
			out, next = q.out, buf[0]
		}
		select {
		case p, ok := <-in:
			if !ok {
				in = nil
			} else {
				buf = append(buf, p)
			}
		case out <- next:
			buf = buf[1:]
		case <-q.quit:
			return
		}
	}
}

func (q *pieceQueue) push(p string) {
	select {
	case q.in <- p:
	case <-q.quit:
	}
}

// closeIn says generation is over; the speaker's channel closes once it has taken everything.
func (q *pieceQueue) closeIn() { q.inOnce.Do(func() { close(q.in) }) }

// stop ends the queue even if nobody reads it any more.
func (q *pieceQueue) stop() { q.quitOnce.Do(func() { close(q.quit) }) }
