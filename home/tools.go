package home

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"time"

	"hark/action"
	"hark/intent"
)

//go:embed templates/*.toml
var templates embed.FS

// The hub's tools, for the templates and the language model.
const (
	ToolTurnOn         = "home_turn_on"
	ToolTurnOff        = "home_turn_off"
	ToolToggle         = "home_toggle"
	ToolSetBrightness  = "home_set_brightness"
	ToolSetColor       = "home_set_color"
	ToolSetPosition    = "home_set_position"
	ToolSetTemperature = "home_set_temperature"
	ToolState          = "home_state"
	// ToolChoose answers the hub's "Which one?" with just a name ("the kitchen one").
	ToolChoose = "home_choose"
)

// The dynamic template lists the hub fills with its entities' names.
var lists = map[string]Want{
	"device":   {Op: TurnOn},
	"openable": {Op: TurnOn, Kind: "cover"},
	"lock":     {Op: TurnOn, Kind: "lock"},
	"light":    {Op: SetBrightness},
	"cover":    {Op: SetPosition},
	"climate":  {Op: SetTemperature},
	"entity":   {},
}

// Templates are the hub's sentence templates (English and Chinese), for action.Options.
func Templates() ([]intent.NamedFile, error) {
	return intent.LoadFS(templates, "templates")
}

// Attach gives a compiled template set the names of the hub's entities.
func (h *Hub) Attach(set *intent.Set) {
	for name, w := range lists {
		set.SetResolver(name, h.Resolver(w))
	}
	set.SetResolver("choice", h.ChoiceResolver())
}

const nameProp = `"name":{"type":"string","minLength":1,"description":"the device, as the person called it (\"kitchen light\", \"the living room\", \"garage door\")"},` +
	`"lang":{"type":"string","enum":["en","zh"],"description":"the language to answer in"}`

func schema(extra, required string) json.RawMessage {
	if extra != "" {
		extra = "," + extra
	}
	return json.RawMessage(`{"type":"object","properties":{` + nameProp + extra + `},"required":["name"` + required + `],"additionalProperties":false}`)
}

// Tools are the hub's tools, for action.Options: a command on an entity marked confirm asks
// for a yes first (its risk is decided per call).
func (h *Hub) Tools() []action.Tool {
	kindProp := `"kind":{"type":"string","enum":["lock","cover","alarm_control_panel"],"description":"only a device of this kind (lock: unlock or lock it; cover: open or close it)"}`
	cmd := func(name, desc string, extra, req string, c func(action.Args) Command) action.Tool {
		return action.Tool{Name: name, Description: desc, Schema: schema(extra, req), Timeout: 3 * time.Second,
			RiskFor:  func(a action.Args) action.Risk { return h.risk(a, c(a)) },
			Question: func(a action.Args) string { return h.question(a, c(a)) },
			Handler: func(ctx context.Context, a action.Args) (action.Result, error) {
				o := h.Do(ctx, a.String("name"), Kind(a.String("kind")), c(a))
				return h.result(a, o), nil
			}}
	}
	return []action.Tool{
		cmd(ToolTurnOn, "Turn on or open a device: a light, a switch; open a cover; open (unlock) a lock.", kindProp, "",
			func(action.Args) Command { return Command{Op: TurnOn} }),
		cmd(ToolTurnOff, "Turn off or close a device: a light, a switch; close a cover; close (lock) a lock.", kindProp, "",
			func(action.Args) Command { return Command{Op: TurnOff} }),
		cmd(ToolToggle, "Toggle a device between on and off.", "", "",
			func(action.Args) Command { return Command{Op: Toggle} }),
		cmd(ToolSetBrightness, "Set a light's brightness in percent.", `"level":{"type":"integer","minimum":0,"maximum":100}`, `,"level"`,
			func(a action.Args) Command { return Command{Op: SetBrightness, Level: a.Int("level", 100)} }),
		cmd(ToolSetColor, "Set a light's colour (a colour name, or #rrggbb).", `"color":{"type":"string","minLength":1}`, `,"color"`,
			func(a action.Args) Command { return Command{Op: SetColor, Color: a.String("color")} }),
		cmd(ToolSetPosition, "Open a cover (blind, garage door) to a position in percent (0 closed, 100 open).", `"position":{"type":"integer","minimum":0,"maximum":100}`, `,"position"`,
			func(a action.Args) Command { return Command{Op: SetPosition, Level: a.Int("position", 100)} }),
		cmd(ToolSetTemperature, "Set a thermostat's target temperature.", `"temperature":{"type":"number","minimum":-50,"maximum":100}`, `,"temperature"`,
			func(a action.Args) Command {
				return Command{Op: SetTemperature, Temperature: a.Float("temperature", 20)}
			}),
		{Name: ToolChoose, Description: "Answer Hark's question \"Which one?\" about a device with the one meant: it completes the command or question that was asked about.",
			Schema: json.RawMessage(`{"type":"object","properties":{"choice":{"type":"string","minLength":1,"description":"the device meant, as the person said it (\"the kitchen one\")"},` +
				`"lang":{"type":"string","enum":["en","zh"],"description":"the language to answer in"}},"required":["choice"],"additionalProperties":false}`),
			Timeout: 3 * time.Second,
			RiskFor: func(a action.Args) action.Risk {
				if c, ents, ok := h.pendingCommand(a.String("choice")); ok && c.Op != 0 && ents[0].Confirm {
					return action.Confirm
				}
				return action.Safe
			},
			Question: func(a action.Args) string {
				c, ents, _ := h.pendingCommand(a.String("choice"))
				return Question(c, ents, h.lang(a))
			},
			Handler: func(ctx context.Context, a action.Args) (action.Result, error) {
				return h.result(a, h.Choose(ctx, a.String("choice"))), nil
			}},
		{Name: ToolState, Description: "Read a device or sensor: is it on, open, locked; what temperature or other reading, and how old it is.",
			Schema: schema(`"quantity":{"type":"string","description":"what to read there, e.g. temperature or humidity"},`+
				`"expect":{"type":"string","description":"the state asked about (\"is it open?\": open)"}`, ""),
			Timeout: 3 * time.Second,
			Handler: func(ctx context.Context, a action.Args) (action.Result, error) {
				o := h.Read(ctx, a.String("name"), a.String("quantity"), a.String("expect"))
				return h.result(a, o), nil
			}},
	}
}

// risk: Confirm when a command reaches an entity marked confirm.
func (h *Hub) risk(a action.Args, c Command) action.Risk {
	r := h.Resolve(a.String("name"), Want{Op: c.Op, Kind: Kind(a.String("kind"))})
	if r.Found != FoundOne {
		return action.Safe // nothing runs: the handler asks which, or says it does not know it
	}
	for _, e := range r.Entities {
		if e.Confirm {
			return action.Confirm
		}
	}
	return action.Safe
}

func (h *Hub) question(a action.Args, c Command) string {
	r := h.Resolve(a.String("name"), Want{Op: c.Op, Kind: Kind(a.String("kind"))})
	return Question(c, r.Entities, h.lang(a))
}

func (h *Hub) lang(a action.Args) string {
	if l := a.String("lang"); l != "" {
		return l
	}
	return h.o.Language
}

func (h *Hub) result(a action.Args, o Outcome) action.Result {
	res := action.Result{Done: o.Status == Done, Say: o.Say(h.lang(a), h.o.Now()), Data: o}
	if o.Err != nil {
		res.Data = struct {
			Outcome
			Error string `json:"error"`
		}{o, fmt.Sprint(o.Err)}
	}
	return res
}
