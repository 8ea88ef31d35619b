package main

import (
	"encoding/json"
	"strings"
	"testing"

	"hark/internal/testenv"
)

func TestDevicesCommand(t *testing.T) {
	testenv.Require(t)
	code, out, errOut := runCLI(t, "devices")
	if code != 0 || !strings.Contains(out, "vmic_in.monitor") || !strings.Contains(out, "Microphones") || !strings.Contains(out, "* VirtualSpeaker") {
		t.Errorf("hark devices: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "devices", "--json")
	var devs []map[string]any
	if err := json.Unmarshal([]byte(out), &devs); code != 0 || err != nil || len(devs) < 4 {
		t.Errorf("hark devices --json: exit %d, %v\n%s", code, err, out)
	}
}
