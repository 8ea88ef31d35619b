package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hark/internal/testmodels"
	"hark/internal/testserver"
	"hark/notes"
	"hark/remotellm"
)

// TestNotesRemote: each built-in template written on a real llama-server (llm.backend =
// openai) with a tiny story model that knows nothing of JSON: every reply is JSON valid under
// the note's schema, because the schema goes to the server as response_format, and the note
// has every section.
func TestNotesRemote(t *testing.T) {
	srv := testserver.Start(t)
	c, err := remotellm.New(context.Background(), remotellm.Options{Endpoint: srv.Endpoint, FirstToken: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	transcript := "The patient has had a cough for five days.\nTemperature 38.2.\nRest, fluids, come back in a week.\n"
	for i, tm := range notes.Builtin() {
		t.Run(tm.Name, func(t *testing.T) {
			m := &checkedModel{noteLM: &remoteNoteModel{c: c, seed: int64(3 + i), context: 2048, wait: time.Minute, stderr: io.Discard}, t: t}
			n, err := notes.Write(context.Background(), m, tm, transcript, m.options(notes.Limits{TextChars: 300, ItemChars: 120, Items: 4}))
			if err != nil {
				t.Fatal(err)
			}
			if m.replies != 1 {
				t.Fatalf("%d replies", m.replies)
			}
			md := n.Markdown()
			for _, s := range tm.Sections {
				if !strings.Contains(md, "\n## "+s.Title+"\n") {
					t.Errorf("section %q missing:\n%s", s.Title, md)
				}
			}
		})
	}
}

// TestNoteCLIRemote: `hark note` with llm.backend = openai writes the SOAP note on the server
// (no local model is installed); with the server gone it says so and the local model writes
// it; with neither, the error says what to do.
func TestNoteCLIRemote(t *testing.T) {
	srv := testserver.Start(t) // before isolate: it finds llama-server through the build cache in HOME
	isolate(t)
	dir := t.TempDir()
	srt := filepath.Join(dir, "visit.srt")
	os.WriteFile(srt, []byte("1\n00:00:00,000 --> 00:00:02,000\nI have had a cough for five days.\n\n2\n00:00:02,500 --> 00:00:04,000\nNo fever.\n\n"), 0o600)
	remote := []string{"note", "--set", "llm.backend=openai", "--set", "llm.endpoint=" + srv.Endpoint,
		"--set", "performance.context_size=2048", "--seed", "3", "--section-chars", "200"}
	soap := func(t *testing.T, out string) {
		t.Helper()
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"# Clinic visit (SOAP)\n", "\n## Subjective\n", "\n## Objective\n", "\n## Assessment\n", "\n## Plan\n"} {
			if !strings.Contains(string(b), h) {
				t.Errorf("%q missing:\n%s", h, b)
			}
		}
	}
	out := filepath.Join(dir, "server.md")
	if code, _, errOut := runCLI(t, append(remote, "--out", out, srt)...); code != 0 {
		t.Fatalf("on the server: exit %d: %s", code, errOut)
	}
	soap(t, out)

	srv.Stop()
	out = filepath.Join(dir, "local.md")
	code, _, errOut := runCLI(t, append(remote, "--llm-model", testmodels.Shared(t, "llama-2-tiny-random.gguf"), "--out", out, srt)...)
	if code != 0 || !strings.Contains(errOut, "the note is written on this device") {
		t.Fatalf("server gone, local model: exit %d: %s", code, errOut)
	}
	soap(t, out)

	code, _, errOut = runCLI(t, append(remote, srt)...)
	if code == 0 || !strings.Contains(errOut, "could not write the note") || !strings.Contains(errOut, "no local model") {
		t.Errorf("server gone, no local model: exit %d: %s", code, errOut)
	}
}
