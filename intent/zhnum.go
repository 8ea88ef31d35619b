package intent

import (
	"strconv"
	"strings"
)

// zhDigits and zhUnits are the characters of Chinese numerals (Simplified and the common
// Traditional and financial forms a recogniser may write).
var zhDigits = map[rune]int{
	'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '兩': 2, '三': 3, '四': 4, '五': 5,
	'六': 6, '七': 7, '八': 8, '九': 9, '壹': 1, '贰': 2, '叁': 3, '肆': 4, '伍': 5, '陆': 6, '柒': 7, '捌': 8, '玖': 9,
}

var zhUnits = map[rune]int{'十': 10, '拾': 10, '百': 100, '佰': 100, '千': 1000, '仟': 1000, '万': 10000, '萬': 10000}

// chineseNumbers writes the Chinese numerals inside each word as digits, set apart by spaces:
// "设置一个五分钟的计时器" → "设置 1 个 5 分钟的计时器", "一百零五" → "105", "二点五" → "2.5".
// Templates go through the same rewriting, so a numeral inside an ordinary word (一下, 星期一)
// still matches itself.
func chineseNumbers(words []string) []string {
	out := make([]string, 0, len(words))
	for _, w := range words {
		out = append(out, strings.Fields(zhRewrite([]rune(w)))...)
	}
	return out
}

func zhRewrite(rs []rune) string {
	var b strings.Builder
	for i := 0; i < len(rs); {
		end := zhRun(rs, i)
		if end == i {
			b.WriteRune(rs[i])
			i++
			continue
		}
		text := zhValue(rs[i:end])
		// 二点五 is 2.5, but 七点十五 and 七点五分 are times (7:15, 7:05), and 大声一点 has no
		// fraction at all: only plain digits that are not minutes make a decimal.
		if end+1 < len(rs) && rs[end] == '点' {
			fe := end + 1
			for fe < len(rs) && isZhDigit(rs[fe]) {
				fe++
			}
			if fe > end+1 && rs[end+1] != '零' && rs[end+1] != '〇' && (fe == len(rs) || rs[fe] != '分' && zhUnits[rs[fe]] == 0) {
				var frac strings.Builder
				for _, r := range rs[end+1 : fe] {
					frac.WriteString(strconv.Itoa(zhDigits[r]))
				}
				text += "." + frac.String()
				end = fe
			}
		}
		b.WriteString(" " + text + " ")
		i = end
	}
	return b.String()
}

func isZhDigit(r rune) bool { _, ok := zhDigits[r]; return ok }

// zhRun returns where the numeral starting at i ends (i when there is none). A unit alone
// counts only for 十 (十 is 10; 千 or 万 alone are words: 千万 "by all means").
func zhRun(rs []rune, i int) int {
	j := i
	for j < len(rs) {
		if _, ok := zhDigits[rs[j]]; ok {
			j++
			continue
		}
		if _, ok := zhUnits[rs[j]]; ok {
			j++
			continue
		}
		break
	}
	if j == i {
		return i
	}
	for _, r := range rs[i:j] {
		if isZhDigit(r) || zhUnits[r] == 10 {
			return j
		}
	}
	return i
}

// zhValue reads one numeral: 十五 15, 二十三 23, 一百零五 105, 一百五 150 (the spoken short
// form), 两万五 25000; digits alone are read one by one (二零二六 2026).
func zhValue(rs []rune) string {
	units := false
	for _, r := range rs {
		if _, ok := zhUnits[r]; ok {
			units = true
		}
	}
	if !units {
		var b strings.Builder
		for _, r := range rs {
			b.WriteString(strconv.Itoa(zhDigits[r]))
		}
		return b.String()
	}
	total, section, cur, last := 0, 0, 0, 0
	zero := false // a 零 since the last unit: 一百零五 is 105, not 150
	for _, r := range rs {
		if d, ok := zhDigits[r]; ok {
			if d == 0 {
				zero = true
			}
			cur = d
			continue
		}
		u := zhUnits[r]
		if u == 10000 {
			total += (section + cur) * u
			section, cur, last, zero = 0, 0, u, false
			continue
		}
		if cur == 0 {
			cur = 1 // 十五: the 一 before 十 is not said
		}
		section += cur * u
		cur, last, zero = 0, u, false
	}
	if cur > 0 && !zero && last >= 100 {
		cur *= last / 10 // 一百五 is 150, 两万五 is 25000
	}
	return strconv.Itoa(total + section + cur)
}
