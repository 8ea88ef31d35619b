package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"hark/internal/testmodels"
	"hark/internal/testserver"
	"hark/wyoming"
)

// TestServeHandle runs `hark serve --handle` as a user would, with the language model on a
// real llama-server, and talks to it over TCP as Home Assistant's conversation agent does:
// describe lists the handle program; a command is answered by Hark's intents, a confirmation
// is asked and answered in the same conversation, a chat question by the edge server, and
// bad questions are not handled while the connection goes on.
func TestServeHandle(t *testing.T) {
	srv := testserver.Start(t)
	bin := harkBinary(t)
	env, _ := offlineEnv(t)
	env = append(env, "HARK_LLM_BACKEND=openai", "HARK_LLM_ENDPOINT="+srv.Endpoint, "HARK_LLM_NAME=edge-1", "HARK_ASSISTANT_MAX_TOKENS=24")
	cmd := exec.Command(bin, "serve", "--uri", "tcp://127.0.0.1:0", "--no-asr", "--no-tts", "--handle",
		"--llm-model", testmodels.Shared(t, "stories260K.gguf"))
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("hark serve printed no address: %v\n%s", err, stderr.String())
	}
	t.Logf("%s", strings.TrimSpace(line))
	_, rest, _ := strings.Cut(line, "tcp://")
	addr, _, _ := strings.Cut(rest, ": ")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := wyoming.NewReader(c, wyoming.DefaultLimits())
	read := func() wyoming.Event {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(time.Minute))
		e, err := wyoming.ReadEvent(r, wyoming.DefaultLimits())
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		return e
	}
	wyoming.WriteEvent(c, wyoming.NewEvent(wyoming.TypeDescribe, nil, nil))
	var info wyoming.Info
	if e := read(); e.Type != wyoming.TypeInfo || e.Decode(&info) != nil || len(info.Handle) != 1 || len(info.ASR) != 0 ||
		info.Handle[0].Models[0].Name != "edge-1" || !strings.Contains(strings.Join(info.Handle[0].Models[0].Languages, " "), "en") {
		t.Errorf("describe: %s %.600s", e.Type, e.Data)
	}
	ask := func(text string, context json.RawMessage) (string, wyoming.HandledData) {
		t.Helper()
		wyoming.WriteEvent(c, wyoming.NewEvent(wyoming.TypeTranscript, wyoming.TranscriptIn{Text: text, Language: "en", Context: context}, nil))
		e := read()
		var d wyoming.HandledData
		if err := e.Decode(&d); err != nil {
			t.Fatal(err)
		}
		t.Logf("%.60q → %s %q", text, e.Type, d.Text)
		return e.Type, d
	}
	for _, tc := range []struct {
		q, wantType, wantText string
	}{
		{"set a timer for 5 minutes", wyoming.TypeHandled, "5 minutes"},
		{"remind me to buy milk", wyoming.TypeHandled, "milk"},
		{"clear my notes", wyoming.TypeHandled, "Delete all 1 note?"},
		{"yes", wyoming.TypeHandled, "Deleted 1 note."},
		{"Once upon a time", wyoming.TypeHandled, ""}, // the edge server's story
		{strings.Repeat("why ", 1500), wyoming.TypeNotHandled, "long"},
	} {
		typ, d := ask(tc.q, nil)
		if typ != tc.wantType || !strings.Contains(d.Text, tc.wantText) || d.Text == "" {
			t.Errorf("%.40q: %s %q, want %s containing %q", tc.q, typ, d.Text, tc.wantType, tc.wantText)
		}
	}
	// Another conversation cannot answer this one's question.
	ask("clear my notes", json.RawMessage(`{"conversation_id":"kitchen"}`))
	ask("remind me to call mum", json.RawMessage(`{"conversation_id":"kitchen"}`))
	ask("clear my notes", json.RawMessage(`{"conversation_id":"kitchen"}`))
	if typ, d := ask("yes", json.RawMessage(`{"conversation_id":"hall"}`)); strings.Contains(d.Text, "Deleted") {
		t.Errorf("a yes from another conversation confirmed: %s %q", typ, d.Text)
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 && ee.ExitCode() != 0 && ee.ExitCode() != -1 {
			t.Errorf("hark serve after an interrupt: %v\n%s", err, stderr.String())
		}
	}
}
