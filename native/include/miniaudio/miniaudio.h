/* Hark shim for ollama v0.17.4 llama/llama.cpp/tools/mtmd/mtmd-helper.cpp, whose vendor/ headers
 * are not in the Go module zip. The real header is miniaudio as shipped in the malgo Go module
 * (copied here by scripts/native.sh). mtmd-helper compiles miniaudio with MA_API static, but this
 * one global stays extern and would collide with malgo's own copy: rename it in this unit. */
#define ma_atomic_global_lock mtmd_ma_atomic_global_lock
#include "miniaudio_malgo.h"
