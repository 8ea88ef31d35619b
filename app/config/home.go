package config

import (
	"path/filepath"
	"time"
)

// HomeAssistant is the [home_assistant] section: the Home Assistant connector. Its access
// token is never in this file: it is read from TokenFile (which must be readable by its owner
// only) or from the variable TokenEnv names.
type HomeAssistant struct {
	URL       string        // url: Home Assistant's address, e.g. http://homeassistant.local:8123 ("" = not connected)
	TokenFile string        // token_file: file holding the long-lived access token ("" = ~/.config/hark/home-assistant.token)
	TokenEnv  string        // token_env: environment variable holding the token, used when the file does not exist
	Entities  string        // entities: file listing the entities Hark may use ("" = ~/.config/hark/home-assistant.toml)
	Timeout   time.Duration // timeout: longest wait for one request
}

func homeAssistantSpecs() []spec {
	return []spec{
		{key: "home_assistant.url", kind: kindURL, def: "", field: func(c *Config) any { return &c.HomeAssistant.URL },
			doc: "Home Assistant's address, e.g. http://homeassistant.local:8123. Empty: Hark does not connect to Home Assistant. See \"Home Assistant and MQTT\" in README.md."},
		{key: "home_assistant.token_file", kind: kindString, def: "", field: func(c *Config) any { return &c.HomeAssistant.TokenFile },
			doc: "File holding a long-lived access token (make one in your Home Assistant profile). It must be readable by you only (chmod 600). Empty: ~/.config/hark/home-assistant.token. The token is never written in this file."},
		{key: "home_assistant.token_env", kind: kindString, def: "HARK_HASS_TOKEN", field: func(c *Config) any { return &c.HomeAssistant.TokenEnv },
			doc: "Environment variable that holds the token instead, used when the token file does not exist."},
		{key: "home_assistant.entities", kind: kindString, def: "", field: func(c *Config) any { return &c.HomeAssistant.Entities },
			doc: "File listing the entities Hark may see and use ([[entity]] id, name, aliases, area, confirm); nothing else is touched. Locks and alarm panels need confirm = true. Empty: ~/.config/hark/home-assistant.toml."},
		{key: "home_assistant.timeout", kind: kindDuration, def: 3 * time.Second, min: 0.5, max: 10,
			field: func(c *Config) any { return &c.HomeAssistant.Timeout },
			doc:   "Longest wait for one request to Home Assistant; a spoken command gives up sooner (2 s) so that \"I can't reach Home Assistant\" comes within 3 s."},
	}
}

// HomeAssistantTokenPath is home_assistant.token_file, or home-assistant.token beside the
// configuration file.
func (c *Config) HomeAssistantTokenPath() (string, error) {
	return c.besideConfig(c.HomeAssistant.TokenFile, "home-assistant.token")
}

// HomeAssistantEntitiesPath is home_assistant.entities, or home-assistant.toml beside the
// configuration file.
func (c *Config) HomeAssistantEntitiesPath() (string, error) {
	return c.besideConfig(c.HomeAssistant.Entities, "home-assistant.toml")
}

func (c *Config) besideConfig(set, name string) (string, error) {
	if set != "" {
		return expandHome(set)
	}
	d, err := xdgDir("XDG_CONFIG_HOME", ".config")
	if err != nil {
		return "", err
	}
	return filepath.Join(d, name), nil
}
