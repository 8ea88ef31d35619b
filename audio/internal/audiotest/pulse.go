package audiotest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NullSink loads a PulseAudio null sink (a virtual sound card whose monitor source records what
// is played into it) at the given rate and channel count, keeps it running (Keepalive), and
// unloads it when the test ends unless the test unloaded it itself (Unload). The caller holds
// testenv.LockAudio.
func NullSink(t testing.TB, name string, rate, channels int) (module string) {
	t.Helper()
	out, err := exec.Command("pactl", "load-module", "module-null-sink",
		"sink_name="+name, "rate="+strconv.Itoa(rate), "channels="+strconv.Itoa(channels),
		"sink_properties=device.description="+name).CombinedOutput()
	if err != nil {
		t.Fatalf("pactl load-module module-null-sink %s: %v\n%s", name, err, out)
	}
	module = strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("pactl", "unload-module", module).Run() })
	Keepalive(t, name, rate, channels)
	return module
}

// Keepalive plays silence into a sink with a 20 ms buffer until the test ends. An idle null
// sink wakes up only every 2 s and then renders 2 s at a time: a stream that starts on it waits
// that long, and a stream with a shorter buffer than the sink's block underruns. A real sound
// card does neither; with a low-latency stream always playing, a null sink behaves like one
// (scripts/testenv/start.sh does the same for vmic_in). The silence is at the sink's own rate
// and channel count: PulseAudio switches an idle sink to another rate (44.1 to 48 kHz) for a
// first stream that suits that one better.
func Keepalive(t testing.TB, sink string, rate, channels int) {
	t.Helper()
	cmd := exec.Command("pacat", "--playback", "-d", sink, "--latency-msec=20", "--raw",
		"--format=s16le", "--rate="+strconv.Itoa(rate), "--channels="+strconv.Itoa(channels), "/dev/zero")
	if err := cmd.Start(); err != nil {
		t.Fatalf("pacat: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// Wait until the sink has worked off the 2 s block it was rendering when the stream came:
	// a stream that starts before then stalls for up to 2 s.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if l, ok := sinkLatency(sink); ok && l < 100*time.Millisecond {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("null sink %s did not settle to a low latency", sink)
		}
	}
}

// sinkLatency reads a sink's current latency from `pactl list sinks` ("Name: NAME" and, further
// down its block, "Latency: N usec, configured M usec").
func sinkLatency(sink string) (time.Duration, bool) {
	out, err := exec.Command("pactl", "list", "sinks").Output()
	if err != nil {
		return 0, false
	}
	in := false
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "Name: "):
			in = strings.TrimPrefix(l, "Name: ") == sink
		case in && strings.HasPrefix(l, "Latency: "):
			f := strings.Fields(l)
			us, err := strconv.Atoi(f[1])
			return time.Duration(us) * time.Microsecond, err == nil
		}
	}
	return 0, false
}

// Unload unloads a module NullSink loaded.
func Unload(t testing.TB, module string) {
	t.Helper()
	if out, err := exec.Command("pactl", "unload-module", module).CombinedOutput(); err != nil {
		t.Fatalf("pactl unload-module %s: %v\n%s", module, err, out)
	}
}

// Play starts paplay playing a WAV file into sink and returns a function that waits for it to
// finish. Its buffer is 2 s: the tests align recordings by cross-correlation, so latency
// costs nothing, while a short buffer underruns on a busy machine and leaves gaps in the sound.
func Play(t testing.TB, ctx context.Context, sink, wav string) (wait func() error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "paplay", "-d", sink, "--latency-msec=2000", wav)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("paplay: %v", err)
	}
	return func() error {
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("paplay %s: %v: %s", wav, err, out.String())
		}
		return nil
	}
}

// Espeak speaks text with espeak-ng into a WAV file (22050 Hz mono) in the test's temporary
// folder and returns its path.
func Espeak(t testing.TB, text string, extra ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "espeak.wav")
	args := append([]string{"-w", p}, extra...)
	args = append(args, text)
	if out, err := exec.Command("espeak-ng", args...).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	if st, err := os.Stat(p); err != nil || st.Size() < 1000 {
		t.Fatalf("espeak-ng wrote no speech for %q (%v)", text, err)
	}
	return p
}
