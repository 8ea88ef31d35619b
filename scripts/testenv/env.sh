# Source this: the environment of Hark's private test display and sound server.
# HARK_TESTENV is the folder that holds their sockets, logs and pid files.
export HARK_TESTENV=${HARK_TESTENV:-/tmp/hark-testenv-$(id -u)}
if [ -f "$HARK_TESTENV/display" ]; then export DISPLAY=$(cat "$HARK_TESTENV/display"); fi
export LANG=C.UTF-8 LANGUAGE=en                 # Fyne reads the language from LANGUAGE
export LIBGL_ALWAYS_SOFTWARE=1                       # Mesa llvmpipe: no GPU needed
export XDG_RUNTIME_DIR=$HARK_TESTENV/pulse/run
export PULSE_RUNTIME_PATH=$HARK_TESTENV/pulse/run
export PULSE_SERVER=unix:$HARK_TESTENV/pulse/run/native
export XDG_CONFIG_HOME=$HARK_TESTENV/config          # Fyne preferences, Hark's config: fresh per run
export XDG_DATA_HOME=$HARK_TESTENV/data
