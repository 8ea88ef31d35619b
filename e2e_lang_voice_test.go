package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// TestE2EChineseVoiceTurn: a Chinese voice turn through `hark listen`, hands-free with the
// Chinese wake phrase, on the trained test model with assistant.language = auto. "你好哈克现在
// 几点", said in one breath in a held-out voice, wakes Hark; the words after the phrase are the
// question, detected as Chinese; the clock skill answers in Chinese, and the answer is spoken.
func TestE2EChineseVoiceTurn(t *testing.T) {
	testenv.LockAudio(t)
	wav := spokenWAV(t, "你好哈克现在几点", "-v", "cmn-latn-pinyin+f3", "-s", "150")
	r := startListen(t, "e2e-listen-zh", actionEnv(t, t.TempDir()), "--turns", "1", "--wake", "你好哈克",
		"--set", "assistant.language=auto",
		"--asr-model", testmodels.TrainedWhisper(t), "--llm-model", testmodels.Shared(t, "stories260K.gguf"),
		"--vad-model", testmodels.Shared(t, "ggml-silero-v6.2.0.bin"))
	i := r.waitEvent("listening", 0, 60*time.Second, isState("listening"))
	say(t, wav)
	i = r.waitEvent("wake", i, 60*time.Second, isKind("wake"))
	r.exit(90 * time.Second)
	var transcript, action, reply event
	spoken := false
	for _, e := range r.events()[i-1:] {
		switch e.kind() {
		case "transcript":
			transcript = e
		case "action":
			action = e
		case "reply":
			reply = e
		case "state":
			spoken = spoken || e.str("state") == "speaking"
		}
	}
	if transcript.str("text") != "现在几点" {
		t.Errorf("the question after the wake phrase: %v, want 现在几点", transcript)
	}
	a, _ := action["action"].(map[string]any)
	say := fmt.Sprint(a["say"])
	if a["tool"] != "clock_time" || !strings.Contains(say, "点") || strings.ContainsAny(say, "abcdefghijklmnopqrstuvwxyz") {
		t.Errorf("action = %v, want the time said in Chinese", action)
	}
	if reply.str("text") != say {
		t.Errorf("reply %q, want the skill's answer %q", reply.str("text"), say)
	}
	if !spoken {
		t.Error("the answer was not spoken")
	}
}
