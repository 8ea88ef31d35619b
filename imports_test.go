package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"hark/internal/testmodels"
)

// TestImportRules keeps the data flow one-way (STYLE.md §7): app imports nothing of Hark but
// audio and its own subpackages, and never Fyne; ui imports app and audio but no engine, and
// not fyne.io/fyne/v2/app (so its tests run headless).
func TestImportRules(t *testing.T) {
	root, err := testmodels.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	deps := func(pkg string, flags ...string) []string {
		cmd := exec.Command("go", append(append([]string{"list", "-deps", "-json=ImportPath"}, flags...), pkg)...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		var list []string
		dec := json.NewDecoder(strings.NewReader(string(out)))
		for dec.More() {
			var p struct{ ImportPath string }
			if err := dec.Decode(&p); err != nil {
				t.Fatal(err)
			}
			list = append(list, p.ImportPath)
		}
		return list
	}
	// Pure-Go helpers any layer may use.
	helper := func(d string) bool { return d == "hark/internal/textdist" || d == "hark/internal/turnlang" }
	for _, d := range deps("./app") {
		if strings.HasPrefix(d, "fyne.io/") || (strings.HasPrefix(d, "hark/") && d != "hark/audio" && d != "hark/app" && !helper(d)) {
			t.Errorf("app depends on %s", d)
		}
	}
	// Notes are a capability of their own: the language model is an interface notes declares.
	for _, d := range deps("./notes") {
		if strings.HasPrefix(d, "hark/") && d != "hark/notes" {
			t.Errorf("notes depends on %s", d)
		}
	}
	// The knowledge store is a capability of its own: no engine, no front end, not app.
	for _, d := range deps("./knowledge") {
		if strings.HasPrefix(d, "hark/") && d != "hark/knowledge" {
			t.Errorf("knowledge depends on %s", d)
		}
	}
	// Dictation is a pipeline of its own over a transcriber it declares: no language model, no
	// window, not the assistant.
	for _, d := range deps("./dictation") {
		if strings.HasPrefix(d, "fyne.io/") || d == "hark/llm" || d == "hark/ui" || d == "hark/app" || d == "hark/asr" {
			t.Errorf("dictation depends on %s", d)
		}
	}
	for _, d := range deps("./ui") {
		switch {
		case d == "fyne.io/fyne/v2/app":
			t.Errorf("ui imports fyne.io/fyne/v2/app: its tests would need a display")
		case strings.HasPrefix(d, "hark/") && d != "hark/app" && d != "hark/audio" && d != "hark/ui" && !helper(d):
			t.Errorf("ui depends on %s: only main wires the engines", d)
		}
	}
	// The action layer knows neither the language model nor the window nor the assistant:
	// app declares what it needs (app.Actor) and main adapts it.
	for _, d := range deps("./action") {
		if strings.HasPrefix(d, "fyne.io/") || (strings.HasPrefix(d, "hark/") && d != "hark/action" && d != "hark/intent" && !helper(d)) {
			t.Errorf("action depends on %s", d)
		}
	}
	// The home connectors reach devices, never the language model, the window or the
	// assistant; their tools go through the action layer.
	for _, d := range deps("./home/...") {
		if strings.HasPrefix(d, "fyne.io/") || (strings.HasPrefix(d, "hark/") && d != "hark/home" && !strings.HasPrefix(d, "hark/home/") &&
			d != "hark/action" && d != "hark/intent" && !helper(d)) {
			t.Errorf("home depends on %s", d)
		}
	}
	for _, d := range deps("./intent") {
		if strings.HasPrefix(d, "hark/") && d != "hark/intent" {
			t.Errorf("intent depends on %s", d)
		}
	}
	// The `hark` that make build installs (-tags nowindow) links no part of the window: Fyne's
	// translations reach text/template, and with Fyne every command would start as large as
	// the window (issue 13's memory aim; gui_nowindow.go).
	for _, d := range deps(".", "-tags", "nowindow") {
		if strings.HasPrefix(d, "fyne.io/") || d == "hark/ui" || d == "text/template" || strings.HasPrefix(d, "github.com/go-gl/") {
			t.Errorf("the nowindow build depends on %s", d)
		}
	}
}
