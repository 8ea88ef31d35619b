package mqtt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"hark/home"
	"hark/internal/testserver"
)

// These tests run against Debian's mosquitto, started on a loopback port with a configuration
// each test writes (internal/testserver).

// greenhouse is a set of devices the tests declare: a JSON sensor publishing two readings on
// one topic, a plain-payload sensor, and a pump with a state topic.
func greenhouse(broker string) Config {
	return Config{
		Broker:   broker,
		ClientID: "hark-test",
		Devices: []Device{
			{Name: "greenhouse temperature", Area: "greenhouse", Kind: "sensor", Unit: "°C",
				StateTopic: "greenhouse/climate", JSONPath: "temperature", StaleAfter: 10 * time.Minute},
			{Name: "greenhouse humidity", Area: "greenhouse", Kind: "sensor", Unit: "%",
				StateTopic: "greenhouse/climate", JSONPath: "humidity"},
			{Name: "soil moisture", Aliases: []string{"soil"}, Area: "greenhouse two", Kind: "sensor", Unit: "%",
				StateTopic: "greenhouse2/soil"},
			{Name: "pump 3", Aliases: []string{"pump three"}, Area: "greenhouse", Kind: "switch",
				StateTopic: "greenhouse/pump3/state", CommandTopic: "greenhouse/pump3/set", Confirm: true},
			{Name: "fan", Area: "greenhouse", Kind: "fan", CommandTopic: "greenhouse/fan/set",
				PayloadOn: "1", PayloadOff: "0"},
		},
	}
}

// peer is another client on the broker: the devices' side (publishing readings) and a
// witness that records every message on every topic.
type peer struct {
	pc paho.Client
	mu sync.Mutex
	ms []msg
}

type msg struct {
	topic, payload string
	retained       bool
}

func newPeer(t testing.TB, broker, user, pass string) *peer {
	t.Helper()
	addr, err := brokerAddress(broker)
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{}
	o := paho.NewClientOptions().AddBroker(addr).SetClientID(fmt.Sprintf("peer-%d", time.Now().UnixNano())).
		SetUsername(user).SetPassword(pass).SetCleanSession(true).
		SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).
		SetOnConnectHandler(func(pc paho.Client) {
			pc.Subscribe("#", 1, func(_ paho.Client, m paho.Message) {
				p.mu.Lock()
				p.ms = append(p.ms, msg{m.Topic(), string(m.Payload()), m.Retained()})
				p.mu.Unlock()
			}).Wait()
		})
	p.pc = paho.NewClient(o)
	if tok := p.pc.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("peer connect: %v", tok.Error())
	}
	t.Cleanup(func() { p.pc.Disconnect(100) })
	return p
}

func (p *peer) publish(t testing.TB, topic, payload string, retained bool) {
	t.Helper()
	if tok := p.pc.Publish(topic, 1, retained, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("peer publish %s: %v", topic, tok.Error())
	}
}

// on returns the payloads seen on topic, in order (retained copies the broker replays on a
// new subscription are left out: they are not new publications).
func (p *peer) on(topic string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.ms {
		if m.topic == topic && !m.retained {
			out = append(out, m.payload)
		}
	}
	return out
}

// topics returns every topic a message was seen on.
func (p *peer) topics() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for _, m := range p.ms {
		out[m.topic]++
	}
	return out
}

// eventually polls cond until it holds (10 s at most).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func open(t testing.TB, cfg Config, opts Options) *Client {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	c, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func value(c *Client, id string) string {
	st, err := c.State(context.Background(), id)
	if err != nil {
		return "error: " + err.Error()
	}
	return st.Value
}

func TestRetainedReadingBeforeHarkStartsIsKnown(t *testing.T) {
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{})
	dev := newPeer(t, b.URL(), "", "")
	dev.publish(t, "greenhouse/climate", `{"temperature": 21.5, "humidity": 64}`, true)
	dev.publish(t, "greenhouse2/soil", " 38 \n", true)
	dev.publish(t, "greenhouse/pump3/state", "OFF", true)

	c := open(t, greenhouse(b.URL()), Options{})
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the retained readings arrive", func() bool {
		return value(c, "greenhouse temperature") == "21.5" && value(c, "greenhouse humidity") == "64" &&
			value(c, "soil moisture") == "38" && value(c, "pump 3") == "off"
	})
	st, err := c.State(context.Background(), "greenhouse temperature")
	if err != nil {
		t.Fatal(err)
	}
	if st.Unit != "°C" || st.Stale || st.Updated.IsZero() || st.Attributes["retained"] != true {
		t.Errorf("state = %+v; want unit °C, fresh, a time, retained", st)
	}

	// New readings replace the retained ones.
	dev.publish(t, "greenhouse/climate", `{"temperature": 22.25, "humidity": 61}`, false)
	eventually(t, "the new reading arrives", func() bool { return value(c, "greenhouse temperature") == "22.25" })
	if st, _ := c.State(context.Background(), "greenhouse humidity"); st.Value != "61" || st.Attributes["retained"] != false {
		t.Errorf("humidity = %+v; want 61, not retained", st)
	}
	// A message that cannot be read keeps the last good reading.
	dev.publish(t, "greenhouse/climate", `{"temp": 99}`, false)
	dev.publish(t, "greenhouse/climate", `{"temperature": 23, "humidity": 60}`, false)
	eventually(t, "the next good reading arrives", func() bool { return value(c, "greenhouse temperature") == "23" })

	// A sensor that has said nothing yet.
	cfg := greenhouse(b.URL())
	cfg.ClientID = "hark-test-2"
	cfg.Devices = append(cfg.Devices, Device{Name: "door", Kind: "binary_sensor", StateTopic: "shed/door"})
	c2 := open(t, cfg, Options{})
	if err := c2.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.State(context.Background(), "door"); !errors.Is(err, ErrNoReading) {
		t.Errorf("State(door) = %v; want ErrNoReading", err)
	}
}

func TestCommandsGoOnlyToDeclaredTopicsOnce(t *testing.T) {
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{})
	w := newPeer(t, b.URL(), "", "")
	c := open(t, greenhouse(b.URL()), Options{})
	ctx := context.Background()
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		id   string
		cmd  home.Command
		want error
	}{
		{"soil moisture", home.Command{Op: home.TurnOn}, home.ErrUnsupported}, // a sensor
		{"pump 7", home.Command{Op: home.TurnOn}, home.ErrUnknownEntity},
		{"pump 3", home.Command{Op: home.SetBrightness, Level: 50}, home.ErrUnsupported},
		{"fan", home.Command{Op: home.Toggle}, home.ErrUnsupported}, // never commanded: state unknown
	} {
		if err := c.Do(ctx, tc.id, tc.cmd); !errors.Is(err, tc.want) {
			t.Errorf("Do(%s, %v) = %v; want %v", tc.id, tc.cmd.Op, err, tc.want)
		}
	}
	if err := c.Do(ctx, "pump 3", home.Command{Op: home.TurnOn}); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "fan", home.Command{Op: home.TurnOn}); err != nil {
		t.Fatal(err)
	}
	// The fan has no state topic: its state is the command Hark sent, which toggling flips.
	if st, err := c.State(ctx, "fan"); err != nil || st.Value != "on" || st.Attributes["assumed"] != true {
		t.Errorf("fan state = %+v, %v; want on, assumed", st, err)
	}
	if err := c.Do(ctx, "fan", home.Command{Op: home.Toggle}); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "pump 3", home.Command{Op: home.TurnOff}); err != nil {
		t.Fatal(err)
	}
	// Hark's messages arrive in order (QoS 1, one client): once the last is seen, all are.
	eventually(t, "the witness sees the last command", func() bool { return len(w.on("greenhouse/pump3/set")) == 2 })
	if got := w.on("greenhouse/pump3/set"); strings.Join(got, ",") != "ON,OFF" {
		t.Errorf("pump 3 commands = %q; want exactly ON, OFF", got)
	}
	if got := w.on("greenhouse/fan/set"); strings.Join(got, ",") != "1,0" {
		t.Errorf("fan commands = %q; want exactly 1, 0", got)
	}
	for topic, n := range w.topics() {
		if topic != "greenhouse/pump3/set" && topic != "greenhouse/fan/set" {
			t.Errorf("Hark published %d message(s) to %s, which is not a declared command topic", n, topic)
		}
	}
	if n := strings.Count(b.Log(), "Received PUBLISH from hark-test"); n != 4 {
		t.Errorf("the broker received %d publications from Hark; want 4:\n%s", n, b.Log())
	}
}

func TestBrokerRestartIsSurvived(t *testing.T) {
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{})
	dev := newPeer(t, b.URL(), "", "")
	dev.publish(t, "greenhouse/climate", `{"temperature": 18, "humidity": 70}`, true)
	c := open(t, greenhouse(b.URL()), Options{})
	ctx := context.Background()
	eventually(t, "the retained reading arrives", func() bool { return value(c, "greenhouse temperature") == "18" })
	if err := c.Do(ctx, "pump 3", home.Command{Op: home.TurnOn}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the witness sees ON", func() bool { return len(dev.on("greenhouse/pump3/set")) == 1 })

	b.Kill()
	// While the broker is down, the last reading is still known, and a command fails at once
	// with ErrUnreachable rather than being queued for later.
	eventually(t, "Hark notices the broker is gone", func() bool { return !c.pc.IsConnectionOpen() })
	if v := value(c, "greenhouse temperature"); v != "18" {
		t.Errorf("reading while the broker is down = %q; want the last one, 18", v)
	}
	if err := c.Do(ctx, "pump 3", home.Command{Op: home.TurnOff}); !errors.Is(err, home.ErrUnreachable) {
		t.Errorf("Do while the broker is down = %v; want ErrUnreachable", err)
	}
	b.Restart()

	// The restarted broker has forgotten everything: Hark must connect and subscribe again
	// for the next reading to arrive.
	eventually(t, "Hark reconnects", func() bool { return c.Check(ctx) == nil })
	eventually(t, "the witness reconnects", func() bool { return dev.pc.IsConnectionOpen() })
	dev.publish(t, "greenhouse/climate", `{"temperature": 19.5, "humidity": 69}`, false)
	eventually(t, "the reading after the restart arrives", func() bool { return value(c, "greenhouse temperature") == "19.5" })
	if err := c.Do(ctx, "pump 3", home.Command{Op: home.TurnOff}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the witness sees OFF", func() bool { return len(dev.on("greenhouse/pump3/set")) == 2 })
	if got := dev.on("greenhouse/pump3/set"); strings.Join(got, ",") != "ON,OFF" {
		t.Errorf("pump 3 commands = %q; want exactly ON, OFF", got)
	}
	// The broker's log covers both of its lives: the ON was received once, the refused OFF
	// never, the last OFF once.
	if n := countPublishes(b.Log(), "hark-test", "greenhouse/pump3/set"); n != 2 {
		t.Errorf("the broker received %d commands from Hark; want 2:\n%s", n, b.Log())
	}
}

// countPublishes counts the PUBLISH packets mosquitto logged from client id to topic.
func countPublishes(log, id, topic string) int {
	re := regexp.MustCompile(`Received PUBLISH from ` + regexp.QuoteMeta(id) + ` \([^)]*'` + regexp.QuoteMeta(topic) + `'`)
	return len(re.FindAllString(log, -1))
}

// A command the broker never acknowledged is reported as failed, and the reconnection must
// not send it later.
func TestUnacknowledgedCommandIsNotSentAfterReconnect(t *testing.T) {
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{})
	c := open(t, greenhouse(b.URL()), Options{})
	ctx := context.Background()
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	b.Pause() // the connection stays open, but the broker answers nothing
	start := time.Now()
	err := c.Do(ctx, "pump 3", home.Command{Op: home.TurnOn})
	if !errors.Is(err, home.ErrUnreachable) {
		t.Fatalf("Do to a frozen broker = %v; want ErrUnreachable", err)
	}
	t.Logf("a frozen broker's command failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	b.Kill()
	b.Restart()
	w := newPeer(t, b.URL(), "", "")
	eventually(t, "Hark reconnects", func() bool { return c.Check(ctx) == nil })
	if err := c.Do(ctx, "pump 3", home.Command{Op: home.TurnOff}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the witness sees OFF", func() bool { return len(w.on("greenhouse/pump3/set")) > 0 })
	if got := w.on("greenhouse/pump3/set"); strings.Join(got, ",") != "OFF" {
		t.Errorf("pump 3 commands after the reconnect = %q; want only OFF (the abandoned ON must not be resent)", got)
	}
	if n := countPublishes(b.Log(), "hark-test", "greenhouse/pump3/set"); n != 1 {
		t.Errorf("the broker received %d commands from Hark; want 1 (the OFF):\n%s", n, b.Log())
	}
}

// clock is a test's clock, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (k *clock) Now() time.Time { k.mu.Lock(); defer k.mu.Unlock(); return k.now }
func (k *clock) add(d time.Duration) {
	k.mu.Lock()
	k.now = k.now.Add(d)
	k.mu.Unlock()
}

func TestStaleAfter(t *testing.T) {
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{})
	dev := newPeer(t, b.URL(), "", "")
	k := &clock{now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	c := open(t, greenhouse(b.URL()), Options{Now: k.Now})
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	dev.publish(t, "greenhouse/climate", `{"temperature": 20, "humidity": 50}`, false)
	eventually(t, "the reading arrives", func() bool { return value(c, "greenhouse temperature") == "20" })
	for _, tc := range []struct {
		after     time.Duration
		wantStale bool
	}{{0, false}, {10 * time.Minute, false}, {time.Second, true}} {
		k.add(tc.after)
		st, err := c.State(context.Background(), "greenhouse temperature")
		if err != nil {
			t.Fatal(err)
		}
		if st.Stale != tc.wantStale || !st.Updated.Equal(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("+%v: stale %v, updated %v; want stale %v, updated at 09:00", tc.after, st.Stale, st.Updated, tc.wantStale)
		}
		// humidity declares no stale_after: never stale.
		if st, _ := c.State(context.Background(), "greenhouse humidity"); st.Stale {
			t.Errorf("+%v: humidity is stale without a stale_after", tc.after)
		}
	}
	// A new reading is fresh again.
	dev.publish(t, "greenhouse/climate", `{"temperature": 21, "humidity": 50}`, false)
	eventually(t, "the new reading arrives", func() bool { return value(c, "greenhouse temperature") == "21" })
	if st, _ := c.State(context.Background(), "greenhouse temperature"); st.Stale {
		t.Error("a new reading is stale")
	}
}

func TestCredentials(t *testing.T) {
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{Users: map[string]string{"hark": "s3cret-Pa55"}})
	dev := newPeer(t, b.URL(), "hark", "s3cret-Pa55")
	dev.publish(t, "greenhouse2/soil", "41", true)

	for _, tc := range []struct {
		name, user, pass string
		want             error
	}{
		{"wrong password", "hark", "wrong-Pa55word", ErrRefused},
		{"no user", "", "", ErrRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := greenhouse(b.URL())
			cfg.Username, cfg.Password = tc.user, tc.pass
			var logged strings.Builder
			var mu sync.Mutex
			c := open(t, cfg, Options{Logf: func(f string, a ...any) {
				mu.Lock()
				fmt.Fprintf(&logged, f+"\n", a...)
				mu.Unlock()
			}})
			err := c.Check(context.Background())
			if !errors.Is(err, tc.want) {
				t.Fatalf("Check = %v; want %v", err, tc.want)
			}
			_, serr := c.State(context.Background(), "soil moisture")
			if !errors.Is(serr, tc.want) {
				t.Errorf("State = %v; want %v", serr, tc.want)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, s := range []string{err.Error(), serr.Error(), logged.String()} {
				if tc.pass != "" && strings.Contains(s, tc.pass) {
					t.Errorf("the password appears in %q", s)
				}
			}
			t.Logf("error: %v", err)
		})
	}

	// The password read from a file only its owner can read.
	pwFile := filepath.Join(t.TempDir(), "mqtt-password")
	if err := os.WriteFile(pwFile, []byte("s3cret-Pa55\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pw, err := ReadPassword(pwFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := greenhouse(b.URL())
	cfg.Username, cfg.Password = "hark", pw
	c := open(t, cfg, Options{})
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reading arrives", func() bool { return value(c, "soil moisture") == "41" })
}

func TestTLS(t *testing.T) {
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{TLS: true})
	dev := newPeer(t, b.URL(), "", "")
	dev.publish(t, "greenhouse2/soil", "37", true)

	cfg := greenhouse(b.TLSURL())
	cfg.CAFile = b.CA.File
	c := open(t, cfg, Options{})
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("TLS with the broker's CA: %v", err)
	}
	eventually(t, "the reading arrives over TLS", func() bool { return value(c, "soil moisture") == "37" })
	if err := c.Do(context.Background(), "pump 3", home.Command{Op: home.TurnOn}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the command arrives over TLS", func() bool { return len(dev.on("greenhouse/pump3/set")) == 1 })

	for _, tc := range []struct{ name, ca string }{
		{"another CA", testserver.NewCA(t, "Someone else's CA").File},
		{"the system's CAs", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := greenhouse(b.TLSURL())
			cfg.ClientID = "hark-wrong-ca"
			cfg.CAFile = tc.ca
			c := open(t, cfg, Options{})
			err := c.Check(context.Background())
			if !errors.Is(err, home.ErrUnreachable) || !strings.Contains(err.Error(), "not signed by a CA Hark trusts") {
				t.Fatalf("Check = %v; want ErrUnreachable naming the certificate", err)
			}
			t.Logf("error: %v", err)
		})
	}
}

func TestTLSClientCertificate(t *testing.T) {
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{TLS: true, ClientCert: true})
	cfg := greenhouse(b.TLSURL())
	cfg.CAFile = b.CA.File
	c := open(t, cfg, Options{})
	if err := c.Check(context.Background()); !errors.Is(err, home.ErrUnreachable) {
		t.Errorf("without a client certificate: Check = %v; want ErrUnreachable", err)
	}
	cfg.ClientID = "hark-with-cert"
	cfg.CertFile, cfg.KeyFile = b.CA.ClientCert(t, "hark")
	c = open(t, cfg, Options{})
	if err := c.Check(context.Background()); err != nil {
		t.Errorf("with a client certificate: %v", err)
	}
}

func TestUnreachableBrokerThenItComesUp(t *testing.T) {
	port := testserver.FreePort(t)
	cfg := greenhouse(fmt.Sprintf("mqtt://127.0.0.1:%d", port))
	c := open(t, cfg, Options{})
	ctx := context.Background()
	start := time.Now()
	err := c.Check(ctx)
	if !errors.Is(err, home.ErrUnreachable) {
		t.Fatalf("Check with no broker = %v; want ErrUnreachable", err)
	}
	t.Logf("no broker: Check answered after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if _, err := c.State(ctx, "soil moisture"); !errors.Is(err, home.ErrUnreachable) {
		t.Errorf("State with no broker = %v; want ErrUnreachable", err)
	}
	if err := c.Do(ctx, "pump 3", home.Command{Op: home.TurnOn}); !errors.Is(err, home.ErrUnreachable) {
		t.Errorf("Do with no broker = %v; want ErrUnreachable", err)
	}
	// The broker comes up later: Hark connects by itself, and the refused command is not sent.
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{Port: port})
	dev := newPeer(t, b.URL(), "", "")
	dev.publish(t, "greenhouse2/soil", "35", true)
	eventually(t, "Hark connects once the broker is up", func() bool { return c.Check(ctx) == nil })
	eventually(t, "the reading arrives", func() bool { return value(c, "soil moisture") == "35" })
	if n := countPublishes(b.Log(), "hark-test", "greenhouse/pump3/set"); n != 0 {
		t.Errorf("the broker received %d commands that Hark had reported as failed", n)
	}
}

// The first question, asked the moment Hark starts (as `hark do` does), is answered from the
// retained reading, not with "no reading yet": State waits for the subscription and for the
// retained reading that follows it.
func TestFirstQuestionSeesTheRetainedReading(t *testing.T) {
	b := testserver.StartMosquitto(t, testserver.MosquittoOptions{})
	dev := newPeer(t, b.URL(), "", "")
	dev.publish(t, "greenhouse2/soil", "38", true)
	for i := range 10 {
		cfg := greenhouse(b.URL())
		cfg.ClientID = fmt.Sprintf("hark-first-%d", i)
		c := open(t, cfg, Options{Logf: func(string, ...any) {}})
		st, err := c.State(context.Background(), "soil moisture")
		if err != nil || st.Value != "38" {
			t.Fatalf("client %d: first State = %+v, %v; want the retained 38", i, st, err)
		}
		c.Close()
	}
}
