package device_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hark/audio"
	"hark/audio/device"
	"hark/audio/internal/audiotest"
	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// collect reads from c until ctx is done and returns everything read and the loudest Level
// seen meanwhile.
func collect(ctx context.Context, c *device.Capture) ([]float32, audio.Level, error) {
	var out []float32
	loudest := audio.Level{RMS: audio.SilenceDB, Peak: audio.SilenceDB}
	buf := make([]float32, 1600)
	for {
		n, err := c.Read(ctx, buf)
		out = append(out, buf[:n]...)
		if l := c.Level(); l.Peak > loudest.Peak {
			loudest = l
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return out, loudest, nil
			}
			return out, loudest, err
		}
	}
}

// recording runs collect in the background; stop ends it and returns the samples and the
// loudest level seen.
func recording(t *testing.T, c *device.Capture) (stop func() ([]float32, audio.Level)) {
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		s []float32
		l audio.Level
	}
	got := make(chan result, 1)
	go func() {
		s, l, err := collect(ctx, c)
		if err != nil {
			t.Errorf("Read: %v", err)
		}
		got <- result{s, l}
	}()
	return func() ([]float32, audio.Level) {
		cancel()
		r := <-got
		return r.s, r.l
	}
}

// matches checks that ref occurs in got (searched from offset from) with a normalised
// cross-correlation of at least 0.99, and with no gap or repeat: every half second of ref with
// sound in it is found at the same lag, with a local NCC of at least 0.98. It returns where
// ref ends in got.
func matches(t *testing.T, name string, ref, got []float32, from int) int {
	t.Helper()
	end, ncc, problems := compare(ref, got, from)
	t.Logf("%s: found at %.3f s, NCC %.4f", name, float64(end-len(ref))/audio.SampleRate, ncc)
	for _, p := range problems {
		t.Errorf("%s: %s", name, p)
	}
	return end
}

func compare(ref, got []float32, from int) (end int, ncc float64, problems []string) {
	if from >= len(got) {
		return from, 0, []string{fmt.Sprintf("nothing captured after sample %d", from)}
	}
	lag, ncc, ref := audiotest.Align(ref, got[from:], len(got)-from)
	lag += from
	if ncc < 0.99 {
		problems = append(problems, fmt.Sprintf("NCC %.4f, want >= 0.99", ncc))
	}
	const block = audio.SampleRate / 2
	for b := 0; b+block <= len(ref); b += block {
		r := ref[b : b+block]
		if audiotest.RMS(r) < 0.01 {
			continue
		}
		best, bestAt := -2.0, 0
		for d := -40; d <= 40; d++ {
			at := lag + b + d
			if at < 0 || at+block > len(got) {
				continue
			}
			if v := audiotest.NCC(r, got[at:at+block]); v > best {
				best, bestAt = v, d
			}
		}
		if bestAt != 0 || best < 0.98 {
			problems = append(problems, fmt.Sprintf("the half second at %.1f s is shifted by %d samples (NCC %.3f): a gap or a repeat", float64(b)/audio.SampleRate, bestAt, best))
		}
	}
	return lag + len(ref), ncc, problems
}

// TestCompareFindsGaps: the comparison the device tests rely on must see a 20 ms dropout.
func TestCompareFindsGaps(t *testing.T) {
	ref := audiotest.WhiteNoise(3*audio.SampleRate, -20, 9)
	good := append(make([]float32, 1234), ref...)
	if _, ncc, p := compare(ref, good, 0); len(p) != 0 || ncc < 0.9999 {
		t.Errorf("an exact copy: NCC %.4f, problems %v", ncc, p)
	}
	gap := append(append(append(make([]float32, 1234), ref[:20000]...), make([]float32, 320)...), ref[20000:]...)
	if _, _, p := compare(ref, gap, 0); len(p) == 0 {
		t.Error("a 20 ms gap went unnoticed")
	}
}

func readWAV(t *testing.T, p string) []float32 {
	t.Helper()
	pcm, err := audio.ReadWAV(p)
	if err != nil {
		t.Fatal(err)
	}
	return pcm.Samples
}

// deviceFile renders 16 kHz mono speech as a WAV file at a device's own rate and channel
// count, so that the sound server plays it into the device untouched (its own resampler is not
// under test). Stereo files carry speech+tone on the left and speech-tone on the right: only a
// true down-mix (the mean of the channels) gives back the speech without the tone.
func deviceFile(t *testing.T, speech []float32, rate, channels int) string {
	t.Helper()
	s := audio.Resample(audio.PCM{Rate: audio.SampleRate, Samples: speech}, rate).Samples
	p := filepath.Join(t.TempDir(), fmt.Sprintf("speech-%d-%d.wav", rate, channels))
	var err error
	if channels == 1 {
		err = audiotest.WriteWAV(p, rate, s)
	} else {
		tone := audiotest.Sine(rate, 1000, 0.1, len(s))
		l, r := make([]float32, len(s)), make([]float32, len(s))
		for i := range s {
			l[i], r[i] = 0.8*s[i]+tone[i], 0.8*s[i]-tone[i]
		}
		err = audiotest.WriteWAV(p, rate, l, r)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCaptureThroughVirtualMicrophone plays jfk.wav and an espeak-ng sentence into virtual
// microphones running at 16, 44.1 and 48 kHz (stereo for the last two) and checks that Capture
// delivers the same sound at 16 kHz mono, without gaps or overruns.
func TestCaptureThroughVirtualMicrophone(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	jfk := readWAV(t, testmodels.JFK(t))
	speech := readWAV(t, audiotest.Espeak(t, "Hark hears you through the virtual microphone, at any rate."))
	for _, tc := range []struct{ rate, channels int }{{16000, 1}, {44100, 2}, {48000, 2}} {
		t.Run(fmt.Sprintf("%dHz-%dch", tc.rate, tc.channels), func(t *testing.T) {
			t.Parallel()
			sink := fmt.Sprintf("hark_test_mic_%d", tc.rate)
			audiotest.NullSink(t, sink, tc.rate, tc.channels)
			files := []string{deviceFile(t, jfk, tc.rate, tc.channels), deviceFile(t, speech, tc.rate, tc.channels)}
			c, err := device.OpenCapture(device.CaptureOptions{Device: sink + ".monitor"})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if rate, ch := c.Format(); rate != tc.rate || ch != tc.channels {
				t.Errorf("opened at %d Hz, %d channels; the device runs at %d Hz, %d channels", rate, ch, tc.rate, tc.channels)
			}
			stop := recording(t, c)
			for _, f := range files {
				if err := audiotest.Play(t, context.Background(), sink, f)(); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(300 * time.Millisecond) // the tail still on its way through the sound server
			got, loudest := stop()
			// Taken now: the capture runs on until Close, and with nobody reading, the ring
			// overflows during the slow comparisons below (which is what made this test fail
			// under load when it read the count at the end).
			overruns := c.Overruns()
			if err := audio.WriteWAV(filepath.Join(testenv.ArtifactDir(t, "capture"), fmt.Sprintf("captured-%d.wav", tc.rate)), audio.PCM{Rate: audio.SampleRate, Samples: got}); err != nil {
				t.Error(err)
			}
			end := matches(t, "jfk.wav", jfk, got, 0)
			matches(t, "espeak-ng", speech, got, end)
			// What this test is about is the sound above: both recordings found whole, with no
			// gap or repeat. An overrun while the test read (its reader starved for over the
			// ring's 4 s: a machine at load 20-30) is allowed only outside them, which those
			// checks prove; the product counts it (TestCaptureCallback checks the counting), and
			// it is logged.
			if overruns != 0 {
				load, _ := os.ReadFile("/proc/loadavg")
				t.Logf("%d samples overrun while reading, outside both sounds (load average %s)", overruns, strings.TrimSpace(string(load)))
			}
			if loudest.Peak < -20 || loudest.RMS < -40 || loudest.RMS > loudest.Peak {
				t.Errorf("the loudest Level while speech played was %+v", loudest)
			}
		})
	}
}

func TestList(t *testing.T) {
	testenv.Require(t)
	devs, err := device.List()
	if err != nil {
		t.Fatal(err)
	}
	var mic, speaker bool
	for _, d := range devs {
		mic = mic || (d.Kind == device.KindCapture && d.ID == "vmic_in.monitor" && d.IsDefault)
		speaker = speaker || (d.Kind == device.KindPlayback && d.ID == "vspeaker" && d.IsDefault && d.Name == "VirtualSpeaker")
	}
	if !mic || !speaker {
		t.Errorf("List() = %+v; want the default capture vmic_in.monitor and the default playback vspeaker", devs)
	}
}

func TestOpenMissingDevice(t *testing.T) {
	testenv.Require(t)
	_, err := device.OpenCapture(device.CaptureOptions{Device: "no-such-microphone"})
	if !errors.Is(err, device.ErrNoDevice) || !strings.Contains(err.Error(), "`hark devices`") || !strings.Contains(err.Error(), `"no-such-microphone"`) {
		t.Errorf("OpenCapture of a missing device: %v", err)
	}
	_, err = device.OpenPlayer(device.PlayerOptions{Device: "no-such-speaker"})
	if !errors.Is(err, device.ErrNoDevice) {
		t.Errorf("OpenPlayer of a missing device: %v", err)
	}
	// "v" is part of both virtual devices' IDs: ambiguous, and the error says which.
	_, err = device.OpenPlayer(device.PlayerOptions{Device: "v"})
	if !errors.Is(err, device.ErrNoDevice) || !strings.Contains(err.Error(), "matches") {
		t.Errorf("OpenPlayer of an ambiguous name: %v", err)
	}
}

// TestCaptureDefault captures the default microphone (the test environment's vmic_in.monitor),
// found by its description, case-insensitively.
func TestCaptureDefault(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	speech := audiotest.Espeak(t, "This is the default microphone.")
	ref := readWAV(t, speech)
	for _, name := range []string{"", "monitor of virtualmicin"} {
		c, err := device.OpenCapture(device.CaptureOptions{Device: name})
		if err != nil {
			t.Fatal(err)
		}
		if d := c.Device(); d.ID != "vmic_in.monitor" {
			t.Errorf("OpenCapture(%q) opened %+v", name, d)
		}
		stop := recording(t, c)
		if err := audiotest.Play(t, context.Background(), "vmic_in", speech)(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		got, _ := stop()
		c.Close()
		matches(t, fmt.Sprintf("OpenCapture(%q)", name), ref, got, 0)
	}
}

// TestCaptureDeviceLost removes the device a Capture records from: Read reports ErrDeviceLost,
// and a new Capture on another device works in the same process.
func TestCaptureDeviceLost(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	sink := "hark_test_lost"
	module := audiotest.NullSink(t, sink, 48000, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Sound flowing into the device until it goes.
	wait := audiotest.Play(t, ctx, sink, deviceFile(t, audiotest.Sine(audio.SampleRate, 300, 0.3, 30*audio.SampleRate), 48000, 2))
	defer func() { cancel(); _ = wait() }()
	c, err := device.OpenCapture(device.CaptureOptions{Device: sink + ".monitor"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]float32, 1600)
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	for total := 0; total < audio.SampleRate; {
		n, err := c.Read(rctx, buf)
		if err != nil {
			t.Fatalf("Read before the device went: %v", err)
		}
		total += n
	}
	audiotest.Unload(t, module)
	var lost error
	for lost == nil {
		if _, err := c.Read(rctx, buf); err != nil {
			lost = err
		}
	}
	if !errors.Is(lost, device.ErrDeviceLost) {
		t.Fatalf("Read after the device was removed: %v, want ErrDeviceLost", lost)
	}
	t.Logf("Read: %v", lost)
	if _, err := c.Read(rctx, buf); !errors.Is(err, device.ErrDeviceLost) {
		t.Errorf("the next Read: %v, want ErrDeviceLost again", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close after the loss: %v", err)
	}

	// Capture again, on the virtual microphone.
	speech := audiotest.Espeak(t, "Still listening.")
	c2, err := device.OpenCapture(device.CaptureOptions{Device: "vmic_in.monitor"})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	stop := recording(t, c2)
	if err := audiotest.Play(t, context.Background(), "vmic_in", speech)(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	got, _ := stop()
	matches(t, "after the loss", readWAV(t, speech), got, 0)
}

// parec records a sink's monitor into a WAV file at the device's own format until stop.
func parec(t *testing.T, monitor string, rate, channels int) (stop func() []float32) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rec.wav")
	cmd := exec.Command("parec", "-d", monitor, "--format=float32le", "--rate="+strconv.Itoa(rate),
		"--channels="+strconv.Itoa(channels), "--latency-msec=30", "--file-format=wav", p)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // let it connect before the sound starts
	return func() []float32 {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		f, err := os.Open(p)
		if err != nil {
			t.Fatalf("parec: %v: %s", err, out.String())
		}
		defer f.Close()
		pcm, _, err := audio.DecodeWAVFormat(f)
		if err != nil {
			t.Fatalf("parec's recording: %v (%s)", err, out.String())
		}
		return pcm.Samples
	}
}

// TestPlayback plays jfk.wav followed by a beep through a 48 kHz stereo device and through the
// default speaker (the test environment's vspeaker), records each device's monitor with parec,
// and checks that the recording matches, gap-free, and already holds the final beep when Play
// returns.
func TestPlayback(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	jfk := readWAV(t, testmodels.JFK(t))
	beep := audiotest.Sine(audio.SampleRate, 1000, 0.5, audio.SampleRate/5)
	sound := append(append([]float32(nil), jfk...), beep...)
	for _, tc := range []struct {
		name, device, monitor string
		rate, channels        int
	}{
		{"48kHz-stereo", "hark_test_speaker", "hark_test_speaker.monitor", 48000, 2},
		{"default", "", "vspeaker.monitor", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.device != "" {
				audiotest.NullSink(t, tc.device, tc.rate, tc.channels)
			} else {
				audiotest.Keepalive(t, "vspeaker", 16000, 1) // as scripts/testenv/default.pa.in loads it
			}
			p, err := device.OpenPlayer(device.PlayerOptions{Device: tc.device})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			rate, ch := p.Format()
			if tc.rate != 0 && (rate != tc.rate || ch != tc.channels) {
				t.Errorf("opened at %d Hz, %d channels; the device runs at %d Hz, %d channels", rate, ch, tc.rate, tc.channels)
			}
			if d := p.Device(); tc.device == "" && d.ID != "vspeaker" {
				t.Errorf("the default speaker is %+v, want vspeaker", d)
			}
			// PulseAudio may switch an idle null sink between 44.1 and 48 kHz: record it at
			// the rate the player found, so the recorder does not resample.
			stop := parec(t, tc.monitor, rate, ch)
			start := time.Now()
			if err := p.Play(context.Background(), audio.PCM{Rate: audio.SampleRate, Samples: sound}); err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			time.Sleep(100 * time.Millisecond) // parec's own buffer, not Play's
			rec := audio.Resample(audio.PCM{Rate: rate, Samples: stop()}, audio.SampleRate).Samples
			if err := audio.WriteWAV(filepath.Join(testenv.ArtifactDir(t, "playback"), tc.name+".wav"), audio.PCM{Rate: audio.SampleRate, Samples: rec}); err != nil {
				t.Error(err)
			}
			if d := time.Duration(len(sound)) * time.Second / audio.SampleRate; took < d-50*time.Millisecond {
				t.Errorf("Play returned after %v, before the %v of sound could have played", took, d)
			}
			end := matches(t, "jfk.wav+beep", sound, rec, 0)
			// The beep, the last thing played, is all there.
			if end > len(rec) {
				t.Fatalf("the recording stops %d ms before the end of the sound", (end-len(rec))*1000/audio.SampleRate)
			}
			if ncc := audiotest.NCC(beep, rec[end-len(beep):end]); ncc < 0.99 {
				t.Errorf("the final beep: NCC %.3f", ncc)
			}
		})
	}
}

// TestPlayCancel cancels a long sound after a second: Play returns at once with the context's
// error, the sound played without a gap or a step (none bigger than the sine's own) until it
// stopped, and the player plays the next sound, without anything of the cancelled one. By
// default the sound ends with a fade; with CutOnCancel it ends at once (a step is allowed at
// the cut only), so less of it plays after the cancel.
func TestPlayCancel(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	for _, cut := range []bool{false, true} {
		t.Run(fmt.Sprintf("cut=%v", cut), func(t *testing.T) {
			const sink = "hark_test_cancel"
			audiotest.NullSink(t, sink, 48000, 1)
			p, err := device.OpenPlayer(device.PlayerOptions{Device: sink, CutOnCancel: cut})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			stop := parec(t, sink+".monitor", 48000, 1)
			long := audio.PCM{Rate: 48000, Samples: audiotest.Sine(48000, 440, 0.5, 5*48000)}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			err = p.Play(ctx, long)
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Play: %v, want context.DeadlineExceeded", err)
			}
			if took > 3*time.Second {
				t.Errorf("Play returned after %v: it did not stop", took)
			}
			if !cut {
				time.Sleep(500 * time.Millisecond) // what was in the device's buffer plays out and fades
			}
			// A sound after the cancelled one: only it plays, nothing of the cancelled one resurfaces.
			if err := p.Play(context.Background(), audio.PCM{Rate: 16000, Samples: audiotest.Sine(16000, 880, 0.3, 1600)}); err != nil {
				t.Errorf("Play after a cancelled Play: %v", err)
			}
			time.Sleep(300 * time.Millisecond)
			rec := stop()
			// The sounds in the recording: spans of sound separated by 50 ms or more of silence.
			type span struct{ first, last int }
			var spans []span
			for i, v := range rec {
				switch {
				case v == 0:
				case len(spans) > 0 && i-spans[len(spans)-1].last < 48000/20:
					spans[len(spans)-1].last = i
				default:
					spans = append(spans, span{i, i})
				}
			}
			if len(spans) != 2 {
				t.Fatalf("%d sounds in the recording, want 2 (the cancelled one, then the next)", len(spans))
			}
			played := rec[spans[0].first : spans[0].last+1]
			t.Logf("%.2f s of the 5 s sound played; Play returned %v after the cancel", float64(len(played))/48000, took-time.Second)
			if len(played) > 4*48000 {
				t.Errorf("%.1f s of the sound played", float64(len(played))/48000)
			}
			body := played
			if cut {
				body = played[:max(0, len(played)-48)] // the cut itself is a step
			}
			step := 0.0
			for i := 1; i < len(body); i++ {
				step = max(step, float64(abs(body[i]-body[i-1])))
			}
			if step > 0.05 { // a 440 Hz sine at 0.5 moves at most 0.029 per sample at 48 kHz
				t.Errorf("a step of %.3f between samples: a click (or a gap)", step)
			}
			if end := played[len(played)-48:]; !cut && audiotest.RMS(end) > 0.1 {
				t.Errorf("the last millisecond of sound has RMS %.3f: no fade", audiotest.RMS(end))
			}
			if next := spans[1].last + 1 - spans[1].first; next > 48000*15/100 {
				t.Errorf("the next sound lasted %.2f s, want 0.1 s: the cancelled one resurfaced", float64(next)/48000)
			}
		})
	}
}

func abs(x float32) float32 { return max(x, -x) }

// TestPlayerDeviceLost removes the speaker during Play: Play returns ErrDeviceLost.
func TestPlayerDeviceLost(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	const sink = "hark_test_speaker_lost"
	module := audiotest.NullSink(t, sink, 44100, 2)
	p, err := device.OpenPlayer(device.PlayerOptions{Device: sink})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	go func() {
		done <- p.Play(ctx, audio.PCM{Rate: 16000, Samples: audiotest.Sine(16000, 300, 0.3, 20*16000)})
	}()
	time.Sleep(time.Second)
	audiotest.Unload(t, module)
	if err := <-done; !errors.Is(err, device.ErrDeviceLost) {
		t.Fatalf("Play after its device was removed: %v, want ErrDeviceLost", err)
	} else {
		t.Logf("Play: %v", err)
	}
}
