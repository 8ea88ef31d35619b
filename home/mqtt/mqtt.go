// Package mqtt is Hark's MQTT connector, a [home.Backend]: sensors and switches declared in the
// configuration, read and commanded through a broker (mosquitto, EMQX, a PLC's gateway) with
// the Eclipse Paho client.
//
// Readings are kept current by subscription, so a retained reading is known as soon as Hark
// has connected. Commands go only to declared command topics, at QoS 1. A command the broker
// acknowledged is never sent again, and neither is one Hark gave up on and reported as
// failed: a pump must not start minutes after the person was told it could not be reached.
// After a broker restart the client reconnects and subscribes again by itself.
package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/tidwall/gjson"

	"hark/home"
)

// Timeout bounds every wait on the broker: connecting, a command's acknowledgement, and how
// long a question waits for a first connection before it is told the broker is unreachable.
const Timeout = 3 * time.Second

// retainedGrace is how long after a subscription is confirmed a retained reading may still be
// on its way: the broker sends it right after the confirmation, but the library hands the two
// to different goroutines. A question about a device with no reading waits at most this long.
const retainedGrace = 500 * time.Millisecond

// maxPayload is the largest reading Hark reads; a bigger payload is not a sensor's reading.
const maxPayload = 64 << 10

// ErrRefused is returned when the broker turns Hark's credentials away.
var ErrRefused = errors.New("the broker refused Hark's user name or password")

// ErrNoReading is returned for a device that has not published a reading since Hark connected.
// It is [home.ErrNoReading]: the hub says it as a fact ("no reading yet"), not as a failure.
var ErrNoReading = home.ErrNoReading

// Options are what a Client needs besides its configuration.
type Options struct {
	// Logf receives what goes wrong in the background (a payload that cannot be read, a lost
	// connection). Nil: nothing is logged. Passwords are never passed to it.
	Logf func(format string, args ...any)
	// Now is the clock readings are stamped and aged by (nil: time.Now); tests move it.
	Now func() time.Time
}

// Client is a connection to one broker; it implements [home.Backend].
type Client struct {
	cfg     Config
	addr    string
	devices map[string]*Device   // by id (the configured name)
	byTopic map[string][]*Device // state topic -> the devices read from it
	order   []*Device
	pc      paho.Client
	store   *store
	logf    func(string, ...any)
	now     func() time.Time
	closed  chan struct{}
	stop    sync.Once

	mu        sync.Mutex
	readings  map[string]reading
	lastErr   error         // why the last connection attempt failed or the connection dropped
	attempted chan struct{} // closed once the first connection attempt has ended
	subErr    error         // why the last subscription failed
	subbed    bool          // this connection's subscriptions are in place
	subbedAt  time.Time     // when they were confirmed (time.Now, not the test clock)
	connects  int           // connections made so far
	changed   chan struct{} // closed and replaced when lastErr, subErr or subbed change
}

type reading struct {
	value    string
	at       time.Time
	retained bool // a retained message: the broker's last known value, of unknown age
	assumed  bool // not reported by the device: the last command Hark sent it
}

var (
	_ home.Backend    = (*Client)(nil)
	_ home.Configured = (*Client)(nil)
)

// New checks the configuration and starts connecting in the background; it does not wait
// for the broker, so Hark starts whether or not the broker is up. Close it when done.
func New(cfg Config, opts Options) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	addr, _ := brokerAddress(cfg.Broker)
	c := &Client{
		cfg: cfg, addr: addr,
		devices:   map[string]*Device{},
		byTopic:   map[string][]*Device{},
		store:     &store{Store: paho.NewMemoryStore()},
		logf:      opts.Logf,
		now:       time.Now,
		closed:    make(chan struct{}),
		readings:  map[string]reading{},
		attempted: make(chan struct{}),
		changed:   make(chan struct{}),
	}
	if opts.Now != nil {
		c.now = opts.Now
	}
	if c.logf == nil {
		c.logf = func(string, ...any) {}
	}
	for i := range cfg.Devices {
		d := &cfg.Devices[i]
		c.devices[d.Name] = d
		c.order = append(c.order, d)
		if d.StateTopic != "" {
			c.byTopic[d.StateTopic] = append(c.byTopic[d.StateTopic], d)
		}
	}
	tlsCfg, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	id := cfg.ClientID
	if id == "" {
		host, _ := os.Hostname()
		id = "hark-" + host
	}
	po := paho.NewClientOptions().
		AddBroker(addr).
		SetClientID(id).
		SetUsername(cfg.Username).
		SetPassword(cfg.Password).
		// A clean session: the broker keeps nothing for Hark between connections, and Hark
		// subscribes again on every connection (onConnect).
		SetCleanSession(true).
		SetResumeSubs(false).
		SetStore(c.store).
		SetConnectTimeout(Timeout).
		SetWriteTimeout(Timeout).
		SetKeepAlive(30 * time.Second).
		SetPingTimeout(Timeout).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(5 * time.Second).
		SetOnConnectHandler(c.onConnect).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			c.mu.Lock()
			c.subbed = false
			c.mu.Unlock()
			c.setErr(err)
			c.logf("mqtt: lost the connection to %s: %v", c.addr, err)
		}).
		SetConnectionNotificationHandler(func(_ paho.Client, n paho.ConnectionNotification) {
			switch n := n.(type) {
			case paho.ConnectionNotificationBrokerFailed:
				c.setErr(n.Reason)
			case paho.ConnectionNotificationFailed:
				c.setErr(n.Reason)
			}
		})
	if tlsCfg != nil {
		po.SetTLSConfig(tlsCfg)
	}
	c.pc = paho.NewClient(po)
	go c.connectLoop()
	return c, nil
}

// tlsConfig is the TLS set-up for mqtts:// (nil for plain mqtt://).
func (c *Client) tlsConfig() (*tls.Config, error) {
	if !strings.HasPrefix(c.addr, "ssl://") {
		if c.cfg.CAFile != "" || c.cfg.CertFile != "" {
			return nil, errors.New("mqtt: ca_file and cert_file need an mqtts:// broker")
		}
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.cfg.CAFile != "" {
		pem, err := os.ReadFile(c.cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt: ca_file %s holds no PEM certificate", c.cfg.CAFile)
		}
		t.RootCAs = pool
	}
	if c.cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.cfg.CertFile, c.cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: client certificate: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// connectLoop makes the first connection, retrying with a growing pause; once connected, the
// library's own reconnection takes over.
func (c *Client) connectLoop() {
	pause := time.Second
	first := true
	for {
		tok := c.pc.Connect()
		select {
		case <-tok.Done():
		case <-c.closed:
			return
		}
		err := tok.Error()
		if err != nil {
			// Said once per kind of failure, not on every retry of a long outage.
			if prev := c.lastError(); prev == nil || prev.Error() != err.Error() {
				c.logf("mqtt: cannot connect to %s: %v", c.addr, err)
			}
			c.setErr(err)
		}
		if first {
			close(c.attempted)
			first = false
		}
		if err == nil {
			return
		}
		select {
		case <-time.After(pause):
		case <-c.closed:
			return
		}
		pause = min(2*pause, 10*time.Second)
	}
}

// onConnect runs on every connection, the first and each reconnection: with a clean session
// the broker has forgotten Hark's subscriptions, so they are made again, and the broker sends
// each topic's retained reading.
func (c *Client) onConnect(pc paho.Client) {
	c.mu.Lock()
	again := c.connects > 0
	c.connects++
	c.mu.Unlock()
	c.setErr(nil)
	if again {
		c.logf("mqtt: connected to %s again", c.addr)
	}
	if len(c.byTopic) == 0 {
		c.setSubErr(nil)
		return
	}
	filters := map[string]byte{}
	for t := range c.byTopic {
		filters[t] = 1
	}
	tok := pc.SubscribeMultiple(filters, c.onMessage)
	if !tok.WaitTimeout(Timeout) {
		c.setSubErr(errors.New("the broker did not answer the subscription"))
		return
	}
	err := tok.Error()
	if st, ok := tok.(*paho.SubscribeToken); ok && err == nil {
		for topic, code := range st.Result() {
			if code >= 0x80 {
				err = fmt.Errorf("the broker refused the subscription to %q (not allowed for this user?)", topic)
			}
		}
	}
	c.setSubErr(err)
	if err != nil {
		c.logf("mqtt: subscribe: %v", err)
	}
}

// onMessage stores a reading for each device read from the topic.
func (c *Client) onMessage(_ paho.Client, m paho.Message) {
	at := c.now()
	for _, d := range c.byTopic[m.Topic()] {
		v, err := decode(d, m.Payload())
		if err != nil {
			c.logf("mqtt: %s: a message on %s was not used: %v", d.Name, m.Topic(), err)
			continue
		}
		c.mu.Lock()
		c.readings[d.Name] = reading{value: v, at: at, retained: m.Retained()}
		c.notify()
		c.mu.Unlock()
	}
}

// decode turns a payload into the device's value: the JSON value at json_path or the whole
// payload, and for anything but a sensor its on and off payloads as "on" and "off".
func decode(d *Device, p []byte) (string, error) {
	if len(p) > maxPayload {
		return "", fmt.Errorf("the payload is %d bytes, more than a reading can be", len(p))
	}
	if !utf8.Valid(p) {
		return "", errors.New("the payload is not text")
	}
	var v string
	if d.JSONPath != "" {
		if !gjson.ValidBytes(p) {
			return "", fmt.Errorf("the payload is not JSON, but json_path is %q", d.JSONPath)
		}
		r := gjson.GetBytes(p, d.JSONPath)
		switch {
		case !r.Exists():
			return "", fmt.Errorf("the payload has nothing at %q", d.JSONPath)
		case r.IsObject() || r.IsArray():
			return "", fmt.Errorf("%q is a JSON object or list, not one value", d.JSONPath)
		}
		v = r.String()
	} else {
		v = strings.TrimSpace(string(p))
	}
	if d.Kind != "sensor" {
		on, off := d.payloads()
		switch {
		case strings.EqualFold(v, on):
			v = "on"
		case strings.EqualFold(v, off):
			v = "off"
		}
	}
	if d.Kind == "lock" {
		// Said and compared as Home Assistant's locks are: "locked", "unlocked".
		switch {
		case v == "on" || strings.EqualFold(v, StateUnlocked):
			v = "unlocked"
		case v == "off" || strings.EqualFold(v, StateLocked):
			v = "locked"
		}
	}
	return v, nil
}

func (c *Client) lastError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

func (c *Client) setErr(err error) {
	c.mu.Lock()
	c.lastErr = err
	c.notify()
	c.mu.Unlock()
}

// setSubErr records the end of a subscription attempt.
func (c *Client) setSubErr(err error) {
	c.mu.Lock()
	c.subErr, c.subbed = err, err == nil
	if err == nil {
		c.subbedAt = time.Now()
	}
	c.notify()
	c.mu.Unlock()
}

// notify wakes whoever waits for a change; c.mu is held.
func (c *Client) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Close disconnects from the broker and stops reconnecting.
func (c *Client) Close() {
	c.stop.Do(func() {
		close(c.closed)
		c.pc.Disconnect(250)
	})
}

// Source implements [home.Backend].
func (c *Client) Source() home.Source { return home.SourceMQTT }

// Entities lists the declared devices; it needs no broker.
func (c *Client) Entities(context.Context) ([]home.Entity, error) { return c.Configured(), nil }

// Configured lists the declared devices ([home.Configured]), so the hub knows them before
// the broker answers.
func (c *Client) Configured() []home.Entity {
	out := make([]home.Entity, 0, len(c.order))
	for _, d := range c.order {
		ops := d.ops()
		kind := d.Kind
		if kind == "" {
			switch {
			case d.Setpoint != nil:
				kind = "climate"
			case d.Position != nil:
				kind = "cover"
			case d.Brightness != nil:
				kind = "light"
			case len(ops) > 0:
				kind = "switch"
			default:
				kind = "sensor"
			}
		}
		out = append(out, home.Entity{
			ID: d.Name, Name: d.Name, Aliases: append([]string(nil), d.Aliases...), Area: d.Area,
			Kind: kind, Source: home.SourceMQTT, Unit: d.Unit, Confirm: d.Confirm,
			ReadOnly: len(ops) == 0, Ops: ops,
		})
	}
	return out
}

// ops are the commands the device's configuration declares: on, off and toggle with a
// command_topic (open and close with a position alone), and its level commands.
func (d *Device) ops() []home.Op {
	ops := []home.Op{}
	if d.CommandTopic != "" && d.Kind == "lock" {
		ops = append(ops, home.TurnOn, home.TurnOff) // never toggled: say which
	} else if d.CommandTopic != "" {
		ops = append(ops, home.TurnOn, home.TurnOff, home.Toggle)
	} else if d.Position != nil {
		ops = append(ops, home.TurnOn, home.TurnOff)
	}
	for _, x := range d.setters() {
		if x.s != nil {
			ops = append(ops, x.op)
		}
	}
	return ops
}

// State is the device's last reading, with the time it arrived. A reading that arrived
// before the broker went away is still returned (its age says how old it is).
func (c *Client) State(ctx context.Context, id string) (home.State, error) {
	d, ok := c.devices[id]
	if !ok {
		return home.State{}, fmt.Errorf("%w: %q", home.ErrUnknownEntity, id)
	}
	c.mu.Lock()
	r, ok := c.readings[d.Name]
	c.mu.Unlock()
	if !ok && d.StateTopic != "" {
		if err := c.Check(ctx); err != nil {
			return home.State{}, err
		}
		r, ok = c.awaitReading(ctx, d.Name)
	}
	if !ok {
		if err := c.ready(ctx); err != nil {
			return home.State{}, err
		}
		if d.StateTopic == "" {
			return home.State{}, fmt.Errorf("%s: %w (it has no state_topic, and Hark has not commanded it yet)", d.Name, home.ErrUnsupported)
		}
		return home.State{}, fmt.Errorf("%s: %w on %s", d.Name, ErrNoReading, d.StateTopic)
	}
	st := home.State{
		Value:   r.value,
		Unit:    d.Unit,
		Updated: r.at,
		Stale:   d.StaleAfter > 0 && c.now().Sub(r.at) > d.StaleAfter,
		Attributes: map[string]any{
			"topic":     d.StateTopic,
			"retained":  r.retained,
			"connected": c.pc.IsConnectionOpen(),
		},
	}
	if r.assumed {
		st.Attributes["assumed"] = true
		st.Attributes["topic"] = d.CommandTopic
	}
	return st, nil
}

// awaitReading waits for a device's first reading while a retained one may still be on its
// way (retainedGrace after the subscriptions were confirmed).
func (c *Client) awaitReading(ctx context.Context, id string) (reading, bool) {
	for {
		c.mu.Lock()
		r, ok := c.readings[id]
		left := retainedGrace - time.Since(c.subbedAt)
		changed := c.changed
		c.mu.Unlock()
		if ok || left <= 0 {
			return r, ok
		}
		t := time.NewTimer(left)
		select {
		case <-changed:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return r, ok
		}
		t.Stop()
	}
}

// Do publishes the command's payload to its declared topic (on and off to command_topic, a
// level to its own topic), once, at QoS 1, and returns once the broker has acknowledged it. A
// level outside the device's range is refused with a [home.RangeError] and nothing is sent.
func (c *Client) Do(ctx context.Context, id string, cmd home.Command) error {
	d, ok := c.devices[id]
	if !ok {
		return fmt.Errorf("%w: %q", home.ErrUnknownEntity, id)
	}
	if d.CommandTopic == "" && (cmd.Op == home.TurnOn || cmd.Op == home.TurnOff) && d.Position != nil {
		// A cover with only a position topic: open is all the way open, close all the way shut.
		cmd = home.Command{Op: home.SetPosition, Level: map[bool]int{true: 100, false: 0}[cmd.Op == home.TurnOn]}
	}
	topic, payload, value, err := c.command(d, cmd)
	if err != nil {
		return err
	}
	if err := c.ready(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	tok := c.pc.Publish(topic, 1, false, payload)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			c.abandon(tok)
			return fmt.Errorf("MQTT broker %s: %w: %v", c.addr, home.ErrUnreachable, err)
		}
	case <-ctx.Done():
		c.abandon(tok)
		return fmt.Errorf("MQTT broker %s: %w: it did not acknowledge the command to %s within %v, and Hark will not send it again",
			c.addr, home.ErrUnreachable, d.Name, Timeout)
	}
	if d.StateTopic == "" && value != "" {
		c.mu.Lock()
		c.readings[d.Name] = reading{value: value, at: c.now(), assumed: true}
		c.mu.Unlock()
	}
	return nil
}

// command is where a command goes and what is sent: the topic, the payload, and the state
// it leaves an on/off device in ("" for a level command).
func (c *Client) command(d *Device, cmd home.Command) (topic, payload, value string, err error) {
	if cmd.Op == home.SetBrightness || cmd.Op == home.SetPosition || cmd.Op == home.SetTemperature {
		s := d.setter(cmd.Op)
		if s == nil {
			return "", "", "", fmt.Errorf("%s: %w (its configuration declares no %s command)", d.Name, home.ErrUnsupported, cmd.Op)
		}
		payload, err := levelPayload(*s, cmd, d.Unit)
		return s.Topic, payload, "", err
	}
	if d.CommandTopic == "" {
		return "", "", "", fmt.Errorf("%s: %w (it has no command_topic: Hark only reads it)", d.Name, home.ErrUnsupported)
	}
	on, off := d.payloads()
	switch cmd.Op {
	case home.TurnOn:
		payload, value = on, "on"
	case home.TurnOff:
		payload, value = off, "off"
	case home.Toggle:
		if d.Kind == "lock" {
			return "", "", "", fmt.Errorf("%s: %w (a lock is never toggled: say lock or unlock)", d.Name, home.ErrUnsupported)
		}
		c.mu.Lock()
		r, known := c.readings[d.Name]
		c.mu.Unlock()
		switch {
		case known && r.value == "on":
			payload, value = off, "off"
		case known && r.value == "off":
			payload, value = on, "on"
		default:
			return "", "", "", fmt.Errorf("%s: %w (its state is not known, so Hark cannot toggle it: say on or off)", d.Name, home.ErrUnsupported)
		}
	default:
		return "", "", "", fmt.Errorf("%s: %w (an MQTT device here does not take %s)", d.Name, home.ErrUnsupported, cmd.Op)
	}
	if d.Kind == "lock" {
		value = map[string]string{"on": "unlocked", "off": "locked"}[value]
	}
	return d.CommandTopic, payload, value, nil
}

// levelPayload is a level command's payload: the value checked against its range (a value
// outside is refused with a [home.RangeError], never clamped), scaled onto the device's range
// for a percentage, rounded to the step for a setpoint, and put into the template.
func levelPayload(s Setter, cmd home.Command, unit string) (string, error) {
	var v string
	switch cmd.Op {
	case home.SetBrightness, home.SetPosition:
		if cmd.Level < 0 || cmd.Level > 100 {
			return "", &home.RangeError{Op: cmd.Op, Min: 0, Max: 100, Unit: "%"}
		}
		x := s.Min + (s.Max-s.Min)*float64(cmd.Level)/100
		v = strconv.FormatInt(int64(math.Round(x)), 10)
	default:
		t := cmd.Temperature
		if math.IsNaN(t) || t < s.Min || t > s.Max {
			if unit == "" {
				unit = "°C"
			}
			return "", &home.RangeError{Op: cmd.Op, Min: s.Min, Max: s.Max, Unit: unit}
		}
		decimals := 0
		if s.Step > 0 {
			t = min(max(math.Round(t/s.Step)*s.Step, s.Min), s.Max)
			if _, frac, ok := strings.Cut(strconv.FormatFloat(s.Step, 'f', -1, 64), "."); ok {
				decimals = len(frac)
			}
		} else {
			decimals = -1
		}
		v = strconv.FormatFloat(t, 'f', decimals, 64)
	}
	return placeholder.ReplaceAllLiteralString(s.Payload, v), nil
}

// abandon drops a command that was not acknowledged from the library's store, so that the
// reconnection does not send it later: Hark has already said it failed.
func (c *Client) abandon(tok paho.Token) {
	if pt, ok := tok.(*paho.PublishToken); ok && pt.MessageID() != 0 {
		c.store.dropPublish(pt.MessageID())
	}
}

// Check says whether the broker is connected and has accepted the subscriptions (so that
// every reading published from now on arrives); while the first connection is being made it
// waits for it, at most [Timeout].
func (c *Client) Check(ctx context.Context) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	t := time.NewTimer(Timeout)
	defer t.Stop()
	for {
		c.mu.Lock()
		subbed, err, changed := c.subbed, c.subErr, c.changed
		c.mu.Unlock()
		switch {
		case subbed:
			return nil
		case !c.pc.IsConnectionOpen():
			if err := c.ready(ctx); err != nil {
				return err
			}
			continue
		case err != nil:
			return fmt.Errorf("MQTT broker %s: %w", c.addr, err)
		}
		select {
		case <-changed:
		case <-t.C:
			return fmt.Errorf("MQTT broker %s: %w: connected, but the subscriptions were not confirmed within %v", c.addr, home.ErrUnreachable, Timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ready returns nil when connected. While the first connection attempt is under way it waits
// for it (at most Timeout); otherwise it answers at once with why the broker cannot be used.
func (c *Client) ready(ctx context.Context) error {
	if c.pc.IsConnectionOpen() {
		return nil
	}
	t := time.NewTimer(Timeout)
	defer t.Stop()
	select {
	case <-c.attempted:
	case <-t.C:
	case <-ctx.Done():
	}
	if c.pc.IsConnectionOpen() {
		return nil
	}
	c.mu.Lock()
	err := c.lastErr
	c.mu.Unlock()
	return c.explain(err)
}

// explain words a connection failure for the person: credentials and certificates are named,
// anything else is ErrUnreachable.
func (c *Client) explain(err error) error {
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr *tls.CertificateVerificationError
	switch {
	case err == nil:
		return fmt.Errorf("MQTT broker %s: %w (still connecting)", c.addr, home.ErrUnreachable)
	case errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword), errors.Is(err, packets.ErrorRefusedNotAuthorised):
		return fmt.Errorf("MQTT broker %s: %w (check mqtt.username and mqtt.password_file)", c.addr, ErrRefused)
	case errors.As(err, &unknownCA):
		return fmt.Errorf("MQTT broker %s: %w: its certificate is not signed by a CA Hark trusts (set mqtt.ca_file to the broker's CA): %v",
			c.addr, home.ErrUnreachable, err)
	case errors.As(err, &hostErr):
		return fmt.Errorf("MQTT broker %s: %w: its certificate is for another host name: %v", c.addr, home.ErrUnreachable, err)
	case errors.As(err, &certErr):
		return fmt.Errorf("MQTT broker %s: %w: its certificate was not accepted: %v", c.addr, home.ErrUnreachable, err)
	}
	return fmt.Errorf("MQTT broker %s: %w: %v", c.addr, home.ErrUnreachable, err)
}

// store is the library's message store, with a way to drop one outgoing publish.
type store struct {
	paho.Store
}

// dropPublish deletes the outgoing publish with this message id ("o.<id>" in the library's
// store, as its store.go documents the key).
func (s *store) dropPublish(id uint16) {
	key := "o." + strconv.Itoa(int(id))
	if p, ok := s.Get(key).(*packets.PublishPacket); ok && p.MessageID == id {
		s.Del(key)
	}
}
