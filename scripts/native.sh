#!/usr/bin/env bash
# native.sh: the C/C++ side of Hark's build that cgo cannot do by itself.
#
#   scripts/native.sh dir       ISA   print the whisper.cpp directory for ISA (nothing is built)
#   scripts/native.sh llama-dir ISA   print the llama.cpp directory for ISA (nothing is built)
#   scripts/native.sh build     ISA   make sure both are complete, building what is missing
#   scripts/native.sh llama-tool NAME ISA   build one of llama.cpp's own programs (llama-server,
#                                         llama-bench, llama-completion, llama-cli,
#                                         llama-quantize: any CMake target of its tools) from the
#                                         same tree; prints its path
#
# The whisper.cpp directory holds
#   include/   the include shims every cgo package sees (CGO_CPPFLAGS=-I.../include):
#              whisper.h (-> ../whisper/whisper.h) and malgo's miniaudio.h for audio/
#   whisper/   whisper.cpp's public headers, copied from the whisper.rn npm package
#   lib/       libwhisper.a libggml.a libggml-base.a libggml-cpu.a, the static libraries that the
#              official whisper.cpp Go bindings link (-lwhisper -lggml -lggml-base -lggml-cpu);
#              their ggml is whisper.rn's, renamed wsp_ggml, so it cannot clash with llama.cpp's
#
# The llama.cpp directory (see build_llama below) holds include/ (llama.h, ggml's headers,
# common/ with chat.h, nlohmann/) and lib/ with llama.cpp's static libraries, ggml's renamed
# libllama-ggml*.a so that -l never picks whisper's libggml*.a by mistake.
#
# Its name carries a hash of everything that goes into it (the npm lock, the shims, a layout number,
# the compiler flags, the source lists), so a change of any of them builds a new directory, and Go's build cache,
# which never looks at these files, sees a new -I/-L path and rebuilds what depends on them.
# It lives outside the checkout (HARK_NATIVE_ROOT, default ~/.cache/hark/native) so that every
# checkout and worktree on a machine shares one build of llama.cpp in Go's cache.
set -euo pipefail

cmd=${1:-}
if [ "$cmd" = llama-tool ]; then TOOL=${2:-}; ISA=${3:-x86-64-v3}; else ISA=${2:-x86-64-v3}; fi
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
    sed -n '/"node_modules\/whisper.rn"/,/}/p' "$ROOT/package-lock.json"
    find "$ROOT/native" -type f -print0 | sort -z | xargs -0 cat
    # The checkout's path is left out, so that every checkout shares the directory.
    echo "${CPPFLAGS//$SRC/SRC}|$CFLAGS|$CXXFLAGS|$(gcc -dumpfullversion)|malgo-$(malgo_version)"
  } | sha256sum | cut -c1-12
}

malgo_version() { sed -n 's/^\s*github.com\/gen2brain\/malgo \(v[^ ]*\).*/\1/p' "$ROOT/go.mod" | head -1; }

whisper_rn_version() { sed -n '/"node_modules\/whisper.rn"/,/}/s/.*"version": "\([^"]*\)".*/\1/p' "$ROOT/package-lock.json" | head -1; }

DIR="$NATIVE_ROOT/whisper.rn-$(whisper_rn_version)-$ISA-$(stamp)"

# ---- llama.cpp, from the git bundle inside the npm package node-llama-cpp (pinned in package.json) ----

LLAMA_PKG=node-llama-cpp
# the single (squashed) commit inside that package's llama/gitRelease.bundle
LLAMA_HEAD=de3ff815ea7d559ee917f063901b8986f038abc6
# The package is pinned (version and the registry's sha512) in package.json's harkNpmPack.
llama_lock() { sed -n "/\"$LLAMA_PKG\": {/,/}/s/.*\"$1\": \"\([^\"]*\)\".*/\1/p" "$ROOT/package.json" | head -1; }
LLAMA_VER=$(llama_lock version)
LLAMA_SHA=$(llama_lock integrity)
# CMake Release, static, CPU backend; llama.cpp's defaults otherwise (OpenMP, CPU weight repack,
# llamafile sgemm). The ISA is set by flags, not by the build machine (GGML_NATIVE=OFF).
LLAMA_CMAKE=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS=$ISAFLAGS" "-DCMAKE_CXX_FLAGS=$ISAFLAGS"
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF -DGGML_STATIC=OFF -DGGML_NATIVE=OFF -DGGML_CPU=ON
  -DGGML_BACKEND_DL=OFF -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF -DGGML_BLAS=OFF -DGGML_RPC=OFF
  -DGGML_OPENCL=OFF -DGGML_SYCL=OFF -DGGML_HIP=OFF -DGGML_WEBGPU=OFF -DGGML_CCACHE=OFF
  -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON
  -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF)
case "$ISA" in
  x86-64-v3) LLAMA_CMAKE+=(-DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF) ;;
  x86-64) LLAMA_CMAKE+=(-DGGML_SSE42=OFF -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF) ;;
esac
# What Hark links, in link order: CMake target -> library file under the build tree.
LLAMA_LIBS=(llama-common:common/libllama-common.a llama-common-base:common/libllama-common-base.a
  cpp-httplib:vendor/cpp-httplib/libcpp-httplib.a llama:src/libllama.a
  ggml:ggml/src/libggml.a ggml-cpu:ggml/src/libggml-cpu.a ggml-base:ggml/src/libggml-base.a)
# Bump LLAMA_LAYOUT when build_llama changes what it installs (headers, info files): the
# libraries are rebuilt only when the stamp (sources, flags, compiler) changes.
LLAMA_LAYOUT=3
llama_stamp() {
  { echo "LAYOUT=1 ${LLAMA_LIBS[*]}"; echo "$LLAMA_PKG@$LLAMA_VER $LLAMA_SHA $LLAMA_HEAD"
    echo "${LLAMA_CMAKE[*]}|$(gcc -dumpfullversion)"; } | sha256sum | cut -c1-12
}
LLAMA_DIR="$NATIVE_ROOT/llama.cpp-$LLAMA_PKG-$LLAMA_VER-$ISA-$(llama_stamp)"

# build_llama: npm pack (npm checks the registry's hash; we check it against package.json), clone
# the bundle, configure and build with CMake in a build tree kept beside the result (a later
# change of flags reuses the sources; a failed build resumes), then install headers and libraries.
build_llama() {
  [ "$(cat "$LLAMA_DIR/.complete" 2>/dev/null)" = "layout $LLAMA_LAYOUT" ] && return 0
  [ -n "$LLAMA_VER" ] || { echo "native.sh: package.json (harkNpmPack) does not pin $LLAMA_PKG" >&2; exit 1; }
  for t in cmake git npm node; do command -v $t >/dev/null || { echo "native.sh: $t missing: run make setup" >&2; exit 1; }; done
  local dl="$NATIVE_ROOT/dl" src="$NATIVE_ROOT/src/llama.cpp-$LLAMA_HEAD" bld="$LLAMA_DIR.build"
  local tgz="$dl/$LLAMA_PKG-$LLAMA_VER.tgz"
  mkdir -p "$dl" "$NATIVE_ROOT/src"
  if [ ! -s "$tgz" ]; then
    echo "native.sh: npm pack $LLAMA_PKG@$LLAMA_VER" >&2
    (cd "$dl" && npm pack --silent "$LLAMA_PKG@$LLAMA_VER" >/dev/null)
  fi
  local got
  got="sha512-$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
  [ "$got" = "$LLAMA_SHA" ] || { echo "native.sh: $tgz: integrity $got, package.json says $LLAMA_SHA" >&2; rm -f "$tgz"; exit 1; }
  if [ "$(git -C "$src" rev-parse HEAD 2>/dev/null)" != "$LLAMA_HEAD" ]; then
    local x="$src.tmp.$$"
    rm -rf "$x" "$src" && mkdir -p "$x"
    tar -xzf "$tgz" -C "$x" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json
    git -c advice.detachedHead=false clone -q "$x/package/llama/gitRelease.bundle" "$x/src"
    git -C "$x/src" checkout -q --force "$LLAMA_HEAD"
    cp "$x/package/llama/llama.cpp.info.json" "$x/src/"
    mv "$x/src" "$src" && rm -rf "$x"
  fi
  local tag lver
  tag=$(sed -n 's/.*"tag": *"\([^"]*\)".*/\1/p' "$src/llama.cpp.info.json")
  lver=$(sed -n 's/^set(LLAMA_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\))/\2/p' "$src/CMakeLists.txt" | paste -sd.)
  echo "native.sh: building llama.cpp $tag ($ISA) into $LLAMA_DIR" >&2
  local t0 targets=()
  t0=$(date +%s)
  for l in "${LLAMA_LIBS[@]}"; do targets+=("${l%%:*}"); done
  cmake -S "$src" -B "$bld" "${LLAMA_CMAKE[@]}" -DLLAMA_BUILD_COMMIT="${LLAMA_HEAD:0:7}" -DLLAMA_BUILD_NUMBER=0 >"$bld.log" 2>&1 \
    || { tail -40 "$bld.log" >&2; exit 1; }
  cmake --build "$bld" -j "$JOBS" --target "${targets[@]}" ${HARK_LLAMA_EXTRA_TARGETS:-} >>"$bld.log" 2>&1 || { tail -40 "$bld.log" >&2; exit 1; }
  local tmp="$LLAMA_DIR.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp/include/common/jinja" "$tmp/lib"
  cp "$src"/include/*.h "$src"/ggml/include/*.h "$tmp/include/"
  cp "$src"/common/*.h "$src"/common/*.hpp "$tmp/include/common/"
  cp "$src"/common/jinja/*.h "$tmp/include/common/jinja/"
  # llama-arch.h is internal, but llm_arch_name is the only list of the architectures compiled in.
  cp "$src/src/llama-arch.h" "$tmp/include/"
  cp -r "$src/vendor/nlohmann" "$tmp/include/"
  for l in "${LLAMA_LIBS[@]}"; do
    local f="${l#*:}" n
    n=$(basename "$f"); n=${n/#libggml/libllama-ggml}
    install -m 0644 "$bld/$f" "$tmp/lib/$n"
  done
  # ggml-backend-dl.cpp's three C++ helpers keep their names in whisper.rn's renamed ggml too:
  # rename llama.cpp's copies (definitions and uses, all inside libllama-ggml.a) so that each
  # engine links its own.
  objcopy --redefine-sym _Z10dl_get_symPvPKc=_Z16llama_dl_get_symPvPKc \
    --redefine-sym _Z8dl_errorv=_Z14llama_dl_errorv \
    --redefine-sym _Z15dl_load_libraryRKNSt10filesystem7__cxx114pathE=_Z21llama_dl_load_libraryRKNSt10filesystem7__cxx114pathE \
    "$tmp/lib/libllama-ggml.a"
  cp "$src/LICENSE" "$tmp/LICENSE"
  {
    echo "llama.cpp $tag (LLAMA_VERSION $lver, commit ${LLAMA_HEAD:0:12}) from $LLAMA_PKG@$LLAMA_VER (npm)"
    echo "cmake ${LLAMA_CMAKE[*]}"
    grep -E '^(GGML_OPENMP|GGML_CPU_REPACK|GGML_LLAMAFILE):' "$bld/CMakeCache.txt" | sed 's/:BOOL//' | paste -sd' '
    echo "built in $(( $(date +%s) - t0 )) s with -j$JOBS"
  } >"$tmp/BUILD-INFO"
  # What `hark version` says about the engine (llm's glue includes it).
  local opts
  opts="$(grep -E '^(GGML_OPENMP|GGML_CPU_REPACK|GGML_LLAMAFILE):' "$bld/CMakeCache.txt" | sed 's/:BOOL//' | paste -sd' ') ISA=$ISA"
  {
    echo "#define HARK_LLAMA_RELEASE \"$tag\""
    echo "#define HARK_LLAMA_SOURCE \"$LLAMA_PKG@$LLAMA_VER (npm), llama.cpp $lver commit ${LLAMA_HEAD:0:12}\""
    echo "#define HARK_LLAMA_OPTIONS \"CMake Release, static, CPU backend, $opts\""
  } >"$tmp/include/hark_llama_build.h"
  echo "layout $LLAMA_LAYOUT" >"$tmp/.complete"
  rm -rf "$LLAMA_DIR" && mv "$tmp" "$LLAMA_DIR"
  cat "$LLAMA_DIR/BUILD-INFO" >&2
}

case "$cmd" in
  dir) echo "$DIR"; exit 0 ;;
  llama-dir) echo "$LLAMA_DIR"; exit 0 ;;
  build) build_llama ;;
  llama-tool)
    [ -n "$TOOL" ] || { echo "usage: native.sh llama-tool NAME [ISA]" >&2; exit 2; }
    build_llama
    cmake --build "$LLAMA_DIR.build" -j "$JOBS" --target "$TOOL" >>"$LLAMA_DIR.build.log" 2>&1 || { tail -40 "$LLAMA_DIR.build.log" >&2; exit 1; }
    echo "$LLAMA_DIR.build/bin/$TOOL"; exit 0 ;;
  *) echo "usage: native.sh dir|llama-dir|build [x86-64-v3|x86-64] | llama-tool NAME [ISA]" >&2; exit 2 ;;
esac

if [ -f "$DIR/.complete" ]; then exit 0; fi
[ -f "$SRC/whisper.cpp" ] || { echo "native.sh: $SRC missing: run 'npm ci' (make setup)" >&2; exit 1; }
WV="$(sed -n '/whisper_version(void) {/,/}/s/.*return "\([^"]*\)".*/\1/p' "$SRC/whisper.cpp")"
[ "$WV" = "1.9.3" ] || { echo "native.sh: whisper.rn ships whisper.cpp $WV, Hark expects 1.9.3" >&2; exit 1; }

TMP="$DIR.tmp.$$"
rm -rf "$TMP"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/include/miniaudio" "$TMP/whisper" "$TMP/lib" "$TMP/obj"
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
