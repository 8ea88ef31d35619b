package main

import (
	"context"
	"log"
	"path/filepath"
	"sync"
	"time"

	"hark/app"
	"hark/internal/buildinfo"
	"hark/wyoming"
)

// ---- Hark's assistant as a Wyoming conversation agent (hark serve --handle) ----

// assistantHandler answers Wyoming transcripts with an app.Assistant that has no microphone,
// speech recognition or speech output: intents and actions first, then the language model
// (local or the edge server, as llm.* says), with the same confirmations, limits and audit
// trail as a typed question in the window.
type assistantHandler struct {
	a    *app.Assistant
	turn chan struct{} // one question at a time: the assistant answers one turn at a time
	conv string        // the Wyoming conversation the assistant's conversation belongs to

	mu     sync.Mutex
	events chan app.Event // the current question's events (nil between questions)
}

// startAssistantHandler loads the language model and the actions, and returns the handler and
// its info once the model has loaded (or failed: intents still work), and a function that stops
// the assistant.
func startAssistantHandler(ctx context.Context, s *setup, logger *log.Logger) (*assistantHandler, wyoming.HandleProgram, func(), error) {
	h := &assistantHandler{turn: make(chan struct{}, 1)}
	cfg := s.assistantConfig()
	cfg.HandsFree, cfg.Speak = false, false
	loaded := make(chan error, 1)
	sink := app.SinkFunc(func(e app.Event) {
		if e.Kind == app.EventComponent && e.Component == app.ComponentLLM && (e.Phase == app.PhaseReady || e.Phase == app.PhaseFailed || e.Phase == app.PhaseOff) {
			select {
			case loaded <- e.Err:
			default:
			}
		}
		h.publish(e)
	})
	hist, closeHist := openTurnHistory(s, logger)
	acts, err := openActions(s)
	if err != nil {
		logger.Printf("commands are off for this run: %v", err)
	}
	opts := app.Options{Config: cfg, Loaders: app.Loaders{Brain: s.loadBrain()}, Sink: app.Tee(sink, timingLog(logger.Printf)),
		History: hist, Logf: logger.Printf, Knowledge: openKnowledge(s.cfg, logger.Writer())}
	attach := acts.attach(&opts, s)
	h.a = app.New(opts)
	attach(h.a)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := h.a.Run(ctx); err != nil {
			logger.Printf("the assistant stopped: %v", err)
		}
	}()
	stop := func() { cancel(); <-done; acts.Close(); closeHist() }
	select {
	case err := <-loaded:
		if err != nil {
			logger.Printf("%s; only the built-in commands answer", app.Message(err))
		}
	case <-ctx.Done():
		stop()
		return nil, wyoming.HandleProgram{}, nil, ctx.Err()
	}
	model := s.cfg.LLM.Name
	if s.cfg.LLM.Backend != "openai" {
		model = filepath.Base(s.cfg.Models.LLM)
	}
	if model == "" || model == "." {
		model = "no language model"
	}
	langs := []string{"en"}
	if acts != nil {
		langs = acts.act.Templates().Languages()
	}
	attr := wyoming.Attribution{Name: "Hark", URL: "https://github.com/hark-voice/hark"}
	prog := wyoming.HandleProgram{Name: "hark", Attribution: attr, Installed: true, Version: buildinfo.Version(),
		Description: "Hark's assistant: built-in commands (timers, notes, calculator, ...) first, then the language model",
		Models:      []wyoming.Model{{Name: model, Attribution: attr, Installed: true, Description: "language model (" + s.cfg.LLM.Backend + ")", Languages: langs}}}
	return h, prog, stop, nil
}

func (h *assistantHandler) publish(e app.Event) {
	switch e.Kind {
	case app.EventToken, app.EventLevel, app.EventPartial:
		return
	}
	h.mu.Lock()
	ch := h.events
	h.mu.Unlock()
	if ch != nil {
		select {
		case ch <- e:
		default: // a question's turn has a handful of events; never block the assistant
		}
	}
}

func (h *assistantHandler) listen(ch chan app.Event) {
	h.mu.Lock()
	h.events = ch
	h.mu.Unlock()
}

// Handle asks the assistant, as if the text had been typed, and waits for the end of its turn.
// The request's language is not needed: the assistant tells each question's language itself
// (assistant.language = auto) or answers in the configured one.
func (h *assistantHandler) Handle(ctx context.Context, req wyoming.HandleRequest) (wyoming.HandleResult, error) {
	select {
	case h.turn <- struct{}{}:
	case <-ctx.Done():
		return wyoming.HandleResult{}, ctx.Err()
	}
	defer func() { <-h.turn }()
	ch := make(chan app.Event, 64)
	h.listen(ch)
	defer h.listen(nil)
	// A question from another conversation must not see this one's context, nor answer its
	// pending confirmation.
	if h.conv != "" && req.Conversation != h.conv {
		h.a.NewConversation()
	}
	h.conv = req.Conversation
	h.a.Ask(req.Text)
	turn := 0
	var reply, failed string
	unhandled := false
	for {
		select {
		case <-ctx.Done():
			h.a.Stop()
			return wyoming.HandleResult{}, ctx.Err()
		case e := <-ch:
			switch {
			case e.Kind == app.EventTranscript && turn == 0:
				turn = e.Turn
			case e.Kind == app.EventError && e.Turn == 0 && turn == 0:
				// Refused before a turn began (too long a question, nothing loaded).
				return wyoming.HandleResult{Text: userText(e.Err)}, nil
			case e.Turn != turn || turn == 0:
			case e.Kind == app.EventReply:
				reply, unhandled = e.Text, e.Unhandled
			case e.Kind == app.EventError:
				failed = userText(e.Err)
			case e.Kind == app.EventTurnDone:
				switch {
				case e.Err != nil:
					return wyoming.HandleResult{Text: userText(e.Err)}, nil
				case failed != "":
					return wyoming.HandleResult{Text: failed}, nil
				case reply == "":
					return wyoming.HandleResult{Text: "no answer"}, nil
				case unhandled: // "I can't do that yet": let the client ask elsewhere
					return wyoming.HandleResult{Text: reply}, nil
				}
				return wyoming.HandleResult{Text: reply, Handled: true}, nil
			}
		}
	}
}

// userText is an error as the person should hear it: the message and its hint.
func userText(err error) string {
	msg := app.Message(err)
	if h := app.Hint(err); h != "" {
		msg += ". " + h
	}
	return msg
}

var _ wyoming.Handler = (*assistantHandler)(nil)

// handleTimeout is the longest answer `hark serve --handle` waits for.
const handleTimeout = 2 * time.Minute
