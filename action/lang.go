package action

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"hark/internal/turnlang"
)

// The skills answer in the language of the turn: the caller puts it in the context of Run and
// Check (WithLanguage), as a language code (whisper's, e.g. "zh"; "" is English). English and
// Chinese (Simplified) have their own replies; any other language gets English, the language
// the tools' descriptions are written in.
//
// In Chinese, durations, times of day and counts are written in Chinese numerals the way they
// are said (五分钟, 下午三点零五分, 两条笔记); results of sums and conversions and dates keep
// their digits, which the speech layer reads the Chinese way and which read better on screen.

// WithLanguage returns ctx carrying the language a tool should answer in. The key is the
// assistant's too (app.WithLanguage): one value for both.
func WithLanguage(ctx context.Context, lang string) context.Context {
	return turnlang.With(ctx, lang)
}

// LanguageOf returns the language WithLanguage put in ctx, "" when none.
func LanguageOf(ctx context.Context) string { return turnlang.Of(ctx) }

// lang is the language a reply is written in: English or Chinese.
type lang int

const (
	langEN lang = iota
	langZH
)

// replyLang maps a language code to the replies' language: Mandarin and Cantonese, whose
// written forms the Chinese replies fit, answer in Chinese; everything else in English.
func replyLang(code string) lang {
	code = strings.ToLower(code)
	if code == "zh" || code == "yue" || strings.HasPrefix(code, "zh-") || strings.HasPrefix(code, "zh_") {
		return langZH
	}
	return langEN
}

func langOf(ctx context.Context) lang { return replyLang(LanguageOf(ctx)) }

// f formats the English or the Chinese form (explicit argument indexes, %[2]s, where the
// order differs).
func (l lang) f(en, zh string, args ...any) string {
	s := en
	if l == langZH {
		s = zh
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// code is the language's code as kept with a timer.
func (l lang) code() string {
	if l == langZH {
		return "zh"
	}
	return ""
}

var zhDigit = []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}

// zhNumber writes an integer as a Chinese numeral: 10 → 十, 15 → 十五, 105 → 一百零五,
// 2300 → 二千三百, 10005 → 一万零五. From 10^8 on it keeps the digits.
func zhNumber(n int) string {
	switch {
	case n < 0:
		return "负" + zhNumber(-n)
	case n < 10:
		return zhDigit[n]
	case n < 20:
		return "十" + strings.TrimPrefix(zhDigit[n%10], "零")
	case n >= 100_000_000:
		return strconv.Itoa(n)
	case n >= 10_000:
		s := zhNumber(n/10_000) + "万"
		if r := n % 10_000; r > 0 {
			if r < 1000 {
				s += "零"
			}
			s += zhGroup(r)
		}
		return s
	}
	return zhGroup(n)
}

// zhGroup writes 1 ≤ n ≤ 9999 with 千, 百 and 十, one 零 for each gap (一百零五, 一千零一十).
func zhGroup(n int) string {
	var b strings.Builder
	zero := false
	for _, p := range []struct {
		v    int
		unit string
	}{{1000, "千"}, {100, "百"}, {10, "十"}, {1, ""}} {
		d := n / p.v % 10
		if d == 0 {
			zero = b.Len() > 0
			continue
		}
		if zero {
			b.WriteString("零")
			zero = false
		}
		b.WriteString(zhDigit[d] + p.unit)
	}
	return b.String()
}

// zhCount writes a number before a measure word: 2 is 两 there (两分钟, 两条).
func zhCount(n int) string {
	if n == 2 {
		return "两"
	}
	return zhNumber(n)
}

// sayDuration says d in l: "1 hour and 5 minutes", "一小时五分钟".
func (l lang) sayDuration(d time.Duration) string {
	if l == langEN {
		return SayDuration(d)
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	var b strings.Builder
	if h > 0 {
		b.WriteString(zhCount(h) + "小时")
	}
	if m > 0 {
		b.WriteString(zhCount(m) + "分钟")
	}
	if s > 0 && h == 0 {
		b.WriteString(zhCount(s) + "秒")
	}
	if b.Len() == 0 {
		return "零秒"
	}
	return b.String()
}

// zhClock says a time of day the way it is said in Mandarin, with the part of the day and a
// 12-hour clock whatever the locale: 下午三点零五分, 上午七点整, 凌晨零点十分.
func zhClock(t time.Time) string {
	h, m := t.Hour(), t.Minute()
	var period string
	switch {
	case h < 6:
		period = "凌晨"
	case h < 12:
		period = "上午"
	case h < 13:
		period = "中午"
	case h < 18:
		period = "下午"
	default:
		period = "晚上"
	}
	h12 := h % 12
	if h12 == 0 && h == 12 {
		h12 = 12
	}
	s := period + zhCount(h12) + "点"
	switch {
	case m == 0:
		return s + "整"
	case m < 10:
		return s + "零" + zhDigit[m] + "分"
	}
	return s + zhNumber(m) + "分"
}

var zhWeekdays = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

// zhDate writes a date as Chinese does: 2026年12月5日，星期六.
func zhDate(t time.Time) string {
	return fmt.Sprintf("%d年%d月%d日，%s", t.Year(), int(t.Month()), t.Day(), zhWeekdays[t.Weekday()])
}

// zhTitles are the built-in tools in a few Chinese words, for questions that name them
// ("你是说：设定计时器，还是设定闹钟？").
var zhTitles = map[string]string{
	ToolTime: "报时", ToolDate: "报日期", ToolTimerStart: "设定计时器", ToolAlarmSet: "设定闹钟",
	ToolTimerStatus: "查看计时器", ToolTimerCancel: "取消计时器或闹钟", ToolTimerPause: "暂停计时器",
	ToolTimerResume: "继续计时器", ToolCalculate: "计算", ToolConvert: "单位换算", ToolNoteAdd: "记一条笔记",
	ToolNoteList: "读笔记", ToolNoteClear: "删除全部笔记", ToolStop: "停止说话", ToolVolume: "调音量",
	ToolMute: "静音", ToolUnmute: "恢复语音", ToolNewChat: "开始新对话", ToolHelp: "说说我能做什么",
}

// title names tool t in l: its Chinese title, or its description without the full stop.
func (l lang) title(t Tool) string {
	if l == langZH {
		if s, ok := zhTitles[t.Name]; ok {
			return s
		}
	}
	return strings.ToLower(strings.TrimSuffix(t.Description, "."))
}
