package tts

import "testing"

func TestZhInteger(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "零"}, {7, "七"}, {10, "十"}, {12, "十二"}, {20, "二十"}, {105, "一百零五"}, {110, "一百一十"},
		{1000, "一千"}, {1001, "一千零一"}, {1010, "一千零一十"}, {2024, "二千零二十四"},
		{10000, "一万"}, {12345, "一万二千三百四十五"}, {100005, "十万零五"}, {10050000, "一千零五万"},
		{100000000, "一亿"}, {100010000, "一亿零一万"},
	}
	for _, tt := range tests {
		if got := zhInteger(tt.n); got != tt.want {
			t.Errorf("zhInteger(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

func TestCleanChinese(t *testing.T) {
	tests := []struct{ in, want string }{
		{"圆周率约等于3.14。", "圆周率约等于三点一四。"},
		{"降水概率是25%。", "降水概率是百分之二十五。"},
		{"增长了12.5％", "增长了百分之十二点五"},
		{"他生于1998年。", "他生于一九九八年。"},
		{"2024年3月5日", "二零二四年三月五日"},
		{"今天最高气温28°C，风速15 km/h。", "今天最高气温二十八摄氏度，风速十五公里每小时。"},
		{"距离还有3.5公里", "距离还有三点五公里"},
		{"体重70kg", "体重七十公斤"},
		{"价格是¥12", "价格是十二元"},
		{"零下-5度", "零下负五度"},
		{"需要3-5天", "需要三到五天"},
		{"共有1,234人", "共有一千二百三十四人"},
		{"请打开 Wi-Fi 和 Bluetooth。", "请打开 Wi-Fi 和 Bluetooth。"},
		{"**注意**：用 `git` 提交", "注意：用 git 提交"},
		{"我有5 minutes", "我有五 minutes"},
	}
	for _, tt := range tests {
		if got := CleanFor(tt.in, "zh"); got != tt.want {
			t.Errorf("CleanFor(%q, zh) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestResolveVoice(t *testing.T) {
	tests := []struct{ in, want Voice }{
		{Voice{Name: "zh"}, Voice{Name: "cmn-latn-pinyin", Language: "zh"}},
		{Voice{Language: "zh"}, Voice{Name: "cmn-latn-pinyin", Language: "zh"}},
		{Voice{Language: "yue"}, Voice{Name: "yue", Language: "yue"}},
		{Voice{Name: "cmn-latn-pinyin+f3"}, Voice{Name: "cmn-latn-pinyin+f3", Language: "zh"}},
		{Voice{Name: "en-gb", Language: "en"}, Voice{Name: "en-gb", Language: "en"}},
		{Voice{Language: "de"}, Voice{Language: "de"}},
		{Voice{}, Voice{}},
	}
	for _, tt := range tests {
		if got := ResolveVoice(tt.in); got != tt.want {
			t.Errorf("ResolveVoice(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
