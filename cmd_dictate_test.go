package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"hark/app"
	"hark/app/config"
	"hark/audio"
	"hark/dictation"
	"hark/internal/subcheck"
)

// speechLike is n bursts of a warbling tone (400 ms) with pause ms of near-silence before
// each: what the energy detector takes for sentences.
func speechLike(n int, pause time.Duration) (pcm []float32) {
	r := rand.New(rand.NewPCG(5, 6))
	room := func(n int) {
		for range n {
			pcm = append(pcm, float32(r.NormFloat64()*0.0005))
		}
	}
	for i := range n {
		room(int(pause.Seconds() * audio.SampleRate))
		for k := range 6400 {
			f := 200 + 30*float64(i%5) + 50*math.Sin(float64(k)/300)
			pcm = append(pcm, float32(0.3*math.Sin(2*math.Pi*f*float64(k)/audio.SampleRate)))
		}
	}
	room(audio.SampleRate)
	return pcm
}

// counter is a fake transcriber: window k is heard as "sentence k".
type counter struct{ n int }

func (c *counter) Transcribe(_ context.Context, pcm audio.PCM, _ string) ([]dictation.Segment, error) {
	c.n++
	return []dictation.Segment{{Start: 100 * time.Millisecond, End: pcm.Duration(), Text: fmt.Sprintf("sentence %d", c.n)}}, nil
}

// mic plays pcm in 100 ms reads, then fails as an unplugged device does (or blocks until ctx
// is done, when fail is nil).
type mic struct {
	pcm  []float32
	fail error
}

func (m *mic) Read(ctx context.Context, p []float32) (int, error) {
	if len(m.pcm) == 0 {
		if m.fail != nil {
			return 0, m.fail
		}
		<-ctx.Done()
		return 0, ctx.Err()
	}
	n := copy(p, m.pcm)
	m.pcm = m.pcm[n:]
	return n, nil
}

func dictateOutputs(t *testing.T, args ...string) outputFlags {
	t.Helper()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	o := bindOutputFlags(fs, "json")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestDictateDeviceLost: the microphone goes away after three sentences; the three are in the
// file (0600), and the person is told what happened and that they are kept.
func TestDictateDeviceLost(t *testing.T) {
	out := filepath.Join(t.TempDir(), "visit.srt")
	d := dictation.New(&counter{}, audio.NewEnergyDetector(audio.EnergyConfig{}), dictation.Options{})
	lost := errors.New("device: capture device lost")
	var stdout, stderr strings.Builder
	_, err := dictateFrom(context.Background(), &mic{pcm: speechLike(3, 2*time.Second), fail: lost}, 0,
		func() string { return "en" }, d, dictateOutputs(t, "--out", out), &stdout, &stderr)
	var ue *app.UserError
	if !errors.As(err, &ue) || !errors.Is(err, lost) || !strings.Contains(ue.Msg, "kept") || !strings.Contains(ue.Msg, out) {
		t.Fatalf("error %v", err)
	}
	b, rerr := os.ReadFile(out)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if cues, err := subcheck.SRT(b); err != nil || len(cues) != 3 || cues[2].Text != "sentence 3" {
		t.Errorf("srt after the loss (%d cues, %v):\n%s", len(cues), err, b)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("transcript mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(stdout.String(), "] sentence 3") {
		t.Errorf("running transcript: %q", stdout.String())
	}
}

// TestDictateStops: --seconds ends the recording; Ctrl-C (ctx) ends it without an error and the
// utterance in progress is still transcribed.
func TestDictateStops(t *testing.T) {
	for _, c := range []struct {
		name   string
		limit  time.Duration
		cancel bool
		want   int
	}{
		{"seconds", 5 * time.Second, false, 2}, // sentences end at 2.4 s and 4.8 s
		{"ctrl-c", 0, true, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			d := dictation.New(&counter{}, audio.NewEnergyDetector(audio.EnergyConfig{}), dictation.Options{})
			m := &mic{pcm: speechLike(4, 2*time.Second)}
			if c.cancel {
				m.pcm = m.pcm[:len(m.pcm)-audio.SampleRate] // still speaking when stopped
				go func() {
					for len(m.pcm) > 0 {
						time.Sleep(10 * time.Millisecond)
					}
					cancel()
				}()
			}
			var stdout, stderr strings.Builder
			if _, err := dictateFrom(ctx, m, c.limit, func() string { return "" }, d, dictateOutputs(t, "--txt"), &stdout, &stderr); err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(stdout.String(), "sentence "); got != c.want {
				t.Errorf("%d sentences in %q, want %d", got, stdout.String(), c.want)
			}
		})
	}
}

// lossyMic is a microphone on a machine too busy to take all its sound: every read waits
// 100 ms (or longer, on a loaded machine) and gives 50 ms of near-silence; the rest is
// dropped.
type lossyMic struct{}

func (lossyMic) Read(ctx context.Context, p []float32) (int, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(100 * time.Millisecond):
	}
	n := min(len(p), audio.SampleRate/20)
	for i := range n {
		p[i] = 0.0001
	}
	return n, nil
}

// TestDictateSecondsIsWallTime: --seconds 1 on a microphone that drops half of its sound
// stops after a second of recording, with less than a second of audio, instead of recording
// until a second of audio was read (two seconds or more).
func TestDictateSecondsIsWallTime(t *testing.T) {
	d := dictation.New(&counter{}, audio.NewEnergyDetector(audio.EnergyConfig{}), dictation.Options{})
	var stdout, stderr strings.Builder
	if _, err := dictateFrom(context.Background(), lossyMic{}, time.Second, func() string { return "" }, d, dictateOutputs(t, "--txt"), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`■ (\S+) of audio`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no audio length in %q", stderr.String())
	}
	heard, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if heard >= time.Second {
		t.Errorf("%v of audio recorded in --seconds 1 from a microphone that drops half: %q", heard, stderr.String())
	}
}

func TestOutputPaths(t *testing.T) {
	for _, c := range []struct {
		args []string
		want map[dictation.Format]string
	}{
		{nil, map[dictation.Format]string{dictation.TXT: ""}},
		{[]string{"--out", "a.vtt"}, map[dictation.Format]string{dictation.VTT: "a.vtt"}},
		{[]string{"--out", "a.json"}, map[dictation.Format]string{dictation.JSON: "a.json"}},
		{[]string{"--srt", "--out", "notes"}, map[dictation.Format]string{dictation.SRT: "notes"}},
		{[]string{"--srt", "--txt", "--out", "x/visit.wav"}, map[dictation.Format]string{dictation.SRT: "x/visit.srt", dictation.TXT: "x/visit.txt"}},
	} {
		got := dictateOutputs(t, c.args...).paths()
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q: %v, want %v", c.args, got, c.want)
		}
	}
	if err := dictateOutputs(t, "--srt", "--vtt").check(); err == nil {
		t.Error("two formats to standard output accepted")
	}
}

// TestDictationCarryPrompt: by default each dictation window is prompted with the words before
// it (PromptChars 0: the dictation package's default); dictation.carry_prompt = false hears
// each alone.
func TestDictationCarryPrompt(t *testing.T) {
	cfg := config.Default()
	if got := (&setup{cfg: cfg}).dictationOptions().PromptChars; !cfg.Dictation.CarryPrompt || got != 0 {
		t.Errorf("by default: carry_prompt %v, PromptChars %d", cfg.Dictation.CarryPrompt, got)
	}
	cfg.Dictation.CarryPrompt = false
	if got := (&setup{cfg: cfg}).dictationOptions().PromptChars; got >= 0 {
		t.Errorf("carry_prompt = false: PromptChars %d, want < 0 (none)", got)
	}
}

// closingMic is a mic that notes when it is closed.
type closingMic struct {
	mic
	closed chan struct{}
}

func (m *closingMic) Close() error {
	select {
	case <-m.closed:
	default:
		close(m.closed)
	}
	return nil
}

// waitsForClose is a transcriber that holds its first window until the microphone is closed
// (or 30 s pass), as a slow one on a busy machine does.
type waitsForClose struct {
	closed <-chan struct{}
	seen   bool
}

func (w *waitsForClose) Transcribe(_ context.Context, pcm audio.PCM, _ string) ([]dictation.Segment, error) {
	if !w.seen {
		select {
		case <-w.closed:
			w.seen = true
		case <-time.After(30 * time.Second):
		}
	}
	return []dictation.Segment{{End: pcm.Duration(), Text: "heard"}}, nil
}

// TestDictateReleasesMicrophone: the recording ends (the microphone is closed, so that sound
// it would capture meanwhile is not counted as dropped) while the queued windows are still
// being transcribed, not after them.
func TestDictateReleasesMicrophone(t *testing.T) {
	pcm := speechLike(3, 2*time.Second)
	m := &closingMic{mic: mic{pcm: pcm}, closed: make(chan struct{})}
	w := &waitsForClose{closed: m.closed}
	d := dictation.New(w, audio.NewEnergyDetector(audio.EnergyConfig{}), dictation.Options{})
	var stdout, stderr strings.Builder
	limit := time.Duration(len(pcm)) * time.Second / audio.SampleRate
	if _, err := dictateFrom(context.Background(), m, limit, func() string { return "" }, d, dictateOutputs(t, "--txt"), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !w.seen {
		t.Error("the microphone was still open while the first window was transcribed")
	}
}
