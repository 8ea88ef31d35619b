package display

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) Env { return func(k string) string { return m[k] } }

func TestAddress(t *testing.T) {
	for _, tc := range []struct{ in, network, addr string }{
		{":0", "unix", "/tmp/.X11-unix/X0"},
		{":91.0", "unix", "/tmp/.X11-unix/X91"},
		{"unix:3", "unix", "/tmp/.X11-unix/X3"},
		{"localhost:10.0", "tcp", "localhost:6010"},
		{"[::1]:2", "tcp", "[::1]:6002"},
	} {
		n, a, err := address(tc.in)
		if err != nil || n != tc.network || a != tc.addr {
			t.Errorf("address(%q) = %s %s %v, want %s %s", tc.in, n, a, err, tc.network, tc.addr)
		}
	}
	for _, bad := range []string{"0", ":x", "host:", ":-1"} {
		if _, _, err := address(bad); err == nil {
			t.Errorf("address(%q) took a bad name", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"nothing set", nil, "no graphical display: DISPLAY and WAYLAND_DISPLAY are not set"},
		{"wayland only", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, "needs XWayland"},
		{"nobody listening", map[string]string{"DISPLAY": "127.0.0.1:1999"}, "cannot connect to DISPLAY=127.0.0.1:1999"},
		{"garbage", map[string]string{"DISPLAY": "nonsense"}, "not a display name"},
	} {
		err := Check(envOf(tc.env))
		if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrMissing with %q", tc.name, err, tc.want)
		}
	}
}

// TestWaitForAServer starts listening on the display's TCP port only after Wait has begun.
func TestWaitForAServer(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	_ = probe.Close()
	if port <= 6000 {
		t.Skipf("port %d is below X11's range", port)
	}
	env := envOf(map[string]string{"DISPLAY": "127.0.0.1:" + strconv.Itoa(port-6000)})
	waited := make(chan error, 1)
	done := make(chan error, 1)
	go func() { done <- Wait(context.Background(), env, 20*time.Millisecond, func(e error) { waited <- e }) }()
	if e := <-waited; !errors.Is(e, ErrMissing) {
		t.Fatalf("waiting with %v", e)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Skipf("port taken meanwhile: %v", err)
	}
	defer l.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWaitCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	env := envOf(map[string]string{"DISPLAY": "unix:4242"})
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if err := Wait(ctx, env, 10*time.Millisecond, func(error) {}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
}
