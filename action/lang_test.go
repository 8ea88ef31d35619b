package action

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// runIn matches say and runs it with the reply language lang, as the assistant does.
func runIn(t *testing.T, a *Actor, lang, say string) Result {
	t.Helper()
	m := a.Match(lang, say)
	if m.Kind != Matched {
		t.Fatalf("Match(%s, %q) = %v", lang, say, m.Kind)
	}
	res, err := a.Run(WithLanguage(context.Background(), lang), m.Tool, m.Args)
	if err != nil {
		t.Fatalf("Run(%q): %v", say, err)
	}
	return res
}

// TestSkillsChinese: every built-in skill answers a Chinese turn in Chinese, with durations,
// times of day and counts said the Chinese way.
func TestSkillsChinese(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 5, 15, 5, 0, 0, time.UTC)}
	a := newActor(t, filepath.Join(t.TempDir(), "a.db"), clk.now, nil)
	cases := []struct{ say, want string }{
		{"现在几点？", "现在是下午三点零五分。"},
		{"今天几号？", "今天是2026年12月5日，星期六。"},
		{"十二乘以七等于几", "等于84。"},
		{"算一下一百除以八", "等于12.5。"},
		{"五英里是多少公里", "5英里等于8.047公里。"},
		{"一百华氏度是多少摄氏度", "100华氏度等于37.78摄氏度。"},
		{"我的清单", "你的清单是空的。"},
		{"记一下买牛奶", "记下了：买牛奶。"},
		{"提醒我给妈妈打电话", "记下了：给妈妈打电话。"},
		{"读一下我的笔记", "你有两条笔记：买牛奶；给妈妈打电话。"},
		{"设置一个五分钟的计时器", "好的，五分钟的计时器开始了。"},
		{"定一个十五分钟的煮面计时器", "好的，十五分钟的计时器开始了。"},
		{"煮面计时器还有多久", "煮面计时器还剩十五分钟。"},
		{"取消计时器", "哪一个？五分钟计时器还剩五分钟；煮面计时器还剩十五分钟。"},
		{"把煮面计时器暂停一下", "已暂停煮面计时器，还剩十五分钟。"},
		{"计时器还剩多久", "五分钟计时器还剩五分钟；煮面计时器还剩十五分钟（已暂停）。"},
		{"恢复煮面计时器", "煮面计时器继续计时。"},
		{"把煮面计时器取消", "已取消煮面计时器。"},
		{"取消所有计时器", "已取消一个计时器。"},
		{"还剩多长时间", "现在没有计时器在运行。"},
		{"暂停计时器", "现在没有计时器在运行。"},
		{"两个小时后叫我", "好的，两小时的计时器开始了。"},
		{"设置计时器1小时20分钟", "好的，一小时二十分钟的计时器开始了。"},
		{"倒计时一百零五秒", "好的，一分钟四十五秒的计时器开始了。"},
		{"早上七点半叫醒我", "好的，闹钟定在明天上午七点三十分。"},
		{"十八点四十五的闹钟", "好的，闹钟定在今天晚上六点四十五分。"},
		{"音量调到五十", "音量五十。"},
		{"大声一点", "音量六十。"},
		{"音量是多少", "现在音量是六十。"},
		{"静音", "已静音。"},
		{"取消静音", "语音已恢复。"},
		{"新对话", "开始新的对话。"},
	}
	for _, c := range cases {
		if got := runIn(t, a, "zh", c.say).Say; got != c.want {
			t.Errorf("%q → %q, want %q", c.say, got, c.want)
		}
	}
	// The same actor answers an English turn in English.
	if got := runIn(t, a, "en", "what time is it").Say; got != "It's 15:05." {
		t.Errorf("English after Chinese: %q", got)
	}
	// Timers keep the language they were set in, for their ring.
	list, err := a.Timers().Active(context.Background())
	if err != nil || len(list) == 0 {
		t.Fatalf("active timers: %v, %v", list, err)
	}
	for _, tm := range list {
		if tm.Language != "zh" {
			t.Errorf("timer %q kept language %q, want zh", tm.Name, tm.Language)
		}
	}
}

// TestReplyLanguages: the same call said in each language; a language without replies of its
// own gets English.
func TestReplyLanguages(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	a := newActor(t, filepath.Join(t.TempDir(), "a.db"), clk.now, nil)
	cases := []struct {
		lang, tool, args, want string
	}{
		{"en", ToolTimerStart, `{"minutes":2}`, "Timer set for 2 minutes."},
		{"zh", ToolTimerStart, `{"minutes":2}`, "好的，两分钟的计时器开始了。"},
		{"yue", ToolTimerStart, `{"seconds":30}`, "好的，三十秒的计时器开始了。"},
		{"fr", ToolTimerStart, `{"seconds":30}`, "Timer set for 30 seconds."},
		{"", ToolTime, `{}`, "It's 09:00."},
		{"zh", ToolTime, `{}`, "现在是上午九点整。"},
		{"zh", ToolTimerStart, `{}`, "计时器要设多长时间？"},
		{"zh", ToolAlarmSet, `{"hour":13,"period":"pm"}`, "这不是十二小时制的时间。"},
		{"zh", ToolConvert, `{"value":1,"from":"kilogram","to":"mile"}`, "这个我换算不了。"},
		{"zh", ToolCalculate, `{"expression":"1/0"}`, "这个我算不出来。"},
		{"zh", ToolTimerCancel, `{"name":"意面"}`, "没有叫意面的计时器。"},
		{"en", ToolTimerCancel, `{"name":"pasta"}`, "There is no pasta timer."},
	}
	for _, c := range cases {
		res, err := a.Run(WithLanguage(context.Background(), c.lang), c.tool, json.RawMessage(c.args))
		if err != nil || res.Say != c.want {
			t.Errorf("%s %s %s → %q, %v; want %q", c.lang, c.tool, c.args, res.Say, err, c.want)
		}
	}
}

// TestConfirmQuestionChinese: a confirm tool asks in the turn's language.
func TestConfirmQuestionChinese(t *testing.T) {
	a := newActor(t, filepath.Join(t.TempDir(), "a.db"), nil, nil)
	runIn(t, a, "zh", "记一下买牛奶")
	runIn(t, a, "zh", "记一下买鸡蛋")
	for lang, want := range map[string]string{"zh": "删除全部两条笔记吗？", "en": "Delete all 2 notes?"} {
		_, q, err := a.Check(WithLanguage(context.Background(), lang), ToolNoteClear, nil)
		if err != nil || q != want {
			t.Errorf("Check(%s) question %q, %v; want %q", lang, q, err, want)
		}
	}
	if got := runIn(t, a, "zh", "清空我的笔记").Say; got != "已删除两条笔记。" {
		t.Errorf("clear: %q", got)
	}
}

// TestRingSay: what a timer's ring says, in the timer's language, on time, late and missed.
func TestRingSay(t *testing.T) {
	cases := []struct {
		r    Ring
		want string
	}{
		{Ring{Timer: Timer{Name: "pasta timer"}}, "Your pasta timer is done."},
		{Ring{Timer: Timer{Name: "pasta timer"}, Late: 12 * time.Second}, "Your pasta timer went off 12 seconds ago, while I was starting."},
		{Ring{Timer: Timer{Name: "pasta timer"}, Missed: true, Late: time.Hour}, "Your pasta timer went off while I was not running."},
		{Ring{Timer: Timer{Name: "五分钟计时器", Language: "zh"}}, "五分钟计时器时间到了。"},
		{Ring{Timer: Timer{Name: "五分钟计时器", Language: "zh"}, Late: 12 * time.Second}, "五分钟计时器在十二秒前就到时间了，当时我正在启动。"},
		{Ring{Timer: Timer{Name: "上午七点整的闹钟", Language: "zh"}, Missed: true}, "上午七点整的闹钟在我没运行的时候响过了。"},
	}
	for _, c := range cases {
		if got := c.r.Say(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}

func TestChineseNumbersAndTimes(t *testing.T) {
	for n, want := range map[int]string{0: "零", 2: "二", 10: "十", 15: "十五", 20: "二十", 23: "二十三", 100: "一百",
		105: "一百零五", 110: "一百一十", 1001: "一千零一", 1010: "一千零一十", 2300: "二千三百", 10005: "一万零五",
		10015: "一万零一十五", 25000: "二万五千", -3: "负三"} {
		if got := zhNumber(n); got != want {
			t.Errorf("zhNumber(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "零秒", 2 * time.Second: "两秒", 5 * time.Minute: "五分钟",
		90 * time.Second: "一分钟三十秒", 2*time.Hour + 5*time.Minute + 7*time.Second: "两小时五分钟", 22 * time.Minute: "二十二分钟"} {
		if got := langZH.sayDuration(d); got != want {
			t.Errorf("sayDuration(%v) = %q, want %q", d, got, want)
		}
	}
	for hm, want := range map[[2]int]string{{0, 0}: "凌晨零点整", {0, 10}: "凌晨零点十分", {2, 5}: "凌晨两点零五分", {7, 30}: "上午七点三十分",
		{12, 0}: "中午十二点整", {15, 5}: "下午三点零五分", {18, 45}: "晚上六点四十五分", {23, 59}: "晚上十一点五十九分"} {
		if got := zhClock(time.Date(2026, 1, 1, hm[0], hm[1], 0, 0, time.UTC)); got != want {
			t.Errorf("zhClock(%d:%02d) = %q, want %q", hm[0], hm[1], got, want)
		}
	}
}

// TestAmbiguousQuestionChinese: a sentence that fits two intents equally gets a question in
// the language of the templates that matched, naming the tools in it.
func TestAmbiguousQuestionChinese(t *testing.T) {
	dir := t.TempDir()
	// The person's own templates make 报时 mean the date too (and "time please" the same in English).
	files := map[string]string{
		"zh.toml": "language = \"zh\"\n[[intents.clock_date]]\nsentences = [\"报时\"]\n",
		"en.toml": "language = \"en\"\n[[intents.clock_date]]\nsentences = [\"time please\"]\n[[intents.clock_time]]\nsentences = [\"time please\"]\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st, err := OpenStore(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := New(Options{Store: st, TemplateDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, c := range []struct{ lang, say, want string }{
		{"zh", "报时", "你是说：报时，还是报日期？"},
		{"en", "time please", "Did you mean: tell the current time, or tell today's date?"},
	} {
		m := a.Match(c.lang, c.say)
		if m.Kind != Ambiguous || m.Question != c.want || m.Language != c.lang {
			t.Errorf("Match(%q) = %v %q (%s), want the question %q", c.say, m.Kind, m.Question, m.Language, c.want)
		}
	}
}
