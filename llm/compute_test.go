package llm

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"hark/internal/testmodels"
)

// TestDecodesRunOnOneThread decodes from goroutines locked to different OS threads, as Go's
// scheduler may put any request on any thread, and checks that llama.cpp saw a single calling
// thread: with several, libgomp throttles its barriers and generation with 2+ threads
// collapses (see compute.go).
func TestDecodesRunOnOneThread(t *testing.T) {
	m := load(t, testmodels.Shared(t, "stories260K.gguf"), Options{Threads: 2})
	var mu sync.Mutex
	tids := map[int]int{}
	testHookCompute = func() {
		mu.Lock()
		tids[syscall.Gettid()]++
		mu.Unlock()
	}
	t.Cleanup(func() { testHookCompute = nil })
	const callers = 4
	var started, wg sync.WaitGroup
	started.Add(callers)
	wg.Add(callers)
	callerTids := make([]int, callers)
	for i := range callers {
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // all four are locked at once, so on four distinct threads
			defer runtime.UnlockOSThread()
			callerTids[i] = syscall.Gettid()
			started.Done()
			started.Wait()
			m.exclusive(func() {
				m.truncateKV(0)
				if err := m.x.decode([]token{m.voc.bos(), token(100 + i)}, 0); err != nil {
					t.Error(err)
				}
			})
		}()
	}
	wg.Wait()
	if len(tids) != 1 {
		t.Fatalf("llama_decode ran on %d OS threads %v (callers on %v); want 1", len(tids), tids, callerTids)
	}
	for tid, n := range tids {
		if n != callers {
			t.Errorf("thread %d ran %d decodes, want %d", tid, n, callers)
		}
	}
}

// voluntarySwitches sums the voluntary context switches of all threads of the process: a
// thread that sleeps at a barrier instead of spinning adds one each time.
func voluntarySwitches() int {
	total := 0
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/status")
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				total += n
			}
		}
	}
	return total
}
