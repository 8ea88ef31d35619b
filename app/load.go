package app

import (
	"context"
	"fmt"
	"time"
)

// loader returns the function that loads component c, or nil when it is not configured.
func (a *Assistant) loader(c Component) func(ctx context.Context, progress func(float64)) (any, error) {
	l := a.loaders
	switch c {
	case ComponentASR:
		if l.Transcriber != nil {
			return func(ctx context.Context, p func(float64)) (any, error) { return l.Transcriber(ctx, p) }
		}
	case ComponentLLM:
		if l.Brain != nil {
			system := a.cfg.SystemPrompt
			return func(ctx context.Context, p func(float64)) (any, error) {
				b, err := l.Brain(ctx, p)
				if err != nil {
					return nil, err
				}
				chat, err := b.NewChat(system)
				if err != nil {
					closeValue(b)
					return nil, fmt.Errorf("starting a conversation: %w", err)
				}
				return brainChat{b, chat, system}, nil
			}
		}
	case ComponentVAD:
		if l.Segmenter != nil {
			return func(ctx context.Context, _ func(float64)) (any, error) { return l.Segmenter(ctx) }
		}
	case ComponentMicrophone:
		if l.Microphone != nil {
			return func(ctx context.Context, _ func(float64)) (any, error) { return l.Microphone(ctx) }
		}
	case ComponentSpeech:
		if l.Speaker != nil {
			return func(ctx context.Context, _ func(float64)) (any, error) { return l.Speaker(ctx) }
		}
	}
	return nil
}

// brainChat is what the language model's loader hands over: the model and a first conversation.
type brainChat struct {
	brain  Brain
	chat   Chat
	system string // the system prompt chat was started with
}

// load (re)loads component c in the background; the value it replaces is closed once unused.
func (a *Assistant) load(c Component) { a.loadAgain(c, false) }

// loadAgain loads c; a retry of a failed component stays quietly "failed" until it works.
func (a *Assistant) loadAgain(c Component, retry bool) {
	comp := a.comps[c]
	if comp.cancel != nil {
		comp.cancel()
		comp.cancel = nil
	}
	a.retire(comp)
	comp.gen++
	fn := a.loader(c)
	if fn == nil || a.closing {
		a.setPhase(comp, PhaseOff, nil)
		return
	}
	gen := comp.gen
	ctx, cancel := context.WithCancel(a.ctx)
	comp.cancel = cancel
	if !retry || comp.phase != PhaseFailed {
		comp.progress = -1
		a.setPhase(comp, PhaseLoading, nil)
	}
	var last time.Time
	progress := func(p float64) {
		// Called on the loader's goroutine, possibly very often: a few updates a second suffice.
		if now := time.Now(); now.Sub(last) >= 100*time.Millisecond || p >= 1 {
			last = now
			a.send(func() {
				if comp.gen == gen && comp.phase == PhaseLoading && p != comp.progress {
					comp.progress = p
					a.publish(Event{Kind: EventComponent, Component: c, Phase: PhaseLoading, Progress: p})
				}
			})
		}
	}
	a.spawn(nil, func() func() {
		v, err := fn(ctx, progress)
		return func() { a.loaded(comp, gen, v, err) }
	}, func(err error) func() {
		return func() { a.loaded(comp, gen, nil, err) }
	})
}

// loaded takes a loader's result.
func (a *Assistant) loaded(comp *component, gen int, v any, err error) {
	if comp.gen != gen || a.closing {
		// Superseded (or shutting down): nobody will use it.
		if bc, ok := v.(brainChat); ok {
			closeValue(bc.chat)
			closeValue(bc.brain)
		} else {
			closeValue(v)
		}
		return
	}
	comp.cancel = nil
	if err == nil && v == nil {
		err = fmt.Errorf("%s: the loader returned nothing", comp.name)
	}
	if err != nil {
		if comp.phase != PhaseFailed {
			// A retry that failed again says nothing: the person was told once already (and
			// `hark listen` prints the assistant's log on stderr).
			a.setPhase(comp, PhaseFailed, err)
		}
		if comp.name == ComponentMicrophone {
			a.scheduleMicRetry()
		}
		a.refresh()
		return
	}
	switch comp.name {
	case ComponentLLM:
		bc := v.(brainChat)
		comp.cur = &held{val: bc.brain}
		a.chat = &held{val: bc.chat}
	case ComponentMicrophone:
		comp.cur = &held{val: v}
		reopened := a.micBackoff != 0
		a.micBackoff = 0
		a.startMic(comp)
		if sp := a.comps[ComponentSpeech]; reopened && sp.cur != nil && a.loaders.Speaker != nil {
			// A microphone that came back after it was lost usually means the sound server
			// restarted: the speaker's stream died with it, without a word (its callbacks
			// just stop), so open the speaker again too.
			a.load(ComponentSpeech)
		}
	default:
		comp.cur = &held{val: v}
	}
	a.setPhase(comp, PhaseReady, nil)
	if bc, ok := v.(brainChat); ok {
		if bc.system != a.cfg.SystemPrompt {
			a.remakeChat() // the prompt changed while the model was loading
		} else {
			a.warmChat()
		}
	}
	a.refresh()
}

func (a *Assistant) setPhase(comp *component, p Phase, err error) {
	if comp.phase == p && (err == nil) == (comp.err == nil) && (err == nil || err.Error() == comp.err.Error()) {
		return
	}
	comp.phase, comp.err = p, err
	e := Event{Kind: EventComponent, Component: comp.name, Phase: p, Err: err, Hint: Hint(err), Progress: comp.progress}
	if err != nil {
		e.Text = Message(err)
	}
	a.publish(e)
	if comp.name == ComponentSpeech && p != PhaseLoading {
		a.releaseAlerts()
	}
}

// retire takes comp's value out of use and closes it once its users are done.
func (a *Assistant) retire(comp *component) {
	var hs []*held
	if comp.name == ComponentLLM && a.chat != nil {
		a.cancelTurn() // the conversation goes with its model
		hs = append(hs, a.chat)
		a.chat = nil
	}
	if comp.cur != nil {
		if comp.cur.stop != nil {
			comp.cur.stop()
		}
		hs = append(hs, comp.cur)
		comp.cur = nil
	}
	if comp.name == ComponentMicrophone {
		a.micGen++ // chunks still queued from the old reader are dropped
		if !a.micMoving {
			// The segmenter forgets the utterance too: otherwise the first speech after a
			// reopen would continue it and be dropped with it.
			a.dropUtterance()
		}
	}
	if len(hs) == 0 {
		return
	}
	a.workers.Add(1)
	go func() {
		defer a.workers.Done()
		for _, h := range hs {
			h.users.Wait()
			closeValue(h.val)
		}
	}()
}

// remakeChat starts a conversation with the current system prompt on the loaded model.
func (a *Assistant) remakeChat() {
	llm := a.comps[ComponentLLM]
	if llm.phase != PhaseReady || llm.cur == nil {
		return // a load in progress checks the prompt when it is done
	}
	if a.chat != nil {
		old := a.chat
		a.chat = nil
		a.workers.Add(1)
		go func() {
			defer a.workers.Done()
			old.users.Wait()
			closeValue(old.val)
		}()
	}
	brain := llm.cur
	gen := llm.gen
	system := a.cfg.SystemPrompt
	a.spawn([]*held{brain}, func() func() {
		chat, err := brain.val.(Brain).NewChat(system)
		return func() {
			if llm.gen != gen || a.closing {
				closeValue(chat)
				return
			}
			if err != nil {
				a.setPhase(llm, PhaseFailed, Explain(err, "Could not start a conversation with the language model",
					"Check the system prompt in Settings, or choose another model."))
			} else {
				a.chat = &held{val: chat}
				a.warmChat()
			}
			a.refresh()
		}
	}, func(err error) func() {
		return func() { a.setPhase(llm, PhaseFailed, err); a.refresh() }
	})
	a.refresh()
}
