package app

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"hark/audio"
)

// Speculative end of turn. When the segmenter reports a pause (a short silence after speech,
// Boundary.Paused), the loop starts on the turn privately: it transcribes the utterance as it
// will be if the silence holds and, when the reply will be a plain chat, has the language model
// evaluate the turn's prompt (Prefiller). Nothing is published, spoken or stored. If speech
// resumes (Boundary.Resumed) the work is cancelled and dropped; the model's cache goes back to
// the conversation at the next Send. If the silence completes (Boundary.End), the turn begins
// as any voice turn does (the same events, in the same order, and the same history) with the
// transcript already made or under way, and the prompt already evaluated.

// Prefiller is a [Chat] that can evaluate a user's message ahead of Send (or, for a
// [ToolChat], SendTools with the same tools), without changing the conversation; a Send of
// the same message then evaluates almost nothing. With user "" it evaluates only what every
// next turn starts with (the system prompt and the tools, which most templates render into
// it). Optional.
type Prefiller interface {
	Prefill(ctx context.Context, user string, tools []Tool) error
}

// SpeculationStats count speculative starts since the assistant was made.
type SpeculationStats struct {
	Started   int           // pauses on which work started
	Committed int           // ... that became the turn
	Dropped   int           // ... dropped because the person went on speaking (or stopped it)
	Wasted    time.Duration // engine compute spent on dropped starts (transcription and prompt)
}

// speculation is the private start of a turn on a pause; the loop goroutine owns it.
type speculation struct {
	utter  int // a.utterN of the utterance it is for
	pcm    audio.PCM
	ctx    context.Context
	cancel context.CancelFunc

	done    bool // the transcript is in
	res     Transcript
	err     error
	wall    time.Duration
	dropped bool
	turn    *turn // the committed turn waiting for the transcript, if it came first
}

// specCounters are SpeculationStats, readable from any goroutine.
type specCounters struct {
	started, committed, dropped atomic.Int64
	wasted                      atomic.Int64 // nanoseconds
}

// Speculation returns how speculative starts went (for benchmarks and tests).
func (a *Assistant) Speculation() SpeculationStats {
	c := &a.specN
	return SpeculationStats{Started: int(c.started.Load()), Committed: int(c.committed.Load()),
		Dropped: int(c.dropped.Load()), Wasted: time.Duration(c.wasted.Load())}
}

// speculate starts work on the utterance u heard so far (padded to its length if it ends
// here), after a pause.
func (a *Assistant) speculate(u audio.PCM) {
	a.dropSpeculation()
	if !a.hearing || a.hearIgnored || a.closing || a.recording {
		return
	}
	if ok, _ := a.canAnswerSpeech(); !ok {
		return
	}
	a.stopPartial() // one whisper state: the live transcript must not hold the speculative one up
	asr := a.comps[ComponentASR].cur
	tr := asr.val.(Transcriber)
	ctx, cancel := context.WithCancel(a.ctx)
	s := &speculation{utter: a.utterN, pcm: u, ctx: ctx, cancel: cancel}
	a.spec = s
	a.specN.started.Add(1)
	needWake := a.hearWake
	a.spawn([]*held{asr}, func() func() {
		start := a.now()
		res, err := tr.Transcribe(ctx, u)
		wall := a.now().Sub(start)
		return func() { a.speculated(s, res, err, wall, needWake) }
	}, func(err error) func() { return func() { a.speculated(s, Transcript{}, err, 0, needWake) } })
}

// speculated takes the speculative transcript: it goes to the committed turn if there is one,
// else the prompt is evaluated ahead.
func (a *Assistant) speculated(s *speculation, res Transcript, err error, wall time.Duration, needWake bool) {
	s.done, s.res, s.err, s.wall = true, res, err, wall
	if s.dropped {
		a.wasted(res.Compute, wall)
		return
	}
	if t := s.turn; t != nil {
		s.turn = nil
		a.transcribed(t, res, err, wall)
		return
	}
	if err != nil || needWake {
		return
	}
	a.prefill(s, res)
}

// prefill has the language model evaluate the prompt the turn will send (with the tools the
// turn will offer), when no documents are consulted (they change the prompt) and the Chat can.
func (a *Assistant) prefill(s *speculation, res Transcript) {
	text := strings.TrimSpace(res.Text)
	llm := a.comps[ComponentLLM]
	if text == "" || nonSpeech(text) || llm.cur == nil || a.chat == nil || a.know.Knowledge != nil || a.pending != nil {
		return
	}
	chatH := a.chat
	pf, ok := chatH.val.(Prefiller)
	if !ok {
		return
	}
	tools := a.chatTools(chatH)
	lang := res.Language
	if lang == "" {
		lang = typedLanguage(text)
	}
	question := a.turnQuestion(text, lang)
	ctx := s.ctx
	a.spawn([]*held{llm.cur, chatH}, func() func() {
		start := a.now()
		err := pf.Prefill(ctx, question, tools)
		took := a.now().Sub(start)
		return func() {
			if s.dropped {
				a.wasted(0, took)
			}
			if err != nil && ctx.Err() == nil {
				a.logf("app: speculative prompt evaluation: %v", err)
			}
		}
	}, func(error) func() { return nil })
}

// chatTools are the tools a turn on chat offers (as think decides): none unless it is a
// ToolChat.
func (a *Assistant) chatTools(chat *held) []Tool {
	if _, ok := chat.val.(ToolChat); !ok {
		return nil
	}
	return a.offeredTools()
}

// warmChat has the language model evaluate, in the background, what every turn of a new
// conversation starts with when tools are offered: the system prompt and the tools (hundreds
// of tokens, which most templates put into the system prompt, so NewChat's evaluation of the
// prompt alone does not cover them). The first turn then evaluates only its own message. It
// is called when a conversation starts (the model loaded, a new conversation).
func (a *Assistant) warmChat() {
	llm := a.comps[ComponentLLM]
	if llm.cur == nil || a.chat == nil || a.closing {
		return
	}
	chatH := a.chat
	pf, ok := chatH.val.(Prefiller)
	tools := a.chatTools(chatH)
	if !ok || len(tools) == 0 {
		return
	}
	ctx := a.ctx
	a.spawn([]*held{llm.cur, chatH}, func() func() {
		err := pf.Prefill(ctx, "", tools)
		return func() {
			if err != nil && ctx.Err() == nil {
				a.logf("app: evaluating the tools ahead: %v", err)
			}
		}
	}, func(error) func() { return nil })
}

func (a *Assistant) wasted(compute, wall time.Duration) {
	if compute == 0 {
		compute = wall
	}
	a.specN.wasted.Add(int64(compute))
}

// dropSpeculation cancels the speculative start in progress, if any: speech resumed, or the
// utterance was dropped.
func (a *Assistant) dropSpeculation() {
	s := a.spec
	if s == nil {
		return
	}
	a.spec = nil
	s.dropped = true
	s.cancel()
	a.specN.dropped.Add(1)
	if s.done {
		a.wasted(s.res.Compute, s.wall)
	}
}

// commitSpeculation begins the voice turn for utterance u (the silence held) from the
// speculative start, if there is one for it; it reports false when there is none.
func (a *Assistant) commitSpeculation(u audio.PCM) bool {
	s := a.spec
	if s == nil || s.utter != a.utterN {
		a.dropSpeculation()
		return false
	}
	a.spec = nil
	t := a.startVoiceTurn(u, a.heardAt, a.hearWake)
	if t == nil {
		s.cancel()
		return true
	}
	a.specN.committed.Add(1)
	// The speculative work is now the turn's: it stops when the turn does.
	context.AfterFunc(t.ctx, s.cancel)
	if s.done {
		a.transcribed(t, s.res, s.err, s.wall)
	} else {
		s.turn = t
	}
	return true
}
