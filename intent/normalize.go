package intent

import (
	"strconv"
	"strings"
	"unicode"
)

// Normalize prepares a sentence for matching: lower case, punctuation dropped (except inside
// numbers: "2.5"; "7:30" becomes "7 30"), spaces collapsed, and the language's number words written as
// digits ("twenty five" → "25"). Templates are normalized the same way.
func Normalize(lang, s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		case (r == '.' || r == ',') && i > 0 && i+1 < len(rs) && unicode.IsDigit(rs[i-1]) && unicode.IsDigit(rs[i+1]):
			if r == ',' {
				continue // 1,000
			}
			b.WriteRune(r)
		case r == '%' || r == '+' || r == '*' || r == '/' || r == '^' || r == '=' || r == '(' || r == ')' ||
			(r == '-' && i+1 < len(rs) && (unicode.IsDigit(rs[i+1]) || rs[i+1] == ' ')):
			// Arithmetic survives for the calculator; a hyphen inside a word ("twenty-five")
			// becomes a space.
			b.WriteRune(' ')
			b.WriteRune(r)
			b.WriteRune(' ')
		case r == '\'' || r == '’':
			// "what's" → "whats": keep the word in one piece.
		default:
			b.WriteRune(' ')
		}
	}
	words := strings.Fields(b.String())
	if nw := numberWords[lang]; nw != nil {
		words = nw(words)
	}
	return strings.Join(words, " ")
}

// numberWords rewrites a language's spelled-out numbers as digits. Other languages add theirs
// here (Chinese numerals are the next).
var numberWords = map[string]func([]string) []string{"en": englishNumbers}

var enSmall = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
	"nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
	"sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
	"forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

var enScale = map[string]int{"hundred": 100, "thousand": 1000, "million": 1000000}

// englishNumbers turns runs like "two hundred and fifty" into "250". A lone "a" or "and" is
// left alone unless it sits inside a number ("a hundred", "one hundred and five").
func englishNumbers(words []string) []string {
	out := make([]string, 0, len(words))
	for i := 0; i < len(words); {
		n, used := readEnglishNumber(words[i:])
		if used == 0 {
			out = append(out, words[i])
			i++
			continue
		}
		out = append(out, strconv.Itoa(n))
		i += used
	}
	return out
}

func readEnglishNumber(w []string) (int, int) {
	total, cur, used, any := 0, 0, 0, false
	for i := 0; i < len(w); i++ {
		word := w[i]
		if v, ok := enSmall[word]; ok {
			if any && cur%100 != 0 && cur%10 == 0 && v < 10 && v > 0 {
				cur += v // twenty five
			} else if any && cur != 0 && cur%100 != 0 {
				break // "five six": two numbers
			} else {
				cur += v
			}
			any, used = true, i+1
			continue
		}
		if d, err := strconv.Atoi(word); err == nil && any && cur%100 == 0 && cur != 0 && d < 100 {
			cur += d // "one hundred 5"
			used = i + 1
			continue
		}
		if s, ok := enScale[word]; ok {
			if !any {
				if i > 0 || word != "hundred" {
					break
				}
			}
			if cur == 0 {
				cur = 1
			}
			if s == 100 {
				cur *= s
			} else {
				total += cur * s
				cur = 0
			}
			any, used = true, i+1
			continue
		}
		if word == "a" && !any && i+1 < len(w) && enScale[w[i+1]] != 0 {
			cur, any = 1, true // "a hundred"
			continue
		}
		if word == "and" && any && i+1 < len(w) {
			if _, ok := enSmall[w[i+1]]; ok && (total+cur)%100 == 0 && total+cur >= 100 {
				continue // "one hundred and five"
			}
		}
		break
	}
	if used == 0 {
		return 0, 0
	}
	return total + cur, used
}
