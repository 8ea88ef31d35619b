package testserver

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// MosquittoPath finds Debian's mosquitto broker (make setup-test installs it). In CI a missing
// broker fails the test: the MQTT connector must be tested against a real broker there.
func MosquittoPath(t testing.TB) string {
	t.Helper()
	for _, c := range []string{os.Getenv("HARK_MOSQUITTO"), "/usr/sbin/mosquitto"} {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			return c
		}
	}
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("mosquitto not found: run make setup-test (apt-get install mosquitto), or set HARK_MOSQUITTO")
	}
	t.Skip("mosquitto is not installed (make setup-test); CI fails here instead")
	return ""
}

// MosquittoOptions choose the broker's listeners and users.
type MosquittoOptions struct {
	// TLS adds a second listener with a certificate for 127.0.0.1 and localhost, signed by a
	// CA the test generates (Mosquitto.CA).
	TLS bool
	// ClientCert makes the TLS listener require a client certificate signed by the same CA.
	ClientCert bool
	// Users are user name → password; when set, anonymous clients are turned away.
	Users map[string]string
	// Port is the plain listener's port (0: a free one).
	Port int
}

// Mosquitto is a mosquitto broker on loopback ports, with a configuration the test wrote. It
// keeps nothing on disk: a restart forgets retained messages, as a broker without
// persistence does.
type Mosquitto struct {
	Port    int // the plain listener
	TLSPort int // the TLS listener (0 without MosquittoOptions.TLS)
	CA      *CA // the CA that signed the TLS listener's certificate

	t    testing.TB
	bin  string
	dir  string
	conf string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartMosquitto writes a configuration, starts the broker and waits until it accepts
// connections; the test's cleanup stops it.
func StartMosquitto(t testing.TB, opts MosquittoOptions) *Mosquitto {
	t.Helper()
	m := &Mosquitto{t: t, bin: MosquittoPath(t), dir: t.TempDir()}
	m.Port = opts.Port
	if m.Port == 0 {
		m.Port = freePort(t)
	}
	var conf strings.Builder
	// Run as whoever runs the test: as root, mosquitto would otherwise switch to the
	// mosquitto user, which cannot read the test's files.
	if u, err := user.Current(); err == nil {
		fmt.Fprintf(&conf, "user %s\n", u.Username)
	}
	conf.WriteString("persistence false\nlog_type all\n")
	fmt.Fprintf(&conf, "listener %d 127.0.0.1\n", m.Port)
	if len(opts.Users) > 0 {
		pw := filepath.Join(m.dir, "passwd")
		for u, p := range opts.Users {
			args := []string{"-b", pw, u, p}
			if _, err := os.Stat(pw); err != nil {
				args = append([]string{"-c"}, args...)
			}
			if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
				t.Fatalf("mosquitto_passwd: %v: %s", err, out)
			}
		}
		fmt.Fprintf(&conf, "allow_anonymous false\npassword_file %s\n", pw)
	} else {
		conf.WriteString("allow_anonymous true\n")
	}
	if opts.TLS {
		m.CA = NewCA(t, "Hark test broker CA")
		cert, key := m.CA.ServerCert(t, "localhost")
		m.TLSPort = freePort(t)
		fmt.Fprintf(&conf, "listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n", m.TLSPort, m.CA.File, cert, key)
		if opts.ClientCert {
			conf.WriteString("require_certificate true\n")
		}
	}
	m.conf = filepath.Join(m.dir, "mosquitto.conf")
	if err := os.WriteFile(m.conf, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	m.log = filepath.Join(m.dir, "mosquitto.log")
	m.start()
	t.Cleanup(m.Kill)
	return m
}

// URL is the plain listener's address, as Hark's mqtt.broker takes it.
func (m *Mosquitto) URL() string { return fmt.Sprintf("mqtt://127.0.0.1:%d", m.Port) }

// TLSURL is the TLS listener's address.
func (m *Mosquitto) TLSURL() string { return fmt.Sprintf("mqtts://127.0.0.1:%d", m.TLSPort) }

// Log is what the broker has logged so far.
func (m *Mosquitto) Log() string {
	b, _ := os.ReadFile(m.log)
	return string(b)
}

func (m *Mosquitto) start() {
	t := m.t
	t.Helper()
	logf, err := os.OpenFile(m.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(m.bin, "-c", m.conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start mosquitto: %v", err)
	}
	m.cmd, m.done = cmd, make(chan struct{})
	done := m.done
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for _, port := range []int{m.Port, m.TLSPort} {
		if port == 0 {
			continue
		}
		for {
			conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
			if err == nil {
				conn.Close()
				break
			}
			select {
			case <-done:
				t.Fatalf("mosquitto exited:\n%s", m.Log())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("mosquitto not listening on %d after 10 s:\n%s", port, m.Log())
			}
		}
	}
}

// Kill ends the broker at once (SIGKILL, as a crash or a power cut would) and waits for it.
func (m *Mosquitto) Kill() {
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
	m.cmd = nil
}

// Pause freezes the broker (SIGSTOP): connections stay open but nothing is answered.
func (m *Mosquitto) Pause() { m.cmd.Process.Signal(syscall.SIGSTOP) }

// Restart starts the broker again on the same ports after Kill.
func (m *Mosquitto) Restart() {
	m.t.Helper()
	if m.cmd != nil {
		m.t.Fatal("testserver: Restart of a broker that is still running")
	}
	m.start()
}
