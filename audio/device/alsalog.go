package device

// #cgo LDFLAGS: -ldl
// #include "alsalog.h"
import "C"

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// libasound prints its own diagnostics on stderr: where no sound server runs, miniaudio's
// probing of ALSA devices makes it print some 175 lines ("ALSA lib pcm.c:... Unknown PCM
// ..."), which bury the one error that matters. Hark installs its own handler before the first
// context starts and sends them to the function SetLog names (by default nowhere).

var (
	alsaOnce sync.Once
	alsaLog  atomic.Pointer[func(string)]
)

// SetLog sends the sound libraries' own messages to logf (a debug log); nil discards them,
// which is the default.
func SetLog(logf func(string)) {
	alsaLog.Store(&logf)
	quietALSA()
}

func quietALSA() { alsaOnce.Do(func() { C.hark_alsa_quiet() }) }

//export harkALSALog
func harkALSALog(function *C.char, code C.int, msg *C.char) {
	if f := alsaLog.Load(); f != nil && *f != nil {
		(*f)(fmt.Sprintf("ALSA: %s: %s (error %d)", C.GoString(function), C.GoString(msg), int(code)))
	}
}
