package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"hark/app"
	"hark/app/history"
)

// The conversation history (app/history adapted to app.History) and the turn timing log.

// openTurnHistory opens the history database the configuration names (nil when history is off, or
// when it cannot be opened: the assistant then works without one, and the log says why).
func openTurnHistory(s *setup, logf *log.Logger) (app.History, func()) {
	if !s.cfg.History.Enabled {
		return nil, func() {}
	}
	path, err := s.cfg.HistoryPath()
	if err == nil {
		var st *history.Store
		st, err = history.Open(path, history.Options{RetentionDays: s.cfg.History.RetentionDays, StoreAudio: s.cfg.History.StoreAudio})
		if err == nil {
			if aside := st.MovedAside(); aside != "" {
				logf.Printf("history: the database was damaged; moved aside to %s and a new one started", aside)
			}
			return &historyLog{st: st, mode: s.mode(), asr: s.cfg.Models.ASR, llm: s.cfg.Models.LLM,
				convs: map[string]int64{}, turns: map[string]int64{}}, func() { _ = st.Close() }
		}
	}
	logf.Printf("history is off for this run: %v", err)
	return nil, func() {}
}

// historyLog adapts *history.Store to app.History. The assistant calls it from one goroutine.
type historyLog struct {
	st       *history.Store
	mode     string
	asr, llm string
	convs    map[string]int64 // the assistant's conversation IDs → the database's
	turns    map[string]int64 // "conversation/turn" → the database's turn ID
}

// StartNotice tells the person, once, that a damaged history was moved aside.
func (h *historyLog) StartNotice() error {
	aside := h.st.MovedAside()
	if aside == "" {
		return nil
	}
	return app.Explain(history.ErrCorrupt, "The history file was damaged, so Hark started a new one",
		"The old file is kept as "+aside+" (sqlite3's .recover may salvage it).")
}

func turnKey(r app.TurnRecord) string { return fmt.Sprintf("%s/%d", r.Conversation, r.Turn) }

func (h *historyLog) Begin(ctx context.Context, r app.TurnRecord) error {
	cid, ok := h.convs[r.Conversation]
	if !ok {
		var err error
		if cid, err = h.st.StartConversation(ctx, h.mode); err != nil {
			return err
		}
		h.convs[r.Conversation] = cid
	}
	tid, err := h.st.StartTurn(ctx, cid, history.TurnStart{ASRModel: h.asr, LLMModel: h.llm})
	if err != nil {
		return err
	}
	h.turns[turnKey(r)] = tid
	return h.st.SetTranscript(ctx, tid, r.Transcript)
}

func (h *historyLog) Finish(ctx context.Context, r app.TurnRecord) error {
	tid, ok := h.turns[turnKey(r)]
	if !ok {
		return nil
	}
	delete(h.turns, turnKey(r))
	t := r.Timings
	return h.st.FinishTurn(ctx, tid, history.TurnEnd{Reply: r.Reply, Interrupted: r.Interrupted, Err: r.Err,
		Timings: history.Timings{ASR: t.Transcribe, FirstToken: t.Transcribe + t.FirstToken, LLM: t.Generate, TTS: t.Spoken, Total: t.Total},
		Audio:   r.Audio.Samples, AudioRate: r.Audio.Rate, Origin: historyOrigin(r.Origin)})
}

func historyOrigin(o app.Origin) history.Origin {
	on := history.ComputedUnknown
	switch o.On {
	case app.ComputedDevice:
		on = history.ComputedDevice
	case app.ComputedServer:
		on = history.ComputedServer
	case app.ComputedFallback:
		on = history.ComputedFallback
	}
	return history.Origin{On: on, Server: o.Server, Fallback: o.Why}
}

// Wipe deletes a conversation (the kiosk's idle wipe) and compacts the file.
func (h *historyLog) Wipe(ctx context.Context, conversation string) error {
	cid, ok := h.convs[conversation]
	if !ok {
		return nil
	}
	delete(h.convs, conversation)
	return h.st.DeleteConversation(ctx, cid)
}

// timingLog logs each finished turn's timings (the window's and `hark listen`'s stderr).
func timingLog(logf func(string, ...any)) app.Sink {
	return app.SinkFunc(func(e app.Event) {
		if e.Kind != app.EventTurnDone || e.Timings == nil || e.Ignored != "" {
			return
		}
		t := e.Timings
		state := "done"
		switch {
		case e.Err != nil:
			state = "failed"
		case e.Interrupted:
			state = "interrupted"
		}
		logf("turn %d %s (%s): speech %v, end of speech → transcript %v → first token %v, → last token %v (%d tokens), spoken %v; asr %v, llm %v, pipeline overhead %v",
			e.Turn, state, e.Input, t.Speech.Round(time.Millisecond), t.Transcribe.Round(time.Millisecond), t.FirstToken.Round(time.Millisecond),
			t.Generate.Round(time.Millisecond), t.Tokens, t.Spoken.Round(time.Millisecond), t.ASRCompute.Round(time.Millisecond),
			t.LLMCompute.Round(time.Millisecond), t.Overhead.Round(10*time.Microsecond))
	})
}
