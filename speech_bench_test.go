package main

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"
	"time"

	"hark/audio"
	"hark/audio/aec"
	"hark/audio/bargein"
	"hark/audio/device"
	"hark/internal/testenv"
	"hark/internal/testmodels"
	"hark/tts"
)

// Barge-in latency, in two parts (goal: playback stops within 200 ms of the person starting
// to speak):
//
//   - BenchmarkBargeInDecision: from the person's speech onset in the microphone signal to
//     the gate's decision. Real speech (espeak-ng: the assistant's reply and, in another voice,
//     the person's question), the reply's echo at the microphone (120 ms late, 6 dB down, room
//     noise: none, or -65 dBFS), the SpeexDSP canceller with the reference lined up (aec.Stream's job), the
//     detector hands-free Hark runs (bargeInDetector: two Silero instances interleaved), and the
//     bargein.Gate, fed in chunks as the microphone delivers them (50 ms: the
//     default capture period; and bargeInCapturePeriodMs, hands-free's): a decision counts at
//     the end of the chunk that brought it. The onset is the first 10 ms of the
//     person's own signal louder than -40 dBFS. The person starts at several points of the reply.
//   - BenchmarkBargeInStop: from the cancel of a sound playing on audio/device.Player (what a
//     barge-in does) to the player's return (its fade written) and to silence at the virtual
//     speaker's monitor (what is really heard: the sound server's buffer included).

// benchSpeech synthesizes text with espeak-ng at 16 kHz.
func benchSpeech(b *testing.B, synth *tts.Espeak, text string, v tts.Voice) []float32 {
	b.Helper()
	pcm, err := synth.Synthesize(context.Background(), text, v)
	if err != nil {
		b.Fatal(err)
	}
	return audio.Resample(pcm, audio.SampleRate).Samples
}

func BenchmarkBargeInDecision(b *testing.B) {
	synth, err := tts.NewEspeak()
	if err != nil {
		b.Skip("espeak-ng:", err)
	}
	defer synth.Close()
	vadPath := testmodels.Shared(b, "ggml-silero-v6.2.0.bin")
	reply := benchSpeech(b, synth, "Once upon a time there was a little cat called Tom. Every day he went to the park "+
		"to play with his friends, and every evening he came home to sleep by the fire. One day he saw a big red ball.", tts.Voice{})
	person := benchSpeech(b, synth, "Stop. What is the weather like tomorrow?", tts.Voice{Name: "gmw/en-GB-x-rp", Pitch: 80})
	const rate = audio.SampleRate
	onset := 0 // the person's first 10 ms louder than -40 dBFS
	for i, e := range envelope(person, rate) {
		if e > math.Pow(10, -40.0/20) {
			onset = i * rate / 100
			break
		}
	}
	for _, noiseDB := range []float64{-120, -65} {
		for _, chunkMs := range []int{50, bargeInCapturePeriodMs} {
			name := "noise=" + strconv.Itoa(int(noiseDB)) + "dBFS/chunk=" + strconv.Itoa(chunkMs) + "ms"
			b.Run(name, func(b *testing.B) { benchDecision(b, reply, person, onset, noiseDB, chunkMs, vadPath) })
		}
	}
}

// benchDecision measures the gate's decision on the reply's echo with the person's speech
// mixed in at several points, room noise at noiseDB.
func benchDecision(b *testing.B, reply, person []float32, onset int, noiseDB float64, chunkMs int, vadPath string) {
	const rate = audio.SampleRate
	// The microphone: the reply's echo (120 ms late, -6 dB), room noise, and the person at
	// their own level (espeak-ng's, about as loud as the echo) from `at` on.
	n := len(reply) + rate
	far := make([]float32, n)
	copy(far, reply)
	echo := make([]float32, n)
	for i := range reply {
		if j := i + rate*120/1000; j < n {
			echo[j] = reply[i] * 0.5
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	noise := float32(math.Pow(10, noiseDB/20))
	for i := range echo {
		echo[i] += noise * float32(rng.NormFloat64())
	}
	// The person starts at these points of the reply (after the canceller has had 3 s).
	starts := []float64{3.0, 3.55, 4.1, 4.7, 5.25, 5.8, 6.35, 6.9, 7.45, 8.0}
	run := func(at int) (decided int, falseAlarm bool) {
		c, err := aec.New(aec.Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		// The detector hands-free Hark runs: two Silero instances half a frame apart.
		d, vads := bargeInDetector(vadPath)
		for _, v := range vads {
			defer v.Close()
		}
		if len(vads) != 2 {
			b.Fatalf("Silero loaded %d times from %s, want 2", len(vads), vadPath)
		}
		g := bargein.NewGate(d, 0)
		mic := append([]float32(nil), echo...)
		if at >= 0 {
			for i, x := range person {
				if at+i < n {
					mic[at+i] += x
				}
			}
		}
		fs := c.FrameSize()
		clean := make([]float32, n)
		// The microphone delivers a chunk (the capture period); the canceller takes whole
		// frames of it, as aec.Stream does, and the gate what the canceller has done.
		chunk := rate * chunkMs / 1000
		done := 0
		for pos := 0; pos+chunk <= n; pos += chunk {
			start := done
			for ; done+fs <= pos+chunk; done += fs {
				if err := c.Process(mic[done:done+fs], far[done:done+fs], clean[done:done+fs]); err != nil {
					b.Fatal(err)
				}
			}
			if done == start {
				continue
			}
			_, barged, err := g.Process(bargein.Input{Mic: clean[start:done], Raw: mic[start:done], Far: far[start:done], Settled: true})
			if err != nil {
				b.Fatal(err)
			}
			if barged {
				return pos + chunk, at < 0 || pos+chunk < at+onset
			}
		}
		return -1, false
	}
	var lat []float64
	misses, falses := 0, 0
	for b.Loop() {
		if d, _ := run(-1); d >= 0 {
			falses++ // the echo alone barged in
		}
		for _, s := range starts {
			at := int(s * rate)
			d, early := run(at)
			switch {
			case d < 0:
				misses++
			case early:
				falses++
			default:
				lat = append(lat, float64(d-at-onset)*1000/rate)
				b.Logf("person at %.2f s: decided %.0f ms after the onset", s, float64(d-at-onset)*1000/rate)
			}
		}
	}
	sort.Float64s(lat)
	if len(lat) > 0 {
		b.ReportMetric(lat[len(lat)/2], "onset-to-decision-ms-median")
		b.ReportMetric(lat[len(lat)-1], "onset-to-decision-ms-max")
	}
	b.ReportMetric(float64(misses), "missed")
	b.ReportMetric(float64(falses), "false-barge-ins")
}

func BenchmarkBargeInStop(b *testing.B) {
	testenv.Require(b)
	testenv.LockAudio(b)
	for _, tc := range []struct {
		period int
		cut    bool
	}{{0, true}, {50, true}, {0, false}} {
		period := tc.period
		name := "period=default"
		if period > 0 {
			name = "period=" + strconv.Itoa(period) + "ms"
		}
		name += "/cut=" + strconv.FormatBool(tc.cut)
		b.Run(name, func(b *testing.B) {
			p, err := device.OpenPlayer(device.PlayerOptions{Device: "vspeaker", PeriodMs: period, CutOnCancel: tc.cut})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			spk := recordSource(b, "vspeaker.monitor")
			tone := make([]float32, 3*audio.SampleRate)
			for i := range tone {
				tone[i] = 0.3 * float32(math.Sin(2*math.Pi*440*float64(i)/audio.SampleRate))
			}
			var ret, silent []float64
			for b.Loop() {
				ctx, cancel := context.WithCancel(context.Background())
				done := p.Enqueue(ctx, audio.PCM{Rate: audio.SampleRate, Samples: tone})
				time.Sleep(800 * time.Millisecond) // well into the sound
				cut := time.Now()
				cancel()
				<-done
				ret = append(ret, float64(time.Since(cut).Microseconds())/1000)
				time.Sleep(700 * time.Millisecond) // the speaker has gone quiet, and the recording has it
				if _, last := spk.soundSpan(cut.Add(-100*time.Millisecond), -50); !last.IsZero() {
					// last is the start of the last 10 ms frame with sound: silence 10 ms later.
					silent = append(silent, float64(last.Add(10*time.Millisecond).Sub(cut).Microseconds())/1000)
				}
			}
			sort.Float64s(ret)
			sort.Float64s(silent)
			b.ReportMetric(ret[len(ret)/2], "cancel-to-return-ms-median")
			if len(silent) > 0 {
				b.ReportMetric(silent[len(silent)/2], "cancel-to-silence-ms-median")
				b.ReportMetric(silent[len(silent)-1], "cancel-to-silence-ms-max")
			}
		})
	}
}
