package main

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// spoken writes text spoken by espeak-ng's default voice as a WAV and returns its path.
func spoken(t *testing.T, text string) string {
	t.Helper()
	return spokenWAV(t, text)
}

// spokenWAV writes text spoken by espeak-ng as a WAV and returns its path; args (-v VOICE,
// -s WPM, -p PITCH) go before the text. -w, not --stdout: a streamed WAV header declares no
// real length.
func spokenWAV(t testing.TB, text string, args ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spoken.wav")
	if out, err := exec.Command("espeak-ng", append(append(args, "-w", p), text)...).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng %v %q: %v (make setup-test installs it)\n%s", args, text, err, out)
	}
	return p
}

// TestE2EWakeWords: the kiosk listens hands-free for the wake phrase "hey hark", with the
// trained test model. A question without the phrase is heard word for word and ignored; "Hey
// Hark, what time is it?" wakes the assistant, and the words after the phrase are the question.
// (TestTrainedModelWakePhrase counts false accepts and rejects over 100 sentences.)
func TestE2EWakeWords(t *testing.T) {
	testenv.LockAudio(t)
	w := startWindow(t, "kiosk-wake", "--mode", "kiosk", "--no-supervise", "--wake", "hey hark",
		"--asr-model", testmodels.TrainedWhisper(t), "--llm-model", testmodels.Shared(t, "stories260K.gguf"),
		"--vad-model", testmodels.Shared(t, "ggml-silero-v6.2.0.bin"))
	i := w.ready(60 * time.Second)
	_, i = w.events.waitFor(t, i, 60*time.Second, "listening", isState("listening"))

	const other = "Hello Hark, what's the date today?"
	say(t, spoken(t, other))
	ig, i := w.events.waitFor(t, i, 60*time.Second, "ignored", isKind("ignored"))
	if ig.str("text") != other || ig.str("reason") != "no wake phrase" {
		t.Errorf("without the wake phrase: %v, want %q ignored for want of the wake phrase", ig, other)
	}

	const wake = "Hey Hark, what time is it?"
	say(t, spoken(t, wake))
	wk, i := w.events.waitFor(t, i, 60*time.Second, "wake", isKind("wake"))
	if wk.str("text") != wake {
		t.Errorf("wake event heard %q, said %q", wk.str("text"), wake)
	}
	tr, i := w.events.waitFor(t, i, 60*time.Second, "transcript", isKind("transcript"))
	if tr.str("text") != "what time is it?" {
		t.Errorf("question after the wake phrase = %q, want %q", tr.str("text"), "what time is it?")
	}
	w.events.waitFor(t, i, 60*time.Second, "turn_done", isKind("turn_done"))
	w.shot("1-woken")
}
