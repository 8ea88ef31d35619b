package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/app"
	"hark/app/config"
	"hark/internal/testserver"
)

// TestHomeBothConnectors: with Home Assistant and an MQTT broker configured together, `hark
// home` lists both, `hark do` sends each sentence to the system that has the device, and a
// Home Assistant that stops answering is said so within 3 s while the MQTT devices keep
// working.
func TestHomeBothConnectors(t *testing.T) {
	srv, cdir := homeTestHouse(t)
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{})
	w := newMQTTWitnessAs(t, b.Port, "", "")
	w.publish(t, "greenhouse/climate", `{"temperature": 21.5}`, true)
	f, err := os.OpenFile(filepath.Join(cdir, "config.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "\n"+greenhouseMQTT(b.URL(), "hark-both", ""))
	f.Close()
	step := func(s cliStep) { t.Helper(); s.check(t) }
	step(cliStep{[]string{"home"}, 0, []string{"Home Assistant: 4 entities, connected", "MQTT broker: 2 entities, connected",
		"home_assistant   light.kitchen", "mqtt             pump 3"}, nil})
	step(cliStep{[]string{"do", "turn on the kitchen light"}, 0, []string{"Turned on the Kitchen Light."}, nil})
	if c := srv.ServiceCalls(); len(c) != 1 || c[0].Path != "/api/services/light/turn_on" {
		t.Errorf("Home Assistant calls %+v", c)
	}
	step(cliStep{[]string{"do", "what's the temperature in the greenhouse"}, 0, []string{"21.5 degrees"}, nil})
	step(cliStep{[]string{"do", "--dry-run", "turn on pump 3"}, 0, []string{"(confirm)", "Turn on pump 3?"}, nil})
	step(cliStep{[]string{"do", "--yes", "turn on pump 3"}, 0, []string{"Turned on pump 3."}, nil})
	w.publish(t, "test/marker", "end", false)
	for deadline := time.Now().Add(10 * time.Second); len(w.on("test/marker")) == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := w.on("greenhouse/pump3/set"); strings.Join(got, ",") != "ON" {
		t.Errorf("pump 3 commands = %q; want exactly one ON", got)
	}
	if n := len(srv.ServiceCalls()); n != 1 {
		t.Errorf("%d Home Assistant calls, want 1: the pump is MQTT's", n)
	}

	srv.Hang(true)
	start := time.Now()
	step(cliStep{[]string{"do", "turn off the kitchen light"}, 0, []string{"I can't reach Home Assistant."}, nil})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("said after %v, want within 3 s", took)
	}
	step(cliStep{[]string{"do", "what's the temperature in the greenhouse"}, 0, []string{"21.5 degrees"}, nil})
	srv.Hang(false)
}

// TestWhichOneThroughTheTurnLoop: typed into the assistant's turn loop with the real action
// layer and a stand-in Home Assistant, "turn on the light" asks which, and "the kitchen one"
// alone turns on the kitchen light; after any other sentence a name alone does nothing.
func TestWhichOneThroughTheTurnLoop(t *testing.T) {
	srv, cdir := homeTestHouse(t)
	s, err := newSetup(config.Options{Path: filepath.Join(cdir, "config.toml"), Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	acts, err := openActions(s)
	if err != nil {
		t.Fatal(err)
	}
	defer acts.Close()
	events := make(chan app.Event, 256)
	a := app.New(app.Options{
		Config: app.Config{Language: "auto"},
		Actor:  appActor{a: acts.act, hub: acts.hub},
		Sink:   app.SinkFunc(func(e app.Event) { events <- e }),
	})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { _ = a.Run(ctx); close(ran) }()
	defer func() { cancel(); <-ran }()

	// turn types a sentence and returns what the turn answered, and the tool it ran ("" none).
	turn := func(sentence string) (say, tool string) {
		t.Helper()
		a.Ask(sentence)
		deadline := time.After(20 * time.Second)
		for {
			select {
			case e := <-events:
				switch e.Kind {
				case app.EventAction:
					tool, say = e.Action.Tool, e.Action.Say
				case app.EventReply:
					if say == "" {
						say = e.Text
					}
				case app.EventTurnDone:
					return say, tool
				}
			case <-deadline:
				t.Fatalf("%q: no end of the turn within 20 s", sentence)
			}
		}
	}
	steps := []struct {
		sentence, tool, say string
		calls               int // service calls so far
	}{
		{"turn on the light", "home_turn_on", "Which one: the Kitchen Light or the Living Room Light?", 0},
		{"the kitchen one", "home_choose", "Turned on the Kitchen Light.", 1},
		{"kitchen", "", "", 1}, // answered already: nothing waits for a name
		{"turn off the light", "home_turn_off", "Which one: the Kitchen Light or the Living Room Light?", 1},
		{"what is 12 times 7", "calculate", "That's 84.", 1}, // another sentence cancels the question
		{"the living room one", "", "", 1},
		{"turn off the light", "home_turn_off", "Which one: the Kitchen Light or the Living Room Light?", 1},
		{"living room", "home_choose", "Turned off the Living Room Light.", 2},
	}
	for _, st := range steps {
		say, tool := turn(st.sentence)
		if tool != st.tool || (st.say != "" && say != st.say) {
			t.Errorf("%q: ran %q saying %q; want %q saying %q", st.sentence, tool, say, st.tool, st.say)
		}
		if n := len(srv.ServiceCalls()); n != st.calls {
			t.Errorf("after %q: %d service calls, want %d: %+v", st.sentence, n, st.calls, srv.ServiceCalls())
		}
	}
	calls := srv.ServiceCalls()
	if len(calls) == 2 && (calls[0].Body["entity_id"] != "light.kitchen" || calls[1].Path != "/api/services/light/turn_off" || calls[1].Body["entity_id"] != "light.living_room") {
		t.Errorf("service calls %+v", calls)
	}
}
