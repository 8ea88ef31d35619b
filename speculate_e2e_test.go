package main

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hark/app"
	"hark/audio"
	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// pausedQuestion writes a question spoken in two phrases with a pause of `pause` between them
// (espeak-ng, each phrase's own leading and trailing silence trimmed) and returns its path.
func pausedQuestion(t testing.TB, first, second string, pause time.Duration) string {
	t.Helper()
	dir := t.TempDir()
	trim := func(in, out string) {
		if o, err := exec.Command("sox", in, out, "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse").CombinedOutput(); err != nil {
			t.Fatalf("sox: %v\n%s", err, o)
		}
	}
	say := func(text, out string) { // espeak-ng's default voice, as the trained model knows it
		if o, err := exec.Command("espeak-ng", "-w", out, text).CombinedOutput(); err != nil {
			t.Fatalf("espeak-ng: %v\n%s", err, o)
		}
	}
	a, b := filepath.Join(dir, "a.wav"), filepath.Join(dir, "b.wav")
	say(first, a+".raw.wav")
	say(second, b+".raw.wav")
	trim(a+".raw.wav", a)
	trim(b+".raw.wav", b)
	// The first phrase, the pause, the second phrase; half a second of silence on both ends
	// so that the microphone hears the whole of it.
	padded, withPause := filepath.Join(dir, "a-padded.wav"), filepath.Join(dir, "paused.wav")
	if o, err := exec.Command("sox", a, padded, "pad", "0", fmt.Sprintf("%.3f", pause.Seconds())).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, o)
	}
	if o, err := exec.Command("sox", padded, b, withPause, "pad", "0.5", "0.5").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, o)
	}
	return withPause
}

// recordedASR wraps the transcriber loader: every utterance the segmenter ends is kept, and
// every transcription's text.
type recordedASR struct {
	mu     sync.Mutex
	utters []audio.PCM // the utterances the segmenter ended
	inputs []audio.PCM // what the assistant transcribed
	tr     app.Transcriber
}

func (r *recordedASR) wrap(l *app.Loaders) {
	loadTr, loadSeg := l.Transcriber, l.Segmenter
	l.Transcriber = func(ctx context.Context, p func(float64)) (app.Transcriber, error) {
		tr, err := loadTr(ctx, p)
		r.mu.Lock()
		r.tr = tr
		r.mu.Unlock()
		return recordingTr{tr, r}, err
	}
	l.Segmenter = func(ctx context.Context) (app.Segmenter, error) {
		s, err := loadSeg(ctx)
		if err != nil {
			return nil, err
		}
		return &recordingSeg{Segmenter: s, r: r}, nil
	}
}

type recordingTr struct {
	app.Transcriber
	r *recordedASR
}

func (t recordingTr) Transcribe(ctx context.Context, pcm audio.PCM) (app.Transcript, error) {
	t.r.mu.Lock()
	t.r.inputs = append(t.r.inputs, pcm)
	t.r.mu.Unlock()
	return t.Transcriber.Transcribe(ctx, pcm)
}

type recordingSeg struct {
	app.Segmenter
	r *recordedASR
}

func (s *recordingSeg) Push(x []float32) ([]app.Boundary, error) {
	bs, err := s.Segmenter.Push(x)
	for _, b := range bs {
		if b.End {
			s.r.mu.Lock()
			s.r.utters = append(s.r.utters, b.Utterance)
			s.r.mu.Unlock()
		}
	}
	return bs, err
}

// TestE2ESpeculativePause: hands-free, a question with a 400 ms pause in its middle, played
// into the virtual microphone, is ONE turn although speculation started on the pause (and
// dropped that start when the second phrase came); the committed transcript was made from
// the whole utterance (the same samples, zeros for the silence not yet heard) and is what a
// plain transcription of the utterance gives.
func TestE2ESpeculativePause(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	// The trained test whisper model, for a transcript made of words (it hears this question
	// through this path as another of its sentences, but the same one every time).
	wav := pausedQuestion(t, "Hey Hark,", "what time is it?", 400*time.Millisecond)
	rec := &recordedASR{}
	a, log, _, stop := launchAssistantWith(t, nil, rec.wrap, "speech.enabled", "false", "audio.speculative_silence", "200ms",
		"models.asr", testmodels.TrainedWhisper(t))
	defer stop()
	if out, err := exec.Command("paplay", "-d", "vmic_in", wav).CombinedOutput(); err != nil {
		t.Fatalf("paplay: %v\n%s", err, out)
	}
	done := log.wait(t, "the end of the turn", 60*time.Second, func(e app.Event) bool { return e.Kind == app.EventTurnDone })
	time.Sleep(1500 * time.Millisecond) // a second turn, if the question were cut in two, would have begun
	var transcripts []string
	turns := 0
	for _, e := range log.all() {
		switch e.Kind {
		case app.EventTranscript:
			transcripts = append(transcripts, e.Text)
		case app.EventTurnDone:
			turns++
		}
	}
	st := a.Speculation()
	t.Logf("speculation: %+v; transcripts %q", st, transcripts)
	if turns != 1 || len(transcripts) != 1 || done.Err != nil || done.Ignored != "" {
		t.Fatalf("%d turns, transcripts %q (turn done: %+v); want one turn:\n%s", turns, transcripts, done, log.dump())
	}
	if st.Started < 2 || st.Dropped < 1 || st.Committed != 1 {
		t.Errorf("speculation %+v: want a start dropped at the pause in the middle and one committed", st)
	}
	rec.mu.Lock()
	utters, inputs, tr := rec.utters, rec.inputs, rec.tr
	rec.mu.Unlock()
	if len(utters) != 1 {
		t.Fatalf("%d utterances, want 1", len(utters))
	}
	if d := utters[0].Duration(); d < 2*time.Second {
		t.Errorf("the utterance lasts %v: not the whole question", d)
	}
	// The committed transcript was made from the whole question: the utterance as it ended,
	// with zeros where its trailing silence had not been heard yet.
	u, in := utters[0].Samples, inputs[len(inputs)-1].Samples
	if len(in) != len(u) {
		t.Fatalf("transcribed %d samples; the utterance has %d", len(in), len(u))
	}
	for i := range u {
		if in[i] != u[i] && (in[i] != 0 || math.Abs(float64(u[i])) > 1e-3) {
			t.Fatalf("sample %d of %d: transcribed %v, the utterance has %v", i, len(u), in[i], u[i])
		}
	}
	plain, err := tr.Transcribe(context.Background(), utters[0])
	if err != nil {
		t.Fatal(err)
	}
	if plain.Text != transcripts[0] {
		t.Errorf("speculative transcript %q; the utterance transcribed plainly: %q", transcripts[0], plain.Text)
	}
}
