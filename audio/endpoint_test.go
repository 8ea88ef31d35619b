package audio_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"hark/audio"
	"hark/audio/internal/audiotest"
	"hark/audio/internal/speechtest"
)

// levelDetector is a scripted detector for the endpointer's unit tests: a 10 ms frame is speech
// when its peak reaches 0.1.
type levelDetector struct{ resets int }

func (levelDetector) FrameSize() int { return 160 }
func (d *levelDetector) Reset()      { d.resets++ }
func (levelDetector) Speech(f []float32) (float32, error) {
	for _, s := range f {
		if math.Abs(float64(s)) >= 0.1 {
			return 1, nil
		}
	}
	return 0, nil
}

const ms = time.Millisecond

// script builds a stream of silence (0.001) with loud bursts (0.5) at the given spans.
func script(total time.Duration, bursts ...speechtest.Segment) []float32 {
	n := func(d time.Duration) int { return int(d * audio.SampleRate / time.Second) }
	out := make([]float32, n(total))
	for i := range out {
		out[i] = 0.001
	}
	for _, b := range bursts {
		for i := n(b.Start); i < n(b.End); i++ {
			out[i] = 0.5 * float32(math.Sin(float64(i)))
			if out[i] > -0.1 && out[i] < 0.1 {
				out[i] = 0.3
			}
		}
	}
	return out
}

func seg(a, b time.Duration) speechtest.Segment { return speechtest.Segment{Start: a, End: b} }

func TestEndpointer(t *testing.T) {
	cfg := audio.DefaultEndpointerConfig() // 600 ms trailing, 300 ms pre-roll, 150 ms min speech
	tests := []struct {
		name   string
		total  time.Duration
		bursts []speechtest.Segment
		want   []speechtest.Segment // speech of each utterance
		// wantUtt is each utterance's audio span (pre-roll and trailing silence included).
		wantUtt []speechtest.Segment
	}{
		{"one utterance", 3000 * ms, []speechtest.Segment{seg(1000*ms, 2000*ms)},
			[]speechtest.Segment{seg(1000*ms, 2000*ms)}, []speechtest.Segment{seg(700*ms, 2600*ms)}},
		{"a click is ignored", 3000 * ms, []speechtest.Segment{seg(1000*ms, 1050*ms)}, nil, nil},
		{"silence", 3000 * ms, nil, nil, nil},
		{"a short pause does not end it", 4000 * ms, []speechtest.Segment{seg(1000*ms, 1500*ms), seg(2000*ms, 2500*ms)},
			[]speechtest.Segment{seg(1000*ms, 2500*ms)}, []speechtest.Segment{seg(700*ms, 3100*ms)}},
		{"a long pause does", 5000 * ms, []speechtest.Segment{seg(1000*ms, 1500*ms), seg(2500*ms, 3000*ms)},
			[]speechtest.Segment{seg(1000*ms, 1500*ms), seg(2500*ms, 3000*ms)},
			[]speechtest.Segment{seg(700*ms, 2100*ms), seg(2200*ms, 3600*ms)}},
		{"pre-roll stops at the previous utterance", 5000 * ms, []speechtest.Segment{seg(1000*ms, 1500*ms), seg(2300*ms, 3000*ms)},
			[]speechtest.Segment{seg(1000*ms, 1500*ms), seg(2300*ms, 3000*ms)},
			[]speechtest.Segment{seg(700*ms, 2100*ms), seg(2100*ms, 3600*ms)}},
		{"speech from the first sample", 2000 * ms, []speechtest.Segment{seg(0, 1000*ms)},
			[]speechtest.Segment{seg(0, 1000*ms)}, []speechtest.Segment{seg(0, 1600*ms)}},
		{"speech to the end is closed by Flush", 2000 * ms, []speechtest.Segment{seg(1000*ms, 2000*ms)},
			[]speechtest.Segment{seg(1000*ms, 2000*ms)}, []speechtest.Segment{seg(700*ms, 2000*ms)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := script(tt.total, tt.bursts...)
			for _, chunk := range []int{len(in), 1, 100, 160, 333, 4096} {
				ep := audio.NewEndpointer(&levelDetector{}, cfg)
				var events []audio.EndpointEvent
				for i := 0; i < len(in); i += chunk {
					ev, err := ep.Push(in[i:min(i+chunk, len(in))])
					if err != nil {
						t.Fatal(err)
					}
					events = append(events, ev...)
				}
				events = append(events, ep.Flush()...)
				var got, gotUtt []speechtest.Segment
				open := false
				for _, e := range events {
					switch e.Kind {
					case audio.SpeechStarted:
						if open {
							t.Fatalf("chunk %d: two SpeechStarted in a row: %+v", chunk, events)
						}
						open = true
					case audio.SpeechEnded:
						if !open {
							t.Fatalf("chunk %d: SpeechEnded without SpeechStarted", chunk)
						}
						open = false
						got = append(got, seg(e.Start, e.End))
						end := e.UtteranceStart + e.Utterance.Duration()
						gotUtt = append(gotUtt, seg(e.UtteranceStart, end))
						// The utterance's audio is the input's, sample for sample.
						a := int(e.UtteranceStart * audio.SampleRate / time.Second)
						for i, s := range e.Utterance.Samples {
							if s != in[a+i] {
								t.Fatalf("chunk %d: utterance sample %d is %v, input %v", chunk, i, s, in[a+i])
							}
						}
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) || fmt.Sprint(gotUtt) != fmt.Sprint(tt.wantUtt) {
					t.Errorf("chunk %d: speech %v, audio %v; want speech %v, audio %v", chunk, got, gotUtt, tt.want, tt.wantUtt)
				}
			}
		})
	}
}

func TestEndpointerCurrent(t *testing.T) {
	ep := audio.NewEndpointer(&levelDetector{}, audio.DefaultEndpointerConfig())
	in := script(3000*ms, seg(1000*ms, 2000*ms))
	at := func(d time.Duration) int { return int(d * audio.SampleRate / time.Second) }
	if _, err := ep.Push(in[:at(900*ms)]); err != nil {
		t.Fatal(err)
	}
	if c := ep.Current(); len(c.Samples) != 0 {
		t.Errorf("Current before speech has %d samples, want none", len(c.Samples))
	}
	if _, err := ep.Push(in[at(900*ms):at(1500*ms)]); err != nil {
		t.Fatal(err)
	}
	c := ep.Current()
	if c.Rate != audio.SampleRate || c.Duration() != 800*ms {
		t.Errorf("Current mid-speech: %v at %d Hz, want 800ms (300 ms pre-roll + 500 ms)", c.Duration(), c.Rate)
	}
	for i, s := range c.Samples {
		if s != in[at(700*ms)+i] {
			t.Fatalf("Current sample %d differs from the input", i)
		}
	}
	ev, _ := ep.Push(in[at(1500*ms):])
	if len(ev) != 1 || ev[0].Kind != audio.SpeechEnded {
		t.Fatalf("events %+v, want one SpeechEnded", ev)
	}
	if c := ep.Current(); len(c.Samples) != 0 {
		t.Errorf("Current after the utterance has %d samples, want none", len(c.Samples))
	}
}

// TestEndpointerMaxUtterance: 95 s of speech whose loudness dips at places, with a 30 s
// limit, comes out in pieces of at most 30 s, cut in dips, that concatenate to the input.
func TestEndpointerMaxUtterance(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	total := 95 * audio.SampleRate
	in := make([]float32, total)
	for i := range in {
		in[i] = float32(0.5 * math.Sin(float64(i)*0.3))
	}
	// Quiet dips (still speech for the detector) every ~0.7 s: words.
	var dips []int
	for at := audio.SampleRate; at < total-audio.SampleRate; at += 8000 + rng.IntN(8000) {
		dips = append(dips, at)
		for i := at; i < at+1600; i++ {
			in[i] = float32(0.15 * math.Sin(float64(i)*0.3))
		}
	}
	cfg := audio.DefaultEndpointerConfig()
	ep := audio.NewEndpointer(&levelDetector{}, cfg)
	var events []audio.EndpointEvent
	for i := 0; i < len(in); i += 1000 {
		ev, err := ep.Push(in[i:min(i+1000, len(in))])
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev...)
	}
	events = append(events, ep.Flush()...)
	var joined []float32
	var pieces int
	for _, e := range events {
		if e.Kind != audio.SpeechEnded {
			continue
		}
		pieces++
		if d := e.Utterance.Duration(); d > cfg.MaxUtterance || d < cfg.MaxUtterance/2 && e.Split {
			t.Errorf("piece %d lasts %v (limit %v)", pieces, d, cfg.MaxUtterance)
		}
		if e.Split {
			cut := int(e.End * audio.SampleRate / time.Second)
			inDip := false
			for _, d := range dips {
				inDip = inDip || (cut >= d && cut < d+1600)
			}
			if !inDip {
				t.Errorf("piece %d was cut at %v, not in a quiet dip", pieces, e.End)
			}
		}
		joined = append(joined, e.Utterance.Samples...)
	}
	if pieces < 4 {
		t.Errorf("%d pieces, want at least 4 for 95 s with a 30 s limit", pieces)
	}
	if len(joined) != len(in) {
		t.Fatalf("the pieces hold %d samples, the input %d", len(joined), len(in))
	}
	for i := range in {
		if joined[i] != in[i] {
			t.Fatalf("sample %d differs: pieces %v, input %v", i, joined[i], in[i])
		}
	}
}

type failingDetector struct{ levelDetector }

var errBroken = errors.New("broken detector")

func (*failingDetector) Speech([]float32) (float32, error) { return 0, errBroken }

func TestEndpointerDetectorError(t *testing.T) {
	ep := audio.NewEndpointer(&failingDetector{}, audio.DefaultEndpointerConfig())
	if _, err := ep.Push(make([]float32, 1000)); !errors.Is(err, errBroken) {
		t.Errorf("Push: %v, want the detector's error", err)
	}
}

// TestEndpointerEnergy runs the fallback energy detector on real speech with known boundaries.
func TestEndpointerEnergy(t *testing.T) {
	streams := append([]speechtest.Stream{speechtest.Espeak(t), speechtest.JFK(t)}, speechtest.LibriVox(t)...)
	for _, s := range streams {
		t.Run(s.Name, func(t *testing.T) {
			cfg := audio.DefaultEndpointerConfig()
			ep := audio.NewEndpointer(audio.NewEnergyDetector(audio.EnergyConfig{}), cfg)
			found := speechtest.Utterances(speechtest.Push(t, ep, s.PCM.Samples))
			t.Logf("%s: found %v, speech %v", s.Name, found, s.Speech)
			speechtest.Check(t, s.Name, found, s.Speech, cfg.TrailingSilence, 150*ms)
		})
	}
}

// TestEndpointerNoSpeech: silence and white noise at -40 dBFS hold no utterance.
func TestEndpointerNoSpeech(t *testing.T) {
	for _, tc := range []struct {
		name string
		pcm  []float32
	}{
		{"digital silence", make([]float32, 20*audio.SampleRate)},
		{"white noise at -40 dBFS", audiotest.WhiteNoise(20*audio.SampleRate, -40, 5)},
		{"white noise at -60 dBFS", audiotest.WhiteNoise(20*audio.SampleRate, -60, 6)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := audio.NewEndpointer(audio.NewEnergyDetector(audio.EnergyConfig{}), audio.DefaultEndpointerConfig())
			if ev := speechtest.Push(t, ep, tc.pcm); len(ev) != 0 {
				t.Errorf("events in %s: %+v", tc.name, ev)
			}
		})
	}
}

// BenchmarkEndpointerEnergy is the energy detector + endpointer's real-time factor on 60 s of
// speech (LibriVox clips, looped).
func BenchmarkEndpointerEnergy(b *testing.B) {
	s := speechtest.LibriVox(b)[5]
	min60 := speechtest.Loop60(s.PCM.Samples)
	ep := audio.NewEndpointer(audio.NewEnergyDetector(audio.EnergyConfig{}), audio.DefaultEndpointerConfig())
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < len(min60); i += 1600 {
			if _, err := ep.Push(min60[i : i+1600]); err != nil {
				b.Fatal(err)
			}
		}
		ep.Flush()
	}
	b.ReportMetric(b.Elapsed().Seconds()/(60*float64(b.N)), "rtf")
}

// TestEndpointerPause: with PauseSilence, a pause reports SpeechPaused (once) with the
// utterance as SpeechEnded would deliver it, padded with zeros; speech after it reports
// SpeechResumed and the utterance goes on; a pause that lasts ends the utterance, whose audio
// matches the padded one wherever the stream had sound.
func TestEndpointerPause(t *testing.T) {
	cfg := audio.DefaultEndpointerConfig()
	cfg.PauseSilence = 200 * ms
	tests := []struct {
		name   string
		bursts []speechtest.Segment
		want   []audio.EndpointKind
	}{
		{"one phrase", []speechtest.Segment{seg(500*ms, 1500*ms)},
			[]audio.EndpointKind{audio.SpeechStarted, audio.SpeechPaused, audio.SpeechEnded}},
		{"a 400 ms pause inside", []speechtest.Segment{seg(500*ms, 1500*ms), seg(1900*ms, 2500*ms)},
			[]audio.EndpointKind{audio.SpeechStarted, audio.SpeechPaused, audio.SpeechResumed, audio.SpeechPaused, audio.SpeechEnded}},
		{"a 150 ms pause inside", []speechtest.Segment{seg(500*ms, 1500*ms), seg(1650*ms, 2500*ms)},
			[]audio.EndpointKind{audio.SpeechStarted, audio.SpeechPaused, audio.SpeechEnded}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := audio.NewEndpointer(&levelDetector{}, cfg)
			evs, err := ep.Push(script(4*time.Second, tc.bursts...))
			if err != nil {
				t.Fatal(err)
			}
			var kinds []audio.EndpointKind
			var paused, ended *audio.EndpointEvent
			for i, e := range evs {
				kinds = append(kinds, e.Kind)
				switch e.Kind {
				case audio.SpeechPaused:
					paused = &evs[i]
				case audio.SpeechEnded:
					ended = &evs[i]
				}
			}
			if fmt.Sprint(kinds) != fmt.Sprint(tc.want) {
				t.Fatalf("events %v, want %v", kinds, tc.want)
			}
			p, u := paused.Utterance.Samples, ended.Utterance.Samples
			if len(p) != len(u) || paused.End != ended.End || paused.UtteranceStart != ended.UtteranceStart {
				t.Fatalf("paused: %d samples, speech to %v, from %v; ended: %d samples, speech to %v, from %v",
					len(p), paused.End, paused.UtteranceStart, len(u), ended.End, ended.UtteranceStart)
			}
			// The padding starts PauseSilence after the speech faded; before it, the audio is the same.
			heard := int((paused.End - paused.UtteranceStart + cfg.PauseSilence) * audio.SampleRate / time.Second)
			for i := range p {
				if i < heard && p[i] != u[i] || i >= heard+160 && p[i] != 0 {
					t.Fatalf("sample %d (of %d, %d heard): paused %v, ended %v", i, len(p), heard, p[i], u[i])
				}
			}
		})
	}
}
