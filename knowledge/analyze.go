package knowledge

import (
	"github.com/kljensen/snowball/english"
	"strings"
	"unicode"
	"unicode/utf8"
)

// terms turns text into the index's terms: lower-cased, lightly stemmed words for alphabetic
// scripts, and each character plus overlapping bigrams for Chinese, Japanese and Korean runs
// (which have no spaces): the bigrams find two-character words like 停车, which FTS5's trigram
// tokenizer cannot match, and the characters find one-character words like 狗 (see
// TestChineseTokenizers). The same function analyses documents and questions.
func terms(text string) []string {
	var out []string
	var word []rune
	var cjk []rune
	flushWord := func() {
		if len(word) > 0 {
			out = append(out, stem(string(word)))
			word = word[:0]
		}
	}
	flushCJK := func() {
		switch len(cjk) {
		case 0:
		default:
			for i := range cjk {
				out = append(out, string(cjk[i]))
				if i+1 < len(cjk) {
					out = append(out, string(cjk[i:i+2]))
				}
			}
		}
		cjk = cjk[:0]
	}
	for _, r := range text {
		switch {
		case isCJK(r):
			flushWord()
			cjk = append(cjk, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flushCJK()
			word = append(word, unicode.ToLower(r))
		default:
			flushWord()
			flushCJK()
		}
	}
	flushWord()
	flushCJK()
	// A hyphenated word is also indexed whole, so "Wi-Fi" meets "wifi" and "e-mail" "email".
	for _, f := range strings.Fields(text) {
		if !strings.Contains(f, "-") {
			continue
		}
		joined := strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) && !isCJK(r) || unicode.IsDigit(r) {
				return unicode.ToLower(r)
			}
			return -1
		}, f)
		if strings.Count(f, "-") == 1 && utf8.RuneCountInString(joined) > 2 {
			out = append(out, stem(joined))
		}
	}
	return out
}

func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
}

// stem reduces an English word to its Snowball (Porter 2) stem, so "opening", "opens" and
// "opened" meet; other scripts pass unchanged.
func stem(w string) string {
	if len(w) <= 2 || !isASCII(w) {
		return w
	}
	return english.Stem(w, true)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// stopwords are question words and fillers that say nothing about where the answer is; they are
// dropped from queries only (documents keep them, so BM25 statistics stay honest).
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the is are was were be been am do doe did i me my you your
		we our us it its of in on at to for from by with and or but not no can could would should will
		shall may might must what when where which who whom whose why how there here this that these
		those have has had get got tell please about any some if than then so as into out up down
		one just also very there's what's where's how's let know want need like now s t don doesn isn mean anything something anyone someone thing
		什 么 怎 哪 儿 请 问 吗 呢 吧 啊 呀 要 会 多 少 个 这 那 就 还 都 也 和 去 来 说 能 可 以
		什么 怎么 哪里 哪儿 请问 可以 我们 你们 他们 是不 不是 一下 告诉 知道 怎样 如何 多少 吗 呢 的 了 是 在 我 你 有`) {
		m[w] = true
		m[stem(w)] = true
	}
	return m
}()

// queryTerms are a question's distinct terms without stopwords.
func queryTerms(q string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range terms(q) {
		if stopwords[t] || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}
