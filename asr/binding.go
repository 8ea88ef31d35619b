package asr

// This file and whisper_glue.c are asr's own thin binding of whisper.h (see the package doc for
// why asr does not use the official Go bindings). The C helpers keep per-call work on the C side:
// the abort and encoder-begin callbacks that whisper.cpp calls from inside whisper_full read a
// flag and a clock in C memory and never call into Go.

/*
#cgo LDFLAGS: -lwhisper -lggml -lggml-base -lggml-cpu -lstdc++ -lm
#include <stdlib.h>
#include "whisper_glue.h"
*/
import "C"

import (
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"unsafe"

	"hark/internal/enginelog"
	"hark/internal/ggml"
)

func init() {
	// whisper.cpp and ggml print to stderr by default; Hark routes their log through hark_log_cb,
	// which prints only for models loaded with LoadOptions.Verbose, and hands every line to
	// SetLogger's logger. The setting is process-wide.
	C.hark_asr_log_install()
}

// engineLog is whisper.cpp's log on its way to Hark's (see SetLogger).
var engineLog = enginelog.Sink{Engine: "whisper.cpp"}

// SetLogger routes whisper.cpp's and its ggml's own log (model loading, buffer sizes,
// warnings) to l, every line at debug level, so that it shows only where l's handler lets
// debug records through. nil (the default) drops it. whisper.cpp's logger is process-wide.
func SetLogger(l *slog.Logger) {
	v := C.int(0)
	if engineLog.Set(l) {
		v = 1
	}
	C.hark_asr_log_set_forward(v)
}

// harkASRLog receives a piece of a log line from whisper_glue.c.
//
//export harkASRLog
func harkASRLog(text *C.char) { engineLog.Write(C.GoString(text)) }

// Version is the version of the linked whisper.cpp library.
func Version() string { return C.GoString(C.whisper_version()) }

// logBufSize holds whisper.cpp's log of one model load or state creation (about 2 KB).
const logBufSize = 16 << 10

// newLog returns a C log target that captures text; free it with freeLog.
func newLog(verbose bool) *C.hark_asr_log {
	l := (*C.hark_asr_log)(C.calloc(1, C.size_t(unsafe.Sizeof(C.hark_asr_log{}))))
	l.buf = (*C.char)(C.calloc(1, logBufSize))
	l.cap = logBufSize
	if verbose {
		l.verbose = 1
	}
	return l
}

func freeLog(l *C.hark_asr_log) {
	C.free(unsafe.Pointer(l.buf))
	C.free(unsafe.Pointer(l))
}

func logText(l *C.hark_asr_log) string { return C.GoStringN(l.buf, C.int(l.len)) }

// mbLine matches the "name = 12.34 MB" size lines whisper.cpp logs when it allocates.
var mbLine = regexp.MustCompile(`(?m)(kv self size|kv cross size|kv pad  size|compute buffer \([a-z]+\))\s*=\s*([0-9.]+) MB`)

// loggedBytes adds up the buffer sizes whisper.cpp logged (its own accounting of a state's memory).
func loggedBytes(log string) int64 {
	var total float64
	for _, m := range mbLine.FindAllStringSubmatch(log, -1) {
		if v, err := strconv.ParseFloat(m[2], 64); err == nil {
			total += v * 1e6
		}
	}
	return int64(total)
}

// loggedErrors returns whisper.cpp's error lines from a captured log (the C callback marks them
// "ERROR: "), for error messages.
func loggedErrors(log string) string {
	var errs []string
	for _, line := range strings.Split(log, "\n") {
		if msg, ok := strings.CutPrefix(line, "ERROR: "); ok {
			errs = append(errs, strings.TrimSpace(msg))
		}
	}
	return strings.Join(errs, "; ")
}

// linkedGGMLType returns the linked ggml's name, block size and block bytes of type t (for the test
// that checks CheckFile's table against the library).
func linkedGGMLType(t int32) ggml.Type {
	return ggml.Type{
		Name:  C.GoString(C.wsp_ggml_type_name(C.enum_wsp_ggml_type(t))),
		Block: int64(C.wsp_ggml_blck_size(C.enum_wsp_ggml_type(t))),
		Size:  int64(C.wsp_ggml_type_size(C.enum_wsp_ggml_type(t))),
	}
}

// linkedGGMLTypeCount is WSP_GGML_TYPE_COUNT.
func linkedGGMLTypeCount() int32 { return C.WSP_GGML_TYPE_COUNT }

// languageCodes returns whisper.cpp's language codes with ids 0..n-1 ("en", "zh", ...).
func languageCodes(n int) []string {
	codes := make([]string, 0, n)
	for i := range n {
		s := C.whisper_lang_str(C.int(i))
		if s == nil {
			break
		}
		codes = append(codes, C.GoString(s))
	}
	return codes
}

// languageID returns whisper.cpp's id of a language code or English name ("de", "german"), or -1.
func languageID(lang string) int {
	cs := C.CString(lang)
	defer C.free(unsafe.Pointer(cs))
	return int(C.whisper_lang_id(cs))
}

// languageCode returns the code of language id, or "" when whisper.cpp has none.
func languageCode(id int) string {
	s := C.whisper_lang_str(C.int(id))
	if s == nil {
		return ""
	}
	return C.GoString(s)
}
