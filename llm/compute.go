package llm

import (
	"runtime"
	"sync"
)

// Every llama_decode of the process runs on one OS thread, the compute thread.
//
// llama.cpp's CPU backend computes each graph inside an OpenMP parallel region, and ggml
// synchronises its threads with an OpenMP barrier after every graph node (hundreds per
// token). libgomp keeps a separate team of worker threads for each OS thread that starts a
// parallel region, and once the threads it manages outnumber the CPUs it stops spinning at
// barriers and sleeps on a futex at each one instead. Go runs a goroutine on whichever OS
// thread is free, so decodes issued from Go land on several threads over time; on a 2-CPU
// machine with 2 threads the second such thread was enough to throttle every barrier:
// ~150 voluntary context switches per generated token instead of ~2, and generation at
// 0.2–0.6× llama-bench's speed. Handing each decode to one locked thread keeps libgomp at
// one team, as in llama.cpp's own tools. The hand-off costs two goroutine switches per
// decode (microseconds against a decode's hundreds).
//
// Code that computes a graph (llama_decode, llama_encode) must go through onComputeThread;
// other llama.cpp calls (tokenizing, sampling, the KV cache) run on the caller's thread.

var (
	computeOnce sync.Once
	computeReqs chan computeReq
)

type computeReq struct {
	f    func()
	done chan struct{}
}

// onComputeThread runs f on the compute thread and returns when f has returned. f must not
// call onComputeThread itself and must not block on other goroutines.
func onComputeThread(f func()) {
	computeOnce.Do(func() {
		computeReqs = make(chan computeReq)
		go func() {
			// Never unlocked: the thread stays the compute thread for the life of the process.
			runtime.LockOSThread()
			for r := range computeReqs {
				r.f()
				r.done <- struct{}{}
			}
		}()
	})
	done := donePool.Get().(chan struct{})
	computeReqs <- computeReq{f, done}
	<-done
	donePool.Put(done)
}

var donePool = sync.Pool{New: func() any { return make(chan struct{}, 1) }}
