package audio_test

import (
	"fmt"
	"math"

	"hark/audio"
)

// An endpointer on the energy detector finds a second of tone between two seconds of quiet.
func ExampleEndpointer() {
	var stream []float32
	for i := 0; i < 3*audio.SampleRate; i++ {
		v := 0.001 * math.Sin(float64(i)) // a faint hiss
		if i >= audio.SampleRate && i < 2*audio.SampleRate {
			v = 0.3 * math.Sin(2*math.Pi*220*float64(i)/audio.SampleRate)
		}
		stream = append(stream, float32(v))
	}
	ep := audio.NewEndpointer(audio.NewEnergyDetector(audio.EnergyConfig{}), audio.DefaultEndpointerConfig())
	for i := 0; i < len(stream); i += 1600 { // 100 ms at a time, as from a microphone
		events, err := ep.Push(stream[i : i+1600])
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, e := range events {
			fmt.Printf("%v at %v", e.Kind, e.Start)
			if e.Kind == audio.SpeechEnded {
				fmt.Printf(", ended at %v; %v of audio with pre-roll and trailing silence", e.End, e.Utterance.Duration())
			}
			fmt.Println()
		}
	}
	// Output:
	// speech started at 1s
	// speech ended at 1s, ended at 2s; 1.9s of audio with pre-roll and trailing silence
}
