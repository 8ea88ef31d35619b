// Package cpucheck stops Hark at start-up, with a clear message, on a CPU that lacks the
// instructions the native engines were compiled for, and reports the CPU's features.
//
// ggml (whisper.cpp and llama.cpp) is compiled with -march=x86-64-v3 by default (AVX2, FMA,
// F16C, BMI2). On an older CPU the first such instruction would kill the process with SIGILL,
// possibly inside a C++ static constructor before Go's main runs, so the check is a C
// constructor with the highest priority, compiled for the baseline ISA. Importing this package
// (every engine package does) is enough to install it. The portable build (make portable)
// compiles everything for baseline x86-64 and the check then passes on any x86-64 CPU.
package cpucheck

/*
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The ISA level the C code of this build was compiled for, from the compiler's own macros. It
// must be decided before the target pragma below, which changes those macros.
#if defined(__AVX512F__)
#define HARK_COMPILED_ISA "x86-64-v4"
#elif defined(__AVX2__) && defined(__FMA__) && defined(__F16C__) && defined(__BMI2__)
#define HARK_COMPILED_ISA "x86-64-v3"
#define HARK_NEEDS_V3 1
#elif defined(__SSE4_2__) && defined(__POPCNT__)
#define HARK_COMPILED_ISA "x86-64-v2"
#else
#define HARK_COMPILED_ISA "x86-64"
#endif

#pragma GCC push_options
#pragma GCC target("arch=x86-64")

static const char *hark_compiled_isa(void) { return HARK_COMPILED_ISA; }

static const char *hark_names[] = {"sse4.2", "avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "avx512vnni", "avxvnni"};
enum { hark_n_names = sizeof hark_names / sizeof hark_names[0] };
static const char *hark_name(int i) { return hark_names[i]; }

// hark_cpu_has reports whether the running CPU (and OS, for AVX state) supports feature i.
static int hark_cpu_has(int i) {
	__builtin_cpu_init();
	switch (i) {
	case 0: return __builtin_cpu_supports("sse4.2");
	case 1: return __builtin_cpu_supports("avx");
	case 2: return __builtin_cpu_supports("avx2");
	case 3: return __builtin_cpu_supports("fma");
	case 4: return __builtin_cpu_supports("f16c");
	case 5: return __builtin_cpu_supports("bmi2");
	case 6: return __builtin_cpu_supports("avx512f");
	case 7: return __builtin_cpu_supports("avx512vnni");
	case 8: return __builtin_cpu_supports("avxvnni");
	}
	return 0;
}

static void hark_say(const char *s) { ssize_t r = write(2, s, strlen(s)); (void) r; }

__attribute__((constructor(101))) static void hark_cpu_check(void) {
#if defined(HARK_NEEDS_V3)
	__builtin_cpu_init();
	// HARK_CPU_PRETEND_BASELINE lets a test see this message on a CPU that passes.
	const int pretend = getenv("HARK_CPU_PRETEND_BASELINE") != NULL;
	if (__builtin_cpu_supports("x86-64-v3") && !pretend) {
		return;
	}
	hark_say("hark: this build needs a CPU with AVX2, FMA, F16C and BMI2 (x86-64-v3).\n"
	         "hark: this CPU lacks:");
	static const int need[] = {1, 2, 3, 4, 5};
	for (unsigned k = 0; k < sizeof need / sizeof need[0]; k++) {
		if (pretend || !hark_cpu_has(need[k])) {
			hark_say(" ");
			hark_say(hark_names[need[k]]);
		}
	}
	hark_say("\nhark: build the portable version instead: make portable (it writes bin/hark-portable).\n");
	_exit(3);
#endif
}

#pragma GCC pop_options
*/
import "C"

// CompiledISA is the x86-64 level the native code of this binary was compiled for.
func CompiledISA() string { return C.GoString(C.hark_compiled_isa()) }

// Features lists the CPU features (of those that matter to ggml) the running machine has.
func Features() []string {
	var out []string
	for i := range C.hark_n_names {
		if C.hark_cpu_has(C.int(i)) != 0 {
			out = append(out, C.GoString(C.hark_name(C.int(i))))
		}
	}
	return out
}
