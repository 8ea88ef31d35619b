package intent

import "testing"

// TestChineseNumbers: Chinese numerals become digits for range slots, in the forms people
// say them; ordinary words keep their meaning (both sides are rewritten alike).
func TestChineseNumbers(t *testing.T) {
	cases := []struct{ in, want string }{
		{"五", "5"},
		{"十", "10"},
		{"十五", "15"},
		{"二十三", "23"},
		{"一百零五", "105"},
		{"一百五", "150"},
		{"一千零二十", "1020"},
		{"两万五", "25000"},
		{"三万零五百", "30500"},
		{"两个小时", "2 个小时"},
		{"设置一个五分钟的计时器。", "设置 1 个 5 分钟的计时器"},
		{"倒计时十秒", "倒计时 10 秒"},
		{"一分半", "1 分半"},
		{"一个半小时", "1 个半小时"},
		{"二点五公里", "2.5 公里"},
		{"七点十五", "7 点 15"},
		{"七点五分", "7 点 5 分"},
		{"十八点四十五", "18 点 45"},
		{"七点零五", "7 点 05"},
		{"大声一点", "大声 1 点"},
		{"二零二六年", "2026 年"},
		{"千万别忘了", "千万别忘了"},
		{"百分之五十", "百分之 50"},
		{"5分钟", "5分钟"},
		{"音量 30%", "音量 30 %"},
	}
	for _, c := range cases {
		if got := Normalize("zh", c.in); got != c.want {
			t.Errorf("Normalize(zh, %q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestChineseSlots: a Chinese numeral fills a number range, with or without spaces, and
// wildcard text comes back without the spaces normalisation put in.
func TestChineseSlots(t *testing.T) {
	s := compile(t, File{Language: "zh",
		Lists:   map[string]List{"n": {Range: &Range{From: 1, To: 200}}, "text": {Wildcard: true}},
		Intents: map[string][]Group{"wait": {{Sentences: []string{"等 {n} 分钟"}}}, "note": {{Sentences: []string{"记 1下 {text}"}}}}})
	for in, want := range map[string]any{"等五分钟": 5, "等 十五 分钟": 15, "等一百零五分钟": 105, "等两分钟": 2, "等 42分钟": 42} {
		r := s.Match("zh", in)
		if r.Best == nil || r.Best.Slots["n"] != want {
			t.Errorf("Match(%q) = %+v, want n = %v", in, r.Best, want)
		}
	}
	if r := s.Match("zh", "等三百分钟"); r.Best != nil {
		t.Errorf("300 is out of range but matched: %+v", r.Best)
	}
	for in, want := range map[string]string{"记一下买三瓶牛奶": "买3瓶牛奶", "记一下 买 iphone 15": "买iphone 15"} {
		r := s.Match("zh", in)
		if r.Best == nil || r.Best.Slots["text"] != want {
			t.Errorf("Match(%q) = %+v, want text %q", in, r.Best, want)
		}
	}
}
