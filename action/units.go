package action

import (
	"fmt"
	"sort"
	"strings"
)

// unit is a unit of measurement: value × factor + offset is the value in the dimension's base
// unit (metre, kilogram, litre, kelvin, metre per second, second, square metre).
type unit struct {
	dim            string
	factor, offset float64
	singular       string
	plural         string
}

// units are keyed by the name the templates' unit list gives as its out value.
var units = map[string]unit{
	"millimetre": {"length", 0.001, 0, "millimetre", "millimetres"},
	"centimetre": {"length", 0.01, 0, "centimetre", "centimetres"},
	"metre":      {"length", 1, 0, "metre", "metres"},
	"kilometre":  {"length", 1000, 0, "kilometre", "kilometres"},
	"inch":       {"length", 0.0254, 0, "inch", "inches"},
	"foot":       {"length", 0.3048, 0, "foot", "feet"},
	"yard":       {"length", 0.9144, 0, "yard", "yards"},
	"mile":       {"length", 1609.344, 0, "mile", "miles"},
	"gram":       {"mass", 0.001, 0, "gram", "grams"},
	"kilogram":   {"mass", 1, 0, "kilogram", "kilograms"},
	"tonne":      {"mass", 1000, 0, "tonne", "tonnes"},
	"ounce":      {"mass", 0.028349523125, 0, "ounce", "ounces"},
	"pound":      {"mass", 0.45359237, 0, "pound", "pounds"},
	"stone":      {"mass", 6.35029318, 0, "stone", "stone"},
	"millilitre": {"volume", 0.001, 0, "millilitre", "millilitres"},
	"litre":      {"volume", 1, 0, "litre", "litres"},
	"teaspoon":   {"volume", 0.00492892159375, 0, "teaspoon", "teaspoons"},
	"tablespoon": {"volume", 0.01478676478125, 0, "tablespoon", "tablespoons"},
	"cup":        {"volume", 0.2365882365, 0, "cup", "cups"},
	"pint":       {"volume", 0.473176473, 0, "US pint", "US pints"},
	"gallon":     {"volume", 3.785411784, 0, "US gallon", "US gallons"},
	"celsius":    {"temperature", 1, 273.15, "degree Celsius", "degrees Celsius"},
	"fahrenheit": {"temperature", 5.0 / 9, 273.15 - 32*5.0/9, "degree Fahrenheit", "degrees Fahrenheit"},
	"kelvin":     {"temperature", 1, 0, "kelvin", "kelvin"},
	"kmh":        {"speed", 1 / 3.6, 0, "kilometre per hour", "kilometres per hour"},
	"mph":        {"speed", 0.44704, 0, "mile per hour", "miles per hour"},
	"ms":         {"speed", 1, 0, "metre per second", "metres per second"},
	"knot":       {"speed", 1852.0 / 3600, 0, "knot", "knots"},
	"second":     {"time", 1, 0, "second", "seconds"},
	"minute":     {"time", 60, 0, "minute", "minutes"},
	"hour":       {"time", 3600, 0, "hour", "hours"},
	"day":        {"time", 86400, 0, "day", "days"},
	"week":       {"time", 604800, 0, "week", "weeks"},
}

// UnitNames lists the units Convert knows (for the tool's schema).
func UnitNames() []string {
	out := make([]string, 0, len(units))
	for n := range units {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Convert converts value from one unit to another of the same dimension.
func Convert(value float64, from, to string) (float64, error) {
	f, ok := units[from]
	if !ok {
		return 0, fmt.Errorf("I do not know the unit %q", from)
	}
	t, ok := units[to]
	if !ok {
		return 0, fmt.Errorf("I do not know the unit %q", to)
	}
	if f.dim != t.dim {
		return 0, fmt.Errorf("%s and %s measure different things", f.plural, t.plural)
	}
	base := value*f.factor + f.offset
	return (base - t.offset) / t.factor, nil
}

func unitName(u string, v float64) string {
	x := units[u]
	if v == 1 {
		return x.singular
	}
	return x.plural
}

// zhUnits are the units' Chinese names.
var zhUnits = map[string]string{
	"millimetre": "毫米", "centimetre": "厘米", "metre": "米", "kilometre": "公里", "inch": "英寸", "foot": "英尺",
	"yard": "码", "mile": "英里", "gram": "克", "kilogram": "公斤", "tonne": "吨", "ounce": "盎司", "pound": "磅",
	"stone": "英石", "millilitre": "毫升", "litre": "升", "teaspoon": "茶匙", "tablespoon": "汤匙", "cup": "杯",
	"pint": "美制品脱", "gallon": "美制加仑", "celsius": "摄氏度", "fahrenheit": "华氏度", "kelvin": "开尔文",
	"kmh": "公里每小时", "mph": "英里每小时", "ms": "米每秒", "knot": "节", "second": "秒", "minute": "分钟",
	"hour": "小时", "day": "天", "week": "周",
}

func sayQuantity(v float64, u string) string {
	return strings.TrimSpace(SayNumber(roundSig(v)) + " " + unitName(u, v))
}

// sayQuantity says a quantity in l: "5 miles", "5英里".
func (l lang) sayQuantity(v float64, u string) string {
	if l == langZH {
		if n, ok := zhUnits[u]; ok {
			return SayNumber(roundSig(v)) + n
		}
	}
	return sayQuantity(v, u)
}

// roundSig keeps 4 significant digits: conversions are spoken, not tabulated.
func roundSig(v float64) float64 {
	if v == 0 {
		return 0
	}
	s := fmt.Sprintf("%.4g", v)
	var out float64
	fmt.Sscanf(s, "%g", &out)
	return out
}
