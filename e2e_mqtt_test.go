package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/internal/testmodels"
	"hark/internal/testserver"
)

// TestE2EMQTTInWindow: typed in the real window, "what's the temperature in the greenhouse"
// is answered from the reading a sensor published (retained) on a real mosquitto before Hark
// started, with its unit; "turn on pump 3" asks first (the pump is marked confirm) and, after
// a yes, publishes once to the pump's command topic.
func TestE2EMQTTInWindow(t *testing.T) {
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{})
	wit := newMQTTWitness(t, b.Port)
	wit.publish(t, "greenhouse/climate", `{"temperature": 21.5, "humidity": 64}`, true)
	wit.publish(t, "greenhouse/pump3/state", "OFF", true)

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "hark"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := greenhouseMQTT(b.URL(), "hark-window", "")
	if err := os.WriteFile(filepath.Join(dir, "hark", "config.toml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	w := startWindowEnv(t, "mqtt", []string{"XDG_CONFIG_HOME=" + dir, "XDG_DATA_HOME=" + dir},
		"--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"), "--llm-model", slowModel(t))
	i := w.ready(60 * time.Second)

	w.typeQuestion(200, 697, "what's the temperature in the greenhouse")
	act, i := w.events.waitFor(t, i, 20*time.Second, "action", isKind("action"))
	if a, _ := act["action"].(map[string]any); !strings.Contains(fmt.Sprint(a["say"]), "21.5 degrees") {
		t.Errorf("the temperature question: %v", act)
	}
	_, i = w.events.waitFor(t, i, 20*time.Second, "turn_done", isKind("turn_done"))
	w.shot("mqtt-1-temperature")

	w.typeQuestion(200, 697, "turn on pump 3")
	c, i := w.events.waitFor(t, i, 20*time.Second, "confirm", isKind("confirm"))
	if a, _ := c["action"].(map[string]any); a["confirmed"] != "pending" {
		t.Fatalf("confirm = %v", c)
	}
	w.shot("mqtt-2-asks")
	if got := wit.on("greenhouse/pump3/set"); len(got) != 0 {
		t.Fatalf("the pump was commanded before the yes: %q", got)
	}
	w.typeQuestion(200, 697, "yes")
	act, _ = w.events.waitFor(t, i, 20*time.Second, "action", isKind("action"))
	if a, _ := act["action"].(map[string]any); a["confirmed"] != "yes" || a["done"] != true {
		t.Errorf("action after the yes = %v", act)
	}
	wit.publish(t, "test/marker", "end", false) // all Hark sent before it has arrived once it has
	for deadline := time.Now().Add(10 * time.Second); len(wit.on("test/marker")) == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := wit.on("greenhouse/pump3/set"); strings.Join(got, ",") != "ON" {
		t.Errorf("pump 3 commands = %q; want exactly one ON", got)
	}
	w.shot("mqtt-3-done")

	// The settings list the connector and its devices at the end (a screenshot to look at).
	w.click(458, 21) // 480×720: the gear at the top right
	time.Sleep(time.Second)
	w.xdo("mousemove", "--window", w.wid, "60", "300") // over the labels: a text field would take the wheel
	for range 120 {
		w.xdo("click", "5") // scroll down
	}
	w.shot("mqtt-4-settings")
}
