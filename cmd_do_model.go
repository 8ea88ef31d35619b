package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"hark/app"
)

// doModelResult is what the language model did with a sentence no template matched.
type doModelResult struct {
	Reply   string       `json:"reply"`
	Actions []app.Action `json:"actions,omitempty"`
}

// doWithModel hands a sentence no template matched to the language model with the tools, as
// the window does: the assistant's own loop (no microphone, no voice), so the calls are
// checked against their schemas, confirm tools ask first (answered on stdin, or by --yes),
// and every call is audited in the history. Each reply is printed to out (nil: not shown).
func doWithModel(ctx context.Context, s *setup, acts *actions, sentence string, yes bool, out, stderr io.Writer) (doModelResult, error) {
	var res doModelResult
	cfg := s.assistantConfig()
	cfg.Speak, cfg.HandsFree = false, false
	hist, closeHist := openTurnHistory(s, log.New(stderr, "hark do: ", 0))
	defer closeHist()
	events := make(chan app.Event, 64)
	a := app.New(app.Options{
		Config:  cfg,
		Loaders: app.Loaders{Brain: s.loadBrain()},
		Actor:   appActor{a: acts.act, modelTools: s.cfg.Actions.ModelTools, hub: acts.hub},
		History: hist,
		Sink: app.SinkFunc(func(e app.Event) {
			select {
			case events <- e:
			case <-ctx.Done():
			}
		}),
	})
	ctx, cancel := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { _ = a.Run(ctx); close(ran) }()
	defer func() { cancel(); <-ran }()

	asked, turns := false, 1
	for {
		var e app.Event
		select {
		case e = <-events:
		case <-ctx.Done():
			return res, ctx.Err()
		}
		switch e.Kind {
		case app.EventComponent:
			if e.Component != app.ComponentLLM {
				continue
			}
			switch e.Phase {
			case app.PhaseReady:
				if !asked {
					asked = true
					a.Ask(sentence)
				}
			case app.PhaseFailed, app.PhaseOff:
				if e.Err != nil {
					return res, e.Err
				}
				return res, errors.New("no language model to answer with (`hark models list`; or add a sentence template)")
			}
		case app.EventAction:
			if e.Action != nil {
				res.Actions = append(res.Actions, *e.Action)
			}
		case app.EventConfirm:
			if e.Action == nil || e.Action.Confirmed != app.ConfirmPending {
				continue
			}
			// The question is the turn's reply; the answer is a turn of its own.
			ok := yes || confirm(os.Stdin, stderr, e.Text)
			turns++
			a.Confirm(ok)
		case app.EventReply:
			res.Reply = e.Text
			if out != nil && e.Text != "" {
				fmt.Fprintln(out, e.Text)
			}
		case app.EventError:
			if e.Turn != 0 || !asked {
				return res, e.Err
			}
		case app.EventTurnDone:
			if turns--; turns == 0 {
				return res, nil
			}
		}
	}
}
