package main

import (
	"encoding/json"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// TestE2ESpokenTimer: a timer command said into the virtual microphone sets a timer of the
// length that was said, through `hark listen` on the trained test model (no wake phrase,
// language auto). The transcript must be word for word what espeak-ng said, so a number heard
// wrong ("9 minutes") fails here before it reaches the timer.
func TestE2ESpokenTimer(t *testing.T) {
	for _, tt := range []struct {
		name, text, voice string
		seconds           int
	}{
		{"en", "Set a timer for 5 minutes.", "en", 300},
		{"zh", "设置五分钟的计时器", "cmn-latn-pinyin", 300},
	} {
		t.Run(tt.name, func(t *testing.T) {
			testenv.LockAudio(t)
			wav := spokenWAV(t, tt.text, "-v", tt.voice, "-s", "160")
			r := startListen(t, "e2e-spoken-timer-"+tt.name, actionEnv(t, t.TempDir()), "--turns", "1",
				"--set", "assistant.language=auto",
				"--asr-model", testmodels.TrainedWhisper(t), "--llm-model", testmodels.Shared(t, "stories260K.gguf"),
				"--vad-model", testmodels.Shared(t, "ggml-silero-v6.2.0.bin"))
			i := r.waitEvent("listening", 0, 60*time.Second, isState("listening"))
			said := time.Now()
			say(t, wav)
			r.exit(90 * time.Second)
			var transcript, action event
			for _, e := range r.events()[i:] {
				switch e.kind() {
				case "transcript":
					transcript = e
				case "action":
					action = e
				}
			}
			if transcript.str("text") != tt.text {
				t.Errorf("transcript %v, want %q", transcript, tt.text)
			}
			a, _ := action["action"].(map[string]any)
			if a["tool"] != "timer_start" || a["done"] != true {
				t.Fatalf("action = %v, want a timer started", action)
			}
			raw, _ := json.Marshal(a["args"])
			var args struct{ Hours, Minutes, Seconds int }
			if err := json.Unmarshal(raw, &args); err != nil {
				t.Fatalf("timer_start args %s: %v", raw, err)
			}
			if got := args.Hours*3600 + args.Minutes*60 + args.Seconds; got != tt.seconds {
				t.Errorf("timer of %d s (args %s), want %d s", got, raw, tt.seconds)
			}
			// The due time is the length after the command, not after some other moment.
			length := time.Duration(tt.seconds) * time.Second
			if due := timerDue(t, action); due.Before(said.Add(length)) || due.After(time.Now().Add(length)) {
				t.Errorf("timer due %s, want %d s after the command (said %s)", due.Format(time.RFC3339), tt.seconds, said.Format(time.RFC3339))
			}
		})
	}
}
