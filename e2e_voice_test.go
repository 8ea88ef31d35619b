package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// End-to-end tests with the voice: an espeak-ng sentence played into the virtual microphone.

// question is what the tests say; random-weight whisper turns it into gibberish, which is fine:
// the tests check that each stage ran and showed.
const question = "What is the capital of France?"

// spokenQuestion writes the question as a WAV (espeak-ng) and returns its path.
func spokenQuestion(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "question.wav")
	if out, err := exec.Command("espeak-ng", "-w", p, question).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	return p
}

// say plays wav into the virtual microphone; it returns when the sound has been played.
func say(t *testing.T, wav string) {
	t.Helper()
	if out, err := exec.Command("paplay", "-d", "vmic_in", wav).CombinedOutput(); err != nil {
		t.Fatalf("paplay: %v\n%s", err, out)
	}
}

// voiceModels are the shared test models with the real Silero VAD. The random-weight whisper
// model writes repetitive gibberish, which the hallucination guard rightly drops: --no-guard
// keeps it so that the turn goes on (TestE2EListenGuard checks the guard).
func voiceModels(t *testing.T, llm string) []string {
	return []string{"--asr-model", testmodels.Shared(t, "whisper-tiny-random.en.bin"), "--llm-model", llm,
		"--vad-model", testmodels.Shared(t, "ggml-silero-v6.2.0.bin"), "--no-guard"}
}

// spokenTurn waits, from index i, for a voice turn to go through every stage: the transcript,
// reply tokens, the reply and the end of the turn; it returns the turn_done event and the index
// after it.
func spokenTurn(t *testing.T, w *harkWindow, i int) (event, int) {
	t.Helper()
	tr, i := w.events.waitFor(t, i, 60*time.Second, "voice transcript", isKind("transcript"))
	if tr.str("input") != "voice" || tr.str("text") == "" {
		t.Errorf("transcript = %v, want a voice transcript", tr)
	}
	_, i = w.events.waitFor(t, i, 30*time.Second, "token", isKind("token"))
	_, i = w.events.waitFor(t, i, 60*time.Second, "reply", isKind("reply"))
	return w.events.waitFor(t, i, 60*time.Second, "turn_done", isKind("turn_done"))
}

// TestE2EDesktopVoice: push-to-talk in the desktop window, by holding the microphone button
// and by holding Space, with the live transcript and the streamed reply on screen.
func TestE2EDesktopVoice(t *testing.T) {
	testenv.LockAudio(t)
	wav := spokenQuestion(t)
	w := startWindow(t, "desktop-voice", voiceModels(t, testmodels.Shared(t, "stories260K.gguf"))...)
	i := w.ready(60 * time.Second)
	_, i = w.events.waitFor(t, i, 60*time.Second, "voice readiness", func(e event) bool {
		r, _ := e["readiness"].(map[string]any)
		return e.kind() == "readiness" && r["voice"] == true
	})
	w.shot("1-ready")

	// Hold the microphone button (480×720: centre bottom) while speaking.
	w.xdo("mousemove", "--window", w.wid, "240", "622", "mousedown", "1")
	_, i = w.events.waitFor(t, i, 10*time.Second, "hearing", isState("hearing"))
	done := make(chan struct{})
	go func() { say(t, wav); close(done) }()
	_, j := w.events.waitFor(t, i, 20*time.Second, "partial", isKind("partial"))
	w.shot("2-live-transcript")
	<-done
	time.Sleep(300 * time.Millisecond)
	w.xdo("mouseup", "1")
	_, i = w.events.waitFor(t, j, 10*time.Second, "transcribing", isState("transcribing"))
	d, i := spokenTurn(t, w, i)
	if d.flag("interrupted") || d.str("error") != "" {
		t.Errorf("button turn ended %v", d)
	}
	w.shot("3-button-answer")

	// Hold Space (with the pointer on the window, which has the keyboard focus without a
	// window manager, and the text entry not focused).
	w.click(240, 300) // an empty part of the chat: the window gets the keyboard, the entry not
	w.xdo("keydown", "space")
	_, i = w.events.waitFor(t, i, 10*time.Second, "hearing", isState("hearing"))
	say(t, wav)
	time.Sleep(300 * time.Millisecond)
	w.xdo("keyup", "space")
	d, _ = spokenTurn(t, w, i)
	if d.flag("interrupted") || d.str("error") != "" {
		t.Errorf("space turn ended %v", d)
	}
	w.shot("4-space-answer")
}

// TestE2EKioskVoice: the kiosk listens hands-free; speaking dismisses the attract screen and
// gets an answer.
func TestE2EKioskVoice(t *testing.T) {
	testenv.LockAudio(t)
	wav := spokenQuestion(t)
	w := startWindow(t, "kiosk-voice", append([]string{"--mode", "kiosk", "--no-supervise"},
		voiceModels(t, testmodels.Shared(t, "stories260K.gguf"))...)...)
	i := w.ready(60 * time.Second)
	_, i = w.events.waitFor(t, i, 60*time.Second, "listening", isState("listening"))
	w.shot("1-attract")
	say(t, wav)
	_, i = w.events.waitFor(t, i, 20*time.Second, "speech", isKind("speech"))
	d, _ := spokenTurn(t, w, i)
	if d.flag("interrupted") || d.str("error") != "" {
		t.Errorf("kiosk turn ended %v", d)
	}
	w.shot("2-answer")
}

// TestE2ECarVoiceAndStop: the car listens hands-free; a long reply is stopped with the big
// Stop button.
func TestE2ECarVoiceAndStop(t *testing.T) {
	testenv.LockAudio(t)
	wav := spokenQuestion(t)
	w := startWindow(t, "car-voice", append([]string{"--mode", "car"}, voiceModels(t, slowModel(t))...)...)
	i := w.ready(90 * time.Second)
	_, i = w.events.waitFor(t, i, 60*time.Second, "listening", isState("listening"))
	w.shot("1-listening")
	say(t, wav)
	_, i = w.events.waitFor(t, i, 60*time.Second, "voice transcript", isKind("transcript"))
	_, i = w.events.waitFor(t, i, 60*time.Second, "token", isKind("token"))
	w.shot("2-streaming")
	w.click(131, 375) // 800×480: the Stop button, bottom left
	rep, _ := w.events.waitFor(t, i, 20*time.Second, "reply", isKind("reply"))
	if !rep.flag("interrupted") {
		t.Errorf("after Stop the reply is %v, want interrupted", rep)
	}
	_, _ = w.events.waitFor(t, i, 20*time.Second, "listening again", isState("listening"))
	w.shot("3-stopped")
}

// TestE2EListen: `hark listen` hears the question through the microphone and prints every
// stage as JSON lines, then exits after --turns 1.
func TestE2EListen(t *testing.T) {
	testenv.LockAudio(t)
	wav := spokenQuestion(t)
	r := startListen(t, "e2e-listen", nil, append([]string{"--turns", "1"}, voiceModels(t, testmodels.Shared(t, "stories260K.gguf"))...)...)
	r.waitEvent("listening", 0, 60*time.Second, isState("listening"))
	say(t, wav)
	r.exit(90 * time.Second)
	var seq []string
	for _, e := range r.events() {
		k := e.kind()
		switch k {
		case "state":
			k += ":" + e.str("state")
		case "component", "readiness", "partial":
			continue
		case "token":
			if len(seq) > 0 && seq[len(seq)-1] == "token" {
				continue
			}
		case "turn_done":
			if tm, _ := e["timings_ms"].(map[string]any); tm["transcribe"] == nil || tm["overhead"] == nil {
				t.Errorf("turn_done without timings: %v", e)
			}
		}
		seq = append(seq, k)
	}
	// The stages in order (the loading states before "listening" vary with what loads first).
	start := slices.Index(seq, "state:listening")
	want := []string{"state:listening", "speech", "state:hearing", "state:transcribing", "transcript", "state:thinking",
		"token", "reply", "turn_done", "state:listening"}
	if start < 0 || !slices.Equal(seq[start:], want) {
		t.Errorf("event sequence = %v\nwant …%v", seq, want)
	}
}

// TestE2EListenGuard: with the hallucination guard on (the default), the random model's
// repetitive gibberish is dropped: the utterance is ignored with the guard's reason, nothing is
// asked of the language model, and the assistant listens again.
func TestE2EListenGuard(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	wav := spokenQuestion(t)
	args := voiceModels(t, testmodels.Shared(t, "stories260K.gguf"))
	args = args[:len(args)-1] // without --no-guard
	r := startListen(t, "e2e-listen-guard", nil, args...)
	i := r.waitEvent("listening", 0, 60*time.Second, isState("listening"))
	say(t, wav)
	r.waitEvent("ignored", i, 60*time.Second, isKind("ignored"))
	r.waitEvent("turn_done", i, 60*time.Second, isKind("turn_done"))
	for _, e := range r.events()[i:] {
		switch e.kind() {
		case "ignored":
			if !strings.HasPrefix(e.str("reason"), "not speech: ") {
				t.Errorf("ignored because %q, want the guard's reason", e.str("reason"))
			}
		case "turn_done":
			if !strings.HasPrefix(e.str("reason"), "ignored") {
				t.Errorf("turn_done = %v", e)
			}
		case "transcript", "token", "reply":
			t.Errorf("the dropped utterance reached the language model: %v", e)
		}
	}
}

// TestE2EBargeIn: hands-free, a person who talks over a reply cuts it short (kept, marked
// interrupted) and their new question becomes the next turn.
func TestE2EBargeIn(t *testing.T) {
	testenv.LockAudio(t)
	wav := spokenQuestion(t)
	w := startWindow(t, "kiosk-barge-in", append([]string{"--mode", "kiosk", "--no-supervise"}, voiceModels(t, slowModel(t))...)...)
	i := w.ready(90 * time.Second)
	_, i = w.events.waitFor(t, i, 60*time.Second, "listening", isState("listening"))
	say(t, wav)
	first, i := w.events.waitFor(t, i, 60*time.Second, "transcript", isKind("transcript"))
	_, i = w.events.waitFor(t, i, 60*time.Second, "token", isKind("token"))
	w.shot("1-replying")
	say(t, wav) // talk over the reply
	turn := first.num("turn")
	rep, _ := w.events.waitFor(t, i, 30*time.Second, "first reply", func(e event) bool { return e.kind() == "reply" && e.num("turn") == turn })
	if !rep.flag("interrupted") {
		t.Errorf("the reply talked over is %v, want interrupted", rep)
	}
	next, _ := w.events.waitFor(t, i, 60*time.Second, "second transcript", func(e event) bool {
		return e.kind() == "transcript" && e.num("turn") > turn
	})
	if next.str("input") != "voice" {
		t.Errorf("second turn = %v", next)
	}
	w.shot("2-barged-in")
}
