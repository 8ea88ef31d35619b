package dictation

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"hark/audio"
)

const rate = audio.SampleRate

// word is a burst of seeded noise: its samples occur nowhere else, so a fake transcriber can
// tell exactly which words a window holds, and where.
type word struct {
	text    string
	samples []float32
	at      int // sample position in the stream
}

// stream lays words out: gaps[i] is the silence (in ms) before word i; every word lasts
// wordMs. Between words the "silence" is faint noise, as in a room.
func stream(t *testing.T, n, wordMs int, gap func(i int) int) ([]float32, []word) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var pcm []float32
	var words []word
	room := func(ms int) {
		for range ms * rate / 1000 {
			pcm = append(pcm, float32(r.NormFloat64()*0.0005))
		}
	}
	for i := range n {
		room(gap(i))
		w := word{text: fmt.Sprintf("w%03d", i), at: len(pcm)}
		for k := range wordMs * rate / 1000 {
			w.samples = append(w.samples, float32(r.NormFloat64()*0.2)+float32(k%7)*1e-6)
		}
		pcm = append(pcm, w.samples...)
		words = append(words, w)
	}
	room(1500)
	return pcm, words
}

// finder is a fake Transcriber that "hears" a word when the window holds its first samples
// (a word cut in two is heard once, in the window where it starts), and records each call.
type finder struct {
	words   []word
	prompts []string
	lens    []time.Duration
}

func (f *finder) Transcribe(_ context.Context, pcm audio.PCM, prompt string) ([]Segment, error) {
	f.prompts = append(f.prompts, prompt)
	f.lens = append(f.lens, pcm.Duration())
	var segs []Segment
	for _, w := range f.words {
		head := w.samples[:32]
		for i := 0; i+len(head) <= len(pcm.Samples); i++ {
			if pcm.Samples[i] == head[0] && slices.Equal(pcm.Samples[i:i+len(head)], head) {
				at := time.Duration(i) * time.Second / rate
				segs = append(segs, Segment{Start: at, End: at + time.Duration(len(w.samples))*time.Second/rate, Text: w.text})
				break
			}
		}
	}
	return segs, nil
}

func run(t *testing.T, pcm []float32, f Transcriber, chunk int) []Segment {
	t.Helper()
	ctx := context.Background()
	d := New(f, audio.NewEnergyDetector(audio.EnergyConfig{}), Options{})
	var got []Segment
	for i := 0; i < len(pcm); i += chunk {
		segs, err := d.Push(ctx, pcm[i:min(i+chunk, len(pcm))])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, segs...)
	}
	segs, err := d.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return append(got, segs...)
}

func texts(segs []Segment) []string {
	var out []string
	for _, s := range segs {
		out = append(out, s.Text)
	}
	return out
}

// TestCutsAtPauses: sentences separated by pauses come back each once, in order, with
// absolute times where they were said, and every window after the first is prompted with the
// text before it.
func TestCutsAtPauses(t *testing.T) {
	// Sentences of four words (short gaps inside), a long pause after each.
	pcm, words := stream(t, 40, 300, func(i int) int {
		if i%4 == 0 {
			return 1500 + 100*(i%3)
		}
		return 120
	})
	for _, chunk := range []int{160, 1600, 16000} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			f := &finder{words: words}
			got := run(t, pcm, f, chunk)
			if want := 10; len(f.prompts) != want {
				t.Errorf("%d windows, want %d (one per sentence)", len(f.prompts), want)
			}
			var want []string
			for _, w := range words {
				want = append(want, w.text)
			}
			if !slices.Equal(texts(got), want) {
				t.Fatalf("heard %v\nwant %v", texts(got), want)
			}
			for i, s := range got {
				at := time.Duration(words[i].at) * time.Second / rate
				if d := s.Start - at; d < -time.Millisecond || d > time.Millisecond {
					t.Errorf("%s at %v, said at %v", s.Text, s.Start, at)
				}
				if i > 0 && s.Start < got[i-1].End {
					t.Errorf("%s starts at %v before the previous segment ends (%v)", s.Text, s.Start, got[i-1].End)
				}
			}
			if f.prompts[0] != "" {
				t.Errorf("first window prompted with %q", f.prompts[0])
			}
			for i := 1; i < len(f.prompts); i++ {
				if wantEnd := words[4*i-1].text; !strings.HasSuffix(f.prompts[i], wantEnd) {
					t.Errorf("window %d prompted with %q, want it to end with %q", i, f.prompts[i], wantEnd)
				}
			}
		})
	}
}

// TestLongSpeechWithoutPauses: speech with only short gaps between words for 100 s is cut
// into windows of at most MaxWindow, in gaps between words, and every word is heard exactly
// once.
func TestLongSpeechWithoutPauses(t *testing.T) {
	pcm, words := stream(t, 250, 280, func(i int) int { return 120 })
	f := &finder{words: words}
	got := run(t, pcm, f, 4000)
	var want []string
	for _, w := range words {
		want = append(want, w.text)
	}
	if !slices.Equal(texts(got), want) {
		t.Fatalf("heard %d words %v\nwant %d", len(got), texts(got), len(want))
	}
	if len(f.lens) < 4 {
		t.Errorf("%d windows for %v of speech", len(f.lens), time.Duration(len(pcm))*time.Second/rate)
	}
	frame := 20 * time.Millisecond
	var total time.Duration
	for i, l := range f.lens {
		if l > MaxWindow+frame {
			t.Errorf("window %d lasts %v, over %v", i, l, MaxWindow)
		}
		total += l
	}
	// Cuts fall in gaps: the window ends must not be inside a word.
	end := time.Duration(0)
	for i, l := range f.lens[:len(f.lens)-1] {
		if i == 0 {
			end = f.firstStart(words)
		}
		end += l
		pos := int(end * rate / time.Second)
		for _, w := range words {
			if pos > w.at && pos < w.at+len(w.samples) {
				t.Errorf("window %d cut at %v, inside %s", i, end, w.text)
			}
		}
	}
}

// firstStart is where the first window starts: the first word less the pre-roll.
func (f *finder) firstStart(words []word) time.Duration {
	return max(time.Duration(words[0].at)*time.Second/rate-audio.DefaultEndpointerConfig().PreRoll, 0)
}

// TestSilenceGivesNothing: a minute of room noise is never sent to the transcriber.
func TestSilenceGivesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pcm := make([]float32, 60*rate)
	for i := range pcm {
		pcm[i] = float32(r.NormFloat64() * 0.001)
	}
	f := &finder{}
	if got := run(t, pcm, f, 1600); len(got) != 0 || len(f.prompts) != 0 {
		t.Errorf("silence gave %d windows, %v", len(f.prompts), got)
	}
}

// TestPromptCarry keeps the last PromptChars at a word boundary.
func TestPromptCarry(t *testing.T) {
	tests := []struct {
		limit int
		in    []string
		want  string
	}{
		{200, []string{"one two", "three"}, "one two three"},
		{10, []string{"alpha beta gamma", "delta"}, "delta"},
		{12, []string{"alpha beta gamma", "delta"}, "gamma delta"},
		{-1, []string{"alpha"}, ""},
		{4, []string{"你好世界", "再来"}, "世界再来"}, // no spaces between Chinese words: joined without one, cut anywhere
	}
	for _, tt := range tests {
		d := &Dictation{prompt: tt.limit}
		for _, s := range tt.in {
			d.carry(s)
		}
		if d.Prompt() != tt.want {
			t.Errorf("limit %d, %q: prompt %q, want %q", tt.limit, tt.in, d.Prompt(), tt.want)
		}
	}
}

// errorOnce fails its second window, then works.
type errorOnce struct {
	finder
	n int
}

func (e *errorOnce) Transcribe(ctx context.Context, pcm audio.PCM, prompt string) ([]Segment, error) {
	e.n++
	if e.n == 2 {
		return nil, fmt.Errorf("engine failed")
	}
	return e.finder.Transcribe(ctx, pcm, prompt)
}

// TestErrorKeepsStreamGoing: a failed window is reported with its time; the next ones are
// transcribed.
func TestErrorKeepsStreamGoing(t *testing.T) {
	pcm, words := stream(t, 3, 400, func(int) int { return 1500 })
	e := &errorOnce{finder: finder{words: words}}
	d := New(e, audio.NewEnergyDetector(audio.EnergyConfig{}), Options{})
	var got []Segment
	var errs int
	for i := 0; i < len(pcm); i += 1600 {
		segs, err := d.Push(context.Background(), pcm[i:min(i+1600, len(pcm))])
		if err != nil {
			errs++
			if !strings.Contains(err.Error(), "engine failed") || !strings.Contains(err.Error(), "window at 00:00:0") {
				t.Errorf("error %q", err)
			}
		}
		got = append(got, segs...)
	}
	segs, _ := d.Flush(context.Background())
	got = append(got, segs...)
	if errs != 1 || !slices.Equal(texts(got), []string{"w000", "w002"}) {
		t.Errorf("%d errors, heard %v", errs, texts(got))
	}
}
