#!/usr/bin/env bash
# Start Hark's test environment: Xvfb (a virtual screen) and a user-mode PulseAudio with a
# virtual microphone (sink vmic_in, its monitor the default source) and a virtual speaker
# (sink vspeaker, the default sink). Works as root, without systemd or dbus.
# Then `. scripts/testenv/env.sh` gives a shell the variables; stop.sh ends it all.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/env.sh"
"$HERE/stop.sh" >/dev/null 2>&1 || true
rm -rf "$HARK_TESTENV"
mkdir -p "$HARK_TESTENV/pulse/run" "$HARK_TESTENV/pulse/home" "$HARK_TESTENV/config" "$HARK_TESTENV/data" "$HARK_TESTENV/shots"
chmod 700 "$HARK_TESTENV/pulse/run"

# A free display number: no lock file and no socket.
n=90
while [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ]; do n=$((n + 1)); done
Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp -noreset >"$HARK_TESTENV/xvfb.log" 2>&1 &
echo $! >"$HARK_TESTENV/xvfb.pid"
echo ":$n" >"$HARK_TESTENV/display"
export DISPLAY=":$n"
for _ in $(seq 100); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
xdpyinfo >/dev/null 2>&1 || { echo "testenv: Xvfb did not start"; cat "$HARK_TESTENV/xvfb.log"; exit 1; }

sed "s#@RUN@#$HARK_TESTENV/pulse/run#" "$HERE/default.pa.in" >"$HARK_TESTENV/pulse/default.pa"
HOME=$HARK_TESTENV/pulse/home pulseaudio --daemonize=yes --system=false --exit-idle-time=-1 \
  --disallow-exit=yes -n -F "$HARK_TESTENV/pulse/default.pa" --use-pid-file=yes \
  --log-target=file:"$HARK_TESTENV/pulse/pa.log" --log-level=notice
for _ in $(seq 100); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
pactl info >/dev/null 2>&1 || { echo "testenv: PulseAudio did not start"; cat "$HARK_TESTENV/pulse/pa.log"; exit 1; }

# Without a stream playing, the null sink renders in 2-second blocks and a recorder would get
# its first audio after up to 2 s: keep a silent low-latency stream going into the microphone.
pacat --playback -d vmic_in --latency-msec=20 --raw --format=s16le --rate=16000 --channels=1 \
  /dev/zero >/dev/null 2>&1 &
echo $! >"$HARK_TESTENV/pulse/keepalive.pid"
echo "testenv: DISPLAY=$DISPLAY PULSE_SERVER=$PULSE_SERVER (folder $HARK_TESTENV)"
