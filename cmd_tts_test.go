package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hark/audio"
	"hark/audio/device"
	"hark/internal/testenv"
	"hark/tts"
)

func TestVoicesCLI(t *testing.T) {
	tests := []struct {
		name string
		step cliStep
	}{
		{"lists english voices", cliStep{[]string{"voices", "--lang", "en"}, 0, []string{"VOICE", "gmw/en-US", "en-us", "English (America)"}, nil}},
		{"lists every language", cliStep{[]string{"voices"}, 0, []string{"gmw/de", "roa/fr", "sit/cmn"}, nil}},
		{"lists variants", cliStep{[]string{"voices", "--variants"}, 0, []string{"VARIANT", "+f3", "female"}, nil}},
		{"unknown language", cliStep{[]string{"voices", "--lang", "xx"}, 1, nil, []string{`no voice speaks "xx"`}}},
		{"stray argument", cliStep{[]string{"voices", "en"}, 2, nil, []string{"takes no arguments"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out := tt.step.check(t); tt.step.wantCode == 1 && out != "" {
				t.Errorf("hark %s: printed %q before failing", strings.Join(tt.step.args, " "), out)
			}
		})
	}
}

// monitor is a recording of a sink's monitor at 16 kHz (recordSource).
type monitor struct {
	start time.Time // wall time of the first sample, roughly
	cmd   *exec.Cmd
	mu    sync.Mutex
	pcm   []float32
	done  chan struct{}
}

// recordSource records a source (a sink's monitor: vspeaker.monitor is what Hark plays) at
// 16 kHz until the test ends.
func recordSource(t testing.TB, source string) *monitor {
	t.Helper()
	cmd := exec.Command("parec", "-d", source, "--raw", "--format=float32le", "--rate=16000", "--channels=1", "--latency-msec=20")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("parec: %v", err)
	}
	m := &monitor{cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		m.read(out)
	}()
	t.Cleanup(func() { m.stop() })
	// Wait until the recording runs, so nothing played is missed.
	for deadline := time.Now().Add(5 * time.Second); m.len() < 1600 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	return m
}

// read collects the recording. The wall time of its first sample is estimated from the
// earliest arrival of the data (it is only ever late), to a few milliseconds.
func (m *monitor) read(r io.Reader) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		now := time.Now()
		m.mu.Lock()
		for i := 0; i+4 <= n; i += 4 {
			m.pcm = append(m.pcm, math.Float32frombits(binary.LittleEndian.Uint32(buf[i:])))
		}
		if est := now.Add(-time.Duration(len(m.pcm)) * time.Second / 16000); m.start.IsZero() || est.Before(m.start) {
			m.start = est
		}
		m.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (m *monitor) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pcm)
}

func (m *monitor) stop() []float32 {
	if m.cmd.Process != nil {
		_ = m.cmd.Process.Kill()
	}
	<-m.done
	_ = m.cmd.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pcm
}

// envelope returns the RMS of each 10 ms of pcm.
func envelope(s []float32, rate int) []float64 {
	n := rate / 100
	env := make([]float64, len(s)/n)
	for i := range env {
		var sum float64
		for _, x := range s[i*n : (i+1)*n] {
			sum += float64(x) * float64(x)
		}
		env[i] = math.Sqrt(sum / float64(n))
	}
	return env
}

// speechSpan returns the first and last 10 ms frame louder than -45 dBFS.
func speechSpan(env []float64) (first, last int) {
	first, last = -1, -1
	for i, e := range env {
		if e > math.Pow(10, -45.0/20) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

func corr(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

// compareSpeech checks that captured (16 kHz) holds the reference speech (at refRate) once,
// whole and in order, and that nothing was inserted at the boundaries between its pieces
// (boundaries: sample offsets in ref where one Play or Enqueue ended and the next began).
//
// The comparison aligns the 10 ms loudness envelopes, letting the capture hold extra silent
// frames anywhere: an overloaded test machine sometimes starves the sound server, which then
// plays a few tens of milliseconds of silence, in the middle of a word or in a pause. Those
// are logged, and so is silence at a boundary: a player without a queue drains its buffer
// before Play returns, so a Speaker that must call it once per sentence leaves a gap there
// (audio/device.Player's Enqueue does not). A gap at every boundary of two or more fails the
// test. (How long the player waited for synthesis is a figure for the benchmarks,
// BenchmarkSpeakerAtDevice, not a pass mark: a starved machine makes any wait.)
func compareSpeech(t *testing.T, captured []float32, ref audio.PCM, boundaries ...int) {
	t.Helper()
	ce, re := envelope(captured, 16000), envelope(ref.Samples, ref.Rate)
	cf, cl := speechSpan(ce)
	rf, rl := speechSpan(re)
	if cf < 0 {
		t.Fatalf("the speaker's monitor recorded only silence (%d samples)", len(captured))
	}
	if peak := slices.Max(ce[cf : cl+1]); 20*math.Log10(peak) < -30 {
		t.Errorf("speech peaks at %.1f dBFS: not audible", 20*math.Log10(peak))
	}
	a, b := toDB(re[rf:rl+1]), toDB(ce[cf:cl+1])
	capDur, refDur := time.Duration(len(b))*10*time.Millisecond, time.Duration(len(a))*10*time.Millisecond
	t.Logf("speech on the speaker: %v; synthesized: %v", capDur, refDur)
	inserted, cost, ok := alignEnvelopes(a, b)
	if !ok {
		t.Fatalf("the recorded speech (%v) does not match the synthesized speech (%v): something is missing, "+
			"reordered or distorted; recording kept", capDur, refDur)
	}
	t.Logf("envelopes match within %.1f dB on average", cost)
	if cost > 4 {
		t.Errorf("envelopes differ by %.1f dB on average, want <= 4 dB", cost)
	}
	// Which ref frames lie in the pause that holds boundary k (k+1; 0: none)?
	nearBoundary := make([]int, len(a))
	for k, bs := range boundaries {
		i := bs*100/ref.Rate - rf
		for j := i; j >= 0 && j < len(a) && a[j] < -55; j-- {
			nearBoundary[j] = k + 1
		}
		for j := max(i, 0); j < len(a) && a[j] < -55; j++ {
			nearBoundary[j] = k + 1
		}
		if i >= 0 && i < len(a) {
			nearBoundary[i] = k + 1
		}
	}
	// Frames cut at different phases make the alignment move pauses by a frame or two; a
	// starved device or a Speaker that let the queue run dry leaves 30 ms and more.
	var atBoundary, elsewhere []string
	gapped := map[int]bool{}
	for _, run := range runs(inserted) {
		if run[1] < 3 {
			continue
		}
		desc := fmt.Sprintf("%d ms at %.2f s", run[1]*10, float64(run[0])/100)
		if k := nearBoundary[min(run[0], len(a)-1)]; k > 0 {
			atBoundary = append(atBoundary, desc)
			gapped[k] = true
		} else {
			elsewhere = append(elsewhere, desc)
		}
	}
	if len(elsewhere) > 0 {
		t.Logf("extra silence inside the speech (alignment slack in pauses, or a sound server starved by an overloaded machine): %v", elsewhere)
	}
	switch {
	case len(boundaries) >= 2 && len(gapped) == len(boundaries):
		t.Errorf("a gap at every boundary between sentences: %v", atBoundary)
	case len(gapped) > 0:
		t.Logf("extra silence at %d of %d boundaries (%v): where the player drained between two Play calls, or the sound server starved", len(gapped), len(boundaries), atBoundary)
	}
}

func toDB(env []float64) []float64 {
	out := make([]float64, len(env))
	for i, e := range env {
		out[i] = -60
		if e > 0 {
			out[i] = max(20*math.Log10(e), -60)
		}
	}
	return out
}

// alignEnvelopes aligns the loudness envelopes (dB, floored at -60) of a reference a and a
// recording b that may hold extra silent frames (< -55 dB) and may lack a few quiet ones
// (< -40 dB: the two are cut into 10 ms frames at different phases), but must otherwise follow
// a frame for frame. It returns, for each extra frame, the index in a before which it was
// inserted, and the mean difference of the matched frames.
func alignEnvelopes(a, b []float64) (inserted []int, meanDiff float64, ok bool) {
	const inf = math.MaxFloat64 / 4
	n, m := len(a), len(b)
	// cost[i][j]: best cost of aligning a[:i] with b[:j]; from[i][j]: 1 = match, 2 = an extra
	// frame in b, 3 = a frame of a missing from b.
	cost := make([][]float64, n+1)
	from := make([][]byte, n+1)
	for i := range cost {
		cost[i] = make([]float64, m+1)
		from[i] = make([]byte, m+1)
		for j := range cost[i] {
			cost[i][j] = inf
		}
	}
	cost[0][0] = 0
	for i := 0; i <= n; i++ {
		for j := 0; j <= m; j++ {
			if i > 0 && a[i-1] < -40 && cost[i-1][j] < inf {
				if c := cost[i-1][j] + 0.5; c < cost[i][j] {
					cost[i][j], from[i][j] = c, 3
				}
			}
			if j == 0 {
				continue
			}
			if i > 0 && cost[i-1][j-1] < inf {
				if c := cost[i-1][j-1] + math.Abs(a[i-1]-b[j-1]); c < cost[i][j] {
					cost[i][j], from[i][j] = c, 1
				}
			}
			if b[j-1] < -55 && cost[i][j-1] < inf {
				// A small price per inserted frame prefers matching a pause to inserting one.
				if c := cost[i][j-1] + 0.5; c < cost[i][j] {
					cost[i][j], from[i][j] = c, 2
				}
			}
		}
	}
	if cost[n][m] >= inf {
		return nil, 0, false
	}
	var diff float64
	matched := 0
	for i, j := n, m; i > 0 || j > 0; {
		switch from[i][j] {
		case 2:
			inserted = append(inserted, i)
			j--
		case 3:
			i--
		default:
			diff += math.Abs(a[i-1] - b[j-1])
			matched++
			i, j = i-1, j-1
		}
	}
	slices.Reverse(inserted)
	return inserted, diff / float64(max(matched, 1)), true
}

// runs groups sorted positions into [start, length] runs of equal positions.
func runs(pos []int) [][2]int {
	var out [][2]int
	for _, p := range pos {
		if len(out) > 0 && out[len(out)-1][0] == p {
			out[len(out)-1][1]++
			continue
		}
		out = append(out, [2]int{p, 1})
	}
	return out
}

const sayText = "Hello there. The meeting is at 3:30 pm, about 5 km away. Bring the report, please."

// TestSayPlaysAudio runs `hark say` as a person would and records the virtual speaker.
func TestSayPlaysAudio(t *testing.T) {
	testenv.Require(t)
	testenv.Deadline(t, 5*time.Minute)
	testenv.LockAudio(t)
	bin := harkBinary(t)
	ref := filepath.Join(t.TempDir(), "ref.wav")
	if out, err := exec.Command(bin, "say", "--out", ref, sayText).CombinedOutput(); err != nil {
		t.Fatalf("hark say --out: %v\n%s", err, out)
	}
	refPCM := readWAVNative(t, ref)
	// Where one sentence's audio ends and the next begins.
	synth, err := tts.NewEspeak()
	if err != nil {
		t.Fatal(err)
	}
	var boundaries []int
	c := tts.NewChunker(tts.ChunkerConfig{})
	for _, chunk := range append(c.Push(sayText), c.Flush()...) {
		pcm, err := synth.Synthesize(context.Background(), tts.Clean(chunk), tts.Voice{})
		if err != nil {
			t.Fatal(err)
		}
		boundaries = append(boundaries, len(pcm.Samples))
		if n := len(boundaries); n > 1 {
			boundaries[n-1] += boundaries[n-2]
		}
	}
	m := recordSource(t, "vspeaker.monitor")
	out, err := exec.Command(bin, "say", "-v", sayText).CombinedOutput()
	if err != nil {
		t.Fatalf("hark say: %v\n%s", err, out)
	}
	var synthWait time.Duration
	if i := strings.Index(string(out), "waiting for synthesis "); i >= 0 {
		synthWait, err = time.ParseDuration(strings.TrimRight(strings.Fields(string(out[i+len("waiting for synthesis "):]))[0], ")"))
		if err != nil {
			t.Fatal(err)
		}
	} else {
		t.Fatalf("hark say -v printed no wait:\n%s", out)
	}
	t.Logf("hark say -v: the player waited %v for synthesis", synthWait)
	time.Sleep(200 * time.Millisecond) // the monitor's own latency
	captured := m.stop()
	keepWAV(t, "say", "hark-say.wav", captured)
	compareSpeech(t, captured, refPCM, boundaries[:len(boundaries)-1]...)
}

// readWAVNative reads a WAV file at its own rate (`hark say --out` writes espeak-ng's 22050 Hz).
func readWAVNative(t *testing.T, path string) audio.PCM {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, _, err := audio.DecodeWAVFormat(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

func keepWAV(t *testing.T, dir, name string, s []float32) {
	t.Helper()
	path := filepath.Join(testenv.ArtifactDir(t, dir), name)
	if err := audio.WriteWAV(path, audio.PCM{Rate: 16000, Samples: s}); err != nil {
		t.Error(err)
	}
	t.Logf("recording: %s", path)
}

// signalPlayer tells when the first audio is handed to the player (a tts.QueuePlayer, as
// device.Player is).
type signalPlayer struct {
	*device.Player
	once    sync.Once
	started chan struct{}
}

func (p *signalPlayer) Play(ctx context.Context, pcm audio.PCM) error {
	p.once.Do(func() { close(p.started) })
	return p.Player.Play(ctx, pcm)
}

func (p *signalPlayer) Enqueue(ctx context.Context, pcm audio.PCM) <-chan error {
	p.once.Do(func() { close(p.started) })
	return p.Player.Enqueue(ctx, pcm)
}

// streamRun is one reply spoken from a fake LLM token stream to the virtual speaker.
type streamRun struct {
	st         tts.SpeakStats
	captured   []float32 // the speaker's monitor
	ref        audio.PCM // the sentences synthesized one by one and joined
	boundaries []int     // where in ref one sentence ends and the next begins
	// playedOpen: the first sentence was handed to the player while the stream was still
	// open (the stream waits for it before sending the rest).
	playedOpen bool
	lead       time.Duration // first sound at the speaker to the stream's end (monitor time)
}

// speakStream feeds the Speaker a fake LLM token stream and records the virtual speaker. The
// first sentence comes at 50 tokens/s; the rest only once the player has started on it, at
// 12 tokens/s, so a Speaker that waits for the whole reply before speaking is caught by order,
// not by a clock.
func speakStream(tb testing.TB) streamRun {
	tb.Helper()
	sentences := []string{"The capital of France is Paris.", "It sits on the river Seine.", "About two million people live there."}
	synth, err := tts.NewEspeak()
	if err != nil {
		tb.Fatal(err)
	}
	r := streamRun{ref: audio.PCM{Rate: synth.SampleRate()}}
	for _, s := range sentences {
		pcm, err := synth.Synthesize(context.Background(), s, tts.Voice{})
		if err != nil {
			tb.Fatal(err)
		}
		if len(r.ref.Samples) > 0 {
			r.boundaries = append(r.boundaries, len(r.ref.Samples))
		}
		r.ref.Samples = append(r.ref.Samples, pcm.Samples...)
	}
	dp, err := device.OpenPlayer(device.PlayerOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	player := &signalPlayer{Player: dp, started: make(chan struct{})}
	m := recordSource(tb, "vspeaker.monitor")

	pieces := make(chan string)
	var closedAt time.Time
	go func() {
		defer close(pieces)
		send := func(s string, every time.Duration) {
			for _, w := range strings.SplitAfter(s, " ") {
				pieces <- w
				time.Sleep(every)
			}
		}
		send(sentences[0]+" ", 20*time.Millisecond)
		select { // the rest is "generated" only once the first sentence is playing
		case <-player.started:
			r.playedOpen = true
		case <-time.After(2 * time.Minute): // a Speaker that never plays before the end
		}
		send(sentences[1]+" "+sentences[2], 80*time.Millisecond)
		closedAt = time.Now()
	}()
	r.st, err = tts.NewSpeaker(synth, player, tts.Voice{}).Speak(context.Background(), pieces)
	if err != nil {
		tb.Fatal(err)
	}
	dp.Close()
	time.Sleep(200 * time.Millisecond) // the monitor's own latency
	r.captured = m.stop()
	if first, _ := speechSpan(envelope(r.captured, 16000)); first >= 0 {
		m.mu.Lock()
		r.lead = closedAt.Sub(m.start.Add(time.Duration(first) * 10 * time.Millisecond))
		m.mu.Unlock()
	}
	return r
}

// TestSpeakerStreamsToSpeaker: the first sentence plays while the reply is still being
// generated, and the three sentences reach the speaker whole, in order, without gaps.
func TestSpeakerStreamsToSpeaker(t *testing.T) {
	testenv.Require(t)
	testenv.Deadline(t, 5*time.Minute)
	testenv.LockAudio(t)
	r := speakStream(t)
	keepWAV(t, "say", "speaker-stream.wav", r.captured)
	t.Logf("stats: %+v; first sound %v before the stream ended", r.st, r.lead.Round(time.Millisecond))
	if !r.playedOpen {
		t.Errorf("the Speaker did not start playing the first sentence until the token stream ended")
	}
	if r.st.Played != 3 {
		t.Errorf("played %d of 3 sentences", r.st.Played)
	}
	compareSpeech(t, r.captured, r.ref, r.boundaries...)
}

// BenchmarkSpeakerAtDevice measures speakStream at the virtual speaker: how long the player
// waited for synthesis, and how long before the token stream's end the first sound was heard
// (needs the test sound server: scripts/testenv/start.sh).
func BenchmarkSpeakerAtDevice(b *testing.B) {
	testenv.Require(b)
	testenv.LockAudio(b)
	var wait, lead []float64
	for b.Loop() {
		r := speakStream(b)
		if !r.playedOpen || r.st.Played != 3 {
			b.Fatalf("played %d of 3 sentences, the first while the stream was open: %v", r.st.Played, r.playedOpen)
		}
		wait = append(wait, float64(r.st.SynthWait)/1e6)
		lead = append(lead, float64(r.lead)/1e6)
	}
	b.ReportMetric(percentile(wait, 0.5), "synth-wait-ms-median")
	b.ReportMetric(slices.Max(wait), "synth-wait-ms-max")
	b.ReportMetric(percentile(lead, 0.5), "first-sound-before-end-ms-median")
	b.ReportMetric(slices.Min(lead), "first-sound-before-end-ms-min")
}

func TestSayCLI(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir) // no configuration file: the defaults
	wav := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no text", []string{"say", "--out", wav("x.wav"), ""}, 2, "say needs some text"},
		{"unknown voice", []string{"say", "--voice", "no-such-voice", "--out", wav("x.wav"), "Hello."}, 1, "hark voices"},
		{"writes a WAV", []string{"say", "--out", wav("normal.wav"), sayText}, 0, ""},
		{"faster rate", []string{"say", "--rate", "350", "--out", wav("fast.wav"), sayText}, 0, ""},
		{"voice and variant", []string{"say", "--voice", "en-us+f3", "--out", wav("f3.wav"), sayText}, 0, ""},
		{"other language", []string{"say", "--lang", "de", "--out", wav("de.wav"), "Guten Tag."}, 0, ""},
		{"earcon", []string{"say", "--earcon", "got-it", "--out", wav("earcon.wav")}, 0, ""},
		{"unknown earcon", []string{"say", "--earcon", "ding"}, 2, `no earcon "ding"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("hark %s: exit %d, stderr %q; want exit %d mentioning %q", strings.Join(tt.args, " "), code, errOut, tt.wantCode, tt.wantErr)
			}
		})
	}
	normal, fast := readWAVNative(t, wav("normal.wav")), readWAVNative(t, wav("fast.wav"))
	if normal.Rate != 22050 || normal.Duration() < 4*time.Second {
		t.Errorf("normal.wav: %d Hz, %v; want 22050 Hz, over 4 s", normal.Rate, normal.Duration())
	}
	if r := normal.Duration().Seconds() / fast.Duration().Seconds(); r < 1.5 {
		t.Errorf("350 wpm is only %.2f× faster than 175 wpm", r)
	}
	// The +f3 variant speaks the same words at about the same length in a higher voice.
	f3 := readWAVNative(t, wav("f3.wav"))
	if r := f3.Duration().Seconds() / normal.Duration().Seconds(); f3.Rate != normal.Rate || r < 0.7 || r > 1.4 {
		t.Errorf("f3.wav: %d Hz, %v; want %d Hz and about the length of the default voice's %v", f3.Rate, f3.Duration(), normal.Rate, normal.Duration())
	}
	if p0, p1 := medianPitch(normal), medianPitch(f3); p0 <= 0 || p1 < 1.3*p0 {
		t.Errorf("voice pitch: default %.0f Hz, en-us+f3 %.0f Hz; want the variant's clearly higher", p0, p1)
	} else {
		t.Logf("voice pitch: default %.0f Hz, en-us+f3 %.0f Hz", p0, p1)
	}
	// Two German words: a short clip, but speech, not an empty file.
	if de := readWAVNative(t, wav("de.wav")); de.Duration() < 300*time.Millisecond || de.Duration() > 3*time.Second || medianPitch(de) <= 0 {
		t.Errorf("de.wav: %v, pitch %.0f Hz; want two spoken words", de.Duration(), medianPitch(de))
	}
	// The earcon file is the earcon, sample for sample (16-bit): its two notes, 150 ms.
	e, want := readWAVNative(t, wav("earcon.wav")), tts.EarconGotIt.PCM()
	if e.Rate != want.Rate || len(e.Samples) != len(want.Samples) || len(want.Samples) != want.Rate*150/1000 {
		t.Fatalf("earcon.wav: %d samples at %d Hz; want %d at %d Hz (150 ms)", len(e.Samples), e.Rate, len(want.Samples), want.Rate)
	}
	for i := range e.Samples {
		if math.Abs(float64(e.Samples[i]-want.Samples[i])) > 2.0/32768 {
			t.Fatalf("earcon.wav differs from the earcon at sample %d: %v, want %v", i, e.Samples[i], want.Samples[i])
		}
	}
}

// medianPitch estimates a recording's voice pitch: the median over voiced 40 ms frames of the
// lag (60–400 Hz) where the frame best matches itself. 0: no voiced frame.
func medianPitch(p audio.PCM) float64 {
	n, minLag, maxLag := p.Rate*40/1000, p.Rate/400, p.Rate/60
	var f0 []float64
	for at := 0; at+n+maxLag <= len(p.Samples); at += n / 2 {
		x := p.Samples[at : at+n+maxLag]
		var energy float64
		for _, v := range x[:n] {
			energy += float64(v) * float64(v)
		}
		if math.Sqrt(energy/float64(n)) < 0.02 {
			continue // silence
		}
		best, bestLag := 0.0, 0
		for lag := minLag; lag <= maxLag; lag++ {
			var ab, bb float64
			for i := range n {
				ab += float64(x[i]) * float64(x[i+lag])
				bb += float64(x[i+lag]) * float64(x[i+lag])
			}
			if c := ab / math.Sqrt(energy*bb+1e-12); c > best {
				best, bestLag = c, lag
			}
		}
		if best > 0.7 {
			f0 = append(f0, float64(p.Rate)/float64(bestLag))
		}
	}
	if len(f0) == 0 {
		return 0
	}
	slices.Sort(f0)
	return f0[len(f0)/2]
}
