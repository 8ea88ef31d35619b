package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"hark/app"
	"hark/app/config"
	"hark/internal/testserver"
)

// greenhouseMQTT is the [mqtt] section the MQTT tests share: the broker, this client's id,
// further [mqtt] lines (a user name and password file, or ""), and two devices: the greenhouse
// temperature (a sensor publishing JSON, with a Chinese alias) and pump 3 (a pump that reports
// its state and asks before it is switched).
func greenhouseMQTT(broker, clientID, login string) string {
	return fmt.Sprintf(`[mqtt]
broker = %q
client_id = %q
%s
[[mqtt.devices]]
name = "greenhouse temperature"
aliases = ["温室温度"]
area = "greenhouse"
kind = "sensor"
unit = "°C"
state_topic = "greenhouse/climate"
json_path = "temperature"
stale_after = "10m"

[[mqtt.devices]]
name = "pump 3"
aliases = ["三号水泵"]
area = "greenhouse"
kind = "pump"
state_topic = "greenhouse/pump3/state"
command_topic = "greenhouse/pump3/set"
confirm = true
`, broker, clientID, login)
}

// mqttConfig writes a configuration for broker with a password file of the given mode.
func mqttConfig(t *testing.T, broker string, mode os.FileMode) string {
	t.Helper()
	dir := t.TempDir()
	pw := filepath.Join(dir, "mqtt-password")
	if err := os.WriteFile(pw, []byte("Greenh0use!\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pw, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	text := greenhouseMQTT(broker, "hark-wiring-test", fmt.Sprintf("username = \"hark\"\npassword_file = %q\n", pw))
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestOpenMQTT(t *testing.T) {
	plain := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(plain, []byte("[ui]\ntheme = \"dark\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := newSetup(config.Options{Path: plain, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := openMQTT(s); b != nil || err != nil {
		t.Fatalf("no [mqtt]: openMQTT = %v, %v; want nil, nil", b, err)
	}

	broker := testserver.StartMosquitto(t, testserver.MosquittoOptions{Users: map[string]string{"hark": "Greenh0use!", "sensor": "x"}})
	s, err = newSetup(config.Options{Path: mqttConfig(t, broker.URL(), 0o600), Env: []string{}})
	if err != nil || s.problems != nil {
		t.Fatal(err, s.problems)
	}
	b, err := openMQTT(s)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Check(ctx); err != nil {
		t.Fatal(err)
	}
	ents, err := b.Entities(ctx)
	if err != nil || len(ents) != 2 || ents[0].Unit != "°C" || ents[0].Kind != "sensor" || !ents[1].Confirm || ents[1].Kind != "pump" {
		t.Fatalf("entities = %+v, %v", ents, err)
	}

	// The password file must not be readable by everyone; the error says so without the password.
	s, err = newSetup(config.Options{Path: mqttConfig(t, broker.URL(), 0o644), Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = openMQTT(s)
	if err == nil || !strings.Contains(err.Error(), "readable by everyone") || app.Hint(err) == "" || strings.Contains(err.Error(), "Greenh0use") {
		t.Fatalf("world-readable password file: %v (hint %q)", err, app.Hint(err))
	}
	t.Logf("error: %v; hint: %s", err, app.Hint(err))
}

// mqttWitness is another client on the broker: it publishes the devices' readings and
// records every message Hark publishes.
type mqttWitness struct {
	pc paho.Client
	mu sync.Mutex
	ms map[string][]string // topic -> payloads, in order (retained replays left out)
}

func newMQTTWitness(t *testing.T, port int) *mqttWitness {
	t.Helper()
	return newMQTTWitnessAs(t, port, "", "")
}

// newMQTTWitnessAs is newMQTTWitness on a broker with passwords.
func newMQTTWitnessAs(t *testing.T, port int, user, pass string) *mqttWitness {
	t.Helper()
	w := &mqttWitness{ms: map[string][]string{}}
	o := paho.NewClientOptions().AddBroker(fmt.Sprintf("tcp://127.0.0.1:%d", port)).SetClientID("witness").
		SetUsername(user).SetPassword(pass).
		SetOnConnectHandler(func(pc paho.Client) {
			pc.Subscribe("#", 1, func(_ paho.Client, m paho.Message) {
				if m.Retained() {
					return
				}
				w.mu.Lock()
				w.ms[m.Topic()] = append(w.ms[m.Topic()], string(m.Payload()))
				w.mu.Unlock()
			}).Wait()
		})
	w.pc = paho.NewClient(o)
	if tok := w.pc.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("witness: %v", tok.Error())
	}
	t.Cleanup(func() { w.pc.Disconnect(100) })
	return w
}

func (w *mqttWitness) publish(t *testing.T, topic, payload string, retained bool) {
	t.Helper()
	if tok := w.pc.Publish(topic, 1, retained, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("witness publish: %v", tok.Error())
	}
}

func (w *mqttWitness) on(topic string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.ms[topic]...)
}

// TestHomeMQTTCommands: through `hark do`, a reading the sensor published (retained) before
// Hark started is answered with its unit; "turn on pump 3" asks first (the pump is marked
// confirm) and, with a yes, publishes exactly once to the declared topic; a broker that is
// down is said so, and the next question still works. The broker password shows up nowhere.
func TestHomeMQTTCommands(t *testing.T) {
	const password = "mqtt-Pa55-9d1e7c-never-shown"
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{Users: map[string]string{"hark": password, "witness": "w"}})
	w := newMQTTWitnessAs(t, b.Port, "witness", "w")
	w.publish(t, "greenhouse/climate", `{"temperature": 21.5, "humidity": 64}`, true)
	w.publish(t, "greenhouse/pump3/state", "OFF", true)

	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("XDG_DATA_HOME", dir)
	t.Setenv("HARK_CONFIG", "")
	cdir := filepath.Join(dir, "hark")
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(cdir, "mqtt-password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := greenhouseMQTT(b.URL(), "hark-e2e", fmt.Sprintf("username = \"hark\"\npassword_file = %q\n", pwFile))
	if err := os.WriteFile(filepath.Join(cdir, "config.toml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var outputs []string
	step := func(s cliStep) string {
		t.Helper()
		code, out, errOut := runCLI(t, s.args...)
		outputs = append(outputs, out, errOut)
		name := "hark " + strings.Join(s.args, " ")
		if code != s.wantCode {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", name, code, s.wantCode, out, errOut)
		}
		for _, want := range s.wantOut {
			if !strings.Contains(out, want) {
				t.Errorf("%s: stdout lacks %q:\n%s\nstderr: %s", name, want, out, errOut)
			}
		}
		t.Logf("%s → %s", name, strings.TrimSpace(out))
		return out
	}
	step(cliStep{args: []string{"home"}, wantOut: []string{"greenhouse temperature", "pump 3", "MQTT"}})
	step(cliStep{args: []string{"config", "show"}, wantOut: []string{`password_file = "` + pwFile + `"`}})
	step(cliStep{args: []string{"do", "what's the temperature in the greenhouse"}, wantOut: []string{"21.5 degrees"}})
	step(cliStep{args: []string{"do", "温室温度现在多少度"}, wantOut: []string{"21.5度"}}) // by its Chinese alias

	// No yes (stdin is empty): nothing is published.
	step(cliStep{args: []string{"do", "turn on pump 3"}, wantOut: []string{"Okay, I won't."}})
	step(cliStep{args: []string{"do", "--yes", "turn on pump 3"}})
	// Mark the end of what Hark may have published: messages from one broker arrive in order
	// for one subscriber, so once the marker is in, anything Hark sent before it is too.
	w.publish(t, "test/marker", "end", false)
	deadline := time.Now().Add(10 * time.Second)
	for len(w.on("test/marker")) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := w.on("greenhouse/pump3/set"); strings.Join(got, ",") != "ON" {
		t.Errorf("pump 3 commands = %q; want exactly one ON", got)
	}
	if n := strings.Count(b.Log(), "Received PUBLISH from hark-e2e"); n != 1 {
		t.Errorf("the broker received %d publications from Hark; want 1", n)
	}

	// The broker goes away: said within 3 s, and the next question still works.
	b.Kill()
	start := time.Now()
	step(cliStep{args: []string{"do", "--yes", "turn off pump 3"}, wantOut: []string{"I can't reach the MQTT broker."}})
	t.Logf("unreachable broker said after %v", time.Since(start).Round(time.Millisecond))
	step(cliStep{args: []string{"do", "what is 12 times 7"}, wantOut: []string{"84"}})

	// A wrong password: doctor names the refusal, without either password.
	b.Restart()
	if err := os.WriteFile(pwFile, []byte("wrong-"+password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "doctor", "--no-mic", "--json")
	outputs = append(outputs, out, errOut)
	if !strings.Contains(out, `"check":"mqtt","status":"fail"`) || !strings.Contains(out, "refused Hark's user name or password") {
		t.Errorf("doctor with a wrong MQTT password (exit %d):\n%s\n%s", code, out, errOut)
	}
	for _, o := range outputs {
		if strings.Contains(o, password) {
			t.Errorf("the password was shown:\n%s", o)
		}
	}
	// Nor is it kept anywhere Hark writes (the history, the action store).
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || p == pwFile {
			return nil
		}
		if b, _ := os.ReadFile(p); strings.Contains(string(b), password) {
			t.Errorf("%s holds the password", p)
		}
		return nil
	})
}

// TestHomeMQTTLevels: level commands declared in [[mqtt.devices]] (a brightness topic with a
// 0..255 scale, a setpoint template with a range) work through `hark do`, in English and
// Chinese, each published once to its declared topic; the heater asks first; a setpoint out of
// its range is refused with the range said, and nothing is sent.
func TestHomeMQTTLevels(t *testing.T) {
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{})
	w := newMQTTWitnessAs(t, b.Port, "", "")
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("XDG_DATA_HOME", dir)
	t.Setenv("HARK_CONFIG", "")
	cdir := filepath.Join(dir, "hark")
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`[mqtt]
broker = %q
client_id = "hark-levels"

[[mqtt.devices]]
name = "workshop light"
aliases = ["车间灯"]
area = "workshop"
kind = "light"
command_topic = "workshop/light/set"
brightness_topic = "workshop/light/brightness/set"
brightness_max = 255

[[mqtt.devices]]
name = "greenhouse heater"
aliases = ["温室加热器"]
area = "greenhouse"
kind = "climate"
setpoint_topic = "greenhouse/heater/setpoint/set"
setpoint_payload = '{"target": {{value}}}'
setpoint_min = 5
setpoint_max = 30
confirm = true
`, b.URL())
	if err := os.WriteFile(filepath.Join(cdir, "config.toml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	step := func(s cliStep) { t.Helper(); s.check(t) }
	step(cliStep{[]string{"do", "dim the workshop light to 30 percent"}, 0, []string{"Set the workshop light to 30 percent."}, nil})
	step(cliStep{[]string{"do", "把车间灯调到百分之五十"}, 0, []string{"已把车间灯调到50%。"}, nil})
	step(cliStep{[]string{"do", "set the greenhouse heater to 18 degrees"}, 0, []string{"Okay, I won't."}, nil}) // no yes
	step(cliStep{[]string{"do", "--yes", "温室加热器设为十八度"}, 0, []string{"已把温室加热器设为18度。"}, nil})
	step(cliStep{[]string{"do", "--yes", "set the greenhouse heater to 40 degrees"}, 0, []string{"The greenhouse heater can only be set from 5 to 30 degrees."}, nil})
	w.publish(t, "test/marker", "end", false)
	for deadline := time.Now().Add(10 * time.Second); len(w.on("test/marker")) == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := w.on("workshop/light/brightness/set"); strings.Join(got, ",") != "77,128" {
		t.Errorf("brightness commands = %q; want exactly 77, 128", got)
	}
	if got := w.on("greenhouse/heater/setpoint/set"); strings.Join(got, ",") != `{"target": 18.0}` {
		t.Errorf("setpoint commands = %q; want exactly one 18.0", got)
	}
	if n := strings.Count(b.Log(), "Received PUBLISH from hark-levels"); n != 3 {
		t.Errorf("the broker received %d publications from Hark; want 3", n)
	}
}
