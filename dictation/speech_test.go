package dictation

import (
	"context"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"hark/audio"
	"hark/audio/vad"
	"hark/internal/testmodels"
)

var sentences = []string{
	"The patient has had a cough for three days.",
	"She reports no fever and no shortness of breath.",
	"Her blood pressure is one hundred and twenty over eighty.",
	"The left ear looks red and a little swollen.",
	"We checked the pumps in greenhouse number two.",
	"The night shift replaced the filter on line four.",
	"Next meeting is on Tuesday at nine.",
	"Anna will send the budget before Friday.",
	"The delivery van needs new tyres.",
	"Please order more gloves and masks.",
	"The boiler pressure dropped twice in the night.",
	"Water the tomatoes in the morning, not at noon.",
	"Doctor Miller will see her again in two weeks.",
	"The fridge in the lab is running warm.",
	"Keep the north door closed because of the wind.",
	"The printer on the second floor is out of toner.",
	"Call the supplier about the missing pallets.",
	"The forklift battery is charged and ready.",
	"Label every sample with the date and the bed number.",
	"We agreed to move the inventory to March.",
	"The heating in room six is broken again.",
	"Bring the spare keys to the front desk.",
	"Two patients are waiting for their results.",
	"The roof leaks above the loading bay.",
	"Check the oil level before every long trip.",
	"The new nurse starts on Monday morning.",
}

// spoken is a sentence from espeak-ng at 16 kHz, and where its first loud sample is.
type spoken struct {
	text string
	pcm  []float32
	head int
	at   int // its first sample's position in the stream
}

func speak(t *testing.T, text string) spoken {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatalf("espeak-ng is needed for this test (make setup-test installs it): %v", err)
	}
	path := filepath.Join(t.TempDir(), "s.wav")
	if out, err := exec.Command("espeak-ng", "-w", path, "-v", "en-us", text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v %s", err, out)
	}
	p, err := audio.ReadWAV(path)
	if err != nil {
		t.Fatalf("espeak-ng output: %v", err)
	}
	// Dither far below the room noise makes every sentence's samples its own, even where two
	// sentences begin with the same word.
	d := rand.New(rand.NewPCG(uint64(len(text)), uint64(text[len(text)/2])))
	for i := range p.Samples {
		p.Samples[i] += float32(d.NormFloat64() * 1e-5)
	}
	s := spoken{text: text, pcm: p.Samples}
	for s.head < len(s.pcm) && math.Abs(float64(s.pcm[s.head])) < 0.01 {
		s.head++
	}
	return s
}

// heads is a fake Transcriber that hears a sentence when the window holds its first loud
// samples (a sentence cut in two is heard once, where it starts).
type heads struct {
	said  []spoken
	lens  []time.Duration
	start []int
}

func (h *heads) Transcribe(_ context.Context, pcm audio.PCM, _ string) ([]Segment, error) {
	h.lens = append(h.lens, pcm.Duration())
	var segs []Segment
	for _, s := range h.said {
		head := s.pcm[s.head : s.head+32]
		for i := 0; i+32 <= len(pcm.Samples); i++ {
			if pcm.Samples[i] == head[0] && slices.Equal(pcm.Samples[i:i+32], head) {
				at := time.Duration(i-s.head) * time.Second / rate
				segs = append(segs, Segment{Start: at, End: at + time.Duration(len(s.pcm))*time.Second/rate, Text: s.text})
				break
			}
		}
	}
	return segs, nil
}

// TestSpokenDictation: 26 espeak-ng sentences, the first nine each after a pause of 1-2.5 s,
// the rest run together with 100 ms gaps (longer than whisper's window), cut by Silero. Every
// sentence is heard exactly once, in order, at the time it was said; windows fit whisper's
// window, and the forced cuts fall where it is quiet.
func TestSpokenDictation(t *testing.T) {
	det, err := vad.Load(testmodels.Shared(t, "ggml-silero-v6.2.0.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()
	r := rand.New(rand.NewPCG(7, 8))
	var pcm []float32
	room := func(d time.Duration) {
		for range int(d.Seconds() * rate) {
			pcm = append(pcm, float32(r.NormFloat64()*0.0005))
		}
	}
	var said []spoken
	for i, text := range sentences {
		gap := 100 * time.Millisecond
		if i < 10 { // sentence 9 runs on into the next
			gap = time.Second + time.Duration(i%4)*500*time.Millisecond
		}
		room(gap)
		s := speak(t, text)
		s.at = len(pcm)
		pcm = append(pcm, s.pcm...)
		said = append(said, s)
	}
	room(2 * time.Second)

	h := &heads{said: said}
	d := New(h, det, Options{})
	var got []Segment
	ctx := context.Background()
	for i := 0; i < len(pcm); i += 1600 {
		segs, err := d.Push(ctx, pcm[i:min(i+1600, len(pcm))])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, segs...)
	}
	segs, err := d.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, segs...)

	if !slices.Equal(texts(got), sentences) {
		t.Fatalf("heard %d sentences:\n%q", len(got), texts(got))
	}
	for i, s := range got {
		if want := time.Duration(said[i].at) * time.Second / rate; s.Start != want.Truncate(0) && absDur(s.Start-want) > time.Millisecond {
			t.Errorf("%q at %v, said at %v", s.Text, s.Start, want)
		}
	}
	t.Logf("%v of audio, %d windows: %v", time.Duration(len(pcm))*time.Second/rate, len(h.lens), h.lens)
	if len(h.lens) < 11 {
		t.Errorf("%d windows: the nine paused sentences should be one each, and the run-on ones at least two", len(h.lens))
	}
	for i, l := range h.lens[:9] {
		if l > 5*time.Second {
			t.Errorf("window %d lasts %v: a pause was not cut", i, l)
		}
	}
	for i, l := range h.lens {
		if l > MaxWindow+32*time.Millisecond {
			t.Errorf("window %d lasts %v", i, l)
		}
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
