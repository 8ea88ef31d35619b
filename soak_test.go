package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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
// uses 1,000): questions to `hark listen --typed`, two of every three spoken through the virtual
// microphone and every third typed on its standard input (the window's text entry asks the same
// way; before the first, 11 MB on one line, which is refused), with the process's RSS, threads and open files sampled after every turn. Every question
// must end in exactly one finished turn, none lost and none doubled, and have its row in the
// history with the same transcript and reply; the open files and threads must come back to
// where they were after warm-up; the RSS slope after warm-up is reported.
func TestSoak(t *testing.T) {
	testenv.Require(t)
	testenv.LockAudio(t)
	turns := 30
	if v, err := strconv.Atoi(os.Getenv("HARK_SOAK_TURNS")); err == nil && v > 0 {
		turns = v
	}
	// Generous waits: a loaded machine (the long run shares one) makes a turn of a few seconds
	// take a minute; a lost turn is still caught, by the wait and by the count at the end.
	testenv.Deadline(t, time.Duration(turns)*40*time.Second+5*time.Minute)
	wav := spokenQuestion(t)
	data := t.TempDir() // where the history is, for `hark history export` afterwards
	env := []string{"XDG_CONFIG_HOME=" + data, "XDG_DATA_HOME=" + data, "XDG_CACHE_HOME=" + data}
	r := startListen(t, "soak", env, append([]string{"--typed", "--turns", strconv.Itoa(turns)},
		voiceModels(t, testmodels.Shared(t, "stories260K.gguf"))...)...)
	start := time.Now()
	var samples []procSample
	// Each sample is also written as it is taken, so that a long run that fails still leaves
	// its figures (the artifact folder, beside events.jsonl).
	tsv, err := os.Create(filepath.Join(r.dir, "samples.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer tsv.Close()
	fmt.Fprintln(tsv, "turn\tseconds\trss_kib\tthreads\topen_files\tload_average")
	var asked []string // "" for a spoken question
	i := r.waitEvent("listening", 0, 60*time.Second, isState("listening"))
	for n := 1; n <= turns; n++ {
		// Each question starts once the assistant listens again after the previous turn.
		if n == 3 {
			// A pasted book first: refused with a message, and no turn.
			if _, err := io.WriteString(r.stdin, strings.Repeat("All work and no play. ", 500_000)+"\n"); err != nil {
				t.Fatal(err)
			}
			i = r.waitEvent("the refusal of 11 MB", i, 2*time.Minute, isKind("error"))
			if e := r.events()[i-1]; !strings.Contains(e.str("error"), "too long") {
				t.Errorf("11 MB typed: %v", e)
			}
		}
		if n%3 == 0 {
			q := fmt.Sprintf("Typed question %d: what is the capital of France?", n)
			if _, err := io.WriteString(r.stdin, q+"\n"); err != nil {
				t.Fatal(err)
			}
			asked = append(asked, q)
		} else {
			say(t, wav)
			asked = append(asked, "")
		}
		i = r.waitEvent(fmt.Sprintf("the end of turn %d", n), i, 5*time.Minute, isKind("turn_done"))
		if n < turns {
			s := sampleProc(t, r.cmd.Process.Pid, start)
			samples = append(samples, s)
			fmt.Fprintf(tsv, "%d\t%.0f\t%d\t%d\t%d\t%s\n", n, s.at.Seconds(), s.rssKB, s.threads, s.fds, loadAverage())
			i = r.waitEvent(fmt.Sprintf("listening after turn %d", n), i, 2*time.Minute, isState("listening"))
		}
	}
	r.exit(30 * time.Second)
	checkSoakTurns(t, r.events(), asked)
	checkSoakHistory(t, env, r.events())
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

// checkSoakTurns checks that each question asked (in order; "" for a spoken one) gave exactly
// one turn: one transcript from the right input (a typed one word for word), one reply and one
// turn_done, and that nothing else started a turn.
func checkSoakTurns(t *testing.T, evs []event, asked []string) {
	t.Helper()
	type turn struct{ transcripts, replies, dones int }
	byID := map[float64]*turn{}
	var order []float64
	speech := 0
	for _, e := range evs {
		k := e.kind()
		if k == "speech" {
			speech++
		}
		if k != "transcript" && k != "reply" && k != "turn_done" {
			continue
		}
		id := e.num("turn")
		if byID[id] == nil {
			byID[id] = &turn{}
			order = append(order, id)
		}
		switch k {
		case "transcript":
			byID[id].transcripts++
			if n := len(order) - 1; n < len(asked) {
				want, input := asked[n], "typed"
				if want == "" {
					input = "voice"
				}
				if e.str("input") != input || (want != "" && e.str("text") != want) {
					t.Errorf("question %d (%q) gave the transcript %v", n+1, want, e)
				}
			}
		case "reply":
			byID[id].replies++
		case "turn_done":
			byID[id].dones++
		}
	}
	spoken := 0
	for _, q := range asked {
		if q == "" {
			spoken++
		}
	}
	if len(order) != len(asked) || speech != spoken {
		t.Errorf("%d questions (%d spoken) gave %d turns and %d speech starts", len(asked), spoken, len(order), speech)
	}
	for n, id := range order {
		if c := byID[id]; *c != (turn{1, 1, 1}) {
			t.Errorf("turn %d (#%v): %d transcripts, %d replies, %d turn_done; want one of each", n+1, id, c.transcripts, c.replies, c.dones)
		}
	}
}

// checkSoakHistory checks that the history (read with `hark history export`, in the
// environment env) has one complete row per turn, with the transcript and the reply the
// events showed.
func checkSoakHistory(t *testing.T, env []string, evs []event) {
	t.Helper()
	cmd := exec.Command(harkBinary(t), "history", "export")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hark history export: %v", err)
	}
	var doc struct {
		Conversations []struct {
			Turns []struct{ Status, Transcript, Reply string }
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("hark history export: %v\n%s", err, out)
	}
	var rows []struct{ Status, Transcript, Reply string }
	for _, c := range doc.Conversations {
		rows = append(rows, c.Turns...)
	}
	var transcripts, replies []string
	for _, e := range evs {
		switch e.kind() {
		case "transcript":
			transcripts = append(transcripts, e.str("text"))
		case "reply":
			replies = append(replies, e.str("text"))
		}
	}
	if len(rows) != len(transcripts) {
		t.Errorf("%d turns in the history, %d transcripts", len(rows), len(transcripts))
	}
	for n := range min(len(rows), len(transcripts), len(replies)) {
		if w := rows[n]; w.Status != "complete" || w.Transcript != transcripts[n] || w.Reply != replies[n] {
			t.Errorf("history row %d = %+v, want complete, %q, %q", n+1, w, transcripts[n], replies[n])
		}
	}
}
