package action

import (
	"path/filepath"
	"testing"
)

// TestPhrasingsChinese checks the Simplified Chinese templates: at least five phrasings reach
// each built-in skill, with Chinese numerals read as numbers, and spaces make no difference.
func TestPhrasingsChinese(t *testing.T) {
	a := newActor(t, filepath.Join(t.TempDir(), "a.db"), nil, nil)
	cases := []struct {
		say  string
		tool string
		args string // the expected arguments as JSON ("" to skip)
	}{
		{"现在几点？", ToolTime, "{}"},
		{"几点了", ToolTime, ""},
		{"现在是什么时间", ToolTime, ""},
		{"告诉我现在的时间", ToolTime, ""},
		{"现在几点几分", ToolTime, ""},
		{"今天几号？", ToolDate, "{}"},
		{"星期几", ToolDate, ""},
		{"今天是星期几", ToolDate, ""},
		{"今天是几月几号", ToolDate, ""},
		{"今天的日期是什么", ToolDate, ""},
		{"设置一个五分钟的计时器", ToolTimerStart, `{"minutes":5}`},
		{"设置 一个 五分钟 的 计时器", ToolTimerStart, `{"minutes":5}`},
		{"五分钟后提醒我", ToolTimerStart, `{"minutes":5}`},
		{"倒计时十秒", ToolTimerStart, `{"seconds":10}`},
		{"定一个十五分钟的煮面计时器", ToolTimerStart, `{"minutes":15,"name":"煮面"}`},
		{"帮我设一个二十三秒的计时器", ToolTimerStart, `{"seconds":23}`},
		{"计时一百零五秒", ToolTimerStart, `{"seconds":105}`},
		{"两个小时后叫我", ToolTimerStart, `{"hours":2}`},
		{"设置计时器1小时20分钟", ToolTimerStart, `{"hours":1,"minutes":20}`},
		{"半小时后提醒我", ToolTimerStart, `{"minutes":30}`},
		{"设一个一个半小时的计时器", ToolTimerStart, `{"hours":1,"minutes":30}`},
		{"倒计时一分半", ToolTimerStart, `{"minutes":1,"seconds":30}`},
		{"倒计时半分钟", ToolTimerStart, `{"seconds":30}`},
		{"3分钟的计时器", ToolTimerStart, `{"minutes":3}`},
		{"早上七点半叫醒我", ToolAlarmSet, `{"hour":7,"minute":30,"period":"am"}`},
		{"设置一个明天早上六点的闹钟", ToolAlarmSet, `{"hour":6,"period":"am"}`},
		{"闹钟定在下午三点十五分", ToolAlarmSet, `{"hour":3,"minute":15,"period":"pm"}`},
		{"十八点四十五的闹钟", ToolAlarmSet, `{"hour":18,"minute":45}`},
		{"7:30叫我起床", ToolAlarmSet, `{"hour":7,"minute":30}`},
		{"计时器还剩多久", ToolTimerStatus, "{}"},
		{"还剩多长时间", ToolTimerStatus, "{}"},
		{"煮面计时器还有多久", ToolTimerStatus, `{"name":"煮面"}`},
		{"看看我的计时器", ToolTimerStatus, ""},
		{"我有哪些计时器", ToolTimerStatus, ""},
		{"取消计时器", ToolTimerCancel, "{}"},
		{"把煮面计时器取消", ToolTimerCancel, `{"name":"煮面"}`},
		{"关掉闹钟", ToolTimerCancel, "{}"},
		{"取消所有计时器", ToolTimerCancel, `{"all":true}`},
		{"不要倒计时了", ToolTimerCancel, ""},
		{"暂停计时器", ToolTimerPause, "{}"},
		{"把煮面计时器暂停一下", ToolTimerPause, `{"name":"煮面"}`},
		{"计时器暂停", ToolTimerPause, ""},
		{"先停一下计时器", ToolTimerPause, ""},
		{"暂停倒计时", ToolTimerPause, ""},
		{"继续计时器", ToolTimerResume, "{}"},
		{"恢复煮面计时器", ToolTimerResume, `{"name":"煮面"}`},
		{"计时器继续", ToolTimerResume, ""},
		{"继续计时", ToolTimerResume, ""},
		{"取消暂停计时器", ToolTimerResume, ""},
		{"三加四等于多少", ToolCalculate, `{"expression":"3加4"}`},
		{"十二乘以七等于几", ToolCalculate, `{"expression":"12乘以7"}`},
		{"算一下一百除以八", ToolCalculate, `{"expression":"100除以8"}`},
		{"帮我算一下2的10次方", ToolCalculate, ""},
		{"计算 (3+4)*5", ToolCalculate, ""},
		{"五英里是多少公里", ToolConvert, `{"from":"mile","to":"kilometre","value":5}`},
		{"两磅等于多少克", ToolConvert, `{"from":"pound","to":"gram","value":2}`},
		{"一百华氏度是多少摄氏度", ToolConvert, `{"from":"fahrenheit","to":"celsius","value":100}`},
		{"把二点五升换算成杯", ToolConvert, `{"from":"litre","to":"cup","value":2.5}`},
		{"六十英里每小时转换成公里每小时", ToolConvert, `{"from":"mph","to":"kmh","value":60}`},
		{"记一下买牛奶", ToolNoteAdd, `{"text":"买牛奶"}`},
		{"提醒我给妈妈打电话", ToolNoteAdd, `{"text":"给妈妈打电话"}`},
		{"把鸡蛋加到购物清单里", ToolNoteAdd, `{"text":"鸡蛋"}`},
		{"记住门禁密码是四五一二", ToolNoteAdd, `{"text":"门禁密码是4512"}`},
		{"帮我记下来周五水管工来", ToolNoteAdd, ""},
		{"读一下我的笔记", ToolNoteList, "{}"},
		{"我的清单", ToolNoteList, ""},
		{"清单上有什么", ToolNoteList, ""},
		{"我记了什么", ToolNoteList, ""},
		{"我有哪些提醒", ToolNoteList, ""},
		{"清空我的笔记", ToolNoteClear, "{}"},
		{"删除所有笔记", ToolNoteClear, ""},
		{"把清单清空", ToolNoteClear, ""},
		{"忘掉所有的笔记", ToolNoteClear, ""},
		{"把清单上的东西全删了", ToolNoteClear, ""},
		{"停！", ToolStop, "{}"},
		{"别说了", ToolStop, ""},
		{"闭嘴", ToolStop, ""},
		{"安静一点", ToolStop, ""},
		{"够了", ToolStop, ""},
		{"音量调到五十", ToolVolume, `{"level":50}`},
		{"把音量设为百分之三十", ToolVolume, `{"level":30}`},
		{"大声一点", ToolVolume, `{"change":"up"}`},
		{"声音大点", ToolVolume, `{"change":"up"}`},
		{"调低音量", ToolVolume, `{"change":"down"}`},
		{"小声点", ToolVolume, `{"change":"down"}`},
		{"音量是多少", ToolVolume, "{}"},
		{"静音", ToolMute, "{}"},
		{"关掉声音", ToolMute, ""},
		{"别出声", ToolMute, ""},
		{"不要出声", ToolMute, ""},
		{"打开静音", ToolMute, ""},
		{"取消静音", ToolUnmute, "{}"},
		{"打开你的声音", ToolUnmute, ""},
		{"你可以说话了", ToolUnmute, ""},
		{"恢复语音", ToolUnmute, ""},
		{"解除静音", ToolUnmute, ""},
		{"新对话", ToolNewChat, "{}"},
		{"开始一个新的对话", ToolNewChat, ""},
		{"重新开始", ToolNewChat, ""},
		{"忘掉刚才的对话", ToolNewChat, ""},
		{"换个话题", ToolNewChat, ""},
		{"你能做什么？", ToolHelp, "{}"},
		{"你会什么", ToolHelp, ""},
		{"你可以干什么", ToolHelp, ""},
		{"你有哪些功能", ToolHelp, ""},
		{"帮助", ToolHelp, ""},
	}
	tools := make([]string, len(cases))
	for i, c := range cases {
		tools[i] = c.tool
		// The actor is set up for English: a Chinese sentence finds the Chinese templates next.
		for _, lang := range []string{"zh", "en"} {
			m := a.Match(lang, c.say)
			if m.Kind != Matched || m.Tool != c.tool {
				t.Errorf("Match(%s, %q) = %v %s (template %q), want %s", lang, c.say, m.Kind, m.Tool, m.Template, c.tool)
				continue
			}
			if m.Language != "zh" {
				t.Errorf("Match(%s, %q): language %q, want zh", lang, c.say, m.Language)
			}
			if g, w, ok := sameJSON(m.Args, c.args); c.args != "" && !ok {
				t.Errorf("Match(%s, %q) args = %s, want %s", lang, c.say, g, w)
			}
		}
	}
	checkFivePerTool(t, a, tools, "Chinese ")
}

// TestNoMatchChinese: questions and chatter in Chinese go to the language model, not act;
// yes and no are understood for confirmations.
func TestNoMatchChinese(t *testing.T) {
	a := newActor(t, filepath.Join(t.TempDir(), "a.db"), nil, nil)
	for _, s := range []string{
		"法国的首都是哪里", "讲个笑话", "天空为什么是蓝色的", "你好", "今天天气怎么样", "计时器", "倒计时零秒",
		"设置一个一百小时的计时器", "我想停车", "一加", "五英里是多少",
	} {
		if m := a.Match("zh", s); m.Kind == Matched {
			t.Errorf("Match(%q) = %s %s (template %q), want no match", s, m.Tool, m.Args, m.Template)
		}
	}
	for _, s := range []string{"是的", "好", "可以", "确定"} {
		if m := a.Match("zh", s); m.Kind != Yes {
			t.Errorf("Match(%q) = %v, want yes", s, m.Kind)
		}
	}
	for _, s := range []string{"不", "不要", "算了", "取消"} {
		if m := a.Match("zh", s); m.Kind != No {
			t.Errorf("Match(%q) = %v, want no", s, m.Kind)
		}
	}
}

// TestCalculateChinese: the calculator reads Chinese operators (the numbers are digits by then).
func TestCalculateChinese(t *testing.T) {
	for expr, want := range map[string]float64{"3加4": 7, "12乘以7": 84, "100除以8": 12.5, "10减去3": 7, "2的10次方": 1024, "5的平方": 25, "(3+4)*5": 35} {
		got, err := Calculate(expr)
		if err != nil || got != want {
			t.Errorf("Calculate(%q) = %v, %v; want %v", expr, got, err, want)
		}
	}
}
