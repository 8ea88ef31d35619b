package app

import (
	"context"
	"fmt"
	"time"
)

// Spoken notices: what the assistant says aloud unasked about itself (today: that it listens
// on a new default microphone), for a person who cannot read the chat note (a driver).
//
// A notice is spoken wherever replies are (Config.Speak with a speech engine loaded: car mode,
// or speech output turned on), once, in the conversation's language, and only at a quiet
// moment: never while the person talks, a reply is on, a confirmation question waits or a
// dictation records (Config.Dictating: it would be recorded; the window's chat note stays) or a
// timer's alert is said (an alert that comes while a notice is said cuts it short).
// Until then it waits; a newer notice replaces one not yet said. A notice the person talks
// over, or a turn starts over, stops at once and is said again once, after. Each notice said
// is an EventNotice.

// noticeMsg is one thing the assistant says about itself.
type noticeMsg int

const (
	noticeMicrophone noticeMsg = iota // a new default microphone, with its name
)

var noticeWords = map[noticeMsg][2]string{
	noticeMicrophone: {"Now listening on %s.", "现在使用%s收音。"},
}

// notice is one notice waiting to be said.
type notice struct {
	msg     noticeMsg
	arg     string
	retried bool // it was cut short once already
}

// text is n in lang (English, or Chinese for a Chinese or Cantonese conversation).
func (n notice) text(lang string) string {
	return fmt.Sprintf(inLang(noticeWords[n.msg], lang), n.arg)
}

// queueNotice says n at the next quiet moment, when notices are spoken at all.
func (a *Assistant) queueNotice(n notice) {
	if !a.cfg.Speak || a.cfg.Dictating || a.loaders.Speaker == nil {
		return
	}
	a.notice = &n
	a.sayNotice()
}

// noticeLang is the conversation's language: that of its last turn, else the configured one
// (actionLang without a turn).
func (a *Assistant) noticeLang() string {
	if a.convLang != "" {
		return a.convLang
	}
	return a.actionLang(nil)
}

// sayNotice starts saying the waiting notice if the moment is quiet (the loop calls it on
// every tick).
func (a *Assistant) sayNotice() {
	n := a.notice
	if n == nil || a.noticeStop != nil || a.closing || a.turn != nil || a.hearing || a.recording || a.pending != nil || a.alerting > 0 {
		return
	}
	if !a.cfg.Speak || a.cfg.Dictating { // turned off (muted, a dictation began) since it came
		a.notice = nil
		return
	}
	spk := a.comps[ComponentSpeech].cur
	if spk == nil {
		return // still loading, or failed: kept for when it works
	}
	a.notice = nil
	lang := a.noticeLang()
	text := n.text(lang)
	ctx, cancel := context.WithTimeout(WithLanguage(a.ctx, lang), 30*time.Second)
	a.noticeN++
	gen := a.noticeN
	a.noticeStop, a.noticeCut = cancel, false
	sp := spk.val.(Speaker)
	a.spawn([]*held{spk}, func() func() {
		err := speakText(ctx, sp, text)
		return func() { a.noticeSaid(gen, *n, text, err) }
	}, func(err error) func() { return func() { a.noticeSaid(gen, *n, text, err) } })
}

// cutNotice stops a notice being said: the person talks, or a turn begins.
func (a *Assistant) cutNotice() {
	if a.noticeStop != nil {
		a.noticeCut = true
		a.noticeStop()
	}
}

// noticeSaid ends the notice started as gen: an EventNotice, and a notice cut short for the
// first time is said again at the next quiet moment (unless a newer one waits).
func (a *Assistant) noticeSaid(gen int, n notice, text string, err error) {
	if gen != a.noticeN || a.noticeStop == nil {
		return
	}
	a.noticeStop()
	a.noticeStop = nil
	cut := a.noticeCut
	e := Event{Kind: EventNotice, Text: text, Interrupted: cut}
	if err != nil && !cut && !a.closing {
		e.Err = err
	}
	a.publish(e)
	if cut && !n.retried && a.notice == nil {
		n.retried = true
		a.notice = &n
	}
	alerts := a.alertsSay
	a.alertsSay = nil
	for _, s := range alerts {
		a.sayAlert(s)
	}
	a.sayNotice()
}
