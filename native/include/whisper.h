/* Hark: entry point for <whisper.h>, used by the whisper.cpp Go bindings and by asr/.
 * The real header (whisper.cpp 1.9.3 from the whisper.rn npm package, wsp_-prefixed ggml) is
 * copied beside this directory by scripts/native.sh. Including it by a relative path keeps its own
 * "ggml.h" includes resolving next to it, so this directory can be on every cgo package's include
 * path without shadowing the ggml.h that llama.cpp (ollama) compiles against. */
#include "../whisper/whisper.h"
