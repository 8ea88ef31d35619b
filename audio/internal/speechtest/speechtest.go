// Package speechtest builds real-speech test streams with known utterance boundaries (espeak-ng
// sentences, LibriVox clips from Debian's pocketsphinx-testdata, jfk.wav) and checks an
// endpointer's utterances against them. Both the energy detector's tests (audio) and Silero's
// (audio/vad) use it.
package speechtest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"hark/audio"
	"hark/audio/internal/audiotest"
	"hark/internal/testmodels"
)

// Segment is a stretch of speech in stream time.
type Segment struct {
	Start, End time.Duration
	// Optional marks sound that a detector may rightly call speech or not (crowd voices).
	Optional bool
}

func (s Segment) String() string {
	opt := ""
	if s.Optional {
		opt = "?"
	}
	return fmt.Sprintf("%.2f-%.2fs%s", s.Start.Seconds(), s.End.Seconds(), opt)
}

// Stream is test audio with the speech segments it is known to hold.
type Stream struct {
	Name   string
	PCM    audio.PCM
	Speech []Segment
}

// Extent is the reference for where speech starts and ends in a clean recording of one
// utterance: the first and last 10 ms frame louder than both the recording's noise floor
// (10th percentile of frame levels) + 15 dB and its loudest frame - 45 dB. It is simple on
// purpose: on a clean single-sentence recording it marks the edges a listener would, and it
// shares nothing with the detectors under test.
func Extent(p audio.PCM) Segment {
	levels := frameLevels(p)
	sorted := slices.Clone(levels)
	slices.Sort(sorted)
	floor, peak := sorted[len(sorted)/10], sorted[len(sorted)-1]
	thr := max(floor+15, peak-45)
	first, last := -1, -1
	for i, l := range levels {
		if l > thr {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	ms := func(frames int) time.Duration { return time.Duration(frames) * 10 * time.Millisecond }
	return Segment{Start: ms(first), End: ms(last + 1)}
}

// join lays clips out with the given silences (gaps[0] before the first clip, gaps[len] after
// the last; nil gaps: back to back), adds white noise at noiseDB (if below 0) to the whole
// stream, and returns it with each clip's speech extent moved to stream time.
func join(name string, clips []audio.PCM, gaps []time.Duration, noiseDB float64) Stream {
	var out []float32
	var segs []Segment
	pad := func(i int) {
		if gaps != nil {
			out = append(out, make([]float32, int(gaps[i].Seconds()*audio.SampleRate))...)
		}
	}
	for i, c := range clips {
		pad(i)
		off := time.Duration(len(out)) * time.Second / audio.SampleRate
		e := Extent(c)
		segs = append(segs, Segment{Start: off + e.Start, End: off + e.End})
		out = append(out, c.Samples...)
	}
	pad(len(clips))
	if noiseDB < 0 {
		for i, v := range audiotest.WhiteNoise(len(out), noiseDB, 1) {
			out[i] += v
		}
	}
	return Stream{Name: name, PCM: audio.PCM{Rate: audio.SampleRate, Samples: out}, Speech: segs}
}

// Background is the level of a recording's background noise: the 10th percentile of its
// 10 ms frame levels, in dBFS.
func Background(p audio.PCM) float64 {
	levels := frameLevels(p)
	slices.Sort(levels)
	return levels[len(levels)/10]
}

func frameLevels(p audio.PCM) []float64 {
	const frame = audio.SampleRate / 100
	var levels []float64
	for i := 0; i+frame <= len(p.Samples); i += frame {
		levels = append(levels, audio.MeasureLevel(p.Samples[i:i+frame]).RMS)
	}
	return levels
}

// Sentences are what Espeak speaks: the kind of thing people say to Hark.
var Sentences = []string{
	"Turn on the lights in the kitchen.",
	"What is the weather like tomorrow morning?",
	"Please set a timer for ten minutes.",
	"Play some quiet music.",
}

// Espeak speaks Sentences with espeak-ng and joins them with silences of 1.3, 1.7 and 2.2 s
// (1 s before, 1.5 s after) of white noise at -60 dBFS.
func Espeak(t testing.TB) Stream {
	t.Helper()
	var clips []audio.PCM
	for _, s := range Sentences {
		p, err := audio.ReadWAV(audiotest.Espeak(t, s))
		if err != nil {
			t.Fatal(err)
		}
		clips = append(clips, p)
	}
	gaps := []time.Duration{time.Second, 1300 * time.Millisecond, 1700 * time.Millisecond, 2200 * time.Millisecond, 1500 * time.Millisecond}
	return join("espeak-ng sentences", clips, gaps, -60)
}

// LibriVoxDir is where Debian's pocketsphinx-testdata keeps its LibriVox clips (one sentence
// each, transcripts in the file "transcription").
const LibriVoxDir = "/usr/share/pocketsphinx/test/data/librivox"

// LibriVox returns the five LibriVox clips of pocketsphinx-testdata (a woman reading Sense and
// Sensibility; 3-7 s each, one sentence, no pause inside longer than 0.1 s, 0.2-0.3 s of room
// tone before the speech), each as a stream of its own, and then all five back to back as they
// were read, with their own pauses between the sentences (0.35 to 0.8 s). Silences are not made
// longer: a joint of synthetic noise and a recording's own room tone is something real speech
// never holds, and Silero reacts to it.
func LibriVox(t testing.TB) []Stream {
	t.Helper()
	ids, err := os.ReadFile(filepath.Join(LibriVoxDir, "fileids"))
	if err != nil {
		t.Fatalf("LibriVox clips missing (apt-get install pocketsphinx-testdata): %v", err)
	}
	var clips []audio.PCM
	var out []Stream
	for _, id := range strings.Fields(string(ids)) {
		p, err := audio.ReadWAV(filepath.Join(LibriVoxDir, id+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		clips = append(clips, p)
		out = append(out, join("LibriVox "+id[len(id)-4:], []audio.PCM{p}, nil, 0))
	}
	if len(clips) != 5 {
		t.Fatalf("expected 5 LibriVox clips in %s, found %d", LibriVoxDir, len(clips))
	}
	return append(out, join("LibriVox clips back to back", clips, nil, 0))
}

// JFK is samples/jfk.wav with its speech segments, labelled by hand from its 20 ms energy
// envelope and its spectrogram (the background is at -41 dBFS, speech at -8 to -25 dBFS): "And
// so my fellow Americans", "ask not", "what your country can do for you", "ask what you can do
// for your country". From 10.3 s to the end the crowd starts to react (-24 to -35 dBFS, with
// voiced harmonics in the spectrogram): a detector may call that voice or not, so it is an
// optional segment.
func JFK(t testing.TB) Stream {
	t.Helper()
	p, err := audio.ReadWAV(testmodels.JFK(t))
	if err != nil {
		t.Fatal(err)
	}
	s := func(a, b float64) Segment {
		return Segment{Start: time.Duration(a * float64(time.Second)), End: time.Duration(b * float64(time.Second))}
	}
	return Stream{Name: "jfk.wav", PCM: p, Speech: []Segment{
		s(0.32, 2.12), s(3.28, 3.66), s(4.02, 4.28), s(5.40, 7.50), s(8.18, 10.18),
		{Start: 10300 * time.Millisecond, End: 11 * time.Second, Optional: true},
	}}
}

// Utterances returns the SpeechEnded events' speech segments.
func Utterances(events []audio.EndpointEvent) []Segment {
	var out []Segment
	for _, e := range events {
		if e.Kind == audio.SpeechEnded {
			out = append(out, Segment{Start: e.Start, End: e.End})
		}
	}
	return out
}

// Check compares found utterances with the known speech. Every utterance must start within
// tol of a segment's start and end within tol of a segment's end, in order, covering every
// segment but optional ones (an utterance may also lie anywhere inside an optional segment). Segments less than trailing-tol apart must be in one utterance
// (the endpointer waits for trailing silence); more than trailing+tol apart, in two; in
// between, either.
func Check(t testing.TB, name string, found, want []Segment, trailing, tol time.Duration) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: %s\n  found %v\n  want  %v (trailing silence %v, tolerance %v)", name, fmt.Sprintf(format, args...), found, want, trailing, tol)
	}
	abs := func(d time.Duration) time.Duration { return max(d, -d) }
	i := 0
	for j, u := range found {
		// Optional sound has no sharp edges: an utterance anywhere inside it is fine.
		if i < len(want) && want[i].Optional && u.Start >= want[i].Start-tol && u.End <= want[i].End+tol {
			i++
			continue
		}
		for i < len(want) && want[i].Optional && abs(u.Start-want[i].Start) > tol {
			i++
		}
		if i >= len(want) {
			fail("utterance %d (%v) where there is no more speech", j, u)
			return
		}
		if abs(u.Start-want[i].Start) > tol {
			fail("utterance %d starts at %.2fs, speech starts at %.2fs", j, u.Start.Seconds(), want[i].Start.Seconds())
			return
		}
		k := i
		for ; k < len(want); k++ {
			if abs(u.End-want[k].End) <= tol {
				break
			}
			if k+1 < len(want) && want[k+1].Start-want[k].End > trailing+tol {
				k = len(want) // the utterance may not run on past this pause
				break
			}
		}
		if k == len(want) {
			fail("utterance %d (%v) does not end within %v of the end of speech segment %d or of one it may merge with", j, u, tol, i)
			return
		}
		if k+1 < len(want) && !want[k+1].Optional && want[k+1].Start-want[k].End < trailing-tol {
			fail("utterance %d (%v) ends in a pause too short to end an utterance", j, u)
			return
		}
		i = k + 1
	}
	for ; i < len(want); i++ {
		if !want[i].Optional {
			fail("speech %v was not found", want[i])
			return
		}
	}
}

// Push feeds samples to ep in 100 ms chunks, as a microphone would, then flushes it, and
// returns every event.
func Push(t testing.TB, ep *audio.Endpointer, samples []float32) []audio.EndpointEvent {
	t.Helper()
	var events []audio.EndpointEvent
	for i := 0; i < len(samples); i += 1600 {
		ev, err := ep.Push(samples[i:min(i+1600, len(samples))])
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev...)
	}
	return append(events, ep.Flush()...)
}

// Loop60 repeats samples to exactly 60 s, for real-time-factor benchmarks.
func Loop60(s []float32) []float32 {
	out := make([]float32, 0, 60*audio.SampleRate)
	for len(out) < cap(out) {
		out = append(out, s[:min(len(s), cap(out)-len(out))]...)
	}
	return out
}
