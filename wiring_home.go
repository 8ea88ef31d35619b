package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"hark/action"
	"hark/app"
	"hark/home"
	"hark/home/hass"
)

// This file wires the home connectors (package home and its backends) into the action layer:
// the configured backends, the hub, its tools and templates, and the initial read of the
// devices.

// homeBackends collects the configured connectors, in a fixed order.
func homeBackends(s *setup) ([]home.Backend, error) {
	var out []home.Backend
	var errs []error
	if s.cfg.HomeAssistant.URL != "" {
		b, err := openHomeAssistant(s)
		if err != nil {
			errs = append(errs, err)
		} else {
			out = append(out, b)
		}
	}
	if b, err := openMQTT(s); err != nil {
		errs = append(errs, err)
	} else if b != nil {
		out = append(out, b)
	}
	return out, errors.Join(errs...)
}

// openHomeAssistant builds the Home Assistant backend from [home_assistant], the token file
// (or variable) and the entity list.
func openHomeAssistant(s *setup) (*hass.Client, error) {
	c := s.cfg.HomeAssistant
	tok, err := homeAssistantToken(s)
	if err != nil {
		return nil, err
	}
	path, err := s.cfg.HomeAssistantEntitiesPath()
	if err != nil {
		return nil, err
	}
	ents, err := readHassEntities(path)
	if err != nil {
		return nil, err
	}
	cl, err := hass.New(hass.Options{URL: c.URL, Token: tok, Entities: ents, Timeout: c.Timeout})
	if err != nil {
		return nil, app.Explain(err, "Home Assistant is not set up right", "See \"Home Assistant and MQTT\" in README.md.")
	}
	return cl, nil
}

// homeAssistantToken reads the token from home_assistant.token_file, or else from the
// variable home_assistant.token_env names.
func homeAssistantToken(s *setup) (string, error) {
	path, err := s.cfg.HomeAssistantTokenPath()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err == nil || s.cfg.HomeAssistant.TokenFile != "" {
		t, err := hass.ReadToken(path)
		if err != nil {
			return "", app.Explain(err, "Hark cannot use the Home Assistant token", "Put a long-lived access token in "+path+" and run chmod 600 "+path+".")
		}
		return t, nil
	}
	if v := s.cfg.HomeAssistant.TokenEnv; v != "" {
		if t := strings.TrimSpace(os.Getenv(v)); t != "" {
			return t, nil
		}
	}
	return "", app.Explain(fmt.Errorf("home assistant: no token in %s or $%s", path, s.cfg.HomeAssistant.TokenEnv),
		"Hark has no Home Assistant token", "Make a long-lived access token in your Home Assistant profile and put it in "+path+" (chmod 600).")
}

// hassEntitiesFile is the entity list's format.
type hassEntitiesFile struct {
	Entity []hass.Exposed `toml:"entity"`
}

// readHassEntities reads the list of entities Hark may use; a missing file exposes nothing.
func readHassEntities(path string) ([]hass.Exposed, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f hassEntitiesFile
	dec := toml.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, app.Explain(fmt.Errorf("%s: %w", path, err), "The Home Assistant entity list cannot be read",
			"Each entity is a [[entity]] table with id, and optionally name, aliases, area and confirm.")
	}
	return f.Entity, nil
}

// openHome builds the hub over the configured backends: nil when none is configured. A
// connector that cannot be set up is left out; its error is returned with the hub of the
// others.
func openHome(s *setup) (*home.Hub, error) {
	bs, err := homeBackends(s)
	if len(bs) == 0 {
		return nil, err
	}
	lang := s.cfg.Assistant.Language
	if lang == "auto" {
		lang = ""
	}
	h := home.NewHub(bs, home.HubOptions{Language: lang})
	h.Seed()
	return h, err
}

// homeActions adds the hub's tools and templates to the action layer's options.
func homeActions(h *home.Hub, o *action.Options) error {
	if h == nil {
		return nil
	}
	tpl, err := home.Templates()
	if err != nil {
		return err
	}
	o.Tools = append(o.Tools, h.Tools()...)
	o.Templates = append(o.Templates, tpl...)
	return nil
}

// startHome reads the devices in the background, so that the first question does not wait.
func startHome(h *home.Hub, logf func(string, ...any)) {
	if h == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Refresh(ctx); err != nil && logf != nil {
			logf("home: %v", err)
		}
	}()
}
