package tts

import (
	"context"
	"testing"
	"time"

	"hark/audio"
)

var benchTexts = map[string]string{
	"short":    "Sure.",
	"sentence": "The capital of France is Paris, a city of about two million people.",
	"paragraph": "The capital of France is Paris, a city of about two million people. It sits on the " +
		"Seine in the north of the country. Paris is known for its museums, its cafés and the " +
		"Eiffel Tower, which was built for the world's fair of 1889.",
}

// BenchmarkSynthesize measures espeak-ng through the library (cgo) and through its program,
// per text length. rtf is synthesis time over audio duration (lower is faster);
// ms/op is the wall time of one call, the latency a sentence adds before it can play.
func BenchmarkSynthesize(b *testing.B) {
	e := newEspeak(b)
	engines := []struct {
		name string
		s    Synthesizer
	}{{"cgo", e}, {"program", espeakProgram{}}}
	for _, eng := range engines {
		for _, name := range []string{"short", "sentence", "paragraph"} {
			b.Run(eng.name+"/"+name, func(b *testing.B) {
				ctx := context.Background()
				var audioDur time.Duration
				start := time.Now()
				for b.Loop() {
					pcm, err := eng.s.Synthesize(ctx, benchTexts[name], Voice{})
					if err != nil {
						b.Fatal(err)
					}
					audioDur += pcm.Duration()
				}
				b.ReportMetric(float64(time.Since(start))/float64(audioDur), "rtf")
			})
		}
	}
}

// BenchmarkSpeakerFirstAudio measures the time from the first LLM piece to the first audio
// handed to the player, with espeak-ng and a player that returns at once. "instant": the whole
// reply arrives at once, so the figure is Hark's own overhead (chunking, clean-up, synthesis of
// the first sentence). "30tok/s": pieces arrive as a small LLM on two cores makes them; the
// figure then includes generating the first sentence (first-sentence-ms).
func BenchmarkSpeakerFirstAudio(b *testing.B) {
	e := newEspeak(b)
	reply := "Sure! The capital of France is Paris, which sits on the Seine. It has about two million people."
	pieces := words(reply)
	for _, pace := range []struct {
		name  string
		every time.Duration
	}{{"instant", 0}, {"30tok/s", time.Second / 30}} {
		b.Run(pace.name, func(b *testing.B) {
			var first, overhead time.Duration
			for b.Loop() {
				ch := make(chan string)
				sentAt := make(chan time.Duration, 1)
				go func() {
					defer close(ch)
					var start time.Time
					for i, p := range pieces {
						if pace.every > 0 && i > 0 {
							time.Sleep(pace.every)
						}
						ch <- p
						switch i {
						case 0:
							start = time.Now()
						case 1: // "Sure!" is complete once " The" has arrived
							sentAt <- time.Since(start)
						}
					}
				}()
				sp := NewSpeaker(e, nopPlayer{}, Voice{})
				st, err := sp.Speak(context.Background(), ch)
				if err != nil {
					b.Fatal(err)
				}
				gen := <-sentAt
				first += st.FirstAudio
				overhead += st.FirstAudio - gen
			}
			b.ReportMetric(float64(first.Microseconds())/1000/float64(b.N), "first-audio-ms")
			b.ReportMetric(float64(overhead.Microseconds())/1000/float64(b.N), "after-sentence-ms")
		})
	}
}

type nopPlayer struct{}

func (nopPlayer) Play(ctx context.Context, pcm audio.PCM) error { return ctx.Err() }

// BenchmarkClean measures the clean-up of one sentence, which sits on the first-audio path.
func BenchmarkClean(b *testing.B) {
	s := "Sure! The **capital** of France is [Paris](https://en.wikipedia.org/wiki/Paris), about 105 km² and 2.1 million people 🎉."
	for b.Loop() {
		Clean(s)
	}
}
