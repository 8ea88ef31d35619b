package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"hark/audio"
	"hark/audio/device"
)

func runRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("record", stderr)
	dev := fs.String("device", "", "microphone: a name or ID from `hark devices`, or a unique part of one (default: the system's default)")
	seconds := fs.Float64("seconds", 0, "how long to record (default: until Ctrl-C)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *seconds < 0 {
		return fmt.Errorf("%w: record needs one output file: %s", errUsage, usage("record"))
	}
	out := fs.Arg(0)
	c, err := device.OpenCapture(device.CaptureOptions{Device: *dev})
	if err != nil {
		return err
	}
	defer c.Close()
	rate, channels := c.Format()
	until := "press Ctrl-C to stop"
	if *seconds > 0 {
		until = fmt.Sprintf("for %g s", *seconds)
	}
	fmt.Fprintf(stderr, "recording from %q (%d Hz, %d channel(s)), %s\n", c.Device().Name, rate, channels, until)

	want := int(*seconds * audio.SampleRate)
	var samples []float32
	buf := make([]float32, audio.SampleRate/10)
	var readErr error
	for want == 0 || len(samples) < want {
		n, err := c.Read(ctx, buf)
		if want > 0 {
			n = min(n, want-len(samples))
		}
		samples = append(samples, buf[:n]...)
		if err != nil {
			readErr = err
			break
		}
	}
	// Whatever was recorded is kept, also when the microphone went away or the user stopped.
	pcm := audio.PCM{Rate: audio.SampleRate, Samples: samples}
	if err := audio.WriteWAV(out, pcm); err != nil {
		return err
	}
	l := audio.MeasureLevel(samples)
	fmt.Fprintf(stderr, "wrote %s: %.2f s, peak %.1f dBFS, RMS %.1f dBFS\n", out, pcm.Duration().Seconds(), l.Peak, l.RMS)
	if o := c.Overruns(); o > 0 {
		fmt.Fprintf(stderr, "hark record: %.2f s of sound was dropped because the machine was too busy\n", float64(o)/audio.SampleRate)
	}
	if len(samples) > 0 && l.Peak < -60 {
		fmt.Fprintln(stderr, "hark record: the recording is silent: is the microphone muted, or is it the wrong one? (`hark devices` lists them)")
	}
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		return readErr
	}
	return nil
}
