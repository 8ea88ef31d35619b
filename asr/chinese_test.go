package asr

import "testing"

func TestSimplify(t *testing.T) {
	tests := []struct {
		text, lang string
		keep       bool
		want       string
	}{
		{"今天天氣怎麼樣？", "zh", false, "今天天气怎么样？"},
		{"請打開廚房的燈。", "zh", false, "请打开厨房的灯。"},
		{"今天天氣怎麼樣？", "zh", true, "今天天氣怎麼樣？"},
		{"今天天气怎么样？", "zh", false, "今天天气怎么样？"},
		{"天氣", "ja", false, "天氣"}, // Japanese kanji are not Traditional Chinese
		{"Hello there.", "zh", false, "Hello there."},
	}
	for _, tt := range tests {
		if got := simplify(tt.text, tt.lang, tt.keep); got != tt.want {
			t.Errorf("simplify(%q, %s, keep=%v) = %q, want %q", tt.text, tt.lang, tt.keep, got, tt.want)
		}
	}
}

func TestInitialPrompt(t *testing.T) {
	tests := []struct {
		o     Options
		multi bool
		want  string
	}{
		{Options{Language: "zh"}, true, simplifiedPrompt},
		{Options{Language: "zh", TraditionalChinese: true}, true, ""},
		{Options{Language: "zh", InitialPrompt: "哈克"}, true, "哈克"},
		{Options{Language: "auto"}, true, ""},
		{Options{Language: "en"}, true, ""},
		{Options{Language: "zh"}, false, ""},
	}
	for _, tt := range tests {
		if got := initialPrompt(tt.o, tt.multi); got != tt.want {
			t.Errorf("initialPrompt(%+v, %v) = %q, want %q", tt.o, tt.multi, got, tt.want)
		}
	}
}
