package main

import (
	"log"

	"hark/app"
	"hark/app/config"
	"hark/home"
	"hark/home/mqtt"
	"hark/models"
)

// ---- MQTT devices and sensors ([mqtt], [[mqtt.devices]]) ----

// openMQTT starts the connection to the configured broker: nil, nil when no broker is set. It
// does not wait for the broker, so Hark starts while the broker is down, and the backend says
// home.ErrUnreachable until it is up.
func openMQTT(s *setup) (home.Backend, error) {
	mc := s.cfg.MQTT
	if mc.Broker == "" {
		return nil, nil
	}
	cfg := mqtt.Config{Broker: mc.Broker, ClientID: mc.ClientID, Username: mc.Username}
	var err error
	for _, f := range []struct {
		dst *string
		src string
	}{{&cfg.CAFile, mc.CAFile}, {&cfg.CertFile, mc.CertFile}, {&cfg.KeyFile, mc.KeyFile}} {
		if f.src != "" {
			if *f.dst, err = models.ExpandPath(f.src); err != nil {
				return nil, err
			}
		}
	}
	if mc.PasswordFile != "" {
		p, err := models.ExpandPath(mc.PasswordFile)
		if err == nil {
			cfg.Password, err = mqtt.ReadPassword(p)
		}
		if err != nil {
			return nil, app.Explain(err, "The MQTT broker's password could not be read",
				"mqtt.password_file must name a file only you can read (chmod 600).")
		}
	}
	level := func(l config.MQTTLevel) *mqtt.Setter {
		if !l.Declared() {
			return nil
		}
		return &mqtt.Setter{Topic: l.Topic, Payload: l.Payload, Min: l.Min, Max: l.Max, Step: l.Step}
	}
	for _, d := range mc.Devices {
		on, off := d.PayloadOn, d.PayloadOff
		if d.Kind == "lock" {
			// A lock's on is open: unlocked (home.TurnOn).
			on, off = d.PayloadUnlock, d.PayloadLock
		}
		cfg.Devices = append(cfg.Devices, mqtt.Device{
			Name: d.Name, Aliases: d.Aliases, Area: d.Area, Kind: home.Kind(d.Kind), Unit: d.Unit,
			StateTopic: d.StateTopic, JSONPath: d.JSONPath, CommandTopic: d.CommandTopic,
			PayloadOn: on, PayloadOff: off, Confirm: d.Confirm, StaleAfter: d.StaleAfter,
			Brightness: level(d.Brightness), Position: level(d.Position), Setpoint: level(d.Setpoint),
		})
	}
	c, err := mqtt.New(cfg, mqtt.Options{Logf: log.New(log.Writer(), "hark: ", log.LstdFlags).Printf})
	if err != nil {
		return nil, app.Explain(err, "The MQTT settings are not usable", "Check [mqtt] and [[mqtt.devices]] in the configuration file (docs/config.md).")
	}
	return c, nil
}

// closeHome disconnects the backends that hold a connection (the MQTT broker's), so that a
// command such as `hark do` leaves the broker cleanly.
func closeHome(h *home.Hub) {
	if h == nil {
		return
	}
	for _, b := range h.Backends() {
		if c, ok := b.(interface{ Close() }); ok {
			c.Close()
		}
	}
}
