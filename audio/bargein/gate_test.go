package bargein

import (
	"testing"
	"time"
)

// runGate pushes mic/raw/far through g in 40 ms chunks and returns the output and the sample
// (of input) at which a barge-in was let through (-1: none).
func runGate(t *testing.T, g *Gate, mic, raw, far []float32) (out []float32, bargeAt int) {
	t.Helper()
	bargeAt = -1
	const chunk = 640
	for i := 0; i+chunk <= len(mic); i += chunk {
		in := Input{Mic: mic[i : i+chunk], Far: far[i : i+chunk], Settled: true}
		if raw != nil {
			in.Raw = raw[i : i+chunk]
		}
		o, b, err := g.Process(in)
		if err != nil {
			t.Fatal(err)
		}
		if b {
			if bargeAt >= 0 {
				t.Fatalf("barge-in let through twice (at %d and %d)", bargeAt, i)
			}
			bargeAt = i + chunk
			if !g.Barged() {
				t.Error("Barged() = false right after a barge-in")
			}
		}
		out = append(out, o...)
	}
	return out, bargeAt
}

func TestGate(t *testing.T) {
	const n = 10 * rate
	replyEnd := 6 * rate
	reply := talk(n, -20, 1)
	clear(reply[replyEnd:])
	echo := scale(delay(reply, 150*time.Millisecond), -6)
	noise := talk(n, -70, 3)
	person := make([]float32, n)
	copy(person[4*rate:5*rate], talk(rate, -10, 2))
	after := make([]float32, n) // a person speaking after the reply
	copy(after[8*rate:9*rate], talk(rate, -30, 4))

	t.Run("echo is kept from the detector, the timeline kept", func(t *testing.T) {
		g := NewGate(New(&levelVAD{}, Config{}), 0)
		mic := add(add(noise, echo), after)
		out, at := runGate(t, g, mic, nil, reply)
		if at >= 0 {
			t.Fatalf("barge-in at %.2f s with only the echo", float64(at)/rate)
		}
		if len(out) != len(mic) {
			t.Fatalf("%d samples out for %d in", len(out), len(mic))
		}
		if e := levelDB(out[rate/2 : replyEnd]); e > -100 {
			t.Errorf("the echo reached the detector at %.1f dBFS", e)
		}
		// After the reply (and its echo) the gate is open: the later speaker is heard as is.
		if got, want := levelDB(out[8*rate:9*rate]), levelDB(mic[8*rate:9*rate]); got < want-0.1 {
			t.Errorf("speech after the reply at %.1f dBFS, want %.1f", got, want)
		}
	})
	t.Run("a barge-in is let through with its beginning", func(t *testing.T) {
		g := NewGate(New(&levelVAD{}, Config{}), 500*time.Millisecond)
		mic := add(add(noise, echo), person)
		out, at := runGate(t, g, mic, nil, reply)
		if at < 4*rate || at > 4*rate+rate/4 {
			t.Fatalf("barge-in at %.2f s, want within 250 ms of the person starting at 4 s", float64(at)/rate)
		}
		if g.Barged() {
			t.Error("Barged() = true after the playback ended")
		}
		// The person's first 300 ms come out (at their place in the timeline).
		if got, want := levelDB(out[4*rate:4*rate+rate*3/10]), levelDB(mic[4*rate:4*rate+rate*3/10]); got < want-1 {
			t.Errorf("the person's first 300 ms at %.1f dBFS in the output, %.1f in the input", got, want)
		}
		if len(out) != len(mic) {
			t.Errorf("%d samples out for %d in", len(out), len(mic))
		}
	})
	t.Run("without playback the gate is transparent", func(t *testing.T) {
		g := NewGate(New(&levelVAD{}, Config{}), 0)
		mic := add(noise, after)
		out, _ := runGate(t, g, mic, nil, make([]float32, n))
		for i := range out {
			if out[i] != mic[i] {
				t.Fatalf("sample %d changed: %g -> %g", i, mic[i], out[i])
			}
		}
	})
}
