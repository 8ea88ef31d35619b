package main

import (
	"bytes"
	"context"
	"log"
	"slices"
	"strings"
	"testing"
	"time"

	"hark/internal/testmodels"
)

// TestListenWithoutSoundServer: with no sound server, `hark listen` says so in one line, not in
// libasound's ~200 lines of probing (those go to --verbose).
func TestListenWithoutSoundServer(t *testing.T) {
	t.Setenv("PULSE_SERVER", "unix:"+t.TempDir()+"/no-such-server")
	home := t.TempDir()
	t.Setenv("XDG_DATA_HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("HARK_CONFIG", "")
	ctx, cancel := context.WithCancel(context.Background()) // as Ctrl-C does
	defer time.AfterFunc(6*time.Second, cancel).Stop()
	var out, errOut bytes.Buffer
	run(ctx, []string{"listen", "--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"),
		"--llm-model", testmodels.Shared(t, "stories260K.gguf"), "--partials=false"}, &out, &errOut)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(errOut.String()), "\n") {
		if !strings.Contains(l, "Fyne error") && !strings.HasPrefix(strings.TrimSpace(l), "Cause:") && !strings.HasPrefix(strings.TrimSpace(l), "At:") {
			lines = append(lines, l) // Fyne's complaint about a C locale is not ours
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "microphone could not be opened") {
		t.Errorf("stderr has %d lines, want one saying the microphone could not be opened:\n%s", len(lines), errOut.String())
	}
	if strings.Contains(errOut.String(), "ALSA") {
		t.Errorf("libasound's messages reached stderr:\n%s", errOut.String())
	}
}

// TestAskLines: `hark listen --typed` asks each non-blank line, trimmed, whole however long
// (the assistant refuses a too long one with its message), the last one without a newline too.
func TestAskLines(t *testing.T) {
	long := strings.Repeat("x", 5<<20)
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"lines", "one\ntwo\n", []string{"one", "two"}},
		{"blank and spaces", "\n  \n  three  \r\n", []string{"three"}},
		{"no final newline", "four\nfive", []string{"four", "five"}},
		{"a pasted book", "six\n" + long + "\nseven\n", []string{"six", long, "seven"}},
		{"nothing", "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			var logged bytes.Buffer
			askLines(strings.NewReader(c.in), func(q string) { got = append(got, q) }, log.New(&logged, "", 0))
			if !slices.Equal(got, c.want) || logged.Len() > 0 {
				t.Errorf("asked %d questions %.40q, logged %q; want %.40q", len(got), got, logged.String(), c.want)
			}
		})
	}
}
