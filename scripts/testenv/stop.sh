#!/usr/bin/env bash
# Stop what start.sh started, by pid file only (never by process name).
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/env.sh"
stop_pid() {
  [ -f "$1" ] || return 0
  local p
  p=$(cat "$1")
  kill "$p" 2>/dev/null
  for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null
  rm -f "$1"
}
stop_pid "$HARK_TESTENV/pulse/keepalive.pid"
stop_pid "$HARK_TESTENV/pulse/run/pid"
stop_pid "$HARK_TESTENV/xvfb.pid"
rm -f "$HARK_TESTENV/display"
echo "testenv: stopped"
