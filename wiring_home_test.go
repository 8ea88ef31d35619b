package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	fmt.Fprintf(f, `
[mqtt]
broker = %q
client_id = "hark-both"

[[mqtt.devices]]
name = "greenhouse temperature"
area = "greenhouse"
kind = "sensor"
unit = "°C"
state_topic = "greenhouse/climate"
json_path = "temperature"

[[mqtt.devices]]
name = "pump 3"
area = "greenhouse"
kind = "switch"
command_topic = "greenhouse/pump3/set"
confirm = true
`, b.URL())
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
