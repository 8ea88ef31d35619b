package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"hark/app/config"
	"hark/internal/hasstest"
)

const testHassToken = "hass-token-7f3a9c1e5b-never-shown"

// homeTestHouse starts a stand-in Home Assistant and writes a configuration that connects to
// it: url in config.toml, the token in a 0600 file, the entity list beside them.
func homeTestHouse(t *testing.T) (*hasstest.Server, string) {
	t.Helper()
	srv := hasstest.Start(t, testHassToken,
		hasstest.State{EntityID: "light.kitchen", State: "off", Attributes: map[string]any{"friendly_name": "Kitchen Light"}},
		hasstest.State{EntityID: "light.living_room", State: "on", Attributes: map[string]any{"friendly_name": "Living Room Light"}},
		hasstest.State{EntityID: "lock.front_door", State: "locked", Attributes: map[string]any{"friendly_name": "Front Door"}},
		hasstest.State{EntityID: "cover.garage_door", State: "closed", Attributes: map[string]any{"friendly_name": "Garage Door"}},
		hasstest.State{EntityID: "light.not_listed", State: "off"},
	)
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("XDG_DATA_HOME", dir)
	t.Setenv("HARK_CONFIG", "")
	t.Setenv("HARK_HASS_TOKEN", "")
	cdir := filepath.Join(dir, "hark")
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string, mode os.FileMode) {
		p := filepath.Join(cdir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("config.toml", "[home_assistant]\nurl = \""+srv.URL+"\"\n", 0o644)
	write("home-assistant.token", testHassToken+"\n", 0o600)
	write("home-assistant.toml", `
[[entity]]
id = "light.kitchen"
area = "kitchen"

[[entity]]
id = "light.living_room"
area = "living room"

[[entity]]
id = "cover.garage_door"
area = "garage"

[[entity]]
id = "lock.front_door"
name = "front door"
confirm = true
`, 0o644)
	return srv, cdir
}

// TestHomeCommands: `hark home` lists what Hark can use, `hark do` reaches the right service
// call, a lock waits for a yes, and the token shows up nowhere.
func TestHomeCommands(t *testing.T) {
	srv, cdir := homeTestHouse(t)
	var outputs []string
	step := func(s cliStep) {
		t.Helper()
		code, out, errOut := runCLI(t, s.args...)
		outputs = append(outputs, out, errOut)
		name := "hark " + strings.Join(s.args, " ")
		if s.wantCode >= 0 && code != s.wantCode { // -1: any (doctor fails on this machine's other checks)
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", name, code, s.wantCode, out, errOut)
		}
		for _, w := range s.wantOut {
			if !strings.Contains(out, w) {
				t.Errorf("%s: stdout lacks %q:\n%s", name, w, out)
			}
		}
		for _, w := range s.wantErr {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", name, w, errOut)
			}
		}
	}
	lastCall := func() hasstest.Call {
		c := srv.ServiceCalls()
		if len(c) == 0 {
			return hasstest.Call{}
		}
		return c[len(c)-1]
	}
	step(cliStep{[]string{"home"}, 0, []string{"Home Assistant: 4 entities, connected", "light.kitchen", "kitchen", "Kitchen Light",
		"lock.front_door", "yes", "front door"}, nil})
	step(cliStep{[]string{"home", "--json"}, 0, []string{`"source": "home_assistant"`, `"ok": true`, `"id": "lock.front_door"`, `"confirm": true`}, nil})
	step(cliStep{[]string{"do", "turn on the kitchen light"}, 0, []string{"Turned on the Kitchen Light."}, nil})
	if c := lastCall(); c.Path != "/api/services/light/turn_on" || !reflect.DeepEqual(c.Body, map[string]any{"entity_id": "light.kitchen"}) {
		t.Errorf("turn on the kitchen light called %+v", c)
	}
	step(cliStep{[]string{"do", "dim the living room to 30 percent"}, 0, []string{"Set the Living Room Light to 30 percent."}, nil})
	if c := lastCall(); c.Path != "/api/services/light/turn_on" || c.Body["brightness_pct"] != 30.0 || c.Body["entity_id"] != "light.living_room" {
		t.Errorf("dim the living room called %+v", c)
	}
	step(cliStep{[]string{"do", "is the garage door open"}, 0, []string{"No, the Garage Door is closed."}, nil})

	// The lock: a dry run says it would ask; without a yes (stdin is empty) nothing is sent.
	step(cliStep{[]string{"do", "--dry-run", "unlock the front door"}, 0, []string{"home_turn_on", "(confirm)", "Unlock the front door?"}, nil})
	step(cliStep{[]string{"do", "--dry-run", "open the front door"}, 0, []string{"home_turn_on", "(confirm)", "Unlock the front door?"}, nil})
	n := len(srv.ServiceCalls())
	step(cliStep{[]string{"do", "unlock the front door"}, 0, []string{"Okay, I won't."}, nil})
	if got := srv.ServiceCalls(); len(got) != n {
		t.Errorf("the lock was touched without a yes: %+v", got[n:])
	}
	if st, _ := srv.Get("lock.front_door"); st.State != "locked" {
		t.Errorf("front door %s without a yes", st.State)
	}
	step(cliStep{[]string{"do", "--yes", "unlock the front door"}, 0, []string{"Unlocked the front door."}, nil})
	if st, _ := srv.Get("lock.front_door"); st.State != "unlocked" {
		t.Errorf("front door %s after a yes", st.State)
	}
	step(cliStep{[]string{"do", "--yes", "close the front door"}, 0, []string{"Locked the front door."}, nil})
	if st, _ := srv.Get("lock.front_door"); st.State != "locked" {
		t.Errorf("front door %s after closing it", st.State)
	}
	step(cliStep{[]string{"history", "actions"}, 0, []string{"home_turn_on", "home_set_brightness", "home_turn_off", "confirmed"}, nil})

	// Unreachable: the spoken error after the connector's own timeout (3 s, plus start-up on a busy
	// machine; the bound only catches a hang, it is not a speed figure), and the next question
	// still works.
	srv.Hang(true)
	start := time.Now()
	step(cliStep{[]string{"do", "turn off the kitchen light"}, 0, []string{"I can't reach Home Assistant."}, nil})
	took := time.Since(start)
	if took > 15*time.Second {
		t.Errorf("the error came after %v: the request to a silent server was not cut short", took)
	}
	t.Logf("a Home Assistant that does not answer: said after %v", took.Round(time.Millisecond))
	step(cliStep{[]string{"do", "what is 12 times 7"}, 0, []string{"That's 84."}, nil})
	srv.Hang(false)

	step(cliStep{[]string{"config", "show"}, 0, []string{"[home_assistant]", "url = \"http://127.0.0.1:"}, nil})

	// A token file others can read is refused, by `hark home` and by doctor.
	tok := filepath.Join(cdir, "home-assistant.token")
	if err := os.Chmod(tok, 0o644); err != nil {
		t.Fatal(err)
	}
	step(cliStep{[]string{"home"}, 1, nil, []string{"can be read by others", "chmod 600"}})
	s, err := newSetup(config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checks := doctorHome(context.Background(), s)
	if len(checks) != 1 || checks[0].Status != doctorFail || !strings.Contains(checks[0].Detail, "chmod 600") {
		t.Errorf("doctor with a readable token file: %+v", checks)
	}
	// A wrong token: doctor names the refusal, without the token.
	if err := os.WriteFile(tok, []byte("wrong-"+testHassToken), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tok, 0o600); err != nil {
		t.Fatal(err)
	}
	checks = doctorHome(context.Background(), s)
	if len(checks) != 1 || checks[0].Status != doctorFail || !strings.Contains(checks[0].Detail, "refused the access token") {
		t.Errorf("doctor with a wrong token: %+v", checks)
	}
	for _, c := range checks {
		outputs = append(outputs, c.Detail, c.Fix)
	}
	// The token from the environment instead of a file.
	if err := os.Remove(tok); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HARK_HASS_TOKEN", testHassToken)
	step(cliStep{[]string{"home"}, 0, []string{"Home Assistant: 4 entities, connected"}, nil})
	step(cliStep{[]string{"config", "show"}, 0, []string{`token_env = "HARK_HASS_TOKEN"`}, nil})
	step(cliStep{[]string{"doctor", "--no-mic", "--json"}, -1, []string{`"check":"home_assistant","status":"ok"`}, nil})

	for _, o := range outputs {
		if strings.Contains(o, testHassToken) {
			t.Errorf("the token was shown:\n%s", o)
		}
	}
	// Nor is it kept anywhere Hark writes: the history and the action store.
	filepath.Walk(filepath.Dir(cdir), func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || p == tok || strings.HasSuffix(p, ".token") {
			return nil
		}
		if b, _ := os.ReadFile(p); strings.Contains(string(b), testHassToken) {
			t.Errorf("%s holds the token", p)
		}
		return nil
	})
}
