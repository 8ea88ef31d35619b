#!/usr/bin/env bash
# setup.sh: install what Hark's build, run and tests need, and nothing that is already there.
#
#   scripts/setup.sh [run|test]   apt packages (run: build + run; test: also the test tools),
#                                 the Go toolchain if none new enough, npm ci, go mod download
#   scripts/setup.sh go-path      print the go command to use (installing the toolchain if needed)
#
# Sources: Debian's apt archive, the Go module proxy (the toolchain and modules) and npm, nothing
# else. Every step checks first, so a second run with nothing missing takes about a second.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

GO_VERSION=1.26.8
# sha256 of golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64.zip as served by proxy.golang.org
GO_ZIP_SHA256=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
GO_HOME=${HARK_GO_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/hark/go$GO_VERSION}

# Packages to build and run Hark (cgo: gcc; Fyne: GL/X11 headers; llama.cpp: cmake; audio:
# PulseAudio client; speech output: espeak-ng and sonic, linked statically, with their voice
# data; echo cancellation: SpeexDSP, linked statically; Ogg Vorbis files: Xiph's libvorbis,
# linked statically; a CJK font, which Fyne falls back to for
# Chinese, Japanese and Korean text: without one they are boxes).
APT_RUN=(gcc g++ libc6-dev make cmake pkg-config git curl ca-certificates unzip fonts-wqy-microhei
  libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
  libpulse0 libasound2
  libespeak-ng-dev libsonic-dev espeak-ng-data libspeexdsp-dev libvorbis-dev)
# And to test it as a person would: a virtual display and sound server, speech, screenshots, an
# MP3 encoder (lame) for the audio decoding tests, and the MQTT broker (mosquitto, with
# mosquitto_passwd) the MQTT connector's tests start on loopback ports.
APT_TEST=(xvfb xauth x11-utils xdotool python3-xlib imagemagick pulseaudio pulseaudio-utils sox espeak-ng
  strace util-linux pocketsphinx-testdata xclip lame mosquitto)

log() { echo "setup: $*" >&2; }

go_ok() { # $1 = go binary; true when it is at least Go 1.26
  local v
  v=$("$1" env GOVERSION 2>/dev/null) || return 1
  v=${v#go}
  [ "$(printf '%s\n' 1.26 "${v%%[a-z-]*}" | sort -V | head -1)" = 1.26 ]
}

go_path() {
  local g
  for g in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go "$GO_HOME/bin/go"; do
    if [ -n "$g" ] && [ -x "$g" ] && go_ok "$g"; then echo "$g"; return 0; fi
  done
  install_go >&2
  echo "$GO_HOME/bin/go"
}

install_go() {
  log "installing Go $GO_VERSION from the Go module proxy into $GO_HOME"
  local tmp
  tmp=$(mktemp -d)
  curl -fsSL -o "$tmp/go.zip" "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-amd64.zip"
  echo "$GO_ZIP_SHA256  $tmp/go.zip" | sha256sum -c --quiet
  unzip -q "$tmp/go.zip" -d "$tmp/x"
  mkdir -p "$(dirname "$GO_HOME")"
  rm -rf "$GO_HOME"
  mv "$tmp/x/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-amd64" "$GO_HOME"
  rm -rf "$tmp"
}

apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { log "missing packages: ${missing[*]} (install them as root)"; exit 1; }
    sudo=(sudo)
  fi
  log "apt-get install ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

npm_sources() {
  local want have
  want=$(sed -n '/"node_modules\/whisper.rn"/,/}/s/.*"version": "\([^"]*\)".*/\1/p' package-lock.json | head -1)
  have=$(sed -n 's/^ *"version": "\([^"]*\)".*/\1/p' node_modules/whisper.rn/package.json 2>/dev/null | head -1 || true)
  [ "$want" = "$have" ] && [ -f node_modules/whisper.rn/cpp/whisper.cpp ] && return 0
  # llama.cpp's package is not installed: native.sh takes its sources with npm pack.
  log "npm ci (whisper.cpp sources from whisper.rn@$want)"
  npm ci --ignore-scripts --legacy-peer-deps --no-audit --no-fund --loglevel=error >/dev/null
}

# npm only fetches the whisper.cpp sources; any npm will do (NodeSource's nodejs bundles its own).
command -v npm >/dev/null || APT_RUN+=(nodejs npm)

case "${1:-run}" in
  go-path) go_path; exit 0 ;;
  run) apt_install "${APT_RUN[@]}" ;;
  test) apt_install "${APT_RUN[@]}" "${APT_TEST[@]}" ;;
  *) echo "usage: setup.sh [run|test|go-path]" >&2; exit 2 ;;
esac
GO=$(go_path)
npm_sources
"$GO" mod download
if [ "${1:-run}" = test ]; then
  # The remote language-model tests run against llama.cpp's own llama-server, built from the
  # same llama.cpp tree Hark links (remotellm, internal/testserver); in CI they fail without it.
  mkdir -p "$ROOT/bin"
  install -m 0755 "$("$ROOT/scripts/native.sh" llama-tool llama-server "${ISA:-x86-64-v3}")" "$ROOT/bin/llama-server"
fi
