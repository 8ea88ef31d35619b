package action

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Ring is a timer that came due, now or while Hark was not running.
type Ring struct {
	Timer  Timer
	Missed bool          // it came due while Hark was not running
	Late   time.Duration // how long after its due time it is reported
}

// Timers runs the timers and alarms kept in a [Store]: each running one is scheduled, rings
// through the callback when due, and is then marked rang.
type Timers struct {
	st    *Store
	now   func() time.Time
	ring  func(Ring)
	grace time.Duration

	mu     sync.Mutex
	sched  map[int64]scheduled
	closed bool
	stop   chan struct{}
}

type scheduled struct {
	t   *time.Timer
	due time.Time
}

// rescanEvery is how often the store is read again for timers another Hark process (`hark do`)
// set, changed or cancelled.
const rescanEvery = time.Second

// MissedGrace is how late a timer found at start-up may still ring as if on time; later than
// that, it is reported as missed.
const MissedGrace = time.Minute

// NewTimers schedules the store's running timers. Those that came due while Hark was not
// running are handed to ring at once (Missed set when more than MissedGrace late).
func NewTimers(st *Store, now func() time.Time, ring func(Ring)) (*Timers, error) {
	if now == nil {
		now = time.Now
	}
	t := &Timers{st: st, now: now, grace: MissedGrace, sched: map[int64]scheduled{}, stop: make(chan struct{})}
	if _, err := st.timers(context.Background(), TimerRunning); err != nil {
		return nil, err
	}
	if ring != nil {
		t.SetRing(ring)
	}
	return t, nil
}

func (t *Timers) watch() {
	tick := time.NewTicker(rescanEvery)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			_ = t.rescan()
		}
	}
}

// rescan schedules the running timers in the store and forgets the ones that are no longer
// running there.
func (t *Timers) rescan() error {
	list, err := t.st.timers(context.Background(), TimerRunning)
	if err != nil {
		return err
	}
	running := map[int64]bool{}
	for _, tm := range list {
		running[tm.ID] = true
		t.mu.Lock()
		s, ok := t.sched[tm.ID]
		t.mu.Unlock()
		if !ok || !s.due.Equal(tm.Due) {
			t.schedule(tm)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, s := range t.sched {
		if !running[id] {
			s.t.Stop()
			delete(t.sched, id)
		}
	}
	return nil
}

// SetRing sets the callback and, the first time, starts running the timers: until then
// nothing is scheduled or rung (`hark do` sets timers for the Hark that is running, and must
// not ring them itself).
func (t *Timers) SetRing(ring func(Ring)) {
	t.mu.Lock()
	first := t.ring == nil
	t.ring = ring
	t.mu.Unlock()
	if first && ring != nil {
		_ = t.rescan()
		go t.watch()
	}
}

// Close stops scheduling; the timers stay in the store and ring after the next start.
func (t *Timers) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	close(t.stop)
	for id, s := range t.sched {
		s.t.Stop()
		delete(t.sched, id)
	}
}

func (t *Timers) schedule(tm Timer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if old, ok := t.sched[tm.ID]; ok {
		old.t.Stop()
	}
	t.sched[tm.ID] = scheduled{time.AfterFunc(max(0, tm.Due.Sub(t.now())), func() { t.fire(tm.ID) }), tm.Due}
}

func (t *Timers) unschedule(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.sched[id]; ok {
		s.t.Stop()
		delete(t.sched, id)
	}
}

func (t *Timers) fire(id int64) {
	t.mu.Lock()
	delete(t.sched, id)
	ring, closed := t.ring, t.closed
	t.mu.Unlock()
	if closed {
		return
	}
	ctx := context.Background()
	list, err := t.st.timers(ctx, TimerRunning)
	if err != nil {
		return
	}
	for _, tm := range list {
		if tm.ID != id {
			continue
		}
		now := t.now()
		if tm.Due.After(now) { // the clock moved: wait the rest
			t.schedule(tm)
			return
		}
		r := Ring{Timer: tm, Late: now.Sub(tm.Due)}
		r.Missed = r.Late > t.grace
		tm.State = TimerRang
		if r.Missed {
			tm.State = TimerMissed
		}
		r.Timer.State = tm.State
		// Claimed in the store before it rings (a few milliseconds for the disk): a crash
		// during the ring never rings it twice, nor do two Hark processes.
		if ok, err := t.st.claimTimer(ctx, tm.ID, tm.State); err != nil || !ok {
			return
		}
		ring(r)
		return
	}
}

// Start starts a countdown of length d.
func (t *Timers) Start(ctx context.Context, name string, d time.Duration) (Timer, error) {
	return t.start(ctx, name, d, "")
}

// start is Start for a timer set in language lang, the language its ring is announced in.
func (t *Timers) start(ctx context.Context, name string, d time.Duration, lang string) (Timer, error) {
	now := t.now()
	tm := Timer{Name: name, Kind: KindTimer, Created: now, Length: d, Due: now.Add(d), State: TimerRunning, Language: lang}
	id, err := t.st.addTimer(ctx, tm)
	if err != nil {
		return tm, err
	}
	tm.ID = id
	t.schedule(tm)
	return tm, nil
}

// Alarm sets an alarm at a time of day.
func (t *Timers) Alarm(ctx context.Context, name string, at time.Time) (Timer, error) {
	return t.alarm(ctx, name, at, "")
}

func (t *Timers) alarm(ctx context.Context, name string, at time.Time, lang string) (Timer, error) {
	now := t.now()
	tm := Timer{Name: name, Kind: KindAlarm, Created: now, Due: at, State: TimerRunning, Language: lang}
	id, err := t.st.addTimer(ctx, tm)
	if err != nil {
		return tm, err
	}
	tm.ID = id
	t.schedule(tm)
	return tm, nil
}

// Active lists running and paused timers, soonest first.
func (t *Timers) Active(ctx context.Context) ([]Timer, error) {
	return t.st.timers(ctx, TimerRunning, TimerPaused)
}

// All lists every timer the store remembers, finished ones too.
func (t *Timers) All(ctx context.Context) ([]Timer, error) {
	return t.st.timers(ctx, TimerRunning, TimerPaused, TimerRang, TimerMissed, TimerCancelled)
}

// Find picks active timers by name ("" matches all). A name matches a timer whose name
// contains it, so "pasta" finds "pasta timer".
func (t *Timers) Find(ctx context.Context, name string) ([]Timer, error) {
	list, err := t.Active(ctx)
	if err != nil || name == "" {
		return list, err
	}
	name = strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(name), "timer")))
	var out []Timer
	for _, tm := range list {
		if strings.Contains(strings.ToLower(tm.Name), name) {
			out = append(out, tm)
		}
	}
	return out, nil
}

// Cancel stops tm for good.
func (t *Timers) Cancel(ctx context.Context, tm Timer) error {
	t.unschedule(tm.ID)
	tm.State = TimerCancelled
	return t.st.setTimer(ctx, tm)
}

// Pause holds tm; Resume continues it.
func (t *Timers) Pause(ctx context.Context, tm Timer) (Timer, error) {
	if tm.State != TimerRunning {
		return tm, fmt.Errorf("the %s is not running", tm.Name)
	}
	t.unschedule(tm.ID)
	tm.Left, tm.State = tm.Remaining(t.now()), TimerPaused
	return tm, t.st.setTimer(ctx, tm)
}

// Resume continues a paused timer.
func (t *Timers) Resume(ctx context.Context, tm Timer) (Timer, error) {
	if tm.State != TimerPaused {
		return tm, fmt.Errorf("the %s is not paused", tm.Name)
	}
	tm.Due, tm.State, tm.Left = t.now().Add(tm.Left), TimerRunning, 0
	if err := t.st.setTimer(ctx, tm); err != nil {
		return tm, err
	}
	t.schedule(tm)
	return tm, nil
}

// Say is what is said when r rings, in the language the timer was set in: "Your pasta timer
// is done.", "煮面计时器时间到了。", or that it went off late or while Hark was not running.
func (r Ring) Say() string {
	l := replyLang(r.Timer.Language)
	switch {
	case r.Missed:
		return l.f("Your %s went off while I was not running.", "%s在我没运行的时候响过了。", r.Timer.Name)
	case r.Late > 5*time.Second:
		return l.f("Your %s went off %s ago, while I was starting.", "%s在%s前就到时间了，当时我正在启动。", r.Timer.Name, l.sayDuration(r.Late))
	}
	return l.f("Your %s is done.", "%s时间到了。", r.Timer.Name)
}

// SayDuration speaks a duration: "1 hour and 5 minutes", "30 seconds".
func SayDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	var parts []string
	add := func(n int, unit string) {
		if n == 0 {
			return
		}
		if n != 1 {
			unit += "s"
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, unit))
	}
	add(h, "hour")
	add(m, "minute")
	if h == 0 {
		add(s, "second")
	}
	switch len(parts) {
	case 0:
		return "0 seconds"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
