package asr

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"hark/asr/internal/vadtest"
	"hark/internal/testmodels"
)

// TestGuardRule checks the hallucination rule on synthetic segment statistics (with a random
// model the real statistics mean nothing).
func TestGuardRule(t *testing.T) {
	nan := float32(math.NaN())
	g := DefaultGuard()
	cases := []struct {
		name     string
		s        SegmentStats
		wantDrop string // "" = kept; else a word of the reason
	}{
		{"clear speech", SegmentStats{"Turn on the kitchen lights.", 0.02, -0.25}, ""},
		{"no speech by whisper's rule", SegmentStats{"Turn on the kitchen lights.", 0.8, -1.3}, "no speech"},
		{"high no-speech but confident", SegmentStats{"Turn on the kitchen lights.", 0.8, -0.4}, ""},
		{"unlikely but speech", SegmentStats{"Kiel Rendsburg Eckernförde", 0.1, -1.4}, ""},
		{"no no-speech probability, very unlikely", SegmentStats{"Blah blah", nan, -2.5}, "no speech"},
		{"no no-speech probability, plausible", SegmentStats{"Call mum", nan, -0.9}, ""},
		{"repetition", SegmentStats{strings.Repeat(" you", 40), 0.01, -0.1}, "repetition"},
		{"repeated phrase", SegmentStats{strings.Repeat(" Thank you very much.", 8), 0.05, -0.3}, "repetition"},
		{"blank audio tag", SegmentStats{"[BLANK_AUDIO]", 0.1, -0.2}, "annotation"},
		{"music tag", SegmentStats{" (upbeat music) ", 0.05, -0.3}, "annotation"},
		{"music symbols", SegmentStats{"♪ ♪", 0.05, -0.3}, "annotation"},
		{"tag with words", SegmentStats{"[laughs] okay, stop", 0.05, -0.3}, ""},
		{"phantom thank you on noise", SegmentStats{" Thank you.", 0.35, -0.5}, "phantom"},
		{"phantom thank you, low confidence", SegmentStats{"Thank you!", 0.05, -0.9}, "phantom"},
		{"real thank you", SegmentStats{"Thank you.", 0.03, -0.2}, ""},
		{"phantom you", SegmentStats{" you", 0.25, -0.4}, "phantom"},
		{"real you", SegmentStats{"You", 0.01, -0.1}, ""},
		{"subtitles credit", SegmentStats{"Subtitles by the Amara.org community", 0.3, -0.4}, "phantom"},
		{"subtitles credit, confident", SegmentStats{"Subtitles by the Amara.org community", 0.01, -0.1}, ""},
		{"thanks for watching", SegmentStats{"Thanks for watching!", 0.5, -0.6}, "phantom"},
		{"phantom with no no-speech probability", SegmentStats{"Thank you.", nan, -0.8}, "phantom"},
		{"phantom with no no-speech probability, confident", SegmentStats{"Thank you.", nan, -0.3}, ""},
		{"phantom word inside a command", SegmentStats{"Thank you, now play some jazz", 0.4, -0.5}, ""},
		{"empty", SegmentStats{"  ", 0.9, -3}, ""},
		{"chinese subtitle credit", SegmentStats{"字幕由Amara.org社区提供", 0.3, -0.5}, "phantom"},
		{"chinese subtitle credit, traditional", SegmentStats{"中文字幕由 Amara.org 社群提供", nan, -0.8}, "phantom"},
		{"chinese thanks for watching", SegmentStats{"谢谢观看！", 0.4, -0.6}, "phantom"},
		{"chinese channel plug", SegmentStats{"请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", 0.3, -0.6}, "phantom"},
		{"chinese real thanks", SegmentStats{"谢谢。", 0.02, -0.2}, ""},
		{"chinese command", SegmentStats{"今天天气怎么样？", 0.3, -0.6}, ""},
	}
	for _, c := range cases {
		got := g.Judge(c.s)
		if c.wantDrop == "" && got != "" || c.wantDrop != "" && !strings.Contains(got, c.wantDrop) {
			t.Errorf("%s: Judge(%+v) = %q, want %q", c.name, c.s, got, c.wantDrop)
		}
	}
	if got := (&Guard{Off: true}).Judge(SegmentStats{"Thank you.", 0.9, -3}); got != "" {
		t.Errorf("guard off dropped: %q", got)
	}
	var nilGuard *Guard
	if got := nilGuard.Judge(SegmentStats{"you", 0.9, -3}); got != "" {
		t.Errorf("nil guard dropped: %q", got)
	}
}

func TestCompressionRatio(t *testing.T) {
	if cr := CompressionRatio("What is the weather like in Kiel tomorrow morning?"); cr > 1.5 {
		t.Errorf("a sentence compresses %.2f×", cr)
	}
	if cr := CompressionRatio(strings.Repeat("you ", 50)); cr < 5 {
		t.Errorf("a loop compresses only %.2f×", cr)
	}
}

// TestGuardOnNonSpeech runs the whole guard on generated silence, noise and a music-like tone,
// with the real engine and the real Silero VAD as the speech gate: none of them may produce
// text. jfk.wav, through the same gate, must (the gate is not simply shut).
func TestGuardOnNonSpeech(t *testing.T) {
	m := load(t, sharedModel(t), LoadOptions{})
	vad, err := vadtest.Load(testmodels.Shared(t, "ggml-silero-v6.2.0.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer vad.Close()
	gate := SpeechGate(vad, GateConfig{})
	o := DefaultOptions()
	o.MaxTokens = 16
	o.RequireSpeech = gate
	for _, c := range []struct {
		name string
		pcm  []float32
		why  string
	}{
		{"digital silence", silence(3), "silence"},
		{"near silence", whiteNoise(3, 0.00005), "silence"},
		{"white noise", whiteNoise(3, 0.05), "no speech"},
		{"music-like tone", musicTone(3), "no speech"},
	} {
		res, err := m.Transcribe(context.Background(), c.pcm, o)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if res.Text != "" || !strings.Contains(res.Dropped, c.why) {
			t.Errorf("%s: text %q, dropped %q (want a reason mentioning %q)", c.name, res.Text, res.Dropped, c.why)
		}
		if res.Timings.Encode != 0 {
			t.Errorf("%s: whisper ran (%+v) although the guard had decided", c.name, res.Timings)
		}
	}
	o.Guard = &Guard{Off: true}
	res, err := m.Transcribe(context.Background(), jfk(t), o)
	if err != nil || res.Text == "" {
		t.Fatalf("jfk.wav through the gate: %q, %v (dropped %q)", res.Text, err, res.Dropped)
	}
}

// TestGuardStatisticsOnEngine runs the statistics rules on what the real engine returns for
// noise without a VAD gate: whatever the random model says, each segment's verdict must be the
// rule's verdict on that segment's statistics, and the text must be exactly the kept segments.
func TestGuardStatisticsOnEngine(t *testing.T) {
	m := load(t, sharedModel(t), LoadOptions{})
	o := DefaultOptions()
	o.MaxTokens = 24
	o.Timestamps = true
	for name, pcm := range map[string][]float32{"noise": whiteNoise(2, 0.05), "tone": musicTone(2)} {
		res, err := m.Transcribe(context.Background(), pcm, o)
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, s := range res.Segments {
			if want := DefaultGuard().Judge(SegmentStats{s.Text, s.NoSpeechProb, s.AvgLogProb}); s.Dropped != want {
				t.Errorf("%s: segment %+v dropped for %q, the rule says %q", name, s, s.Dropped, want)
			}
			if s.Dropped == "" {
				kept = append(kept, s.Text)
			}
			if s.NoSpeechProb < 0 || s.NoSpeechProb > 1 || s.AvgLogProb > 0 {
				t.Errorf("%s: implausible statistics %+v", name, s)
			}
		}
		if res.Text != strings.TrimSpace(strings.Join(kept, "")) {
			t.Errorf("%s: text %q is not the kept segments %q", name, res.Text, kept)
		}
		t.Logf("%s: %d segments, text %.40q, dropped %.120q", name, len(res.Segments), res.Text, res.Dropped)
	}
}

// fakeDetector says speech for frames whose mean absolute value is above a level.
type fakeDetector struct {
	level  float32
	frames int
	resets int
}

func (d *fakeDetector) FrameSize() int { return 512 }
func (d *fakeDetector) Reset()         { d.resets++ }
func (d *fakeDetector) Speech(f []float32) (float32, error) {
	d.frames++
	var sum float32
	for _, v := range f {
		sum += float32(math.Abs(float64(v)))
	}
	if sum/float32(len(f)) > d.level {
		return 0.9, nil
	}
	return 0.1, nil
}

func TestSpeechGate(t *testing.T) {
	loud := func(d time.Duration) []float32 {
		p := make([]float32, int(d.Seconds()*sampleRate))
		for i := range p {
			p[i] = 0.5
		}
		return p
	}
	cat := func(parts ...[]float32) []float32 {
		var out []float32
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	d := &fakeDetector{level: 0.1}
	gate := SpeechGate(d, GateConfig{MinSpeech: 200 * time.Millisecond})
	for _, c := range []struct {
		name string
		pcm  []float32
		want bool
	}{
		{"silence", silence(2), false},
		{"a click", cat(silence(1), loud(50*time.Millisecond), silence(1)), false},
		{"enough speech", cat(silence(1), loud(300*time.Millisecond), silence(1)), true},
		{"speech in pieces", cat(loud(120*time.Millisecond), silence(0.5), loud(120*time.Millisecond)), true},
		{"empty", nil, false},
	} {
		before := d.resets
		got, err := gate(c.pcm)
		if err != nil || got != c.want {
			t.Errorf("%s: gate = %v, %v; want %v", c.name, got, err, c.want)
		}
		if d.resets != before+1 {
			t.Errorf("%s: detector reset %d times, want once per call", c.name, d.resets-before)
		}
	}
}
