package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hark/app"
	"hark/app/config"
	"hark/audio"
	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// speechEvents collects the assistant's events for a test.
type speechEvents struct {
	mu  sync.Mutex
	evs []app.Event
	ch  chan struct{}
}

func newSpeechEvents() *speechEvents { return &speechEvents{ch: make(chan struct{}, 1)} }

func (l *speechEvents) Publish(e app.Event) {
	if e.Kind == app.EventLevel {
		return
	}
	l.mu.Lock()
	l.evs = append(l.evs, e)
	l.mu.Unlock()
	select {
	case l.ch <- struct{}{}:
	default:
	}
}

// wait returns the first event that matches, or fails after timeout.
func (l *speechEvents) wait(t testing.TB, what string, timeout time.Duration, match func(app.Event) bool) app.Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		for _, e := range l.evs {
			if match(e) {
				l.mu.Unlock()
				return e
			}
		}
		l.mu.Unlock()
		select {
		case <-l.ch:
		case <-deadline:
			t.Fatalf("no %s within %v; events:\n%s", what, timeout, l.dump())
		}
	}
}

func (l *speechEvents) all() []app.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]app.Event(nil), l.evs...)
}

func (l *speechEvents) dump() string {
	var b strings.Builder
	for _, e := range l.all() {
		if e.Kind == app.EventToken {
			continue
		}
		b.WriteString(e.At.Format("15:04:05.000") + " " + string(e.Kind) + " " + e.State.String() + " " + e.Text + " " + e.Reason)
		if e.Interrupted {
			b.WriteString(" (interrupted)")
		}
		if e.Err != nil {
			b.WriteString(" err=" + e.Err.Error())
		}
		b.WriteString("\n")
	}
	return b.String()
}

// startAssistant runs the real assistant (real engines on the shared test models, the virtual
// microphone and speaker) hands-free with speech on, until the test ends.
func startAssistant(t testing.TB, extra ...string) (*app.Assistant, *speechEvents, *setup) {
	t.Helper()
	testenv.Deadline(t, 10*time.Minute) // a stuck engine or device fails the test, not the run
	a, log, s, stop := launchAssistant(t, extra...)
	t.Cleanup(stop)
	return a, log, s
}

// launchAssistant is startAssistant with the stop left to the caller (a benchmark runs one
// assistant at a time, each on the one virtual microphone).
func launchAssistant(t testing.TB, extra ...string) (*app.Assistant, *speechEvents, *setup, func()) {
	t.Helper()
	return launchAssistantWith(t, nil, nil, extra...)
}

// launchAssistantWith is launchAssistant with tweak applied to the setup, then wrap to the
// engines' loaders, before the engines load (nil: nothing).
func launchAssistantWith(t testing.TB, tweak func(*setup), wrap func(*app.Loaders), extra ...string) (*app.Assistant, *speechEvents, *setup, func()) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	sets := map[string]string{
		"models.asr":              testmodels.Shared(t, "whisper-tiny-random.en.bin"),
		"models.llm":              testmodels.Shared(t, "stories260K.gguf"),
		"models.vad":              testmodels.Shared(t, "ggml-silero-v6.2.0.bin"),
		"assistant.hands_free":    "true",
		"speech.enabled":          "true",
		"assistant.max_tokens":    "120",
		"history.enabled":         "false",
		"assistant.follow_up":     "0s",
		"assistant.wake_phrase":   "",
		"assistant.temperature":   "0",
		"assistant.system_prompt": "Once upon a time",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		sets[extra[i]] = extra[i+1]
	}
	var flags []config.Override
	for k, v := range sets {
		flags = append(flags, config.Override{Key: k, Value: v, Flag: "--set " + k})
	}
	s, err := newSetup(config.Options{Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	if s.problems != nil {
		t.Fatalf("configuration: %v", s.problems)
	}
	s.noGuard = true // the random-weight whisper model hears "system system ...": keep it
	s.echo.trace = &echoTrace{}
	if tweak != nil {
		tweak(s)
	}
	loaders := s.loaders()
	if wrap != nil {
		wrap(&loaders)
	}
	log := newSpeechEvents()
	a := app.New(app.Options{Config: s.assistantConfig(), Loaders: loaders, Sink: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("the assistant did not stop")
		}
	}
	log.wait(t, "readiness", 60*time.Second, func(e app.Event) bool {
		return e.Kind == app.EventReadiness && e.Readiness.Voice && e.Readiness.Type
	})
	return a, log, s, stop
}

// say writes text spoken by espeak-ng (16 kHz) to a WAV file and returns its path.
func sayWAV(t testing.TB, text, voice string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "say.wav")
	if out, err := exec.Command("sh", "-c", `espeak-ng -v "$1" --stdout "$2" | sox -t wav - -r 16000 "$3"`, "sh", voice, text, p).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng | sox: %v\n%s", err, out)
	}
	return p
}

// playInto plays a WAV file into a sink (vmic_in: what the microphone hears) at gain dB.
func playInto(t testing.TB, sink, wav string, gainDB float64) *exec.Cmd {
	t.Helper()
	vol := int(65536 * math.Pow(10, gainDB/20))
	cmd := exec.Command("paplay", "-d", sink, "--volume="+strconv.Itoa(vol), wav)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// loopback routes the virtual speaker into the virtual microphone at gain dB (the assistant's
// voice reaching its microphone through the room) until the test ends.
func loopback(t *testing.T, gainDB float64) {
	t.Helper()
	out, err := exec.Command("pactl", "load-module", "module-loopback", "source=vspeaker.monitor", "sink=vmic_in",
		"latency_msec=40", "adjust_time=0", "source_dont_move=true", "sink_dont_move=true").Output()
	if err != nil {
		t.Fatalf("pactl load-module module-loopback: %v", err)
	}
	id := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("pactl", "unload-module", id).Run() })
	// Let its latency settle (it starts with a second or more of buffer), then set its volume.
	warm := filepath.Join(t.TempDir(), "warm.wav")
	if out, err := exec.Command("sox", "-n", "-r", "16000", "-c", "1", warm, "synth", "2", "pinknoise", "vol", "0.01").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	if out, err := exec.Command("paplay", "-d", "vspeaker", warm).CombinedOutput(); err != nil {
		t.Fatalf("paplay: %v\n%s", err, out)
	}
	time.Sleep(500 * time.Millisecond)
	list, _ := exec.Command("pactl", "list", "short", "sink-inputs").Output()
	for _, line := range strings.Split(string(list), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[2] == id {
			vol := int(65536 * math.Pow(10, gainDB/20))
			_ = exec.Command("pactl", "set-sink-input-volume", f[0], strconv.Itoa(vol)).Run()
		}
	}
}

// silence reports whether m holds a stretch of at least d quieter than dbfs between from and to.
func (m *monitor) silence(from, to time.Time, d time.Duration, dbfs float64) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := max(int(from.Sub(m.start).Seconds()*16000), 0)
	b := min(int(to.Sub(m.start).Seconds()*16000), len(m.pcm))
	if a >= b {
		return time.Time{}, false
	}
	run := 0
	for i, e := range envelope(m.pcm[a:b], 16000) {
		if e < math.Pow(10, dbfs/20) {
			run++
			if run*10 >= int(d.Milliseconds()) {
				return from.Add(time.Duration(i) * 10 * time.Millisecond), true
			}
		} else {
			run = 0
		}
	}
	return time.Time{}, false
}

// sounding reports whether every 10 ms frame of the last d was louder than dbfs.
func (m *monitor) sounding(d time.Duration, dbfs float64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := int(d.Seconds() * 16000)
	if len(m.pcm) < n {
		return false
	}
	for _, e := range envelope(m.pcm[len(m.pcm)-n:], 16000) {
		if e < math.Pow(10, dbfs/20) {
			return false
		}
	}
	return true
}

// soundSpan returns the times of the first and last 10 ms frame louder than dbfs in m after from.
func (m *monitor) soundSpan(from time.Time, dbfs float64) (first, last time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i0 := max(int(from.Sub(m.start).Seconds()*16000), 0)
	env := envelope(m.pcm[min(i0, len(m.pcm)):], 16000)
	for i, e := range env {
		if e > math.Pow(10, dbfs/20) {
			at := from.Add(time.Duration(i) * 10 * time.Millisecond)
			if first.IsZero() {
				first = at
			}
			last = at
		}
	}
	return first, last
}

// bargeIn is one barge-in timed at the devices.
type bargeIn struct {
	// latency as a person would time it: from the first sound of the question at the
	// microphone to the start of the speaker's silence.
	latency  time.Duration
	stats    bargeStats
	spk, mic []float32 // the speaker's and the microphone's monitors
}

// bargeInAtDevices asks the assistant for a story and, a second into its speech, in the middle
// of a word, plays a question into the virtual microphone: the reply must stop, and the
// question be transcribed as a new turn.
func bargeInAtDevices(tb testing.TB, a *app.Assistant, log *speechEvents, s *setup, question string) bargeIn {
	tb.Helper()
	spk := recordSource(tb, "vspeaker.monitor")
	mic := recordSource(tb, "vmic_in.monitor")
	a.Ask("Tell me a story about a cat.")
	log.wait(tb, "speaking", 30*time.Second, func(e app.Event) bool { return e.Kind == app.EventState && e.State == app.StateSpeaking })
	// Talk over it a second into its speech, in the middle of a word: the assistant's voice
	// has been loud for the last 100 ms.
	time.Sleep(time.Second)
	for deadline := time.Now().Add(10 * time.Second); !spk.sounding(100*time.Millisecond, -30) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	asked := time.Now()
	played := playInto(tb, "vmic_in", question, 0)
	ev := log.wait(tb, "the interrupted reply", 20*time.Second, func(e app.Event) bool {
		return e.Kind == app.EventTurnDone && e.Turn == 1
	})
	if !ev.Interrupted {
		tb.Errorf("turn 1 ended without being interrupted:\n%s", log.dump())
	}
	log.wait(tb, "the barge-in", time.Second, func(e app.Event) bool { return e.Kind == app.EventSpeech })
	log.wait(tb, "the new utterance transcribed", 30*time.Second, func(e app.Event) bool {
		return e.Kind == app.EventTranscript && e.Input == app.InputVoice && e.Turn >= 2
	})
	_ = played.Wait()
	r := bargeIn{stats: s.echo.lastBarge()}
	if r.stats.Decided.IsZero() || r.stats.Stopped.IsZero() {
		tb.Fatalf("barge-in not timed: %+v", r.stats)
	}
	// The speaker's silence (at least 300 ms: longer than a pause between words; the next
	// reply needs a transcript and a language model first), looked for from the stop: a pause
	// in the reply before it is not the cut. Both monitors belong to the one sound server and
	// are timed alike (monitor.read).
	onset, _ := mic.soundSpan(asked, -50)
	if quiet, ok := spk.silence(r.stats.Stopped, onset.Add(3*time.Second), 300*time.Millisecond, -50); !onset.IsZero() && ok {
		r.latency = quiet.Add(-290 * time.Millisecond).Sub(onset)
	}
	r.spk, r.mic = spk.stop(), mic.stop()
	if r.latency <= 0 {
		tb.Fatalf("no silence at the speaker after the stop (%s), with the question begun at the microphone (%s)",
			r.stats.Stopped.Format("15:04:05.000"), onset.Format("15:04:05.000"))
	}
	return r
}

func TestBargeInThroughMicrophone(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	question := sayWAV(t, "Stop. What is the weather like tomorrow?", "en-gb+f3")
	a, log, s := startAssistant(t)
	r := bargeInAtDevices(t, a, log, s, question)
	keepWAV(t, "bargein", "speaker.wav", r.spk)
	keepWAV(t, "bargein", "microphone.wav", r.mic)
	t.Logf("events:\n%s", log.dump())
	// Figures for a person reading the log; BenchmarkBargeInAtDevices measures them.
	t.Logf("barge-in at the devices: %v from the question's first sound at the microphone to silence at the speaker; "+
		"the assistant's account: %v of the person's voice (in %d ms capture chunks) before the decision, %v from the decision to the player's return",
		r.latency.Round(time.Millisecond), r.stats.Heard.Round(time.Millisecond), bargeInCapturePeriodMs,
		r.stats.Stopped.Sub(r.stats.Decided).Round(time.Millisecond))
}

// BenchmarkBargeInAtDevices times barge-in end to end, as a person would: a fresh assistant
// per run speaks a story, a question is played into the virtual microphone a second into it,
// and the latency runs from the question's first sound at the microphone to silence at the
// speaker, both on the sound server's monitors. Needs the test sound server; a few runs are
// enough: go test -run '^$' -bench BargeInAtDevices -benchtime 7x .
func BenchmarkBargeInAtDevices(b *testing.B) {
	testenv.Require(b)
	testenv.LockAudio(b)
	question := sayWAV(b, "Stop. What is the weather like tomorrow?", "en-gb+f3")
	var lat, heard, stop []float64
	for range b.N {
		a, log, s, done := launchAssistant(b)
		r := bargeInAtDevices(b, a, log, s, question)
		done()
		lat = append(lat, float64(r.latency)/1e6)
		heard = append(heard, float64(r.stats.Heard)/1e6)
		stop = append(stop, float64(r.stats.Stopped.Sub(r.stats.Decided))/1e6)
	}
	b.ReportMetric(percentile(lat, 0.5), "onset-to-silence-ms-median")
	b.ReportMetric(slices.Min(lat), "onset-to-silence-ms-min")
	b.ReportMetric(slices.Max(lat), "onset-to-silence-ms-max")
	b.ReportMetric(percentile(heard, 0.5), "voice-before-decision-ms-median")
	b.ReportMetric(percentile(stop, 0.5), "decision-to-return-ms-median")
}

// TestEchoDoesNotInterrupt routes the virtual speaker back into the virtual microphone (6 dB
// down: the assistant's voice reaching its own microphone through a room) and asks two
// questions with nobody speaking: both replies must be spoken to the end.
func TestEchoDoesNotInterrupt(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	loopback(t, -6)
	a, log, s := startAssistant(t)
	keepTrace(t, "echo", "no-person", s)
	mic := recordSource(t, "vmic_in.monitor")
	for turn, q := range []string{"Tell me a story about a cat.", "Tell me a story about a dog."} {
		a.Ask(q)
		ev := log.wait(t, "the reply spoken", 90*time.Second, func(e app.Event) bool {
			return e.Kind == app.EventTurnDone && e.Turn == turn+1
		})
		if ev.Interrupted || ev.Err != nil {
			t.Errorf("turn %d: interrupted=%v err=%v; the assistant interrupted itself:\n%s", turn+1, ev.Interrupted, ev.Err, log.dump())
		}
		st := s.echo.lastSpoken()
		t.Logf("turn %d: %d of %d sentences spoken, %v of speech; first audio %v after the first token",
			turn+1, st.Played, st.Chunks, st.Audio.Round(time.Millisecond), st.FirstAudio.Round(time.Millisecond))
		if st.Played != st.Chunks || st.Interrupted {
			t.Errorf("turn %d: spoke %d of %d sentences", turn+1, st.Played, st.Chunks)
		}
	}
	keepWAV(t, "echo", "microphone-no-person.wav", mic.stop())
	if b := s.echo.lastBarge(); !b.Decided.IsZero() {
		t.Errorf("the barge-in detector cut the reply at %s with nobody speaking", b.Decided.Format("15:04:05.000"))
	}
	for _, e := range log.all() {
		if e.Kind == app.EventSpeech {
			t.Errorf("the assistant heard speech at %s with nobody speaking (its own echo)", e.At.Format("15:04:05.000"))
		}
	}
	t.Logf("echo delay learnt: %v; events:\n%s", lagOf(s), log.dump())
}

// TestEchoBargeIn: the same loop, and a person talks over the reply: it is interrupted.
func TestEchoBargeIn(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	loopback(t, -6)
	question := sayWAV(t, "Stop. What is the weather like tomorrow?", "en-gb+f3")
	a, log, s := startAssistant(t)
	keepTrace(t, "echo", "with-person", s)
	spk := recordSource(t, "vspeaker.monitor")
	mic := recordSource(t, "vmic_in.monitor")
	// A first reply lets the echo canceller converge, as in a car after the first exchange.
	a.Ask("Tell me a story about a cat.")
	log.wait(t, "the first reply spoken", 90*time.Second, func(e app.Event) bool { return e.Kind == app.EventTurnDone && e.Turn == 1 })
	a.Ask("Tell me a story about a dog.")
	log.wait(t, "speaking", 30*time.Second, func(e app.Event) bool {
		return e.Kind == app.EventState && e.State == app.StateSpeaking && e.At.After(time.Now().Add(-time.Second))
	})
	time.Sleep(1500 * time.Millisecond)
	asked := time.Now()
	playInto(t, "vmic_in", question, 0)
	ev := log.wait(t, "the interrupted reply", 30*time.Second, func(e app.Event) bool { return e.Kind == app.EventTurnDone && e.Turn == 2 })
	if !ev.Interrupted {
		t.Errorf("turn 2 was not interrupted:\n%s", log.dump())
	}
	log.wait(t, "the new utterance transcribed", 30*time.Second, func(e app.Event) bool {
		return e.Kind == app.EventTranscript && e.Input == app.InputVoice && e.Turn >= 3
	})
	keepWAV(t, "echo", "speaker-with-person.wav", spk.stop())
	keepWAV(t, "echo", "microphone-with-person.wav", mic.stop())
	// The microphone hears the echo all along, so the person's onset is not known here (the
	// decision benchmark times it): the decision is timed from the start of paplay, whose
	// own start-up is included.
	b := s.echo.lastBarge()
	t.Logf("barge-in over the echo decided %v after paplay started playing the question; echo delay learnt %v; events:\n%s",
		b.Decided.Sub(asked).Round(time.Millisecond), lagOf(s), log.dump())
}

var traceRuns atomic.Int32

// keepTrace saves, when the test ends (failed or not), what the barge-in gate got (raw
// microphone, echo-cancelled microphone, playback; lined up) and its decision for each frame,
// under test-artifacts/<dir>/<name>-<run>-*.
func keepTrace(t *testing.T, dir, name string, s *setup) {
	t.Helper()
	t.Cleanup(func() {
		tr := s.echo.trace
		tr.mu.Lock()
		defer tr.mu.Unlock()
		base := filepath.Join(testenv.ArtifactDir(t, dir), fmt.Sprintf("%s-%d", name, traceRuns.Add(1)))
		for suffix, pcm := range map[string][]float32{"raw": tr.raw, "clean": tr.clean, "far": tr.far} {
			if err := audio.WriteWAV(base+"-"+suffix+".wav", audio.PCM{Rate: 16000, Samples: pcm}); err != nil {
				t.Error(err)
			}
		}
		var b strings.Builder
		b.WriteString("t_s\tspeech\tmic\traw\tplayback\tcoupling\terle\tsettled\tpassed\tstrong\trun\n")
		for _, f := range tr.frames {
			fmt.Fprintf(&b, "%.3f\t%.2f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%v\t%v\t%v\t%d\n", f.End.Seconds(),
				f.Speech, f.Mic, f.Raw, f.Playback, f.Coupling, f.ERLE, f.Settled, f.Passed, f.Strong, f.Run)
		}
		for _, at := range tr.barged {
			fmt.Fprintf(&b, "# barge-in let through at %.3f s\n", float64(at)/16000)
		}
		if err := os.WriteFile(base+"-frames.tsv", []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
		t.Logf("gate trace: %s-{raw,clean,far}.wav, %s-frames.tsv", base, base)
	})
}

func lagOf(s *setup) time.Duration {
	s.echo.mu.Lock()
	defer s.echo.mu.Unlock()
	if s.echo.stream == nil {
		return 0
	}
	return s.echo.stream.Lag()
}
