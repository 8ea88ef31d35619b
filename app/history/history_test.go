package history

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var ctx = context.Background()

func open(t *testing.T, path string, o Options) *Store {
	t.Helper()
	s, err := Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a settable fake time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestTurnLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "history.db")
	s := open(t, path, Options{StoreAudio: true})
	conv, err := s.StartConversation(ctx, "car")
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.StartTurn(ctx, conv, TurnStart{ASRModel: "whisper-base.en", LLMModel: "qwen2.5-0.5b-instruct"})
	if err != nil {
		t.Fatal(err)
	}
	turn, _ := s.Turn(ctx, id)
	if turn.Status != InProgress || !turn.Ended.IsZero() {
		t.Errorf("new turn %+v", turn)
	}
	must(t, s.SetTranscript(ctx, id, "what time is it"))
	must(t, s.SetReply(ctx, id, "It is"))
	audio := []float32{0, 0.5, -0.5, 1, -1}
	must(t, s.FinishTurn(ctx, id, TurnEnd{Reply: "It is noon.", Audio: audio, AudioRate: 16000,
		Timings: Timings{ASR: 300 * time.Millisecond, FirstToken: 450 * time.Millisecond, LLM: time.Second, TTS: 200 * time.Millisecond, Total: 1500 * time.Millisecond}}))
	id2, _ := s.StartTurn(ctx, conv, TurnStart{})
	must(t, s.SetTranscript(ctx, id2, "tell me a story"))
	must(t, s.FinishTurn(ctx, id2, TurnEnd{Reply: "Once upon", Interrupted: true}))
	id3, _ := s.StartTurn(ctx, conv, TurnStart{})
	must(t, s.FinishTurn(ctx, id3, TurnEnd{Err: "microphone unavailable"}))

	c, err := s.Conversation(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != "car" || len(c.Turns) != 3 || c.Preview != "what time is it" {
		t.Fatalf("conversation %+v", c)
	}
	a := c.Turns[0]
	if a.Status != Complete || a.Transcript != "what time is it" || a.Reply != "It is noon." || a.Ended.IsZero() ||
		a.Timings != (TimingsMillis{300, 450, 1000, 200, 1500}) || a.ASRModel != "whisper-base.en" || a.AudioRate != 16000 || len(a.Audio) != len(audio) {
		t.Errorf("first turn %+v", a)
	}
	for i, v := range audio {
		if d := a.Audio[i] - v; d > 1e-4 || d < -1e-4 {
			t.Errorf("audio sample %d = %v, want %v", i, a.Audio[i], v)
		}
	}
	if b := c.Turns[1]; !b.Interrupted() || b.Reply != "Once upon" {
		t.Errorf("interrupted turn %+v", b)
	}
	if e := c.Turns[2]; e.Status != Failed || e.Error != "microphone unavailable" {
		t.Errorf("failed turn %+v", e)
	}
	if err := s.SetTranscript(ctx, 999, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a missing turn: %v", err)
	}
	if _, err := s.Conversation(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing conversation: %v", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", filepath.Dir(path)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v; the history must be private", p, perm)
		}
	}
}

func TestAudioOnlyWhenAsked(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "h.db"), Options{})
	conv, _ := s.StartConversation(ctx, "")
	id, _ := s.StartTurn(ctx, conv, TurnStart{})
	must(t, s.FinishTurn(ctx, id, TurnEnd{Reply: "x", Audio: make([]float32, 16000), AudioRate: 16000}))
	turn, _ := s.Turn(ctx, id)
	if turn.Audio != nil || turn.AudioRate != 0 {
		t.Errorf("audio stored without store_audio: %d samples", len(turn.Audio))
	}
}

func TestListAndExport(t *testing.T) {
	clk := &clock{time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := open(t, filepath.Join(t.TempDir(), "h.db"), Options{Now: clk.now})
	var convs []int64
	for i := range 3 {
		c, _ := s.StartConversation(ctx, "desktop")
		convs = append(convs, c)
		for j := range 2 {
			id, _ := s.StartTurn(ctx, c, TurnStart{})
			must(t, s.SetTranscript(ctx, id, fmt.Sprintf("question %d.%d", i, j)))
			must(t, s.FinishTurn(ctx, id, TurnEnd{Reply: fmt.Sprintf("answer %d.%d", i, j)}))
			clk.t = clk.t.Add(time.Minute)
		}
		clk.t = clk.t.Add(time.Hour)
	}
	list, err := s.Conversations(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].ID != convs[2] || list[0].TurnCount != 2 || list[0].Preview != "question 2.0" {
		t.Fatalf("list %+v", list)
	}
	if l, _ := s.Conversations(ctx, ListOptions{Limit: 1}); len(l) != 1 || l[0].ID != convs[2] {
		t.Errorf("limit 1: %+v", l)
	}
	if l, _ := s.Conversations(ctx, ListOptions{Since: list[1].LastActivity}); len(l) != 2 {
		t.Errorf("since: %d conversations", len(l))
	}
	var buf bytes.Buffer
	if err := s.Export(ctx, &buf, time.Time{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Format        string
		Version       int
		Conversations []struct {
			ID    int64
			Turns []struct {
				Transcript, Reply, Status string
				Started                   time.Time
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, buf.String())
	}
	if doc.Format != "hark-history" || doc.Version != 1 || len(doc.Conversations) != 3 || doc.Conversations[0].ID != convs[0] {
		t.Fatalf("export %+v", doc)
	}
	tr := doc.Conversations[0].Turns[1]
	if tr.Transcript != "question 0.1" || tr.Reply != "answer 0.1" || tr.Status != "complete" || !tr.Started.Equal(time.Date(2025, 3, 1, 12, 1, 0, 0, time.UTC)) {
		t.Errorf("exported turn %+v", tr)
	}
}

func TestRetention(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := &clock{now.AddDate(0, 0, -40)}
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(path, Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	add := func(text string) int64 {
		c, _ := s.StartConversation(ctx, "")
		id, _ := s.StartTurn(ctx, c, TurnStart{})
		must(t, s.SetTranscript(ctx, id, text))
		must(t, s.FinishTurn(ctx, id, TurnEnd{Reply: strings.Repeat("words ", 2000)}))
		return c
	}
	old := add("forty days ago")
	clk.t = now.AddDate(0, 0, -20)
	mid := add("twenty days ago")
	clk.t = now.AddDate(0, 0, -1)
	recent := add("yesterday")
	s.Close()

	clk.t = now
	s = open(t, path, Options{RetentionDays: 30, Now: clk.now})
	list, _ := s.Conversations(ctx, ListOptions{})
	if len(list) != 2 || list[0].ID != recent || list[1].ID != mid {
		t.Fatalf("after 30-day retention: %+v", list)
	}
	if _, err := s.Conversation(ctx, old); !errors.Is(err, ErrNotFound) {
		t.Errorf("the 40-day-old conversation is still there: %v", err)
	}
	clk.t = now.AddDate(0, 0, 15) // the 20-day-old turn is now 35 days old
	if n, err := s.Prune(ctx); err != nil || n != 1 {
		t.Errorf("Prune = %d, %v; want 1", n, err)
	}
	if raw := rawBytes(t, path); bytes.Contains(raw, []byte("forty days ago")) || bytes.Contains(raw, []byte("twenty days ago")) {
		t.Error("pruned transcripts are still readable in the database file")
	}
}

// rawBytes reads the database and its WAL as bytes, as someone inspecting the disk would.
func rawBytes(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func TestWipeReclaimsSpace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, Options{StoreAudio: true})
	secret := "my bank PIN is 4711"
	for i := range 20 {
		c, _ := s.StartConversation(ctx, "kiosk")
		for j := range 5 {
			id, _ := s.StartTurn(ctx, c, TurnStart{})
			must(t, s.SetTranscript(ctx, id, fmt.Sprintf("%s (%d.%d)", secret, i, j)))
			must(t, s.FinishTurn(ctx, id, TurnEnd{Reply: strings.Repeat("a long answer ", 500), Audio: make([]float32, 8000), AudioRate: 16000}))
		}
	}
	before := s.Size()
	if !bytes.Contains(rawBytes(t, path), []byte(secret)) {
		t.Fatal("test setup: the secret is not in the file to begin with")
	}
	if err := s.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	after := s.Size()
	t.Logf("history: %d bytes before the wipe, %d after", before, after)
	if after*10 > before {
		t.Errorf("wipe left %d of %d bytes", after, before)
	}
	if bytes.Contains(rawBytes(t, path), []byte(secret)) {
		t.Error("the wiped text is still readable in the database file")
	}
	if l, _ := s.Conversations(ctx, ListOptions{}); len(l) != 0 {
		t.Errorf("%d conversations after wipe", len(l))
	}
	// The store keeps working after a wipe.
	c, err := s.StartConversation(ctx, "kiosk")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartTurn(ctx, c, TurnStart{}); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteConversation(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "h.db"), Options{})
	a, _ := s.StartConversation(ctx, "")
	b, _ := s.StartConversation(ctx, "")
	id, _ := s.StartTurn(ctx, a, TurnStart{})
	must(t, s.DeleteConversation(ctx, a))
	if _, err := s.Turn(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("the deleted conversation's turn survived: %v", err)
	}
	if _, err := s.Conversation(ctx, b); err != nil {
		t.Errorf("the other conversation: %v", err)
	}
	if err := s.DeleteConversation(ctx, a); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func TestNewerFormatRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, Options{})
	if _, err := s.db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "newer Hark") {
		t.Fatalf("Open of a newer format = %v", err)
	}
}

// childEnv names the database a re-executed test binary writes turns into until it is killed.
const childEnv = "HARK_HISTORY_KILL_CHILD"

// TestMain lets the test binary act as the child process of TestKillDuringWrites.
func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		writeUntilKilled(path)
		return
	}
	os.Exit(m.Run())
}

// writeUntilKilled records turns as fast as it can, printing "done ID" after each finished
// turn, until it is killed.
func writeUntilKilled(path string) {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	conv, err := s.StartConversation(ctx, "desktop")
	for i := 0; err == nil; i++ {
		var id int64
		if id, err = s.StartTurn(ctx, conv, TurnStart{}); err != nil {
			break
		}
		if err = s.SetTranscript(ctx, id, fmt.Sprintf("question %d", id)); err != nil {
			break
		}
		reply := ""
		for part := range 3 {
			reply += fmt.Sprintf("part %d of answer %d. ", part, id)
			if err = s.SetReply(ctx, id, reply); err != nil {
				break
			}
		}
		if err = s.FinishTurn(ctx, id, TurnEnd{Reply: reply, Timings: Timings{Total: time.Second}}); err == nil {
			fmt.Printf("done %d\n", id) // stdout is unbuffered: the parent sees it at once
		}
		if i%5 == 4 { // new conversations now and then
			conv, err = s.StartConversation(ctx, "desktop")
		}
	}
	fmt.Println("error", err)
	os.Exit(1)
}

// TestKillDuringWrites kills a process that is writing turns with SIGKILL at several points,
// reopens the history and checks that every turn the process finished is there, complete, and
// that at most the one turn in flight is lost.
func TestKillDuringWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	var finished []int64
	for round, after := range []int{3, 11, 25} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		n := 0
		for n < after && sc.Scan() {
			line := sc.Text()
			id, ok := strings.CutPrefix(line, "done ")
			if !ok {
				t.Fatalf("child: %s", line)
			}
			v, _ := strconv.ParseInt(id, 10, 64)
			finished = append(finished, v)
			n++
		}
		// The child is in the middle of its next turn now.
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for sc.Scan() { // turns it finished before the signal landed
			if id, ok := strings.CutPrefix(sc.Text(), "done "); ok {
				v, _ := strconv.ParseInt(id, 10, 64)
				finished = append(finished, v)
			}
		}
		cmd.Wait()

		s, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after kill -9: %v", round, err)
		}
		var check string
		if err := s.db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Fatalf("round %d: integrity check: %q, %v", round, check, err)
		}
		for _, id := range finished {
			turn, err := s.Turn(ctx, id)
			if err != nil {
				t.Fatalf("round %d: finished turn %d: %v", round, id, err)
			}
			want := fmt.Sprintf("part 0 of answer %d. part 1 of answer %d. part 2 of answer %d. ", id, id, id)
			if turn.Status != Complete || turn.Transcript != fmt.Sprintf("question %d", id) || turn.Reply != want {
				t.Fatalf("round %d: finished turn %d came back as %+v", round, id, turn)
			}
		}
		var total, lost, inProgress int
		s.db.QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'lost'), COUNT(*) FILTER (WHERE status = 'in_progress') FROM turns`).Scan(&total, &lost, &inProgress)
		t.Logf("round %d: %d turns finished so far, %d rows, %d lost in the kills, %d in progress", round, len(finished), total, lost, inProgress)
		if inProgress != 0 || lost > round+1 || total-lost != len(finished) {
			t.Errorf("round %d: %d rows, %d lost, %d in progress; %d finished", round, total, lost, inProgress, len(finished))
		}
		s.Close()
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestActionsAudit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.StartConversation(ctx, "desktop")
	if err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(time.Now().UnixMilli())
	want := Action{Conversation: c, At: at, Input: "clear my notes", Tool: "note_clear", Args: `{}`, Source: "intent",
		Confirmed: "no", Result: "not run", Duration: 1500 * time.Microsecond}
	if _, err := s.AddAction(ctx, want); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddAction(ctx, Action{At: at.Add(time.Second), Tool: "timer_start", Args: `{"seconds":5}`, Done: true, Error: ""}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Actions(ctx, c, 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("Actions(conversation) = %v, %v", got, err)
	}
	want.ID = got[0].ID
	if got[0] != want {
		t.Errorf("Actions = %+v\nwant %+v", got[0], want)
	}
	if all, _ := s.Actions(ctx, 0, 0); len(all) != 2 || all[0].Tool != "timer_start" {
		t.Errorf("all actions, newest first = %+v", all)
	}
	if err := s.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Actions(ctx, 0, 0); len(all) != 0 {
		t.Errorf("after wipe: %d actions", len(all))
	}
}

// TestLooseHistoryMadePrivate: a database another program left readable by others (0644, with
// its -wal file) is made private when Hark opens it.
func TestLooseHistoryMadePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	conv, _ := s.StartConversation(ctx, "")
	_, _ = s.StartTurn(ctx, conv, TurnStart{})
	must(t, s.Close())
	if f, err := os.OpenFile(path+"-wal", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); err == nil {
		f.Close() // an empty log, as a crash can leave
	}
	must(t, os.Chmod(path, 0o644))
	must(t, os.Chmod(path+"-wal", 0o644))
	s = open(t, path, Options{})
	if n, err := s.Conversations(ctx, ListOptions{}); err != nil || len(n) != 1 {
		t.Errorf("after the change of mode: %d conversations, %v", len(n), err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %v after opening, want 0600", p, perm)
		}
	}
}
