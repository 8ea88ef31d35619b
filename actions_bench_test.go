package main

import (
	"context"
	"path/filepath"
	"testing"

	"hark/action"
	"hark/app"
)

// BenchmarkIntentToAction: a transcript (typed, so no speech recognition) to the action done,
// through the assistant's loop with the real action layer, for a matched built-in intent. The
// timer writes its row to SQLite with synchronous=FULL, so its figure includes an fsync.
func BenchmarkIntentToAction(b *testing.B) {
	for _, sentence := range []string{"what time is it", "what is 12 times 7", "set a timer for 5 minutes"} {
		b.Run(sentence, func(b *testing.B) {
			st, err := action.OpenStore(filepath.Join(b.TempDir(), "actions.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			act, err := action.New(action.Options{Store: st, Language: "en"})
			if err != nil {
				b.Fatal(err)
			}
			defer act.Close()
			done := make(chan app.Event, 1)
			a := app.New(app.Options{Actor: appActor{a: act}, Sink: app.SinkFunc(func(e app.Event) {
				if e.Kind == app.EventAction {
					done <- e
				}
			})})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go a.Run(ctx)
			for b.Loop() {
				a.Ask(sentence)
				if e := <-done; !e.Action.Done {
					b.Fatalf("not done: %+v", e.Action)
				}
			}
		})
	}
}
