package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"hark/internal/testenv"
	"hark/internal/testmodels"
)

// procSample is what /proc says of a process at one moment.
type procSample struct {
	at      time.Duration
	rssKB   int
	threads int
	fds     int
}

func sampleProc(t *testing.T, pid int, since time.Time) procSample {
	t.Helper()
	s := procSample{at: time.Since(since)}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			s.rssKB, _ = strconv.Atoi(f[1])
		case "Threads:":
			s.threads, _ = strconv.Atoi(f[1])
		}
	}
	ents, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	s.fds = len(ents)
	return s
}

// slope is the least-squares slope of y over x.
func slope(x, y []float64) float64 {
	n := float64(len(x))
	var sx, sy, sxx, sxy float64
	for i := range x {
		sx, sy, sxx, sxy = sx+x[i], sy+y[i], sxx+x[i]*x[i], sxy+x[i]*y[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// TestSoak is the compressed soak (HARK_SOAK_TURNS, 30 by default; the benchmark's long run
// uses 1,000): hands-free voice turns through the virtual microphone into `hark listen`, with
// the process's RSS, threads and open files sampled after every turn. Every utterance must end
// in exactly one finished turn, none lost and none doubled; the open files and threads must
// come back to where they were after warm-up; the RSS slope after warm-up is reported.
func TestSoak(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	turns := 30
	if v, err := strconv.Atoi(os.Getenv("HARK_SOAK_TURNS")); err == nil && v > 0 {
		turns = v
	}
	testenv.Deadline(t, time.Duration(turns)*20*time.Second+2*time.Minute)
	wav := spokenQuestion(t)
	r := startListen(t, "soak", nil, append([]string{"--turns", strconv.Itoa(turns)},
		voiceModels(t, testmodels.Shared(t, "stories260K.gguf"))...)...)
	start := time.Now()
	var samples []procSample
	i := r.waitEvent("listening", 0, 60*time.Second, isState("listening"))
	for n := 1; n <= turns; n++ {
		// Each question starts once the assistant listens again after the previous turn.
		say(t, wav)
		i = r.waitEvent(fmt.Sprintf("the end of turn %d", n), i, 90*time.Second, isKind("turn_done"))
		if n < turns {
			samples = append(samples, sampleProc(t, r.cmd.Process.Pid, start))
			i = r.waitEvent(fmt.Sprintf("listening after turn %d", n), i, 60*time.Second, isState("listening"))
		}
	}
	r.exit(30 * time.Second)
	if n, s := r.count(isKind("turn_done")), r.count(isKind("speech")); n != turns || s != turns {
		t.Errorf("%d utterances gave %d speech starts and %d finished turns, want %d of each", turns, s, n, turns)
	}
	// After warm-up (the first third): no growth in open files or threads; the RSS slope is
	// reported (a benchmark figure, not asserted).
	warm := samples[len(samples)/3:]
	var x, rss []float64
	for _, s := range warm {
		x, rss = append(x, float64(len(x))), append(rss, float64(s.rssKB))
	}
	first, last := warm[0], warm[len(warm)-1]
	t.Logf("%d turns in %v: RSS %d → %d KiB (slope %.1f KiB/turn after warm-up), threads %d → %d, open files %d → %d (load average %s)",
		turns, time.Since(start).Round(time.Second), samples[0].rssKB, last.rssKB, slope(x, rss), first.threads, last.threads, first.fds, last.fds, loadAverage())
	if last.fds > first.fds+2 {
		t.Errorf("open files grew from %d to %d after warm-up: a leak", first.fds, last.fds)
	}
	if last.threads > first.threads+4 {
		t.Errorf("threads grew from %d to %d after warm-up: a leak", first.threads, last.threads)
	}
}
