#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>

#include "alsalog.h"
#include "_cgo_export.h"

// libasound's snd_lib_error_handler_t.
static void hark_alsa_handler(const char *file, int line, const char *function, int err, const char *fmt, ...) {
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	harkALSALog((char *)(function ? function : "?"), err, buf);
}

// hark_alsa_quiet installs the handler in the libasound miniaudio will load (dlopen returns the
// same library). The handle is never closed, so the handler stays valid. 0: no libasound.
int hark_alsa_quiet(void) {
	void *h = dlopen("libasound.so.2", RTLD_NOW | RTLD_GLOBAL);
	if (!h) return 0;
	int (*set)(void *) = (int (*)(void *))dlsym(h, "snd_lib_error_set_handler");
	if (!set) return 0;
	set((void *)hark_alsa_handler);
	return 1;
}
