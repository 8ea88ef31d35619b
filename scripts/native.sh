#!/usr/bin/env bash
# native.sh: the C/C++ side of Hark's build that cgo cannot do by itself.
#
#   scripts/native.sh dir   ISA   print the native directory for ISA (nothing is built)
#   scripts/native.sh build ISA   make sure it is complete, building what is missing
#
# The directory holds
#   include/   the include shims every cgo package sees (CGO_CPPFLAGS=-I.../include):
#              whisper.h (-> ../whisper/whisper.h), miniaudio/ and stb/ for ollama's mtmd-helper
#   whisper/   whisper.cpp's public headers, copied from the whisper.rn npm package
#   lib/       libwhisper.a libggml.a libggml-base.a libggml-cpu.a, the static libraries that the
#              official whisper.cpp Go bindings link (-lwhisper -lggml -lggml-base -lggml-cpu)
#
# Its name carries a hash of everything that goes into it (the npm lock, the shims, a layout number,
# the compiler flags, the source lists), so a change of any of them builds a new directory, and Go's build cache,
# which never looks at these files, sees a new -I/-L path and rebuilds what depends on them.
# It lives outside the checkout (HARK_NATIVE_ROOT, default ~/.cache/hark/native) so that every
# checkout and worktree on a machine shares one build of llama.cpp in Go's cache.
set -euo pipefail

cmd=${1:-}
ISA=${2:-x86-64-v3}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NATIVE_ROOT=${HARK_NATIVE_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/hark/native}
SRC="$ROOT/node_modules/whisper.rn/cpp"
JOBS=${JOBS:-$(nproc)}

case "$ISA" in
  x86-64-v3) ISAFLAGS="-march=x86-64-v3" ;;
  x86-64) ISAFLAGS="-march=x86-64 -mtune=generic" ;;
  *) echo "native.sh: unknown ISA '$ISA' (x86-64-v3 or x86-64)" >&2; exit 2 ;;
esac
CPPFLAGS="-I$SRC -I$SRC/ggml-cpu -DNDEBUG -D_GNU_SOURCE -DWSP_GGML_USE_CPU -DWSP_GGML_USE_CPU_REPACK -Dggml=wsp_ggml_ns"
CFLAGS="-std=c11 -O3 $ISAFLAGS -pthread -fPIC -Wno-unused-result"
CXXFLAGS="-std=c++17 -O3 $ISAFLAGS -pthread -fPIC"

# Which sources go into which library, as whisper.cpp's CMake splits them.
LIB_BASE=(ggml.c ggml.cpp ggml-alloc.c ggml-backend.cpp ggml-backend-meta.cpp ggml-opt.cpp ggml-quants.c ggml-threading.cpp gguf.cpp)
LIB_GGML=(ggml-backend-reg.cpp ggml-backend-dl.cpp)
LIB_CPU=(ggml-cpu/ggml-cpu.c ggml-cpu/ggml-cpu.cpp ggml-cpu/ops.cpp ggml-cpu/quants.c ggml-cpu/repack.cpp
  ggml-cpu/traits.cpp ggml-cpu/binary-ops.cpp ggml-cpu/unary-ops.cpp ggml-cpu/vec.cpp
  ggml-cpu/arch/x86/quants.c ggml-cpu/arch/x86/repack.cpp ggml-cpu/amx/amx.cpp ggml-cpu/amx/mmq.cpp)
LIB_WHISPER=(whisper.cpp)

stamp() {
  {
    # Bump LAYOUT when this script changes what it puts in the directory.
    echo "LAYOUT=1 ${LIB_BASE[*]} ${LIB_GGML[*]} ${LIB_CPU[*]} ${LIB_WHISPER[*]}"
    cat "$ROOT/package-lock.json"
    find "$ROOT/native" -type f -print0 | sort -z | xargs -0 cat
    # The checkout's path is left out, so that every checkout shares the directory.
    echo "${CPPFLAGS//$SRC/SRC}|$CFLAGS|$CXXFLAGS|$(gcc -dumpfullversion)|malgo-$(malgo_version)"
  } | sha256sum | cut -c1-12
}

malgo_version() { sed -n 's/^\s*github.com\/gen2brain\/malgo \(v[^ ]*\).*/\1/p' "$ROOT/go.mod" | head -1; }

whisper_rn_version() { sed -n '/"node_modules\/whisper.rn"/,/}/s/.*"version": "\([^"]*\)".*/\1/p' "$ROOT/package-lock.json" | head -1; }

DIR="$NATIVE_ROOT/whisper.rn-$(whisper_rn_version)-$ISA-$(stamp)"

case "$cmd" in
  dir) echo "$DIR"; exit 0 ;;
  build) ;;
  *) echo "usage: native.sh dir|build [x86-64-v3|x86-64]" >&2; exit 2 ;;
esac

if [ -f "$DIR/.complete" ]; then exit 0; fi
[ -f "$SRC/whisper.cpp" ] || { echo "native.sh: $SRC missing: run 'npm ci' (make setup)" >&2; exit 1; }
WV="$(sed -n '/whisper_version(void) {/,/}/s/.*return "\([^"]*\)".*/\1/p' "$SRC/whisper.cpp")"
[ "$WV" = "1.9.3" ] || { echo "native.sh: whisper.rn ships whisper.cpp $WV, Hark expects 1.9.3" >&2; exit 1; }

TMP="$DIR.tmp.$$"
rm -rf "$TMP"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/include" "$TMP/whisper" "$TMP/lib" "$TMP/obj"
cp -r "$ROOT/native/include/." "$TMP/include/"
MA="$(cd "$ROOT" && go list -m -f '{{.Dir}}' github.com/gen2brain/malgo)/miniaudio.h"
install -m 0644 "$MA" "$TMP/include/miniaudio/miniaudio_malgo.h"
for h in "$SRC"/*.h; do install -m 0644 "$h" "$TMP/whisper/"; done

# A generated Makefile compiles the objects in parallel; ar packs each library.
{
  echo "CPPFLAGS := $CPPFLAGS"
  echo "CFLAGS := $CFLAGS"
  echo "CXXFLAGS := $CXXFLAGS"
  for lib in base ggml cpu whisper; do
    case $lib in base) srcs=("${LIB_BASE[@]}"); name=ggml-base ;; ggml) srcs=("${LIB_GGML[@]}"); name=ggml ;;
      cpu) srcs=("${LIB_CPU[@]}"); name=ggml-cpu ;; whisper) srcs=("${LIB_WHISPER[@]}"); name=whisper ;; esac
    objs=()
    for s in "${srcs[@]}"; do
      o="${s//\//_}.o"; objs+=("$o")
      if [ "${s##*.}" = c ]; then
        printf '%s: %s\n\tgcc $(CPPFLAGS) $(CFLAGS) -c $< -o $@\n' "$o" "$SRC/$s"
      else
        printf '%s: %s\n\tg++ $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@\n' "$o" "$SRC/$s"
      fi
    done
    printf '../lib/lib%s.a: %s\n\trm -f $@ && ar rcs $@ $^\n' "$name" "${objs[*]}"
    all+=("../lib/lib$name.a")
  done
  printf 'all: %s\n' "${all[*]}"
} >"$TMP/obj/Makefile"

echo "native.sh: building whisper.cpp $WV ($ISA) into $DIR" >&2
t0=$(date +%s)
make -s -C "$TMP/obj" -j "$JOBS" all >"$TMP/build.log" 2>&1 || { tail -40 "$TMP/build.log" >&2; exit 1; }
rm -rf "$TMP/obj"
{
  echo "whisper.cpp $WV from whisper.rn@$(whisper_rn_version) (npm)"
  echo "CPPFLAGS $CPPFLAGS"
  echo "CFLAGS $CFLAGS"
  echo "CXXFLAGS $CXXFLAGS"
  echo "built in $(( $(date +%s) - t0 )) s with -j$JOBS"
} >"$TMP/BUILD-INFO"
touch "$TMP/.complete"
mkdir -p "$NATIVE_ROOT"
rm -rf "$DIR"
mv "$TMP" "$DIR"
trap - EXIT
cat "$DIR/BUILD-INFO" >&2
