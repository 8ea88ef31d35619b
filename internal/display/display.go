// Package display tells whether a graphical display can be reached before a window is opened:
// GLFW panics with a stack trace when it finds none, and Hark must instead say what is missing
// (over SSH, from a service, before the compositor is up) or, in kiosk and car mode, wait.
package display

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrMissing is wrapped by Check's errors when there is no display to open a window on.
var ErrMissing = errors.New("no graphical display")

// Env is the part of the environment Check reads (os.Getenv in Hark).
type Env func(key string) string

// Check reports whether the X11 display named by $DISPLAY accepts connections. Hark's window
// uses GLFW's X11 back end, so a Wayland session is used through XWayland's $DISPLAY.
func Check(env Env) error {
	d := env("DISPLAY")
	if d == "" {
		if w := env("WAYLAND_DISPLAY"); w != "" {
			return fmt.Errorf("%w: DISPLAY is not set (the Wayland session %s needs XWayland for Hark's window)", ErrMissing, w)
		}
		return fmt.Errorf("%w: DISPLAY and WAYLAND_DISPLAY are not set", ErrMissing)
	}
	network, addr, err := address(d)
	if err != nil {
		return fmt.Errorf("%w: DISPLAY=%s: %v", ErrMissing, d, err)
	}
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		return fmt.Errorf("%w: cannot connect to DISPLAY=%s (is the X server running?)", ErrMissing, d)
	}
	_ = c.Close()
	return nil
}

// address turns an X11 display name ([host]:number[.screen]) into the socket to dial.
func address(d string) (network, addr string, err error) {
	i := strings.LastIndexByte(d, ':')
	if i < 0 {
		return "", "", errors.New("not a display name (want [host]:number)")
	}
	host, num := d[:i], d[i+1:]
	if j := strings.IndexByte(num, '.'); j >= 0 {
		num = num[:j]
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return "", "", errors.New("not a display name (want [host]:number)")
	}
	switch {
	case host == "" || host == "unix":
		return "unix", filepath.Join("/tmp/.X11-unix", "X"+strconv.Itoa(n)), nil
	case strings.HasPrefix(host, "/"): // a socket path, as launchd gives
		return "unix", d, nil
	default:
		return "tcp", net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), strconv.Itoa(6000+n)), nil
	}
}

// Wait returns when Check succeeds, calling waiting once with the first failure; it checks
// again every interval until ctx ends.
func Wait(ctx context.Context, env Env, interval time.Duration, waiting func(error)) error {
	err := Check(env)
	if err == nil {
		return nil
	}
	waiting(err)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if Check(env) == nil {
				return nil
			}
		}
	}
}
