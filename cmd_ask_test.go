package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"hark/internal/testmodels"
)

// TestAsk runs `hark ask` on stories260K: streamed text, the same reply as JSON with stats,
// and clear errors for bad input.
func TestAsk(t *testing.T) {
	isolate(t)
	model := testmodels.Shared(t, "stories260K.gguf")
	base := []string{"ask", "--model", model, "--system", "", "--threads", "1", "--temp", "0", "--max-tokens", "40"}
	code, out, errOut := runCLI(t, append(base, "Once upon a time")...)
	if want := greedy(t, "ask") + "\n"; code != 0 || out != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want stories260K's greedy text %q", code, out, errOut, want)
	}
	code, js, errOut := runCLI(t, append(base, "--json", "Once upon a time")...)
	if code != 0 {
		t.Fatalf("--json: exit %d, stderr %q", code, errOut)
	}
	var r struct {
		Reply string `json:"reply"`
		Stop  string `json:"stop"`
		Stats struct {
			PromptTokens, ReusedTokens, EvaluatedTokens, GeneratedTokens int
			PromptEvalMs                                                 float64 `json:"prompt_eval_ms"`
			GenerationMs                                                 float64 `json:"generation_ms"`
			GenTPS                                                       float64 `json:"generation_tokens_per_s"`
		} `json:"stats"`
		Model struct {
			Architecture string `json:"architecture"`
			Template     string `json:"template"`
		} `json:"model"`
	}
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, js)
	}
	// encoding/json matches prompt_tokens to PromptTokens case-insensitively only with tags;
	// read the counts by name to be sure they are there.
	for _, k := range []string{"prompt_tokens", "reused_tokens", "generated_tokens", "prompt_eval_ms", "generation_ms", "generation_tokens_per_s", "prompt_tokens_per_s"} {
		if !strings.Contains(js, `"`+k+`"`) {
			t.Errorf("--json lacks %s:\n%s", k, js)
		}
	}
	if r.Reply+"\n" != out || r.Stop != "max_tokens" || r.Model.Architecture != "llama" || r.Model.Template != "plain" || r.Stats.GenTPS <= 0 {
		t.Errorf("--json %+v; streamed %q", r, out)
	}
	if n := jsonInt(t, js, "generated_tokens"); n != 40 {
		t.Errorf("generated_tokens %d, want 40", n)
	}

	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"ask", "--model", model}, 2, "no question"},
		{[]string{"ask", "--model", testmodels.Shared(t, "whisper-tiny-random.en.bin"), "hi"}, 1, "whisper.cpp speech-recognition model"},
		{[]string{"ask", "--model", "/nonexistent.gguf", "hi"}, 1, "no such file"},
		{[]string{"ask", "--model", model, "--grammar", "/nonexistent.gbnf", "hi"}, 2, "nonexistent.gbnf"},
		{[]string{"ask", "--model", model, "--threads", "1", "--schema", writeFile(t, "s.json", `{"type":`), "hi"}, 1, "invalid grammar"},
		{[]string{"ask", "--model", model, "--max-tokens", "lots", "hi"}, 2, "--max-tokens"},
		{[]string{"ask", "--model", model, "--temp", "9", "hi"}, 2, "--temp"},
		// Nothing configured, nothing downloaded: the device class's default model is named.
		{[]string{"ask", "hi"}, 1, "hark models pull"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.says) {
			t.Errorf("hark %s: exit %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.says)
		}
	}
}

// TestAskConfigured: the model, system prompt, reply length and temperature come from the
// configuration when no flag gives them.
func TestAskConfigured(t *testing.T) {
	home := isolate(t)
	cfg := filepath.Join(home, "config", "hark", "config.toml")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		t.Fatal(err)
	}
	model := testmodels.Shared(t, "stories260K.gguf")
	toml := fmt.Sprintf("[models]\nllm = %q\n[assistant]\nsystem_prompt = \"\"\nmax_tokens = 20\ntemperature = 0.0\n[performance]\nthreads = 1\n", model)
	if err := os.WriteFile(cfg, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, js, errOut := runCLI(t, "ask", "--json", "Once upon a time")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := jsonInt(t, js, "generated_tokens"); n != 20 || !strings.Contains(js, `"path": "`+model+`"`) || !strings.Contains(js, `"prompt_tokens": 5`) {
		t.Errorf("configured ask: %s", js)
	}
}

func jsonInt(t *testing.T, js, key string) int {
	m := regexp.MustCompile(`"` + key + `": (\d+)`).FindStringSubmatch(js)
	if m == nil {
		t.Fatalf("no %s in %s", key, js)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func writeFile(t *testing.T, name, content string) string {
	p := t.TempDir() + "/" + name
	if err := writeString(p, content); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestChatREPL: `hark chat` keeps the conversation: the second message reuses the first turn
// from the cache (the --stats line says so), /reset starts over.
func TestChatREPL(t *testing.T) {
	isolate(t)
	model := testmodels.Llama(t, testmodels.ChatMLLlama())
	in := strings.NewReader("hello world\nwhat time is it\n/reset\nyes\n/exit\n")
	var out, errOut bytes.Buffer
	err := chatREPL(context.Background(), []string{"--model", model, "--threads", "1", "--stats", "--temp", "0", "--max-tokens", "16", "--system", "Be brief."}, in, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\nstderr: %s", err, errOut.String())
	}
	stats := regexp.MustCompile(`\((\d+) prompt tokens: (\d+) evaluated in \d+ ms, (\d+) reused; (\d+) generated`).FindAllStringSubmatch(errOut.String(), -1)
	if len(stats) != 3 {
		t.Fatalf("want 3 stats lines in stderr:\n%s", errOut.String())
	}
	num := func(i, j int) int { n, _ := strconv.Atoi(stats[i][j]); return n }
	// Turn 2 reuses all of turn 1's prompt (and its reply); after /reset only the system prompt.
	if num(1, 3) < num(0, 1) {
		t.Errorf("second message reused %d tokens; the first turn's prompt alone had %d", num(1, 3), num(0, 1))
	}
	// After /reset the system prompt (and the markup opening a user turn, which the old
	// conversation has at the same place) is reused, not the old conversation.
	if num(2, 3) < num(0, 3) || num(2, 3) >= num(1, 3) {
		t.Errorf("after /reset reused %d tokens, want the system prompt's %d and less than the %d of a continued chat", num(2, 3), num(0, 3), num(1, 3))
	}
	if strings.Count(out.String(), "> ") != 5 || !strings.Contains(errOut.String(), "chatml format") || !strings.Contains(errOut.String(), "(new conversation)") {
		t.Errorf("stdout %q\nstderr %q", out.String(), errOut.String())
	}
}

func writeString(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

// TestAskVerbose: llama.cpp's own log stays out of a plain `hark ask`'s stderr, and --verbose
// shows it as debug lines of Hark's log; the reply is the same either way.
func TestAskVerbose(t *testing.T) {
	isolate(t)
	t.Cleanup(func() { setVerbose(false, nil, "") })
	model := testmodels.Shared(t, "stories260K.gguf")
	base := []string{"ask", "--model", model, "--system", "", "--threads", "1", "--temp", "0", "--max-tokens", "5"}
	code, quiet, errOut := runCLI(t, append(base, "Once upon a time")...)
	if code != 0 || errOut != "" {
		t.Fatalf("without --verbose: exit %d, stderr %q; want a quiet stderr", code, errOut)
	}
	code, out, errOut := runCLI(t, append(base, "--verbose", "Once upon a time")...)
	if code != 0 || out != quiet {
		t.Fatalf("--verbose: exit %d, stdout %q; want %q", code, out, quiet)
	}
	if !strings.Contains(errOut, "level=DEBUG") || !strings.Contains(errOut, "engine=llama.cpp") || !strings.Contains(errOut, "llama_model_loader") {
		t.Errorf("--verbose: stderr lacks llama.cpp's log as debug lines:\n%.1500s", errOut)
	}
}
