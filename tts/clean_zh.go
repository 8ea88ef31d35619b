package tts

import (
	"regexp"
	"strconv"
	"strings"
)

// ---- Chinese ----
//
// espeak-ng's Mandarin voice reads Chinese characters well but Arabic numerals, symbols and
// units poorly, so numbers are written out the way they are said: integers as Chinese numbers
// (1234 → 一千二百三十四), decimals with 点 and their digits one by one (3.14 → 三点一四),
// percentages with 百分之 (25% → 百分之二十五), years digit by digit (2024年 → 二零二四年),
// and units after a number in words (5 km → 五公里).

var zhDigits = []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}

// zhInteger writes n (0 ≤ n < 10^16) as a Chinese number: 10 → 十, 105 → 一百零五,
// 20000 → 二万, 100000000 → 一亿.
func zhInteger(n uint64) string {
	if n == 0 {
		return "零"
	}
	// Groups of four digits: 个, 万, 亿, 万亿.
	bigUnits := []string{"", "万", "亿", "万亿"}
	var groups []uint64
	for m := n; m > 0; m /= 10000 {
		groups = append(groups, m%10000)
	}
	var b strings.Builder
	zeroPending := false
	for i := len(groups) - 1; i >= 0; i-- {
		g := groups[i]
		if g == 0 {
			zeroPending = b.Len() > 0
			continue
		}
		if zeroPending || (b.Len() > 0 && g < 1000) {
			b.WriteString("零")
		}
		zeroPending = false
		b.WriteString(zhGroup(g))
		b.WriteString(bigUnits[i])
	}
	s := b.String()
	// 一十… is said 十… at the start of a number (12 → 十二, 100012 → 十万零一十二 is rare).
	if strings.HasPrefix(s, "一十") {
		s = strings.TrimPrefix(s, "一")
	}
	return s
}

// zhGroup writes 1 ≤ g ≤ 9999 with 千, 百 and 十, a 零 for each run of zeros inside.
func zhGroup(g uint64) string {
	units := []string{"千", "百", "十", ""}
	digits := []uint64{g / 1000, g / 100 % 10, g / 10 % 10, g % 10}
	var b strings.Builder
	zero := false
	for i, d := range digits {
		if d == 0 {
			zero = b.Len() > 0
			continue
		}
		if zero {
			b.WriteString("零")
			zero = false
		}
		b.WriteString(zhDigits[d])
		b.WriteString(units[i])
	}
	return b.String()
}

// zhDigitByDigit writes each digit of s on its own: 2024 → 二零二四.
func zhDigitByDigit(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteString(zhDigits[r-'0'])
		}
	}
	return b.String()
}

// zhNumber writes a number as written ("3.14", "-5", "1,234", "007") in Chinese.
func zhNumber(s string) string {
	neg := strings.HasPrefix(s, "-") || strings.HasPrefix(s, "−")
	s = strings.TrimLeft(s, "-−+")
	s = strings.ReplaceAll(s, ",", "")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var out string
	switch n, err := strconv.ParseUint(intPart, 10, 64); {
	case err != nil || n >= 1e16:
		out = zhDigitByDigit(intPart)
	case len(intPart) > 1 && intPart[0] == '0':
		out = zhDigitByDigit(intPart) // a code: 007
	default:
		out = zhInteger(n)
	}
	if hasFrac && frac != "" {
		out += "点" + zhDigitByDigit(frac)
	}
	if neg {
		out = "负" + out
	}
	return out
}

// zhUnits are units after a number, longest first where one is a prefix of another.
var zhUnits = []struct{ sym, word string }{
	{"km/h", "公里每小时"}, {"km²", "平方公里"}, {"m²", "平方米"}, {"m/s", "米每秒"},
	{"kWh", "千瓦时"}, {"kW", "千瓦"}, {"km", "公里"}, {"cm", "厘米"}, {"mm", "毫米"},
	{"kg", "公斤"}, {"mg", "毫克"}, {"ml", "毫升"}, {"mL", "毫升"}, {"GB", "吉字节"}, {"MB", "兆字节"},
	{"KB", "千字节"}, {"°C", "摄氏度"}, {"℃", "摄氏度"}, {"°F", "华氏度"}, {"°", "度"},
	{"Hz", "赫兹"}, {"ms", "毫秒"}, {"min", "分钟"}, {"h", "小时"}, {"s", "秒"},
	{"m", "米"}, {"g", "克"}, {"L", "升"}, {"l", "升"}, {"W", "瓦"}, {"V", "伏"},
}

var (
	// A number: sign, digits with thousands separators, decimals.
	zhNum = `[-−]?\d+(?:,\d{3})*(?:\.\d+)?`
	// 2024年: a year, read digit by digit.
	reZhYear = lazyRE(`(\d{2,4})\s*年`)
	// 25%, 25 %, ２５％: a percentage.
	reZhPercent = lazyRE(`(` + zhNum + `)\s*[%％]`)
	// A number and the unit after it (not followed by more letters: "5 min" but not "5 minutes").
	reZhUnit = lazyRE(`(` + zhNum + `)\s*(` + unitAlternatives() + `)(?:$|[^A-Za-z])`)
	// 3-5, 3~5: a range.
	reZhRange = lazyRE(`(\d)\s*[-~～–]\s*(\d)`)
	// Any number left.
	reZhNumber = lazyRE(zhNum)
	// ¥12, $5, €3: currency before a number.
	reZhCurrency = lazyRE(`([¥￥$€£])\s*(` + zhNum + `)`)
)

func unitAlternatives() string {
	alts := make([]string, len(zhUnits))
	for i, u := range zhUnits {
		alts[i] = regexp.QuoteMeta(u.sym)
	}
	return strings.Join(alts, "|")
}

var zhCurrency = map[string]string{"¥": "元", "￥": "元", "$": "美元", "€": "欧元", "£": "英镑"}

// fullWidthDigits turns full-width digits and signs (１２．５％) into ASCII ones.
var fullWidthDigits = strings.NewReplacer("０", "0", "１", "1", "２", "2", "３", "3", "４", "4",
	"５", "5", "６", "6", "７", "7", "８", "8", "９", "9", "．", ".", "－", "-")

// cleanChinese writes numbers, percentages, years, currency and units out in Chinese words and
// removes symbols nobody reads aloud. Latin words in between stay as they are: the synthesizer
// reads them with an English voice (see Espeak).
func cleanChinese(s string) string {
	s = fullWidthDigits.Replace(s)
	s = reZhYear.ReplaceAllStringFunc(s, func(m string) string {
		return zhDigitByDigit(reZhYear.FindStringSubmatch(m)[1]) + "年"
	})
	s = reZhPercent.ReplaceAllStringFunc(s, func(m string) string {
		return "百分之" + zhNumber(reZhPercent.FindStringSubmatch(m)[1])
	})
	s = reZhCurrency.ReplaceAllStringFunc(s, func(m string) string {
		sm := reZhCurrency.FindStringSubmatch(m)
		return zhNumber(sm[2]) + zhCurrency[sm[1]]
	})
	s = reZhUnit.ReplaceAllStringFunc(s, func(m string) string {
		sm := reZhUnit.FindStringSubmatch(m)
		// The match may end with the character after the unit: keep it.
		rest := strings.TrimPrefix(strings.TrimLeft(strings.TrimPrefix(m, sm[1]), " \t"), sm[2])
		for _, u := range zhUnits {
			if u.sym == sm[2] {
				return zhNumber(sm[1]) + u.word + rest
			}
		}
		return m
	})
	s = reZhRange.ReplaceAllString(s, "${1}到${2}")
	s = reZhNumber.ReplaceAllStringFunc(s, zhNumber)
	s = strings.NewReplacer("→", "，", "->", "，", "=>", "，", "—", "，", "•", "，", "|", "，").Replace(s)
	return stripSymbols(s)
}
