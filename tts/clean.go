package tts

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean turns an English LLM reply into text that reads well aloud: CleanFor(text, "en").
func Clean(text string) string { return CleanFor(text, "en") }

// CleanFor turns an LLM reply (Markdown, emoji, links) into plain text for a synthesizer.
//
// For every language it drops code blocks, Markdown symbols, HTML tags, emoji and URLs (a bare
// URL becomes its host name, "go.dev"; a Markdown link its text), and ends headings, list items
// and table rows with a full stop so they are spoken as phrases. For English (lang "en" or
// "en-…", or empty) it also spells out what espeak-ng reads badly: units after numbers
// ("5 km/h" → "5 kilometers per hour"), currency ("$5.99" → "5 dollars and 99 cents"), clock
// times ("07:05" → "7 oh 5"), dates ("2024-01-15" → "January 15th, 2024"), ranges, simple
// fractions, maths symbols and a few abbreviations espeak-ng mispronounces ("vs." → "versus").
// Numbers themselves, ordinals, "e.g." and the like are left to the synthesizer, which reads
// them in the voice's language. For Chinese ("zh", "yue") numbers, percentages, years, currency
// and units are written out in Chinese words (cleanChinese).
func CleanFor(text, lang string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = decodeEntities(text)
	text = dropCodeBlocks(text)
	text = cleanLinks(text)
	lines := strings.Split(text, "\n")
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if l = cleanLine(l); l != "" {
			out = append(out, l)
		}
	}
	text = strings.Join(out, " ")
	text = cleanInline(text)
	switch {
	case isEnglish(lang):
		text = cleanEnglish(text, strings.EqualFold(lang, "en-us"))
	case isChinese(lang):
		text = cleanChinese(text)
	default:
		text = cleanNeutral(text)
	}
	return tidy(text)
}

func isEnglish(lang string) bool {
	lang = strings.ToLower(lang)
	return lang == "" || lang == "en" || strings.HasPrefix(lang, "en-") || strings.HasPrefix(lang, "en_")
}

var entityReplacer = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`,
	"&#39;", "'", "&apos;", "'", "&nbsp;", " ")

func decodeEntities(s string) string { return entityReplacer.Replace(s) }

// dropCodeBlocks removes fenced (``` or ~~~) code blocks; an unclosed fence runs to the end.
// What the code does is in the prose around it; reading code aloud helps no one.
func dropCodeBlocks(s string) string {
	if !strings.Contains(s, "```") && !strings.Contains(s, "~~~") {
		return s
	}
	var b strings.Builder
	in := false
	for _, line := range strings.SplitAfter(s, "\n") {
		if isFenceLine(line) {
			in = !in
			b.WriteString("\n")
			continue
		}
		if !in {
			b.WriteString(line)
		}
	}
	return b.String()
}

// isFenceLine reports whether line opens or closes a fenced code block (up to three spaces of
// indentation, then ``` or ~~~).
func isFenceLine(line string) bool {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return false
	}
	return strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")
}

var (
	reImage    = lazyRE(`!\[([^\]]*)\]\([^)]*\)`)
	reLink     = lazyRE(`\[([^\]]+)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+"[^"]*")?\)`)
	reRefLink  = lazyRE(`\[([^\]]+)\]\[[^\]]*\]`)
	reAutolink = lazyRE(`<((?:https?|ftp)://[^>\s]+)>`)
	reURL      = lazyRE(`\b(?:(?:https?|ftp)://|www\.)[^\s<>"'()\[\]]+`)
)

// cleanLinks keeps a link's text and replaces bare URLs by their host name.
func cleanLinks(s string) string {
	s = reImage.ReplaceAllString(s, "$1")
	s = reLink.ReplaceAllString(s, "$1")
	s = reRefLink.ReplaceAllString(s, "$1")
	s = reAutolink.ReplaceAllString(s, "$1")
	return reURL.ReplaceAllStringFunc(s, func(u string) string {
		trail := ""
		for strings.ContainsAny(u[len(u)-1:], ".,;:!?") {
			trail = u[len(u)-1:] + trail
			u = u[:len(u)-1]
		}
		if i := strings.Index(u, "://"); i >= 0 {
			u = u[i+3:]
		}
		if i := strings.IndexAny(u, "/?#"); i >= 0 {
			u = u[:i]
		}
		if i := strings.LastIndexByte(u, '@'); i >= 0 {
			u = u[i+1:]
		}
		if i := strings.LastIndexByte(u, ':'); i >= 0 {
			u = u[:i] // port
		}
		return strings.TrimPrefix(u, "www.") + trail
	})
}

var (
	reHeading   = lazyRE(`^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$`)
	reRule      = lazyRE(`^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,}|(?:=\s*){3,})$`)
	reBullet    = lazyRE(`^\s*(?:[-*+•‣◦▪]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?`)
	reQuote     = lazyRE(`^\s*(?:>\s?)+`)
	reTableSep  = lazyRE(`^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$`)
	reHTMLTag   = lazyRE(`</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>`)
	reEndsPunct = lazyRE(`[.!?:;,…]["'”’)\]]*$`)
)

// cleanLine handles one line's block-level Markdown: headings, rules, list markers, quotes,
// table rows. Phrases that stand on their own line get a full stop.
func cleanLine(l string) string {
	l = strings.TrimRight(l, " \t")
	if strings.TrimSpace(l) == "" || reRule.MatchString(l) || reTableSep.MatchString(l) {
		return ""
	}
	phrase := false
	if m := reHeading.FindStringSubmatch(l); m != nil {
		l, phrase = m[1], true
	}
	l = reQuote.ReplaceAllString(l, "")
	if m := reBullet.FindString(l); m != "" {
		l, phrase = l[len(m):], true
	}
	if t := strings.TrimSpace(l); strings.HasPrefix(t, "|") || strings.Count(t, "|") >= 2 {
		cells := strings.Split(strings.Trim(t, "|"), "|")
		kept := cells[:0]
		for _, c := range cells {
			if c = strings.TrimSpace(c); c != "" {
				kept = append(kept, c)
			}
		}
		l, phrase = strings.Join(kept, ", "), true
	}
	l = strings.TrimSpace(reHTMLTag.ReplaceAllString(l, " "))
	if phrase && l != "" && !reEndsPunct.MatchString(stripEmphasis(l)) {
		l += "."
	}
	return l
}

var (
	reInlineCode = lazyRE("`+([^`]*)`+")
	reStrike     = lazyRE(`~~([^~]*)~~`)
	reTimesStar  = lazyRE(`(\d)\s*\*\s*(\d)`) // 3 * 4: the synthesizer reads ×
	reSnake      = lazyRE(`([\p{L}\p{N}])_+([\p{L}\p{N}])`)
)

// stripEmphasis removes Markdown emphasis markers.
func stripEmphasis(s string) string {
	s = strings.NewReplacer("**", "", "__", "").Replace(s)
	s = reSnake.ReplaceAllString(s, "$1 $2")
	return strings.NewReplacer("*", "", "_", " ").Replace(s)
}

func cleanInline(s string) string {
	s = reInlineCode.ReplaceAllString(s, "$1")
	s = reStrike.ReplaceAllString(s, "$1")
	s = reTimesStar.ReplaceAllString(s, "$1 × $2")
	s = reSnake.ReplaceAllString(s, "$1 $2") // twice: a_b_c overlaps
	s = stripEmphasis(s)
	return removeEmoji(s)
}

// removeEmoji drops emoji, pictographs and their joiners and modifiers, keeping letters,
// digits, punctuation and the symbols the English rules read (°, ², →, ±, ...).
func removeEmoji(s string) string {
	if isPlainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if isEmoji(r) {
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isEmoji(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF: // mahjong … symbols & pictographs ext-A, flags, skin tones
		return true
	case r >= 0x2600 && r <= 0x27BF: // misc symbols, dingbats
		return true
	case r >= 0x2B00 && r <= 0x2BFF: // arrows and stars used as emoji (⭐ ⬆)
		return true
	case r >= 0x2300 && r <= 0x23FF: // ⌚ ⏰ ⏳
		return true
	case r >= 0xE0020 && r <= 0xE007F: // tag characters (subdivision flags)
		return true
	case r >= 0xFE00 && r <= 0xFE0F: // variation selectors
		return true
	case r == 0x200D || r == 0x20E3 || r == 0x3030 || r == 0x303D || r == 0x3297 || r == 0x3299:
		return true // zero-width joiner, keycap, wavy dash, ...
	case r == '©' || r == '®' || r == '™':
		return true
	}
	return false
}

// cleanNeutral removes the symbols no language should read aloud and leaves numbers to the
// synthesizer.
func cleanNeutral(s string) string {
	s = strings.NewReplacer("→", ", ", "←", ", ", "⇒", ", ", "->", ", ", "=>", ", ", "—", ", ",
		"•", ", ", "|", ", ").Replace(s)
	return stripSymbols(s)
}

// stripSymbols removes Markdown and programming symbols that survive the rules above.
func stripSymbols(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '*', '_', '`', '#', '|', '~', '^', '\\', '{', '}', '[', ']', '<', '>':
			return ' '
		}
		return r
	}, s)
}

var (
	reSpaces       = lazyRE(`[ \t\p{Zs}]+`)
	reSpacePunct   = lazyRE(`\s+([.,;:!?…])`)
	reRepeatPunct  = lazyRE(`([,;:])(?:\s*[,;:.])+`)
	reStopComma    = lazyRE(`([.!?])(?:\s*[,;:])+`)
	reDoubleStop   = lazyRE(`([!?])\s*\.`)
	reEmptyParen   = lazyRE(`\(\s*[,.;:]?\s*\)`)
	reLeadingPunct = lazyRE(`^[\s,.;:!?]+`)
	reEllipsis     = lazyRE(`(?:\.{2,}|…)+`)
)

// tidy collapses the spaces and stray punctuation the removals leave behind.
func tidy(s string) string {
	s = reEmptyParen.ReplaceAllString(s, "")
	s = reSpaces.ReplaceAllString(s, " ")
	s = reSpacePunct.ReplaceAllString(s, "$1")
	s = reRepeatPunct.ReplaceAllString(s, "$1")
	s = reStopComma.ReplaceAllString(s, "$1")
	s = reDoubleStop.ReplaceAllString(s, "$1")
	s = reEllipsis.ReplaceAllString(s, "...")
	s = reLeadingPunct.ReplaceAllString(s, "")
	s = strings.TrimSpace(s)
	if !hasSpeakable(s) {
		return ""
	}
	return s
}

func hasSpeakable(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// ---- English ----

type rule struct {
	re   *lazyRegexp
	repl func(m []string) string
}

func literal(pattern, repl string) rule {
	re := lazyRE(pattern)
	return rule{re, func(m []string) string { return re.ReplaceAllString(m[0], repl) }}
}

func (r rule) apply(s string) string {
	return r.re.ReplaceAllStringFunc(s, func(m string) string {
		return r.repl(r.re.FindStringSubmatch(m))
	})
}

// A number as written in the text: digits with thousands separators and a decimal part.
const num = `\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?`

var months = []string{"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December"}

func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

func spokenDate(year string, month, day int) string {
	return months[month-1] + " " + ordinal(day) + ", " + year
}

// units maps a unit symbol written after a number to its singular and plural names.
var units = map[string][2]string{
	"km/h": {"kilometer per hour", "kilometers per hour"}, "kph": {"kilometer per hour", "kilometers per hour"},
	"mph": {"mile per hour", "miles per hour"}, "m/s": {"meter per second", "meters per second"},
	"km": {"kilometer", "kilometers"}, "m": {"meter", "meters"}, "cm": {"centimeter", "centimeters"},
	"mm": {"millimeter", "millimeters"}, "mi": {"mile", "miles"}, "ft": {"foot", "feet"},
	"yd": {"yard", "yards"}, "kg": {"kilogram", "kilograms"}, "g": {"gram", "grams"},
	"mg": {"milligram", "milligrams"}, "lb": {"pound", "pounds"}, "lbs": {"pound", "pounds"},
	"oz": {"ounce", "ounces"}, "l": {"liter", "liters"}, "L": {"liter", "liters"},
	"ml": {"milliliter", "milliliters"}, "mL": {"milliliter", "milliliters"},
	"h": {"hour", "hours"}, "hr": {"hour", "hours"}, "hrs": {"hours", "hours"},
	"min": {"minute", "minutes"}, "mins": {"minutes", "minutes"},
	"s": {"second", "seconds"}, "sec": {"second", "seconds"}, "secs": {"seconds", "seconds"},
	"ms": {"millisecond", "milliseconds"},
	"KB": {"kilobyte", "kilobytes"}, "kB": {"kilobyte", "kilobytes"}, "MB": {"megabyte", "megabytes"},
	"GB": {"gigabyte", "gigabytes"}, "TB": {"terabyte", "terabytes"},
	"MB/s": {"megabyte per second", "megabytes per second"}, "GB/s": {"gigabyte per second", "gigabytes per second"},
	"Mbps": {"megabit per second", "megabits per second"}, "Gbps": {"gigabit per second", "gigabits per second"},
	"Hz": {"hertz", "hertz"}, "kHz": {"kilohertz", "kilohertz"}, "MHz": {"megahertz", "megahertz"},
	"GHz": {"gigahertz", "gigahertz"}, "W": {"watt", "watts"}, "kW": {"kilowatt", "kilowatts"},
	"kWh": {"kilowatt hour", "kilowatt hours"}, "V": {"volt", "volts"}, "mAh": {"milliamp hour", "milliamp hours"},
}

var unitAlternation = func() string {
	keys := make([]string, 0, len(units))
	for k := range units {
		keys = append(keys, regexp.QuoteMeta(k))
	}
	// Longest first, so "km/h" wins over "km" and "mAh" over "m".
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if len(keys[j]) > len(keys[i]) || (len(keys[j]) == len(keys[i]) && keys[j] < keys[i]) {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return strings.Join(keys, "|")
}()

var currencies = map[string][4]string{ // symbol: unit, units, sub-unit, sub-units
	"$": {"dollar", "dollars", "cent", "cents"},
	"€": {"euro", "euros", "cent", "cents"},
	"£": {"pound", "pounds", "penny", "pence"},
	"¥": {"yen", "yen", "", ""},
	"₹": {"rupee", "rupees", "paisa", "paise"},
}

var scales = map[string]string{"k": "thousand", "K": "thousand", "m": "million", "M": "million",
	"mn": "million", "bn": "billion", "B": "billion", "b": "billion", "tn": "trillion", "T": "trillion",
	"thousand": "thousand", "million": "million", "billion": "billion", "trillion": "trillion"}

var fractionNames = map[int][2]string{2: {"half", "halves"}, 3: {"third", "thirds"},
	4: {"quarter", "quarters"}, 5: {"fifth", "fifths"}, 6: {"sixth", "sixths"},
	7: {"seventh", "sevenths"}, 8: {"eighth", "eighths"}, 9: {"ninth", "ninths"}, 10: {"tenth", "tenths"}}

var numberWords = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}

func spokenFraction(n, d int) string {
	names, ok := fractionNames[d]
	if !ok || n <= 0 || n > 10 {
		return ""
	}
	if n == 1 {
		return "one " + names[0]
	}
	return numberWords[n] + " " + names[1]
}

var englishRules = []rule{
	// Dates first: they contain dashes and slashes the range and fraction rules would take.
	{lazyRE(`\b(\d{4})-(\d{2})-(\d{2})\b`), func(m []string) string {
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		if mo < 1 || mo > 12 || d < 1 || d > 31 {
			return m[0]
		}
		return spokenDate(m[1], mo, d)
	}},
	{lazyRE(`\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+(\d{1,2})\b`), func(m []string) string {
		for _, full := range months {
			if strings.HasPrefix(full, m[1][:3]) {
				d, _ := strconv.Atoi(m[2])
				if d >= 1 && d <= 31 {
					return full + " " + ordinal(d)
				}
				return full + " " + m[2]
			}
		}
		return m[0]
	}},
	{lazyRE(`\b(January|February|March|April|May|June|July|August|September|October|November|December)\s+(\d{1,2})\b(,?\s+\d{4})?`), func(m []string) string {
		d, _ := strconv.Atoi(m[2])
		if d < 1 || d > 31 || (m[1] == "May" && m[3] == "") {
			return m[0] // "May 5" alone might be "may five"; only with a year is it surely a date
		}
		return m[1] + " " + ordinal(d) + m[3]
	}},
	// Clock times: 7:05, 15:30, 3:00 pm.
	{lazyRE(`\b([01]?\d|2[0-4]):([0-5]\d)\b(?::[0-5]\d)?(\s*[AaPp]\.?[Mm]\b\.?)?`), func(m []string) string {
		if strings.Count(m[0], ":") > 1 {
			return m[0] // a duration such as 1:02:03
		}
		h, _ := strconv.Atoi(m[1])
		mins := m[2]
		ampm := ""
		if m[3] != "" {
			ampm = " " + strings.ToLower(string(strings.TrimSpace(m[3])[0])) + " m"
		}
		hs := strconv.Itoa(h)
		switch {
		case mins == "00" && ampm != "":
			return hs + ampm
		case mins == "00" && h > 12:
			return hs + " hundred"
		case mins == "00":
			return hs + " o'clock"
		case mins[0] == '0':
			return hs + " oh " + mins[1:] + ampm
		}
		return hs + " " + mins + ampm
	}},
	{lazyRE(`\b(\d{1,2})\s?([AaPp])\.?[Mm]\b\.?`), func(m []string) string {
		return m[1] + " " + strings.ToLower(m[2]) + " m"
	}},
	literal(`\b24/7\b`, "twenty-four seven"),
	// Currency: $5, $5.99, €1.5m, £20 million.
	{lazyRE(`([$€£¥₹])\s?(` + num + `)(?:\s?(thousand|million|billion|trillion|mn|bn|tn|[kKmMbBT])\b)?`), func(m []string) string {
		c := currencies[m[1]]
		amount := strings.ReplaceAll(m[2], ",", "")
		if m[3] != "" {
			return amount + " " + scales[m[3]] + " " + c[1]
		}
		whole, frac, hasFrac := strings.Cut(amount, ".")
		if hasFrac && len(frac) == 2 && c[2] != "" {
			cents, _ := strconv.Atoi(frac)
			w, _ := strconv.Atoi(whole)
			switch {
			case cents == 0:
				return plural(whole, c[0], c[1])
			case w == 0:
				return plural(strconv.Itoa(cents), c[2], c[3])
			}
			return plural(whole, c[0], c[1]) + " and " + plural(strconv.Itoa(cents), c[2], c[3])
		}
		return plural(amount, c[0], c[1])
	}},
	// Temperatures and angles.
	{lazyRE(`(` + num + `)\s?°\s?([CF])\b`), func(m []string) string {
		scale := "Celsius"
		if m[2] == "F" {
			scale = "Fahrenheit"
		}
		return plural(m[1], "degree", "degrees") + " " + scale
	}},
	{lazyRE(`(` + num + `)\s?°`), func(m []string) string { return plural(m[1], "degree", "degrees") }},
	// Ranges: 5-10, 5–10 (not phone numbers: 555-1234).
	{lazyRE(`(^|[^\d\-–.,/:])(\d{1,4})\s?([-–])\s?(\d{1,4})\b([^\-–\d]|$)`), func(m []string) string {
		a, _ := strconv.Atoi(m[2])
		b, _ := strconv.Atoi(m[4])
		phone := len(m[2]) == 3 && len(m[4]) == 4
		if a >= b || (m[3] == "-" && phone) || (m[2][0] == '0' && len(m[2]) > 1) {
			return m[0]
		}
		return m[1] + m[2] + " to " + m[4] + m[5]
	}},
	// Mixed numbers and simple fractions: 1 1/2, 3/4, ½.
	{lazyRE(`\b(\d+)\s+(\d{1,2})/(\d{1,2})\b`), func(m []string) string {
		n, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		if f := spokenFraction(n, d); f != "" && n < d {
			return m[1] + " and " + f
		}
		return m[0]
	}},
	{lazyRE(`(^|[^\d/.,])(\d{1,2})/(\d{1,2})\b([^/\d]|$)`), func(m []string) string {
		n, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		if f := spokenFraction(n, d); f != "" && n < d {
			return m[1] + f + m[4]
		}
		return m[0]
	}},
	{lazyRE(`[½⅓⅔¼¾⅛]`), func(m []string) string {
		return map[string]string{"½": " one half", "⅓": " one third", "⅔": " two thirds",
			"¼": " one quarter", "¾": " three quarters", "⅛": " one eighth"}[m[0]]
	}},
	// Units after a number. One-letter units need a space: "1990s", "5G" and "$5m" are not units.
	{lazyRE(`(` + num + `)(\s?)(` + unitAlternation + `)(?:\b|$)`), func(m []string) string {
		if len(m[3]) == 1 && m[2] == "" {
			return m[0]
		}
		u := units[m[3]]
		return plural(m[1], u[0], u[1])
	}},
	// Powers and maths (arrows before comparisons: "=>" is not "equals").
	literal(`\s?(?:→|⇒|->|=>)\s?`, " to "),
	literal(`²`, " squared"),
	literal(`³`, " cubed"),
	literal(`(\d)\s?\^\s?(\d+)`, "$1 to the power of $2"),
	literal(`(\d)\s+[-−]\s+(\d)`, "$1 minus $2"),
	literal(`(\S)\s+[-–]\s+(\S)`, "$1, $2"),
	literal(`\s?(?:!=|≠)\s?`, " is not equal to "),
	literal(`\s?(?:<=|≤)\s?`, " is at most "),
	literal(`\s?(?:>=|≥)\s?`, " is at least "),
	literal(`(\d)\s?<\s?(\d)`, "$1 is less than $2"),
	literal(`(\d)\s?>\s?(\d)`, "$1 is greater than $2"),
	literal(`\s?={1,3}\s?`, " equals "),
	literal(`\s?±\s?`, " plus or minus "),
	literal(`\s?÷\s?`, " divided by "),
	literal(`\s?≈\s?`, " approximately "),
	literal(`(^|\s)~\s?(\d)`, "${1}about $2"),
	literal(`[₀-₉]`, ""),
	// Programming languages and symbols.
	literal(`\b([CF])#`, "$1 sharp"),
	literal(`\+\+`, " plus plus"),
	literal(`\s?\+\s?`, " plus "),
	literal(`\s?&\s?`, " and "),
	literal(`#(\d)`, "number $1"),
	literal(`\bNo\.\s?(\d)`, "number $1"),
	// Abbreviations espeak-ng reads wrongly (it gets e.g., i.e., etc., Dr., Mr., Mrs. right).
	literal(`\bvs\.?(\s)`, "versus$1"),
	literal(`\bMs\.(\s)`, "Miz$1"),
	literal(`\bProf\.(\s)`, "Professor$1"),
	literal(`\bJr\.`, "Junior"),
	literal(`\bSr\.`, "Senior"),
	literal(`\bInc\.`, "Incorporated"),
	literal(`\bCorp\.`, "Corporation"),
	literal(`\bapprox\.`, "approximately"),
	literal(`\besp\.`, "especially"),
	literal(`\bincl\.`, "including"),
	literal(`\bFig\.(\s)`, "figure$1"),
	literal(`\b(?:a\.k\.a\.?|aka\b\.?)`, "also known as"),
	literal(`\bw/o\b`, "without"),
	literal(`\bw/(\s)`, "with$1"),
	literal(`\band/or\b`, "and or"),
	// Remaining slashes between words: "yes/no" is "yes or no", "TCP/IP" is "TCP IP".
	{lazyRE(`\b([\p{L}]+)/([\p{L}]+)\b`), func(m []string) string {
		if isUpper(m[1]) && isUpper(m[2]) {
			return m[1] + " " + m[2]
		}
		return m[1] + " or " + m[2]
	}},
	literal(`\s*[—|•]\s*`, ", "),
	literal(`(\p{L})\s*–\s*(\p{L})`, "$1, $2"),
}

func cleanEnglish(s string, us bool) string {
	s = usDateRule(us).apply(s)
	for _, r := range englishRules {
		s = r.apply(s)
	}
	return stripSymbols(s)
}

// usDateRule reads 12/25/2023 month first for American English and day first otherwise,
// unless the numbers only fit the other way.
func usDateRule(us bool) rule {
	return rule{reSlashDate, func(m []string) string {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		year := m[3]
		if len(year) == 2 {
			year = "20" + year
		}
		mo, d := b, a
		if us {
			mo, d = a, b
		}
		if mo > 12 {
			mo, d = d, mo
		}
		if mo < 1 || mo > 12 || d < 1 || d > 31 {
			return m[0]
		}
		return spokenDate(year, mo, d)
	}}
}

var reSlashDate = lazyRE(`\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b`)

func plural(n, one, many string) string {
	if n == "1" {
		return n + " " + one
	}
	return n + " " + many
}

func isUpper(s string) bool {
	for _, r := range s {
		if !unicode.IsUpper(r) {
			return false
		}
	}
	return true
}
