package home

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// SystemName is what Hark calls a system when it speaks of it.
func SystemName(s Source, lang string) string {
	switch s {
	case SourceHomeAssistant:
		return "Home Assistant"
	case SourceMQTT:
		if zh(lang) {
			return "MQTT服务器"
		}
		return "the MQTT broker"
	}
	return string(s)
}

func zh(lang string) bool { return strings.HasPrefix(lang, "zh") }

// Say words an outcome for the person, in English or (lang "zh") Chinese; now dates readings
// ("3 minutes ago").
func (o Outcome) Say(lang string, now time.Time) string {
	z := zh(lang)
	switch o.Status {
	case NotFound:
		if z {
			return fmt.Sprintf("我不知道叫“%s”的设备。", o.Said)
		}
		return fmt.Sprintf("I don't know a device called %q. `hark home` lists the ones I can use.", o.Said)
	case Ambiguous:
		var names []string
		seen := map[string]int{}
		for _, e := range o.Entities {
			seen[Spoken(e, z)]++
		}
		for _, e := range o.Entities {
			n := Spoken(e, z)
			switch {
			case seen[n] > 1 && e.Area != "" && z:
				n = e.Area + "的" + n // two of one name: told apart by where they are
			case seen[n] > 1 && e.Area != "":
				n = the(n, z) + " in the " + e.Area
			default:
				n = the(n, z)
			}
			names = append(names, n)
		}
		if z {
			return "哪一个：" + strings.Join(names, "还是") + "？"
		}
		return "Which one: " + orList(names) + "?"
	case Unreachable:
		if z {
			return "我连不上" + SystemName(o.Source, lang) + "。"
		}
		return "I can't reach " + SystemName(o.Source, lang) + "."
	case Unsupported:
		if z {
			return names(o.Entities, z) + "不能这样做。"
		}
		return capital(names(o.Entities, z)) + " can't do that."
	case OutOfRange:
		return o.sayRange(z)
	case Failed:
		if o.Command.Op == 0 && z {
			return "没能从" + SystemName(o.Source, lang) + "读到" + names(o.Entities, z) + "。"
		}
		if o.Command.Op == 0 {
			return "I couldn't read " + names(o.Entities, z) + " from " + SystemName(o.Source, lang) + "."
		}
		if z {
			return SystemName(o.Source, lang) + "没有做到。"
		}
		return "That didn't work: " + SystemName(o.Source, lang) + " refused it."
	case Done:
		if o.Command.Op == 0 {
			return o.sayStates(z, now)
		}
		return o.sayDone(z)
	}
	return ""
}

// Question is the confirmation question for a command on the entities ("Unlock the front
// door?").
func Question(c Command, ents []Entity, lang string) string {
	z := zh(lang)
	o := Outcome{Command: c, Entities: ents}
	verb := o.verb(z)
	if z {
		return "要" + verb + names(ents, z) + "吗？"
	}
	return capital(verb) + " " + names(ents, z) + "?"
}

func (o Outcome) sayDone(z bool) string {
	n := names(o.Entities, z)
	c := o.Command
	switch c.Op {
	case SetBrightness:
		if z {
			return fmt.Sprintf("已把%s调到%d%%。", n, c.Level)
		}
		return fmt.Sprintf("Set %s to %d percent.", n, c.Level)
	case SetColor:
		if z {
			return fmt.Sprintf("已把%s设为%s。", n, c.Color)
		}
		return fmt.Sprintf("Set %s to %s.", n, c.Color)
	case SetPosition:
		if z {
			return fmt.Sprintf("已把%s开到%d%%。", n, c.Level)
		}
		return fmt.Sprintf("Set %s to %d percent open.", n, c.Level)
	case SetTemperature:
		if z {
			return fmt.Sprintf("已把%s设为%s度。", n, num(c.Temperature))
		}
		return fmt.Sprintf("Set %s to %s degrees.", n, num(c.Temperature))
	}
	if z {
		return "已" + o.verb(z) + n + "。"
	}
	return capital(o.past()) + " " + n + "."
}

// verb is the command as an imperative ("turn on", "unlock").
func (o Outcome) verb(z bool) string {
	kind := Kind("")
	if len(o.Entities) > 0 {
		kind = o.Entities[0].Kind
	}
	type words struct{ en, zh string }
	var w words
	switch {
	case kind == "lock" && o.Command.Op == TurnOn:
		w = words{"unlock", "解锁"}
	case kind == "lock" && o.Command.Op == TurnOff:
		w = words{"lock", "锁上"}
	case kind == "cover" && o.Command.Op == TurnOn:
		w = words{"open", "打开"}
	case kind == "cover" && o.Command.Op == TurnOff:
		w = words{"close", "关上"}
	case kind == "alarm_control_panel" && o.Command.Op == TurnOn:
		w = words{"arm", "启动"}
	case kind == "alarm_control_panel" && o.Command.Op == TurnOff:
		w = words{"disarm", "解除"}
	case o.Command.Op == TurnOn:
		w = words{"turn on", "打开"}
	case o.Command.Op == TurnOff:
		w = words{"turn off", "关闭"}
	case o.Command.Op == Toggle:
		w = words{"toggle", "切换"}
	case o.Command.Op == SetBrightness:
		w = words{fmt.Sprintf("set to %d percent", o.Command.Level), fmt.Sprintf("调到%d%%：", o.Command.Level)}
	case o.Command.Op == SetPosition:
		w = words{fmt.Sprintf("set to %d percent open", o.Command.Level), fmt.Sprintf("开到%d%%：", o.Command.Level)}
	case o.Command.Op == SetTemperature:
		w = words{"set to " + num(o.Command.Temperature) + " degrees", "设为" + num(o.Command.Temperature) + "度："}
	case o.Command.Op == SetColor:
		w = words{"set to " + o.Command.Color, "设为" + o.Command.Color + "："}
	default:
		w = words{"change", "改变"}
	}
	if z {
		return w.zh
	}
	return w.en
}

func (o Outcome) past() string {
	v := o.verb(false)
	switch {
	case strings.HasPrefix(v, "turn "):
		return "turned " + strings.TrimPrefix(v, "turn ")
	case strings.HasSuffix(v, "e"):
		return v + "d"
	}
	return v + "ed"
}

func (o Outcome) sayStates(z bool, now time.Time) string {
	var out []string
	for i, st := range o.States {
		if i >= len(o.Entities) {
			break
		}
		out = append(out, sayState(o.Entities[i], st, o.Expect, z, now))
	}
	if z {
		return strings.Join(out, "")
	}
	return strings.Join(out, " ")
}

// sayState words one reading: "The greenhouse temperature was 21.5 degrees, 3 minutes ago."
func sayState(e Entity, st State, expect string, z bool, now time.Time) string {
	name := the(Spoken(e, z), z)
	v := strings.ToLower(strings.TrimSpace(st.Value))
	switch v {
	case "", "unknown":
		// Nothing reported yet (a topic with no retained reading, a sensor Home Assistant
		// has no value for): a plain fact, not a failure.
		if z {
			return name + "还没有读数。"
		}
		return capital(name) + " has no reading yet."
	case "unavailable":
		if z {
			return name + "现在不在线。"
		}
		return capital(name) + " is unavailable right now."
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		val := spokenValue(st.Value, st.Unit, z)
		age := sayAge(st.Updated, now, z)
		switch {
		case st.Stale && z:
			return fmt.Sprintf("%s的读数已过时：%s，%s。", name, val, age)
		case st.Stale:
			return fmt.Sprintf("The last reading of %s is stale: %s, %s.", name, val, age)
		case z:
			return fmt.Sprintf("%s是%s，%s。", name, val, age)
		case age == "just now":
			return fmt.Sprintf("%s is %s.", capital(name), val)
		}
		return fmt.Sprintf("%s was %s, %s.", capital(name), val, age)
	}
	word := stateWord(e.Kind, v, z)
	if e.Kind == "climate" {
		if t, ok := st.Attributes["temperature"]; ok {
			if z {
				word += fmt.Sprintf("，设定%v度", t)
			} else {
				word += fmt.Sprintf(", set to %v degrees", t)
			}
		}
	}
	stale := ""
	if st.Stale {
		stale = map[bool]string{false: " (that reading is stale, " + sayAge(st.Updated, now, false) + ")", true: "（读数已过时）"}[z]
	}
	if expect != "" {
		yes := isState(e.Kind, v, strings.ToLower(expect), z)
		switch {
		case z && yes:
			return "是的，" + name + word + stale + "。"
		case z:
			return "不，" + name + word + stale + "。"
		case yes:
			return "Yes, " + name + " is " + word + stale + "."
		}
		return "No, " + name + " is " + word + stale + "."
	}
	if z {
		return name + word + stale + "。"
	}
	return capital(name) + " is " + word + stale + "."
}

// lockAsked are the states of a lock that answer yes to a question about it as a door: open
// (and on, "开着吗") is unlocked, closed (and off) is locked, as "open the front door" unlocks
// it (Home Assistant's locks: locked, unlocked, locking, unlocking, jammed, open, opening).
var lockAsked = map[string][]string{
	"open": {"unlocked", "open", "opening"}, "on": {"unlocked", "open", "opening"}, "unlocked": {"unlocked", "open", "opening"},
	"closed": {"locked"}, "off": {"locked"}, "locked": {"locked"},
}

// isState reports whether the state v (lower case) is the state expect a question asked about
// ("is the front door open?").
func isState(kind Kind, v, expect string, z bool) bool {
	if states, ok := lockAsked[expect]; ok && kind == "lock" {
		return slices.Contains(states, v)
	}
	return expect == v || stateWord(kind, v, z) == stateWord(kind, expect, z)
}

// stateWord words a state ("on", "open", "locked"; in Chinese 开着, 关着, 锁着).
func stateWord(kind Kind, v string, z bool) string {
	if !z {
		switch v {
		case "armed_away", "armed_home", "armed_night":
			return "armed"
		case "heat":
			return "heating"
		case "cool":
			return "cooling"
		}
		return strings.ReplaceAll(v, "_", " ")
	}
	switch v {
	case "on", "open", "opening", "heat", "cool", "home":
		return "开着"
	case "off", "closed", "closing":
		return "关着"
	case "locked":
		return "锁着"
	case "unlocked":
		return "没锁"
	case "disarmed":
		return "没有布防"
	case "armed_away", "armed_home", "armed_night":
		return "已布防"
	}
	return "是" + v
}

// spokenValue puts a reading's unit in words: 21.5 °C is "21.5 degrees".
func spokenValue(v, unit string, z bool) string {
	if z {
		switch unit {
		case "°C", "°F":
			return v + "度"
		case "%":
			return "百分之" + v
		case "":
			return v
		}
		return v + unit
	}
	switch unit {
	case "°C":
		return v + " degrees"
	case "°F":
		return v + " degrees Fahrenheit"
	case "%":
		return v + " percent"
	case "":
		return v
	case "W":
		return v + " watts"
	case "kWh":
		return v + " kilowatt hours"
	case "hPa":
		return v + " hectopascals"
	case "lx":
		return v + " lux"
	}
	return v + " " + unit
}

// sayAge words how long ago a reading was made.
func sayAge(t, now time.Time, z bool) string {
	if t.IsZero() {
		return map[bool]string{false: "at an unknown time", true: "时间不明"}[z]
	}
	d := now.Sub(t)
	unit := func(n int, en, zhw string) string {
		if z {
			return fmt.Sprintf("%d%s前", n, zhw)
		}
		if n == 1 {
			return fmt.Sprintf("1 %s ago", en)
		}
		return fmt.Sprintf("%d %ss ago", n, en)
	}
	switch {
	case d < time.Minute:
		return map[bool]string{false: "just now", true: "刚刚"}[z]
	case d < time.Hour:
		return unit(int(d/time.Minute), "minute", "分钟")
	case d < 48*time.Hour:
		return unit(int(d/time.Hour), "hour", "小时")
	}
	return unit(int(d/(24*time.Hour)), "day", "天")
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// the puts "the" before an English name, but not before a numbered one ("pump 3").
func the(name string, z bool) string {
	if z || name == "" {
		return name
	}
	if strings.HasPrefix(strings.ToLower(name), "the ") || unicode.IsDigit(rune(name[len(name)-1])) {
		return name
	}
	return "the " + name
}

func names(ents []Entity, z bool) string {
	var ns []string
	for _, e := range ents {
		ns = append(ns, the(Spoken(e, z), z))
	}
	if z {
		return strings.Join(ns, "和")
	}
	if len(ns) > 4 {
		return fmt.Sprintf("%d devices", len(ns))
	}
	if len(ns) <= 1 {
		return strings.Join(ns, "")
	}
	return strings.Join(ns[:len(ns)-1], ", ") + " and " + ns[len(ns)-1]
}

func orList(ns []string) string {
	if len(ns) <= 1 {
		return strings.Join(ns, "")
	}
	return strings.Join(ns[:len(ns)-1], ", ") + " or " + ns[len(ns)-1]
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sayRange words a refused value: "The greenhouse heater can be set from 5 to 30 degrees."
func (o Outcome) sayRange(z bool) string {
	r := o.Range
	n := names(o.Entities, z)
	lo, hi := num(r.Min), num(r.Max)
	if r.Unit == "%" {
		if z {
			return fmt.Sprintf("%s只能设在百分之%s到百分之%s之间。", n, lo, hi)
		}
		return fmt.Sprintf("%s can only be set from %s to %s percent.", capital(n), lo, hi)
	}
	if z {
		return fmt.Sprintf("%s只能设在%s到%s度之间。", n, lo, hi)
	}
	return fmt.Sprintf("%s can only be set from %s to %s degrees.", capital(n), lo, hi)
}

// Spoken is the name an entity is called by in a reply: in Chinese its first name or alias
// written in Chinese (a configured alias, else Home Assistant's friendly name), in English its
// first one written in letters; its name when it has none such.
func Spoken(e Entity, z bool) string {
	for _, n := range append([]string{e.Name}, e.Aliases...) {
		if hasHan(n) == z && (z || hasLatin(n)) {
			return n
		}
	}
	return e.Name
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func hasLatin(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Latin, r) {
			return true
		}
	}
	return false
}
