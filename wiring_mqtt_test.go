package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hark/app"
	"hark/app/config"
	"hark/internal/testserver"
)

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
	text := fmt.Sprintf(`[mqtt]
broker = %q
client_id = "hark-wiring-test"
username = "hark"
password_file = %q

[[mqtt.devices]]
name = "greenhouse temperature"
area = "greenhouse"
unit = "°C"
state_topic = "greenhouse/climate"
json_path = "temperature"
stale_after = "10m"

[[mqtt.devices]]
name = "pump 3"
kind = "pump"
command_topic = "greenhouse/pump3/set"
confirm = true
`, broker, pw)
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
