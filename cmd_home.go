package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"hark/app"
	"hark/home"
)

// homeListing is `hark home --json`'s document.
type homeListing struct {
	Connectors []homeConnector `json:"connectors"`
	Entities   []home.Entity   `json:"entities"`
}

type homeConnector struct {
	Source   home.Source `json:"source"`
	Name     string      `json:"name"`
	Entities int         `json:"entities"`
	OK       bool        `json:"ok"`
	Error    string      `json:"error,omitempty"`
}

// runHome is `hark home`: what Hark can control and read, and from where.
func runHome(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var asJSON *bool
	acts, _, _, err := openActionsCmd("home", "", args, stderr, func(fs *flag.FlagSet) {
		asJSON = fs.Bool("json", false, "print the connectors and the entities as JSON")
	})
	if err != nil {
		return err
	}
	defer acts.Close()
	if acts.hub == nil {
		if acts.homeErr != nil {
			return acts.homeErr
		}
		fmt.Fprintln(stdout, "No home connectors are set up. \"Home Assistant and MQTT\" in README.md says how.")
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st := acts.hub.Check(cctx)
	out := homeListing{Entities: acts.hub.Entities()}
	for _, s := range st {
		c := homeConnector{Source: s.Source, Name: home.SystemName(s.Source, "en"), Entities: s.Entities, OK: s.Err == nil}
		if s.Err != nil {
			c.Error = s.Err.Error()
		}
		out.Connectors = append(out.Connectors, c)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, c := range out.Connectors {
		state := "connected"
		if !c.OK {
			state = "NOT CONNECTED: " + c.Error
		}
		fmt.Fprintf(stdout, "%s: %d entities, %s\n", capital(c.Name), c.Entities, state)
	}
	fmt.Fprintf(stdout, "\n%-16s %-34s %-16s %-20s %-9s %s\n", "SOURCE", "ID", "KIND", "AREA", "CONFIRM", "NAME (aliases)")
	for _, e := range out.Entities {
		name := e.Name
		if len(e.Aliases) > 0 {
			name += " (" + strings.Join(e.Aliases, ", ") + ")"
		}
		kind := string(e.Kind)
		if e.ReadOnly {
			kind += " (read)"
		}
		fmt.Fprintf(stdout, "%-16s %-34s %-16s %-20s %-9s %s\n", e.Source, e.ID, kind, orNone(e.Area), map[bool]string{true: "yes", false: "-"}[e.Confirm], name)
	}
	return nil
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// doctorHome checks each home connector: set up, reachable, token accepted, entities there.
func doctorHome(ctx context.Context, s *setup) []doctorCheck {
	h, err := openHome(s)
	var out []doctorCheck
	if err != nil {
		out = append(out, doctorCheck{"home", doctorFail, err.Error(), orDefault(app.Hint(err), "See \"Home Assistant and MQTT\" in README.md.")})
	}
	if h == nil {
		return out
	}
	defer closeHome(h)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, st := range h.Check(cctx) {
		name := home.SystemName(st.Source, "en")
		c := doctorCheck{string(st.Source), doctorOK, fmt.Sprintf("%s: connected, %d entities", name, st.Entities), ""}
		switch {
		case st.Err == nil:
		case errors.Is(st.Err, home.ErrUnknownEntity):
			c.Status, c.Detail, c.Fix = doctorWarn, st.Err.Error(), "Check the ids in the entity list against your system's entities."
		case errors.Is(st.Err, home.ErrUnreachable):
			c.Status, c.Detail, c.Fix = doctorFail, st.Err.Error(), "Check the address and that "+name+" is running and reachable from this computer."
		default:
			c.Status, c.Detail, c.Fix = doctorFail, st.Err.Error(), orDefault(app.Hint(st.Err), "See \"Home Assistant and MQTT\" in README.md.")
		}
		out = append(out, c)
	}
	// Home Assistant's areas come from its registries over the WebSocket API; without them
	// only the entity list's areas are known.
	for _, b := range h.Backends() {
		if r, ok := b.(interface{ RegistryError() error }); ok && r.RegistryError() != nil {
			out = append(out, doctorCheck{"home_assistant_areas", doctorWarn, r.RegistryError().Error(),
				"Areas come from the entity list only. Let WebSockets through to /api/websocket (a proxy may block them), or give each entity an area."})
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
